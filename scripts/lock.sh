#!/usr/bin/env bash
# Refresh the pins: constraints.txt (the development and CI environment: every extra, Python 3.11+,
# any platform) and constraints-lowest.txt (the adapter tests at the lowest supported Airflow and
# Dagster). Versions already pinned are kept where they still resolve; pass --upgrade to move every
# pin to the newest release inside pyproject.toml's ranges. Needs uv (installed by bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-.venv/bin/uv}
# The lowest supported releases: keep these equal to the lower bounds in pyproject.toml.
LOWEST_AIRFLOW=3.3.0
LOWEST_DAGSTER=1.13.0
LOWEST_DAGSTER_LIBS=0.29.0
grep -q "apache-airflow>=${LOWEST_AIRFLOW}," pyproject.toml
grep -q "dagster>=${LOWEST_DAGSTER}," pyproject.toml
compile=("$UV" pip compile pyproject.toml --universal --python-version 3.11 --no-header
  --no-annotate --quiet)
"${compile[@]}" --all-extras "$@" -o constraints.txt
overrides=$(mktemp)
trap 'rm -f "$overrides"' EXIT
printf 'apache-airflow==%s\ndagster==%s\ndagster-webserver==%s\ndagster-graphql==%s\ndagster-postgres==%s\n' \
  "$LOWEST_AIRFLOW" "$LOWEST_DAGSTER" "$LOWEST_DAGSTER" "$LOWEST_DAGSTER" "$LOWEST_DAGSTER_LIBS" >"$overrides"
[ -f constraints-lowest.txt ] || cp constraints.txt constraints-lowest.txt
"${compile[@]}" --extra airflow --extra dagster --extra s3 --extra postgres \
  --extra openlineage --extra polars --extra pydantic --extra dev \
  --override "$overrides" "$@" -o constraints-lowest.txt
echo "constraints.txt: $(grep -c '==' constraints.txt) pins; constraints-lowest.txt: $(grep -c '==' constraints-lowest.txt) pins"
