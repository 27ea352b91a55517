#!/usr/bin/env bash
# A second Docker engine on this machine, Debian trixie's docker.io (26.x), for
# the end-to-end tests and the benchmarks: this machine's own engine is
# bookworm's 20.10, while users run 24 to 28. A TEST HARNESS, like .ci/swarm.sh:
# the engine runs in a container (a "node") with its own /var/lib/docker, and
# the tests run inside that node too, so 127.0.0.1 and docker0 in them are the
# inner engine's, as they are this machine's in the plain run.
#
#   bash .ci/engine26.sh up         make (or re-use) the node; prints its socket
#   bash .ci/engine26.sh e2e [ARGS] the e2e tests inside the node (ARGS go to jest)
#   bash .ci/engine26.sh down       remove the node and its files
#
# The repository is mounted at the same path (read-write: jest and the tests
# write their temporary files under it), with node_modules' target when it is a
# symlink, and this machine's node binary read-only: nothing is installed from
# npm inside. The base image is copied in from this machine's engine. Needs
# .ci/engine.sh first. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

NAME="${ENGINE26_NAME:-zed-engine26}"
STATE="${ENGINE26_STATE:-/var/tmp/$NAME}"
TRIXIE_IMAGE="debian:trixie-slim"
NODE_IMAGE="$NAME-node:trixie"
BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"
log() { echo "[engine26] $*"; }

# --privileged is refused on these machines: NODE_RUN_FLAGS are what a nested engine needs.
# shellcheck source=nestedEngine.sh
source "$ROOT/.ci/nestedEngine.sh"

running() { [ "$(docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = "true" ]; }
inner() { docker exec "$NAME" docker "$@"; }

build_node_image() {
  docker image inspect "$NODE_IMAGE" >/dev/null 2>&1 && return
  # trixie's base, made by .ci/engine.sh the way it makes bookworm's (debootstrap when it cannot be pulled).
  BASE_IMAGE="$TRIXIE_IMAGE" bash .ci/engine.sh
  log "building $NODE_IMAGE"
  # docker.io (trixie ships the client apart, in docker-cli) and what a nested engine runs with; the tools the tests call (ip, vncsnapshot, vncpasswd, ssh, sshd).
  docker build -q -t "$NODE_IMAGE" --build-arg BASE="$TRIXIE_IMAGE" - >/dev/null <<'EOF'
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      docker.io docker-cli iptables iproute2 procps ca-certificates \
      vncsnapshot tigervnc-tools openssh-server openssh-client \
 && rm -rf /var/lib/apt/lists/*
EOF
}

up() {
  build_node_image
  if ! running; then
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    mkdir -p "$STATE/docker" "$STATE/sock"
    local mounts=(-v "$ROOT:$ROOT" -v "$(readlink -f "$(command -v node)"):/usr/local/bin/node:ro")
    # A worktree's node_modules can be a symlink to another checkout's: mount what it points to as well.
    if [ -L node_modules ]; then
      local target
      target=$(readlink -f node_modules)
      mounts+=(-v "$target:$target:ro")
    fi
    # The inner bridges get addresses apart from this machine's (and the test swarm's 10.199-10.210).
    # /proc/sys is read-only without --privileged, so Docker 26 cannot turn IPv6 off on a container's
    # interface and refuses to start it; its own switch lets it go on (the bridges are IPv4 only anyway).
    docker run -d --name "$NAME" --hostname "$NAME" --label "$NAME=node" "${NODE_RUN_FLAGS[@]}" \
      -e DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1 \
      -v "$STATE/docker:/var/lib/docker" -v "$STATE/sock:/$NAME" "${mounts[@]}" \
      "$NODE_IMAGE" dockerd --storage-driver="${ENGINE26_STORAGE_DRIVER:-overlay2}" \
      --bip 10.198.0.1/24 --default-address-pool "base=10.197.0.0/16,size=24" \
      -H unix:///var/run/docker.sock -H "unix:///$NAME/docker.sock" >/dev/null
  fi
  for _ in $(seq 1 60); do inner info >/dev/null 2>&1 && break; sleep 0.5; done
  inner info >/dev/null 2>&1 || { log "dockerd in $NAME did not answer"; docker logs "$NAME" 2>&1 | tail -20; exit 1; }
  if ! inner image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "copying $BASE_IMAGE into the node"
    docker save "$BASE_IMAGE" | docker exec -i "$NAME" docker load -q >/dev/null
  fi
  log "engine $(inner version --format '{{.Server.Version}}') (API $(inner version --format '{{.Server.APIVersion}}')) at unix://$STATE/sock/docker.sock"
}

e2e() {
  running || up
  # CI and the chosen tests pass through; everything else of this machine's environment stays out.
  docker exec -w "$ROOT" -e CI="${CI:-}" -e BASE_IMAGE="$BASE_IMAGE" "$NAME" \
    node node_modules/jest/bin/jest.js --config jest.e2e.config.js --runInBand "$@"
}

down() {
  docker rm -f -v "$NAME" >/dev/null 2>&1 || true
  rm -rf "$STATE"
  log "removed"
}

case "${1:-}" in
  up) up ;;
  e2e) shift; e2e "$@" ;;
  down) down ;;
  *) echo "usage: $0 up|e2e [JEST ARGS]|down" >&2; exit 2 ;;
esac
