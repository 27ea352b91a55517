#!/usr/bin/env bash
# Entrypoint of the Helix Zed runner image (run by tini as root).
#
# 1. Checks the environment and stops with a clear message when it cannot work.
# 2. Starts the desktop (Xvfb, openbox, x11vnc, xrdp) and the health endpoint,
#    each kept running: a crashed one is started again in place.
# 3. Runs Helix's external-agent-runner in the foreground. When it exits
#    (MAX_TASKS reached, control plane gone), the container exits with its
#    status and Docker's restart policy starts a fresh runner.
# Never prints the token or a password; the runner's own output is filtered too.
set -uo pipefail

STATE=/run/zed-runner
ZED_HOME=/home/zed
log() { echo "zed-runner: $*"; }
fail() { echo "zed-runner: FATAL: $*" >&2; exit 64; }

# --- 1. The environment --------------------------------------------------------
problems=()
if [[ -z "${API_HOST:-}" ]]; then
  problems+=("API_HOST is not set: the URL of the Helix control plane, e.g. https://helix.example.com")
elif [[ ! "$API_HOST" =~ ^https?://[^/?#@[:space:]]+(/[^?#[:space:]]*)?$ ]]; then
  problems+=("API_HOST must be an http:// or https:// URL without credentials (got '$API_HOST')")
fi
[[ -n "${API_TOKEN:-}" ]] || problems+=("API_TOKEN is not set: the runner token configured on the control plane")
if [[ -z "${RUNNER_ID:-}" ]]; then
  problems+=("RUNNER_ID is not set: a name unique among this control plane's runners")
elif [[ ! "$RUNNER_ID" =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$ ]]; then
  problems+=("RUNNER_ID may hold only letters, digits, '_', '.' and '-' (got '$RUNNER_ID')")
fi
if [[ -z "${RDP_PASSWORD:-}" ]]; then
  problems+=("RDP_PASSWORD is not set: the initial RDP password of user zed, at least 8 characters")
elif (( ${#RDP_PASSWORD} < 8 )); then
  problems+=("RDP_PASSWORD must be at least 8 characters (it has ${#RDP_PASSWORD})")
fi
if [[ -z "${VNC_PASSWORD:-}" ]]; then
  problems+=("VNC_PASSWORD is not set: the VNC password, 6 to 8 characters are used")
elif (( ${#VNC_PASSWORD} < 6 )); then
  problems+=("VNC_PASSWORD must be at least 6 characters (it has ${#VNC_PASSWORD})")
fi
for var in DISPLAY_WIDTH DISPLAY_HEIGHT CONCURRENCY MAX_TASKS; do
  [[ "${!var}" =~ ^[0-9]+$ ]] || problems+=("$var must be a whole number (got '${!var}')")
done
if (( ${#problems[@]} > 0 )); then
  for p in "${problems[@]}"; do echo "zed-runner: FATAL: $p" >&2; done
  exit 64
fi

# Secrets go to files only the user that needs them can read, never to argv or logs.
umask 077
mkdir -p "$STATE"
chown zed:zed "$STATE"
printf 'zed:%s\n' "$RDP_PASSWORD" | chpasswd || fail "could not set the password of user zed"
# x11vnc accepts any line of this file: the VNC password, and the RDP password that xrdp relays.
printf '%s\n%s\n' "$VNC_PASSWORD" "$RDP_PASSWORD" > "$STATE/vnc-passwords"
chown zed:zed "$STATE/vnc-passwords"
# A key per container, not one baked into the image.
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=${RUNNER_ID}" \
  -keyout "$STATE/rdp-key.pem" -out "$STATE/rdp-cert.pem" >/dev/null 2>&1 || fail "could not create the RDP TLS key"
xrdp-keygen xrdp auto >/dev/null 2>&1 || fail "could not create xrdp's RSA keys"
mkdir -p /run/xrdp
umask 022

mkdir -p "$WORKSPACE_DIR" "$ZED_HOME/.config/zed"
chown zed:zed "$WORKSPACE_DIR" "$ZED_HOME/.config" "$ZED_HOME/.config/zed"

# Zed's external sync dials the control plane named by API_HOST; its own server
# moves to 3031 because 3030 is the runner's health endpoint.
api_authority=${API_HOST#*://}; api_authority=${api_authority%%/*}
[[ "$API_HOST" == https://* ]] && api_tls=true || api_tls=false
cat > "$ZED_HOME/.config/zed/settings.json" <<JSON
{
  "external_websocket_sync": {
    "enabled": true,
    "server": { "enabled": true, "host": "127.0.0.1", "port": 3031, "enable_cors": false },
    "websocket_sync": {
      "enabled": true,
      "external_url": "${api_authority}",
      "use_tls": ${api_tls},
      "auto_reconnect": true,
      "reconnect_delay_seconds": 5
    }
  },
  "terminal": { "shell": { "program": "/bin/bash" } },
  "auto_update": false,
  "telemetry": { "diagnostics": false, "metrics": false }
}
JSON
chown zed:zed "$ZED_HOME/.config/zed/settings.json"

# --- 2. The desktop, kept running -----------------------------------------------
# A command prefix, not a function: a backgrounded function would leave a root shell between
# the supervisor and the process, and the recorded PID would be that shell's.
as_zed=(env HOME="$ZED_HOME" USER=zed LOGNAME=zed XAUTHORITY="$ZED_HOME/.Xauthority" setpriv --reuid=zed --regid=zed --init-groups --)

# keep NAME CMD...: runs CMD in the background, starting it again whenever it exits.
keep() {
  local name=$1; shift
  (
    trap 'kill -TERM "$child" 2>/dev/null; exit 0' TERM
    while true; do
      "$@" &
      child=$!
      echo "$child" > "$STATE/$name.pid"
      wait "$child"
      status=$?
      log "$name exited with status $status; starting it again"
      sleep 1
    done
  ) &
  supervisors+=($!)
}
supervisors=()

rm -f /tmp/.X1-lock /tmp/.X11-unix/X1
install -o zed -g zed -m 0600 /dev/null "$ZED_HOME/.Xauthority"
"${as_zed[@]}" xauth -q -f "$ZED_HOME/.Xauthority" add :1 . "$(mcookie)"
# No GLX: Zed draws through Vulkan (Mesa's lavapipe), and Xvfb's GLX set-up alone costs
# about 12 MB per runner (measured with npm run bench).
keep xvfb "${as_zed[@]}" Xvfb :1 -screen 0 "${DISPLAY_WIDTH}x${DISPLAY_HEIGHT}x24" -auth "$ZED_HOME/.Xauthority" -nolisten tcp -dpi 96 -extension GLX
for _ in $(seq 1 100); do [[ -S /tmp/.X11-unix/X1 ]] && break; sleep 0.05; done
keep window-manager "${as_zed[@]}" openbox
# -noshm: shared memory between Xvfb and x11vnc is not needed in one container and fails under some runtimes.
keep vnc "${as_zed[@]}" x11vnc -display :1 -rfbport 5900 -passwdfile "$STATE/vnc-passwords" -forever -shared -noshm -quiet -noxdamage -nossl
keep rdp /usr/sbin/xrdp --nodaemon
keep health "${as_zed[@]}" socat -T 10 TCP-LISTEN:3030,reuseaddr,fork,backlog=16 EXEC:/usr/local/bin/zed-runner-health

# --- 3. The runner ----------------------------------------------------------------
# Helix's runner logs its token (in the dial URL) and may echo passwords: strip them
# all from its output, and remember its last error for /health.
redact() {
  # mawk (Debian's awk) would wait for a full buffer from the pipe without -W interactive.
  awk -W interactive -v state="$STATE" '
    BEGIN { n = 0; for (k in ENVIRON) if (k == "API_TOKEN" || k == "RDP_PASSWORD" || k == "VNC_PASSWORD") if (length(ENVIRON[k]) > 0) secrets[n++] = ENVIRON[k] }
    {
      line = $0
      for (i = 0; i < n; i++) { s = secrets[i]; while ((p = index(line, s)) > 0) line = substr(line, 1, p - 1) "[redacted]" substr(line, p + length(s)) }
      gsub(/access_token=[^&[:space:]"]*/, "access_token=[redacted]", line)
      print line; fflush()
      if (tolower(line) ~ /error|fail/) { f = state "/last-error"; print line > f; close(f) }
    }'
}

mkfifo "$STATE/runner-output"
redact < "$STATE/runner-output" &
redactor=$!
log "runner ${RUNNER_ID}: control plane ${API_HOST}, concurrency ${CONCURRENCY}, max tasks ${MAX_TASKS}"
# setsid: the runner and whatever it starts form one process group, so none outlives it
# holding the log pipe open.
"${as_zed[@]}" setsid /usr/local/bin/helix external-agent-runner > "$STATE/runner-output" 2>&1 &
runner=$!
echo "$runner" > "$STATE/runner.pid"

stopping=false
trap 'stopping=true; log "stopping: asking the runner to finish"; kill -TERM "$runner" 2>/dev/null' TERM INT
while true; do
  wait "$runner"
  status=$?
  # wait returns early when a signal arrives; go on waiting until the runner is really gone.
  kill -0 "$runner" 2>/dev/null || break
done
$stopping || log "runner exited with status $status; the container exits so its restart policy starts a fresh one"
kill -KILL -- "-$runner" 2>/dev/null
kill -TERM "${supervisors[@]}" 2>/dev/null
# Let the filter print the runner's last lines, but never hang on it.
( sleep 2; kill "$redactor" 2>/dev/null ) &
wait "$redactor" 2>/dev/null
exit "$status"
