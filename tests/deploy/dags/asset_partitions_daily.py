"""Airflow asset partitions through cargohold: a daily partitioned producer and its reader.

``asset_partitions_daily`` runs on ``CronPartitionTimetable`` (daily, ``run_immediately``, so a
scheduler creates the latest day's run as soon as the DAG is unpaused): each run has a partition
key (the day, ``2026-11-04T00:00:00``), its ``sales`` task declares ``partition_by_date``, so the
returned frame is stored by cargohold's XCom backend as the artifact of partition
``date=2026-11-04`` of ``asset_partitions_daily.sales.return_value``, and the asset
``DAILY_SALES`` gets a partitioned event. ``asset_partitions_daily_reader`` runs on
``PartitionedAssetTimetable`` (a ``StartOfDayMapper``): each of its runs carries the producer's
partition key, and it reads that partition from the catalog.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from airflow.sdk import (
    DAG,
    Asset,
    CronPartitionTimetable,
    PartitionedAssetTimetable,
    StartOfDayMapper,
    get_current_context,
    task,
)

from cargohold.core.catalog import partition_by_date

DAILY_SALES = Asset(uri="cargohold://default/development/asset_partitions_daily", name="daily")
DATASET = "asset_partitions_daily.sales.return_value"


def sales_of(day: str) -> pd.DataFrame:
    """The day's sales (deterministic, so a test can check the reader got the right day)."""
    n = int(day[8:10])
    return pd.DataFrame({"day": [day] * n, "amount": [float(n * 10 + i) for i in range(n)]})


with DAG(
    dag_id="asset_partitions_daily",
    # run_immediately: once unpaused, the scheduler runs the latest past midnight right away
    # (without it, catchup=False waits for the next midnight)
    schedule=CronPartitionTimetable("0 0 * * *", timezone="UTC", run_immediately=True),
    catchup=False,
):

    @task(outlets=[DAILY_SALES])
    @partition_by_date(key="date")
    def sales() -> pd.DataFrame:
        key = str(get_current_context()["dag_run"].partition_key)
        return sales_of(key[:10])

    sales()


with DAG(
    dag_id="asset_partitions_daily_reader",
    schedule=PartitionedAssetTimetable(
        assets=DAILY_SALES, default_partition_mapper=StartOfDayMapper()
    ),
    catchup=False,
):

    @task
    def read_day() -> dict[str, Any]:
        from cargohold.core.query import ArtifactQuery

        key = str(get_current_context()["dag_run"].partition_key)
        found = ArtifactQuery.get_latest(dataset=DATASET, partition_keys={"date": key[:10]})
        if found is None:
            raise LookupError(f"no artifact of {DATASET} for partition {key!r}")
        frame = found.load()
        return {
            "partition_key": key,
            "catalog_partitions": dict(found.partitions),
            "days": sorted(set(frame["day"])),
            "rows": len(frame),
        }

    read_day()
