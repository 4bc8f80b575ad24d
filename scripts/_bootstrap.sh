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
# Bytecode for the package, whatever PYTHONDONTWRITEBYTECODE says: where that is set (many
# container images set it) every supervisor and every service process would otherwise compile
# the package from source at each start, about as long as all its other start-up work
# (measured: 68 modules, 125 ms of 285 ms of imports). Up to date, this costs ~0.1 s.
"$venv/bin/python" -m compileall -q -j 0 "$repo/supervisor" >/dev/null
