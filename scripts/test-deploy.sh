#!/usr/bin/env bash
# The deployment tier (tests/deploy: Airflow's scheduler with the Local and Celery executors, a
# persistent Dagster instance with its webserver) and the soak test (200 interpreter exits), one
# test at a time: each starts several real processes of its own. CI runs it after scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# Let Python cache bytecode (some hosts set PYTHONDONTWRITEBYTECODE=1: every Airflow and Dagster
# subprocess the tests start would then compile its ~2,400 imported modules again, ~12 CPU-s each).
unset PYTHONDONTWRITEBYTECODE
bash scripts/bootstrap.sh
bash scripts/services.sh
.venv/bin/python -m pytest -q -p no:cacheprovider -m "deploy or soak" "$@"
