#!/usr/bin/env bash
# The AWS emulator (moto's server behind scripts/emulator/launcher.py).
#
#   scripts/emulator.sh venv            create (once, cached) the Python venv; print its python
#   scripts/emulator.sh start [PORT]    start on a free loopback port; print the endpoint URL
#   scripts/emulator.sh stop            stop the server started by `start` (by its PID)
#
# The venv lives under $HELM_CACHE (default ~/.cache/helm-cloud), keyed by the hash of
# requirements.txt, so a changed pin makes a new one and an unchanged one is reused.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${HELM_CACHE:-$HOME/.cache/helm-cloud}"
req="$here/emulator/requirements.txt"
state="${HELM_EMULATOR_STATE:-$cache/emulator}"

venv_python() {
  local key venv
  key="$( (cat "$req"; python3 --version) | sha256sum | cut -c1-12)"
  venv="$cache/venv-$key"
  if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
    echo "emulator: creating Python venv $venv (moto[server], cbor2; once per machine)" >&2
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --disable-pip-version-check -q -r "$req" >&2
    touch "$venv/.complete"
  fi
  echo "$venv/bin/python"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
  venv)
    venv_python
    ;;
  start)
    py="$(venv_python)"
    port="${2:-$(free_port)}"
    mkdir -p "$state"
    if [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      echo "emulator: already running (pid $(cat "$state/pid")), endpoint $(cat "$state/endpoint")" >&2
      cat "$state/endpoint"
      exit 0
    fi
    nohup "$py" "$here/emulator/launcher.py" --port "$port" \
      ${HELM_EMULATOR_REQUEST_LOG:+--request-log "$HELM_EMULATOR_REQUEST_LOG"} \
      >"$state/server.log" 2>&1 &
    echo $! >"$state/pid"
    echo "http://127.0.0.1:$port" >"$state/endpoint"
    for _ in $(seq 1 150); do
      if curl -sf "http://127.0.0.1:$port/helm-emulator/ping" >/dev/null 2>&1 \
         || python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/helm-emulator/ping', timeout=1)" 2>/dev/null; then
        cat "$state/endpoint"
        exit 0
      fi
      if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
        echo "emulator: the server exited while starting; its log:" >&2
        cat "$state/server.log" >&2
        exit 1
      fi
      sleep 0.2
    done
    echo "emulator: no answer on port $port after 30 s; see $state/server.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$state/pid" ]; then
      pid="$(cat "$state/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$state/pid" "$state/endpoint"
    fi
    ;;
  *)
    echo "usage: scripts/emulator.sh venv|start [PORT]|stop" >&2
    exit 64
    ;;
esac
