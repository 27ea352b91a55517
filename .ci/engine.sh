#!/usr/bin/env bash
# Makes a Docker engine and the base image available on this machine, for the
# end-to-end test and the benchmarks. Safe to run again: it re-uses a running
# engine and existing images.
#
# These machines have no engine running and no container registry, so:
#   - Debian's docker.io is installed when no engine answers, and dockerd is
#     started in the background;
#   - the base image (debian:bookworm-slim) is made with debootstrap when it
#     cannot be pulled. BASE_IMAGE=debian:trixie-slim makes trixie's the same
#     way (.ci/engine26.sh does, for its Docker 26 node).
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The Debian release debootstrap installs: the tag's name, as in debian:<suite>-slim.
SUITE="${BASE_IMAGE#*:}"
SUITE="${SUITE%-slim}"
log() { echo "[engine] $*"; }

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

if ! engine_answers; then
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing Debian's docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iproute2 >/dev/null
  fi
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    log "starting dockerd (log: /tmp/dockerd.log)"
    # setsid: dockerd must outlive this script's process group.
    setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &
  fi
  for _ in $(seq 1 60); do engine_answers && break; sleep 1; done
  engine_answers || { log "dockerd did not answer within 60 s; see /tmp/dockerd.log"; tail -20 /tmp/dockerd.log; exit 1; }
fi
log "engine: $(docker version --format '{{.Server.Version}}')"

# A real VNC client for the end-to-end test's desktop logins (vncpasswd encodes its password file).
if ! command -v vncsnapshot >/dev/null 2>&1 || ! command -v vncpasswd >/dev/null 2>&1; then
  log "installing Debian's vncsnapshot and tigervnc-tools"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends vncsnapshot tigervnc-tools >/dev/null
fi

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE present"
elif timeout 30 docker pull -q "$BASE_IMAGE" >/dev/null 2>&1; then
  log "pulled $BASE_IMAGE"
else
  log "cannot pull $BASE_IMAGE: building it with debootstrap"
  command -v debootstrap >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  }
  root=$(mktemp -d /tmp/zed-runner-base.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase "$SUITE" "$root" "$DEBIAN_MIRROR" >/tmp/debootstrap.log 2>&1 \
    || { log "debootstrap failed; see /tmp/debootstrap.log"; tail -20 /tmp/debootstrap.log; exit 1; }
  # The archives and lists would otherwise count towards every image's size.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import - "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE") bytes)"
fi
