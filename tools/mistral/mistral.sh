#!/usr/bin/env bash
# Starts and stops a real Mistral 23 on loopback for causeway's tests (see single.py).
#
#   tools/mistral/mistral.sh start WORKDIR    prints the base URL once the API answers
#   tools/mistral/mistral.sh stop WORKDIR     SIGTERM, then SIGKILL after 10 s
#
# WORKDIR gets mistral.conf, mistral.db, mistral.log, out.log, pid and url. MISTRAL_VENV names
# the venv (default target/mistral-venv; install.sh creates it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${MISTRAL_VENV:-$here/../../target/mistral-venv}"

alive() { [ -f "$1/pid" ] && kill -0 "$(cat "$1/pid")" 2>/dev/null; }

answers() {
    "$venv/bin/python" - "$1" <<'PY'
import sys, urllib.request
try:
    sys.exit(urllib.request.urlopen(sys.argv[1] + "/v2/workflows", timeout=2).status != 200)
except Exception:
    sys.exit(1)
PY
}

start() {
    local wd port
    mkdir -p "$1" && wd="$(cd "$1" && pwd)"
    if alive "$wd" && answers "$(cat "$wd/url")"; then cat "$wd/url"; return; fi
    "$here/install.sh" "$venv"
    port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    cat > "$wd/mistral.conf" <<CONF
[DEFAULT]
transport_url = fake:/
log_file = $wd/mistral.log
[api]
host = 127.0.0.1
port = $port
[pecan]
auth_enable = False
[database]
connection = sqlite:///$wd/mistral.db
[executor]
type = local
[notifier]
type = local
[cron_trigger]
enabled = False
[action_std_http]
denied_cidrs = 169.254.0.0/16,fe80::/10
allowed_hosts = 127.0.0.1,localhost
CONF
    echo "http://127.0.0.1:$port" > "$wd/url"
    setsid "$venv/bin/python" "$here/single.py" --config-file "$wd/mistral.conf" \
        > "$wd/out.log" 2>&1 < /dev/null &
    echo $! > "$wd/pid"
    for _ in $(seq 1 600); do
        if answers "$(cat "$wd/url")"; then cat "$wd/url"; return; fi
        if ! alive "$wd"; then
            tail -n 30 "$wd/out.log" "$wd/mistral.log" >&2 || true
            echo "mistral exited while starting" >&2; return 1
        fi
        sleep 0.2
    done
    echo "mistral did not answer within 120 s" >&2; stop "$wd"; return 1
}

stop() {
    local wd="$1" pid
    alive "$wd" || { rm -f "$wd/pid"; return 0; }
    pid="$(cat "$wd/pid")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$wd/pid"
}

case "${1:-}" in
    start) start "${2:?WORKDIR}" ;;
    stop) stop "${2:?WORKDIR}" ;;
    *) sed -n '2,9p' "$0" >&2; exit 2 ;;
esac
