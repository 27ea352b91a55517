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

# The control-plane connection is reported, not judged: a runner that loses it exits by
# itself and its restart policy starts a fresh one, so it never makes the runner unhealthy.
# Connected means a process of the runner's group holds an established TCP connection to
# API_HOST's port; it reads sockets, not log lines, so it holds for any runner version.
api_port() {
  local authority=${API_HOST#*://}
  authority=${authority%%/*}
  if [[ "$authority" =~ :([0-9]+)$ ]]; then echo "${BASH_REMATCH[1]}"
  elif [[ "$API_HOST" == https://* ]]; then echo 443
  else echo 80; fi
}
control_plane_connected() {
  local group inodes="" pid link port_hex
  group=$(cat "$STATE/runner.pid" 2>/dev/null) || return 1
  for pid in $(pgrep -g "$group" 2>/dev/null); do
    for link in /proc/"$pid"/fd/*; do
      link=$(readlink "$link" 2>/dev/null) || continue
      [[ "$link" == socket:\[*\] ]] && inodes+="${link:8:-1}|"
    done
  done
  [[ -n "$inodes" ]] || return 1
  port_hex=$(printf '%04X' "$(api_port)")
  # /proc/net/tcp columns: sl local remote st ... inode (10th); 01 is ESTABLISHED.
  awk -v re="^(${inodes%|})$" -v port=":$port_hex" \
    '$4 == "01" && substr($3, length($3) - 4) == port && $10 ~ re { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
json_string() { # a JSON string literal of $1, control characters dropped
  local s
  s=$(printf '%s' "$1" | tr -d '\000-\037')
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if control_plane_connected; then
  [[ -s "$STATE/control-plane-since" ]] || echo "$now" > "$STATE/control-plane-since"
  connected=true
else
  rm -f "$STATE/control-plane-since"
  connected=false
fi
since=$(cat "$STATE/control-plane-since" 2>/dev/null)
last_error=$(tail -n 1 "$STATE/last-error" 2>/dev/null)
control_plane="{\"url\":$(json_string "${API_HOST:-}"),\"connected\":$connected,\"since\":$([[ -n "$since" ]] && json_string "$since" || echo null),\"lastError\":$([[ -n "$last_error" ]] && json_string "$last_error" || echo null)}"

body="{\"status\":\"$($healthy && echo ok || echo unhealthy)\",\"runnerId\":$(json_string "${RUNNER_ID:-}"),\"components\":{${components}},\"controlPlane\":${control_plane}}"
if $healthy; then respond 200 OK "$body"; else respond 503 "Service Unavailable" "$body"; fi
