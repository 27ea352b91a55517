# Sourced by .ci/swarm.sh and .ci/engine26.sh: the `docker run` flags a container needs to run its own
# dockerd on these machines, which refuse --privileged. test/support/sandboxStack.ts gives the stand-in
# sandbox the same (NESTED_ENGINE_OPTIONS).
# shellcheck disable=SC2034 # used by the scripts that source this file
NODE_RUN_FLAGS=(
  --cap-add SYS_ADMIN --cap-add NET_ADMIN --cap-add MKNOD --cap-add NET_RAW
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined
  --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run
)
