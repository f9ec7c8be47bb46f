#!/usr/bin/env bash
# The adapter tests at the lowest supported Airflow and Dagster (constraints-lowest.txt), in a
# second environment .venv-lowest; CI runs it after scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# Let Python cache bytecode (some hosts set PYTHONDONTWRITEBYTECODE=1: every Airflow and Dagster
# subprocess the tests start would then compile its ~2,400 imported modules again, ~12 CPU-s each).
unset PYTHONDONTWRITEBYTECODE
VENV=.venv-lowest CONSTRAINTS=constraints-lowest.txt \
  EXTRAS=airflow,dagster,s3,postgres,openlineage,polars,pydantic,dev bash scripts/bootstrap.sh
.venv-lowest/bin/python -c 'import airflow, dagster; print("lowest: airflow", airflow.__version__, "dagster", dagster.__version__)'
# The tests of the version-specific surface: Airflow's internals and XCom path (dag.test()), the
# provider's operators and purge; Dagster's IO manager behaviours, partitions, versions and the
# cache. The slow end-to-end runs (demo lineage, asset partitions, fuzzing in a task) stay in the
# main run.
.venv-lowest/bin/python -m pytest -q -p no:cacheprovider -n "${CARGOHOLD_TEST_WORKERS:-auto}" \
  tests/airflow_provider/test_units.py tests/airflow_provider/test_internals.py \
  tests/airflow_provider/test_dag_xcom.py tests/airflow_provider/test_example_dags.py \
  tests/airflow_provider/test_purge.py \
  tests/dagster_integration/test_io_manager.py tests/dagster_integration/test_partitions.py \
  tests/dagster_integration/test_versions_lineage.py tests/dagster_integration/test_caching.py \
  tests/dagster_integration/test_conformance.py "$@"
