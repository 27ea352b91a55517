#!/usr/bin/env bash
# Makes Debian's OpenSSH server available for the end-to-end test of the operator
# commands over ssh:// (test/e2e/ssh.e2e.test.ts). Installs the package only:
# the test starts its own sshd on a loopback port, with a throwaway host key and
# client key in a temporary folder, and stops it again; nothing here starts a
# service or touches /etc/ssh beyond what the package itself installs. Safe to
# run again.
set -euo pipefail
log() { echo "[sshd] $*"; }

if [ ! -x /usr/sbin/sshd ]; then
  log "installing Debian's openssh-server"
  apt-get update -qq
  # Where no init system runs (as on these CI machines) or policy-rc.d says no,
  # invoke-rc.d does not start the system's sshd; the test runs its own anyway.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
fi
command -v ssh >/dev/null 2>&1 || { log "the OpenSSH client (ssh) is missing"; exit 1; }
log "$(ssh -V 2>&1)"
