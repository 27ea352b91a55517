#!/usr/bin/env bash
# Docker's HEALTHCHECK: healthy when GET http://localhost:3030/health answers 200.
exec 3<>/dev/tcp/127.0.0.1/3030 || exit 1
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
IFS= read -r -t 4 status <&3 || exit 1
[[ "$status" == "HTTP/1.1 200 "* ]]
