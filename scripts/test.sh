#!/usr/bin/env bash
# Install, lint, type-check and run the test suite on every core: every test but the deployment
# tier and the soak test, which scripts/test-deploy.sh runs (CI runs both: see .ci/run).
#   bash scripts/test.sh tests/core -x     # pytest arguments pass through
set -euo pipefail
cd "$(dirname "$0")/.."
# Let Python cache bytecode (some hosts set PYTHONDONTWRITEBYTECODE=1: every Airflow and Dagster
# subprocess the tests start would then compile its ~2,400 imported modules again, ~12 CPU-s each).
unset PYTHONDONTWRITEBYTECODE
bash scripts/bootstrap.sh
bash scripts/services.sh
# web UI browser tests need headless Chromium (issue 16)
bash scripts/browser.sh
.venv/bin/ruff check cargohold tests bench example_dags
.venv/bin/ruff format --check cargohold tests bench example_dags
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider -n "${CARGOHOLD_TEST_WORKERS:-auto}" \
  --dist worksteal -m "not deploy and not soak" "$@"
