"""Composite asset partitions (``region|timestamp``) through cargohold.

``asset_partitions_regional`` runs on ``PartitionedAtRuntime``: its task publishes one artifact
per region to the catalog dataset ``regional_sales`` (partitions ``region`` and ``date``) and adds
the composite partition ``{region}|{timestamp}`` to the asset. ``asset_partitions_regional_reader``
runs on ``PartitionedAssetTimetable`` with ``ProductMapper(IdentityMapper(), StartOfDayMapper())``:
its task declares ``partition_by_key("region")`` then ``partition_by_date("date")`` (the order of
the composite key), so its own output lands in the matching partition, and it reads the region-day
it was triggered for.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd
from airflow.sdk import (
    DAG,
    Asset,
    IdentityMapper,
    PartitionedAssetTimetable,
    PartitionedAtRuntime,
    ProductMapper,
    StartOfDayMapper,
    get_current_context,
    task,
)

from cargohold.core.catalog import partition_by_date, partition_by_key

REGIONAL = Asset(uri="cargohold://default/development/regional_sales", name="regional_sales")
DATASET = "regional_sales"
REGIONS = ("eu", "us", "apac")
TIMESTAMP = "2026-11-04T03:00:00"


with DAG(dag_id="asset_partitions_regional", schedule=PartitionedAtRuntime(), catchup=False):

    @task(outlets=[REGIONAL])
    def ingest(*, outlet_events: Any = None) -> list[str]:
        from cargohold.airflow_provider.hooks import CargoholdHook
        from cargohold.core.errors import AlreadyExistsError

        hold = CargoholdHook().get_conn()
        catalog = hold.catalog
        with contextlib.suppress(AlreadyExistsError):  # an earlier run made it
            catalog.create_dataset(dataset=DATASET, partition_keys=["region", "date"])
        keys = []
        for index, region in enumerate(REGIONS):
            frame = pd.DataFrame({"region": [region] * (index + 1), "amount": [1.0] * (index + 1)})
            catalog.create_artifact(
                dataset=DATASET,
                partitions={"region": region, "date": TIMESTAMP[:10]},
                data={"value": hold.put(frame)},
            )
            key = f"{region}|{TIMESTAMP}"
            outlet_events[REGIONAL].add_partitions(key)
            keys.append(key)
        return keys

    ingest()


with DAG(
    dag_id="asset_partitions_regional_reader",
    schedule=PartitionedAssetTimetable(
        assets=REGIONAL,
        default_partition_mapper=ProductMapper(IdentityMapper(), StartOfDayMapper()),
    ),
    catchup=False,
):

    @task
    @partition_by_key(key="region")
    @partition_by_date(key="date")
    def region_day() -> dict[str, Any]:
        from cargohold.core.query import ArtifactQuery

        key = str(get_current_context()["dag_run"].partition_key)
        region, stamp = key.split("|")
        found = ArtifactQuery.get_latest(
            dataset=DATASET, partition_keys={"region": region, "date": stamp[:10]}
        )
        if found is None:
            raise LookupError(f"no artifact of {DATASET} for partition {key!r}")
        frame = found.load()
        return {"partition_key": key, "region": region, "rows": len(frame)}

    region_day()
