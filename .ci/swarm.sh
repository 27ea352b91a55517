#!/usr/bin/env bash
# A three-node Docker Swarm and a registry on this one machine, for the swarm
# end-to-end test and benchmark. A TEST HARNESS, not how to run a cluster: each
# "node" is a container running Debian's docker.io, the registry is plain HTTP
# on a bridge that only this machine sees, and the manager's socket is shared
# through a folder under $SWARM_STATE. Real swarms are machines that ran
# `docker swarm init` and `docker swarm join` (see the README).
#
#   bash .ci/swarm.sh up     make (or re-use) the cluster; writes $SWARM_STATE/cluster.env
#   bash .ci/swarm.sh down   remove the nodes, the registry, their network and files
#   bash .ci/swarm.sh node-start NAME   start a node that a test killed, and wait until it is Ready
#
# Needs a Docker engine (.ci/engine.sh) and the base image. Safe to run twice.
set -euo pipefail

PREFIX="${SWARM_PREFIX:-zed-swarm}"
SWARM_STATE="${SWARM_STATE:-/var/tmp/$PREFIX}"
NETWORK="$PREFIX"
NODES=("$PREFIX-1" "$PREFIX-2" "$PREFIX-3")
REGISTRY="$PREFIX-registry"
NODE_IMAGE="$PREFIX-node:bookworm"
REGISTRY_IMAGE="$PREFIX-registry:bookworm"
BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"
# The registry's account: the test pushes and pulls with it, as a real registry would ask.
REGISTRY_USER="zed-runner"
log() { echo "[swarm] $*"; }

# --privileged is refused on these machines: NODE_RUN_FLAGS are what a nested engine needs.
# shellcheck source=nestedEngine.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/nestedEngine.sh"

# An image of the base with Debian packages added, built once.
build_image() {
  local tag="$1" packages="$2"
  docker image inspect "$tag" >/dev/null 2>&1 && return
  log "building $tag ($packages)"
  docker build -q -t "$tag" --build-arg BASE="$BASE_IMAGE" --build-arg PACKAGES="$packages" - >/dev/null <<'EOF'
ARG BASE
FROM ${BASE}
ARG PACKAGES
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PACKAGES} \
 && rm -rf /var/lib/apt/lists/*
EOF
}

build_images() {
  build_image "$NODE_IMAGE" "docker.io iptables iproute2 procps ca-certificates"
  build_image "$REGISTRY_IMAGE" "docker-registry apache2-utils"
}

running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = "true" ]; }

start_registry() {
  running "$REGISTRY" && return
  docker rm -f "$REGISTRY" >/dev/null 2>&1 || true
  mkdir -p "$SWARM_STATE/registry"
  [ -s "$SWARM_STATE/registry/password" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$SWARM_STATE/registry/password"
  chmod 600 "$SWARM_STATE/registry/password"
  cat >"$SWARM_STATE/registry/config.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/docker-registry
  delete:
    enabled: true
http:
  addr: :5000
auth:
  htpasswd:
    realm: zed-swarm-registry
    path: /etc/docker/registry/htpasswd
EOF
  # Published on loopback only: this machine's engine pushes to 127.0.0.1:5000, which Docker trusts without TLS.
  docker run -d --name "$REGISTRY" --network "$NETWORK" -p 127.0.0.1:5000:5000 \
    -v "$SWARM_STATE/registry:/etc/docker/registry" --label "$PREFIX=registry" "$REGISTRY_IMAGE" \
    sh -c "htpasswd -Bbn $REGISTRY_USER \"\$(cat /etc/docker/registry/password)\" >/etc/docker/registry/htpasswd && exec docker-registry serve /etc/docker/registry/config.yml" >/dev/null
  for _ in $(seq 1 30); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:5000/v2/ 2>/dev/null || true)" = "401" ] && return
    sleep 0.5
  done
  log "the registry did not answer"; docker logs "$REGISTRY" | tail -20; exit 1
}

start_node() {
  local name="$1" index="$2"
  if running "$name"; then return; fi
  docker rm -f "$name" >/dev/null 2>&1 || true
  mkdir -p "$SWARM_STATE/$name/docker" "$SWARM_STATE/$name/sock"
  # The node's own bridges get addresses apart from this machine's, so traffic to the host is routed, not shadowed.
  docker run -d --name "$name" --hostname "$name" --network "$NETWORK" --label "$PREFIX=node" "${NODE_RUN_FLAGS[@]}" \
    -v "$SWARM_STATE/$name/docker:/var/lib/docker" -v "$SWARM_STATE/$name/sock:/zed-swarm" \
    "$NODE_IMAGE" dockerd --storage-driver="${SWARM_STORAGE_DRIVER:-overlay2}" \
    --bip "10.199.$index.1/24" --default-address-pool "base=10.$((200 + index)).0.0/16,size=24" \
    --insecure-registry "$REGISTRY:5000" \
    -H unix:///var/run/docker.sock -H unix:///zed-swarm/docker.sock >/dev/null
  for _ in $(seq 1 60); do docker exec "$name" docker info >/dev/null 2>&1 && return; sleep 0.5; done
  log "dockerd in $name did not answer"; docker logs "$name" 2>&1 | tail -20; exit 1
}

node_ip() { docker inspect -f "{{(index .NetworkSettings.Networks \"$NETWORK\").IPAddress}}" "$1"; }
swarm_state() { docker exec "$1" docker info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

wait_ready() {
  for _ in $(seq 1 120); do
    local ready
    ready=$(docker exec "${NODES[0]}" docker node ls -f role=worker --format '{{.Hostname}} {{.Status}}' 2>/dev/null | grep -c ' Ready' || true)
    [ "$ready" -ge "$1" ] && return
    sleep 0.5
  done
  log "only $ready of $1 workers are Ready"; docker exec "${NODES[0]}" docker node ls; exit 1
}

up() {
  command -v curl >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null; }
  build_images
  docker network inspect "$NETWORK" >/dev/null 2>&1 || docker network create --label "$PREFIX=network" "$NETWORK" >/dev/null
  start_registry
  for i in "${!NODES[@]}"; do start_node "${NODES[$i]}" "$((i + 1))"; done
  local manager="${NODES[0]}" manager_ip
  manager_ip=$(node_ip "$manager")
  if [ "$(swarm_state "$manager")" != "active" ]; then
    log "swarm init on $manager"
    # A 1 s heartbeat: a lost node is noticed in seconds rather than the default 15 s, so the test runs quickly.
    docker exec "$manager" docker swarm init --advertise-addr "$manager_ip" --dispatcher-heartbeat 1s \
      --default-addr-pool 10.210.0.0/16 >/dev/null
  fi
  local token
  token=$(docker exec "$manager" docker swarm join-token -q worker)
  for node in "${NODES[@]:1}"; do
    if [ "$(swarm_state "$node")" != "active" ]; then
      log "$node joins"
      docker exec "$node" docker swarm join --token "$token" "$manager_ip:2377" >/dev/null
    fi
  done
  wait_ready 2
  local gateway
  gateway=$(docker network inspect -f '{{(index .IPAM.Config 0).Gateway}}' "$NETWORK")
  cat >"$SWARM_STATE/cluster.env" <<EOF
SWARM_MANAGER=unix://$SWARM_STATE/${NODES[0]}/sock/docker.sock
SWARM_NODES="${NODES[*]}"
SWARM_HOST_ADDRESS=$gateway
SWARM_REGISTRY=$REGISTRY:5000
SWARM_REGISTRY_PUSH=127.0.0.1:5000
SWARM_REGISTRY_USER=$REGISTRY_USER
SWARM_REGISTRY_PASSWORD_FILE=$SWARM_STATE/registry/password
EOF
  log "ready: 1 manager, 2 workers; $SWARM_STATE/cluster.env"
}

down() {
  for c in $(docker ps -aq --filter "label=$PREFIX"); do docker rm -f -v "$c" >/dev/null 2>&1 || true; done
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  rm -rf "$SWARM_STATE"
  log "removed"
}

node_start() {
  local name="$1" i
  for i in "${!NODES[@]}"; do [ "${NODES[$i]}" = "$name" ] && break; done
  docker start "$name" >/dev/null
  for _ in $(seq 1 60); do docker exec "$name" docker info >/dev/null 2>&1 && break; sleep 0.5; done
  wait_ready 2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  node-start) node_start "$2" ;;
  *) echo "usage: $0 up|down|node-start NAME" >&2; exit 2 ;;
esac
