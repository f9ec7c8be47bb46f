#!/usr/bin/env bash
# Install, lint, type-check and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/services.sh
# web UI browser tests need headless Chromium (issue 16)
bash scripts/browser.sh
.venv/bin/ruff check cargohold tests bench example_dags
.venv/bin/ruff format --check cargohold tests bench example_dags
.venv/bin/mypy
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
