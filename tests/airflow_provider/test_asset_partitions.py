"""Airflow asset partitions through cargohold at the ``dag.test()`` level.

The DAGs are those of the real-scheduler tier (``tests/deploy/dags/asset_partitions_*.py``). Here
each run gets the partition key the scheduler would give it (the downstream keys computed by
Airflow's own partition mappers); whether the scheduler creates those runs is the deployment
tier's test, not this one.
"""

from __future__ import annotations

from pathlib import Path

from airflow.partition_mappers.identity import IdentityMapper
from airflow.partition_mappers.product import ProductMapper
from airflow.partition_mappers.temporal import StartOfDayMapper

from cargohold.core.catalog import Catalog
from tests.airflow_provider.conftest import AirflowEnv

DEPLOY_DAGS = Path(__file__).resolve().parents[1] / "deploy" / "dags"


def test_daily_partitions_and_reader(airflow_env: AirflowEnv, catalog_url: str) -> None:
    upstream_key = "2026-11-04T00:00:00"
    produced = airflow_env.run(
        DEPLOY_DAGS / "asset_partitions_daily.py",
        "asset_partitions_daily",
        partition_key=upstream_key,
    )
    assert produced.state == "success", produced.log[-6000:]
    catalog = Catalog.from_url(catalog_url)
    artifact = catalog.get_latest(
        dataset="asset_partitions_daily.sales.return_value", partitions={"date": "2026-11-04"}
    )
    assert artifact.data["value"].blob is not None
    assert artifact.data["value"].blob.rows == 4

    downstream_key = StartOfDayMapper().to_downstream(upstream_key)
    assert downstream_key == "2026-11-04"
    read = airflow_env.run(
        DEPLOY_DAGS / "asset_partitions_daily.py",
        "asset_partitions_daily_reader",
        partition_key=str(downstream_key),
    )
    assert read.state == "success", read.log[-6000:]
    assert read.xcom("read_day")["value"] == {
        "partition_key": "2026-11-04",
        "catalog_partitions": {"date": "2026-11-04"},
        "days": ["2026-11-04"],
        "rows": 4,
    }


def test_runtime_composite_partitions_and_product_mapper(
    airflow_env: AirflowEnv, catalog_url: str
) -> None:
    produced = airflow_env.run(
        DEPLOY_DAGS / "asset_partitions_regional.py", "asset_partitions_regional"
    )
    assert produced.state == "success", produced.log[-6000:]
    keys = produced.xcom("ingest")["value"]
    assert keys == ["eu|2026-11-04T03:00:00", "us|2026-11-04T03:00:00", "apac|2026-11-04T03:00:00"]
    mapper = ProductMapper(IdentityMapper(), StartOfDayMapper())
    downstream = str(mapper.to_downstream(keys[1]))
    assert downstream == "us|2026-11-04"
    read = airflow_env.run(
        DEPLOY_DAGS / "asset_partitions_regional.py",
        "asset_partitions_regional_reader",
        partition_key=downstream,
    )
    assert read.state == "success", read.log[-6000:]
    assert read.xcom("region_day")["value"] == {
        "partition_key": "us|2026-11-04",
        "region": "us",
        "rows": 2,
    }
    catalog = Catalog.from_url(catalog_url)
    own = catalog.get_latest(
        dataset="asset_partitions_regional_reader.region_day.return_value",
        partitions={"region": "us", "date": "2026-11-04"},
    )
    assert own.version == 1
