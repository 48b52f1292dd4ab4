#!/usr/bin/env bash
# Installs OpenStack Mistral 23.0.0 into a venv, pinned by constraints.txt (a `pip freeze` of a
# working install). Idempotent: a venv whose stamp matches the pins is left as it is.
#
# Usage: tools/mistral/install.sh [VENV]     (default: target/mistral-venv)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${1:-$here/../../target/mistral-venv}"
py="${PYTHON:-python3}"
pins="mistral==23.0.0 python-mistralclient==6.3.0"
want="$pins $(cksum < "$here/constraints.txt" | cut -d' ' -f1)"
stamp="$venv/.causeway-pins"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
"$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { echo "mistral 23 needs Python >= 3.10; $py is older" >&2; exit 1; }
start=$SECONDS
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --constraint "$here/constraints.txt" $pins >&2
echo "$want" > "$stamp"
echo "mistral: venv $venv installed in $((SECONDS - start)) s" >&2
