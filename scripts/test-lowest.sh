#!/usr/bin/env bash
# The adapter tests at the lowest supported Airflow and Dagster (constraints-lowest.txt), in a
# second environment .venv-lowest; CI runs it after scripts/test.sh. Dagster's multiprocess example
# run is left to the main run (it exercises no version-specific code and is the slowest).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-lowest CONSTRAINTS=constraints-lowest.txt \
  EXTRAS=airflow,dagster,s3,postgres,openlineage,polars,pydantic,dev bash scripts/bootstrap.sh
.venv-lowest/bin/python -c 'import airflow, dagster; print("lowest: airflow", airflow.__version__, "dagster", dagster.__version__)'
.venv-lowest/bin/python -m pytest -q -p no:cacheprovider tests/airflow_provider \
  tests/dagster_integration --ignore=tests/dagster_integration/test_examples_multiprocess.py "$@"
