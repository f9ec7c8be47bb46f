#!/usr/bin/env bash
# Install, then run the demo pipeline on the embedded defaults (SQLite catalog, local store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# Python caches compiled modules in .venv: with PYTHONDONTWRITEBYTECODE set (common in container
# images) every run would compile the ~2,600 modules Airflow and Dagster import again (~12 s of
# CPU per run).
unset PYTHONDONTWRITEBYTECODE
exec .venv/bin/python example_dags/demo_pipeline.py "$@"
