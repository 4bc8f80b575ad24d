# Sourced by scripts/run, scripts/test and scripts/bench: creates .venv on first use and
# reinstalls the project whenever pyproject.toml changes, so a fresh clone needs nothing else.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
extras="${1:-}"
stamp="$venv/.installed${extras:+-$extras}"
want="$(sha256sum "$repo/pyproject.toml" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -e "$repo${extras:+[$extras]}"
    echo "$want" >"$stamp"
fi
export PATH="$venv/bin:$PATH"
