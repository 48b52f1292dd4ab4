#!/usr/bin/env bash
# Installs oslo.messaging 18.3.1 into a venv, pinned by constraints.txt (a `pip freeze` of a
# working install), for the tests that publish real OpenStack notifications (notify.py).
# Idempotent: a venv whose stamp matches the pins is left as it is.
#
# Usage: tools/oslo/install.sh [VENV]     (default: target/oslo-venv)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-$here/../../target/oslo-venv}"
py="${PYTHON:-python3}"
pins="oslo.messaging==18.3.1"
want="$pins $(cksum < "$here/constraints.txt" | cut -d' ' -f1)"
stamp="$venv/.causeway-pins"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
start=$SECONDS
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --constraint "$here/constraints.txt" $pins >&2
echo "$want" > "$stamp"
echo "oslo: venv $venv installed in $((SECONDS - start)) s" >&2
