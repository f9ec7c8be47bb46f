"""Airflow asset partitions through cargohold under the real scheduler (LocalExecutor on
PostgreSQL, store on S3, catalog on PostgreSQL); DAGs ``tests/deploy/dags/asset_partitions_*``.

- ``asset_partitions_daily`` (``CronPartitionTimetable``, daily): the scheduler creates its run
  for the latest day by itself once the DAG is unpaused; a second run of partition
  ``2026-11-04T00:00:00`` is triggered through the REST API with that partition key. Each run's
  partitioned asset event makes the scheduler create a run of ``asset_partitions_daily_reader``
  (``PartitionedAssetTimetable`` + ``StartOfDayMapper``) with the mapped key, which reads that
  day's artifact from the catalog.
- ``asset_partitions_regional`` (``PartitionedAtRuntime``, triggered through the REST API) adds
  three composite partitions ``region|timestamp`` with ``add_partitions``; the scheduler creates
  one ``asset_partitions_regional_reader`` run per key (``ProductMapper(IdentityMapper(),
  StartOfDayMapper())``), each reading its own region-day.

The catalog's partitions must match Airflow's partition keys, and each reader must have read its
own partition.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cargohold.core.catalog import Catalog
from tests.deploy.conftest import LocalAirflow, local_airflow
from tests.deploy.dags.asset_partitions_daily import DATASET as DAILY
from tests.deploy.dags.asset_partitions_daily import sales_of
from tests.deploy.dags.asset_partitions_regional import DATASET as REGIONAL
from tests.deploy.dags.asset_partitions_regional import REGIONS, TIMESTAMP
from tests.support.services import S3Server

pytestmark = [pytest.mark.deploy, pytest.mark.postgres, pytest.mark.s3, pytest.mark.timeout(900)]

DAG_IDS = [
    "asset_partitions_daily",
    "asset_partitions_daily_reader",
    "asset_partitions_regional",
    "asset_partitions_regional_reader",
]
TIMEOUT = 300.0


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, deploy_s3: S3Server
) -> Iterator[LocalAirflow]:
    files = ["asset_partitions_daily.py", "asset_partitions_regional.py"]
    with local_airflow(tmp_path_factory.mktemp("assets"), deploy_s3, files, DAG_IDS) as d:
        yield d


def value(deployed: LocalAirflow, dag_id: str, run_id: str, task_id: str) -> Any:
    stored = deployed.airflow.rest.xcom(dag_id, run_id, task_id)
    return (json.loads(stored) if isinstance(stored, str) else stored)["value"]


def runs_by_key(deployed: LocalAirflow, dag_id: str, keys: set[str]) -> dict[str, str]:
    """Wait until ``dag_id`` has a run for every partition key in ``keys``; key -> run id."""
    rest = deployed.airflow.rest

    def found() -> dict[str, str] | None:
        runs = rest.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]
        have = {r["partition_key"]: r["dag_run_id"] for r in runs if r["partition_key"]}
        return have if keys <= set(have) else None

    return rest.deployment.wait_for(
        "scheduler", found, timeout=TIMEOUT, what=f"{dag_id} runs for {sorted(keys)}"
    )


def test_cron_partitions_and_a_mapped_reader(deployed: LocalAirflow) -> None:
    airflow, rest = deployed.airflow, deployed.airflow.rest
    manual = rest.trigger("asset_partitions_daily", partition_key="2026-11-04T00:00:00")

    def scheduled() -> list[dict[str, Any]] | None:
        runs = rest.get("/dags/asset_partitions_daily/dagRuns")["dag_runs"]
        return [r for r in runs if r["run_type"] == "scheduled"] or None

    (cron,) = airflow.deployment.wait_for(
        "scheduler", scheduled, timeout=TIMEOUT, what="a scheduled (cron) run"
    )
    producers = {cron["partition_key"]: cron["dag_run_id"]}
    producers["2026-11-04T00:00:00"] = manual
    for key, run_id in producers.items():
        airflow.succeed("asset_partitions_daily", run_id, timeout=TIMEOUT)
        assert rest.run("asset_partitions_daily", run_id)["partition_key"] == key

    catalog = Catalog.from_url(deployed.catalog_url)
    artifacts = catalog.list_artifacts(dataset=DAILY).items
    assert sorted(a.partitions["date"] for a in artifacts) == sorted(k[:10] for k in producers)

    readers = runs_by_key(deployed, "asset_partitions_daily_reader", {k[:10] for k in producers})
    for day, run_id in readers.items():
        airflow.succeed("asset_partitions_daily_reader", run_id, timeout=TIMEOUT)
        assert value(deployed, "asset_partitions_daily_reader", run_id, "read_day") == {
            "partition_key": day,
            "catalog_partitions": {"date": day},
            "days": [day],
            "rows": len(sales_of(day)),
        }
    catalog.close()


def test_runtime_composite_partitions_and_a_product_mapper(deployed: LocalAirflow) -> None:
    airflow, rest = deployed.airflow, deployed.airflow.rest
    run_id = rest.trigger("asset_partitions_regional")
    airflow.succeed("asset_partitions_regional", run_id, timeout=TIMEOUT)
    keys = value(deployed, "asset_partitions_regional", run_id, "ingest")
    assert keys == [f"{region}|{TIMESTAMP}" for region in REGIONS]

    catalog = Catalog.from_url(deployed.catalog_url)
    published = catalog.list_artifacts(dataset=REGIONAL).items
    assert sorted(f"{a.partitions['region']}|{a.partitions['date']}" for a in published) == sorted(
        f"{region}|{TIMESTAMP[:10]}" for region in REGIONS
    )

    wanted = {f"{region}|{TIMESTAMP[:10]}": region for region in REGIONS}
    readers = runs_by_key(deployed, "asset_partitions_regional_reader", set(wanted))
    assert set(readers) == set(wanted)  # one reader run per composite key, nothing else
    for key, reader in readers.items():
        airflow.succeed("asset_partitions_regional_reader", reader, timeout=TIMEOUT)
        region = wanted[key]
        assert value(deployed, "asset_partitions_regional_reader", reader, "region_day") == {
            "partition_key": key,
            "region": region,
            "rows": REGIONS.index(region) + 1,
        }
        own = catalog.get_latest(
            dataset="asset_partitions_regional_reader.region_day.return_value",
            partitions={"region": region, "date": TIMESTAMP[:10]},
        )
        assert own.source is not None
        assert own.source.run_id == reader
    catalog.close()
