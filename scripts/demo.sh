#!/usr/bin/env bash
# Install, then run the demo pipeline on the embedded defaults (SQLite catalog, local store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/python example_dags/demo_pipeline.py "$@"
