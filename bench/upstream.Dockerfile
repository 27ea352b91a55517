# For size comparison only (`npm run bench -- --with-upstream`): the runtime package set of
# Helix's own Dockerfile.zed-agent, with recommends, mapped to Debian bookworm names, plus a
# Go toolchain as it ships one, on the same base as our image.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      wget git unzip curl sqlite3 ca-certificates \
      xvfb x11vnc xauth xterm dbus-x11 openbox obconf \
      socat tigervnc-standalone-server xrdp openssh-server \
      build-essential cmake \
      fonts-dejavu-core fonts-liberation fonts-noto \
      supervisor net-tools iproute2 nodejs npm python3 python3-pip \
      libfontconfig1 libfreetype6 libxcb1 libxcb-render0 libxcb-shape0 libxcb-xfixes0 libxcb-shm0 \
      libxkbcommon0 libxkbcommon-x11-0 libasound2 libssl3 libgtk-3-0 libgdk-pixbuf-2.0-0 libpango-1.0-0 libcairo2 \
      golang-go \
 && rm -rf /var/lib/apt/lists/*
