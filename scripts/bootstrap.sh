#!/usr/bin/env bash
# Create .venv (if missing) and install cargohold with every extra at the pinned versions of
# constraints.txt (refreshed by scripts/lock.sh); idempotent: it reinstalls only when
# pyproject.toml or constraints.txt changed. uv installs (seconds when cached); set
# CARGOHOLD_INSTALLER=pip to install with pip from the same pins.
#   VENV=.venv-lowest CONSTRAINTS=constraints-lowest.txt EXTRAS=airflow,dagster,dev bash scripts/bootstrap.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
CONSTRAINTS=${CONSTRAINTS:-constraints.txt}
EXTRAS=${EXTRAS:-all,dev}
INSTALLER=${CARGOHOLD_INSTALLER:-uv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.cargohold-installed"
wanted="$EXTRAS $(cat pyproject.toml "$CONSTRAINTS" | cksum)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  if [ "$INSTALLER" = pip ]; then
    "$VENV/bin/python" -m pip install --quiet -c "$CONSTRAINTS" -e ".[$EXTRAS]"
  else
    uv_pin=$(grep -E '^uv==' "$CONSTRAINTS" || true)
    if ! "$VENV/bin/uv" --version >/dev/null 2>&1; then
      "$VENV/bin/python" -m pip install --quiet "${uv_pin:-uv}"
    fi
    "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" -c "$CONSTRAINTS" \
      -e ".[$EXTRAS]"
  fi
  echo "$wanted" >"$stamp"
fi
