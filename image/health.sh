#!/usr/bin/env bash
# GET /health for one runner, served by socat (one process per request, as user zed).
# 200 with a JSON object of each component's state when all are up, 503 otherwise.
# An idle runner (no Zed session) is healthy.
set -u
STATE=/run/zed-runner

read -r -t 5 method target _ || exit 0
# Drain the request headers.
while IFS= read -r -t 5 line && [[ "${line%$'\r'}" != "" ]]; do :; done

respond() { # status reason body
  printf 'HTTP/1.1 %s %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s' \
    "$1" "$2" "${#3}" "$3"
}
if [[ "$method" != GET ]]; then respond 405 "Method Not Allowed" '{"error":"only GET"}'; exit 0; fi
if [[ "${target%%\?*}" != /health ]]; then respond 404 "Not Found" '{"error":"see /health"}'; exit 0; fi

# listening PORT: a socket in LISTEN state (0A) on PORT in this container's network namespace.
listening() {
  local hex
  hex=$(printf '%04X' "$1")
  grep -qE "^ *[0-9]+: [0-9A-F]+:${hex} [0-9A-F]+:[0-9A-F]+ 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
alive() { # NAME: the process the entrypoint recorded for NAME is running
  local pid
  pid=$(cat "$STATE/$1.pid" 2>/dev/null) && [[ -n "$pid" && -d "/proc/$pid" ]]
}

declare -A up
up[xvfb]=false;          alive xvfb && [[ -S /tmp/.X11-unix/X1 ]] && up[xvfb]=true
up[windowManager]=false; alive window-manager && up[windowManager]=true
up[vnc]=false;           alive vnc && listening 5900 && up[vnc]=true
up[rdp]=false;           listening 3389 && up[rdp]=true
up[runner]=false;        alive runner && up[runner]=true

healthy=true
components=""
for name in xvfb windowManager vnc rdp runner; do
  ${up[$name]} || healthy=false
  components+="\"$name\":\"$(${up[$name]} && echo up || echo down)\","
done
components=${components%,}

body="{\"status\":\"$($healthy && echo ok || echo unhealthy)\",\"runnerId\":\"${RUNNER_ID:-}\",\"components\":{${components}}}"
if $healthy; then respond 200 OK "$body"; else respond 503 "Service Unavailable" "$body"; fi
