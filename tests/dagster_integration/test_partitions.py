"""Every partition kind, single-run range backfills, concurrent loads and missing partitions."""

from typing import Any

import dagster as dg
import pandas as pd
import polars as pl
import pytest
from dagster import AssetExecutionContext

from cargohold.core.catalog import Range
from cargohold.core.query import ArtifactQuery
from cargohold.dagster_integration import CargoholdIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-11-08")
HOURLY = dg.HourlyPartitionsDefinition(start_date="2026-11-01-00:00", end_date="2026-11-01-06:00")
REGIONS = dg.StaticPartitionsDefinition(["eu", "us", "apac"])
CUSTOMERS = dg.DynamicPartitionsDefinition(name="customers")
MULTI = dg.MultiPartitionsDefinition({"date": DAILY, "region": REGIONS})


def _range_tags(start: str, end: str) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": start,
        "dagster/asset_partition_range_end": end,
    }


@dg.asset(partitions_def=DAILY)
def daily_sales(context: AssetExecutionContext) -> pd.DataFrame:
    day = context.partition_key
    return pd.DataFrame({"day": [day] * 3, "amount": [1, 2, 3]})


@dg.asset(ins={"daily_sales": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
def weekly_total(daily_sales: dict[str, pd.DataFrame]) -> int:
    return sum(int(frame["amount"].sum()) for frame in daily_sales.values())


def test_daily_one_partition_per_run_and_range_load(io_manager: CargoholdIOManager) -> None:
    resources = {"io_manager": io_manager}
    days = DAILY.get_partition_keys()
    for day in days:
        assert dg.materialize([daily_sales], resources=resources, partition_key=day).success
    result = dg.materialize(
        [daily_sales, weekly_total], resources=resources, selection=[weekly_total]
    )
    assert result.success
    assert result.output_for_node("weekly_total") == 6 * len(days)

    hold = io_manager.hold()
    found = ArtifactQuery.get_latest(
        dataset="daily_sales",
        partition_keys={"date": "2026-11-02"},
        catalog=hold.catalog,
        hold=hold,
    )
    assert found is not None
    assert found.partitions == {"date": "2026-11-02"}
    assert list(found.load()["day"]) == ["2026-11-02"] * 3
    listed = ArtifactQuery.list_artifacts(
        dataset="daily_sales",
        partition_keys={"date": Range(ge="2026-11-03", lt="2026-11-05")},
        catalog=hold.catalog,
    )
    assert sorted(a.partitions["date"] for a in listed) == ["2026-11-03", "2026-11-04"]


@dg.asset(partitions_def=DAILY, metadata={"cargohold/partition_column": "day"})
def backfilled(context: AssetExecutionContext) -> pl.DataFrame:
    keys = context.partition_keys
    return pl.DataFrame({"day": [k for k in keys for _ in range(2)], "v": range(2 * len(keys))})


@dg.asset(partitions_def=DAILY)
def backfilled_dict(context: AssetExecutionContext) -> dict[str, int]:
    return {key: index for index, key in enumerate(context.partition_keys)}


def test_single_run_range_stores_one_artifact_per_partition(
    io_manager: CargoholdIOManager,
) -> None:
    resources = {"io_manager": io_manager}
    tags = _range_tags("2026-11-01", "2026-11-04")
    result = dg.materialize([backfilled, backfilled_dict], resources=resources, tags=tags)
    assert result.success
    catalog = io_manager.hold().catalog
    events = result.asset_materializations_for_node("backfilled")
    assert [e.partition for e in events] == DAILY.get_partition_keys()[:4]
    for event in events:  # each partition carries its own metadata, not the run's
        meta = event.metadata
        assert meta["cargohold/partitions"].value == 4
        assert meta["dagster/row_count"].value == 2
        assert [c.name for c in meta["dagster/column_schema"].schema.columns] == ["day", "v"]
        own = catalog.get_artifact(artifact_id=meta["cargohold/artifact_id"].value)
        assert own.partitions == {"date": event.partition}
        assert meta["cargohold/version"].value == own.version
        assert meta["uri"].value == own.data["value"].blob.uri
    for name in ("backfilled", "backfilled_dict"):
        page = catalog.list_artifacts(dataset=name, limit=100)
        assert sorted(a.partitions["date"] for a in page) == DAILY.get_partition_keys()[:4]
        # recorded together, in one transaction (Catalog.create_artifacts): one creation time
        assert len({a.created_at for a in page}) == 1
    hold = io_manager.hold()
    one = ArtifactQuery.get_latest(
        dataset="backfilled", partition_keys={"date": "2026-11-03"}, catalog=catalog, hold=hold
    )
    assert one is not None
    assert one.load()["day"].to_list() == ["2026-11-03"] * 2
    value = ArtifactQuery.get_latest(
        dataset="backfilled_dict", partition_keys={"date": "2026-11-04"}, catalog=catalog, hold=hold
    )
    assert value is not None
    assert value.load() == 3


def test_range_output_that_cannot_be_split_fails(local_io_manager: CargoholdIOManager) -> None:
    @dg.asset(partitions_def=DAILY, name="unsplittable")
    def unsplittable() -> int:
        return 1

    result = dg.materialize(
        [unsplittable],
        resources={"io_manager": local_io_manager},
        tags=_range_tags("2026-11-01", "2026-11-02"),
        raise_on_error=False,
    )
    assert not result.success
    text = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "cargohold/partition_column" in text


@dg.asset(partitions_def=HOURLY, metadata={"cargohold/partition_key": "hour"})
def hourly(context: AssetExecutionContext) -> str:
    return context.partition_key


@dg.asset(partitions_def=REGIONS)
def by_region(context: AssetExecutionContext) -> dict[str, str]:
    return {"region": context.partition_key}


@dg.asset(partitions_def=CUSTOMERS)
def per_customer(context: AssetExecutionContext) -> list[str]:
    return [context.partition_key]


@dg.asset(partitions_def=MULTI)
def multi(context: AssetExecutionContext) -> str:
    key = context.partition_key
    assert isinstance(key, dg.MultiPartitionKey)
    return f"{key.keys_by_dimension['date']}/{key.keys_by_dimension['region']}"


@dg.asset(ins={"multi": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
def multi_all(multi: dict[str, str]) -> list[str]:
    return sorted(multi.values())


def test_hourly_static_dynamic_and_multi(local_io_manager: CargoholdIOManager) -> None:
    resources = {"io_manager": local_io_manager}
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([hourly], resources=resources, partition_key="2026-11-01-03:00").success
    assert dg.materialize([by_region], resources=resources, partition_key="eu").success
    instance.add_dynamic_partitions("customers", ["acme", "globex"])
    assert dg.materialize(
        [per_customer], resources=resources, partition_key="acme", instance=instance
    ).success
    for region in ("eu", "us"):
        key = dg.MultiPartitionKey({"date": "2026-11-02", "region": region})
        assert dg.materialize([multi], resources=resources, partition_key=key).success

    catalog = local_io_manager.hold().catalog
    assert catalog.get_dataset(dataset="hourly").partition_keys == ("hour",)
    assert catalog.get_dataset(dataset="by_region").partition_keys == ("partition",)
    assert catalog.get_dataset(dataset="per_customer").partition_keys == ("partition",)
    assert set(catalog.get_dataset(dataset="multi").partition_keys) == {"date", "region"}
    hold = local_io_manager.hold()
    got = ArtifactQuery.get_latest(
        dataset="hourly", partition_keys={"hour": "2026-11-01-03:00"}, catalog=catalog, hold=hold
    )
    assert got is not None
    assert got.load() == "2026-11-01-03:00"
    got = ArtifactQuery.get_latest(
        dataset="multi",
        partition_keys={"date": "2026-11-02", "region": "us"},
        catalog=catalog,
        hold=hold,
    )
    assert got is not None
    assert got.load() == "2026-11-02/us"
    got = ArtifactQuery.get_latest(
        dataset="per_customer", partition_keys={"partition": "acme"}, catalog=catalog, hold=hold
    )
    assert got is not None
    assert got.load() == ["acme"]

    # the two materialized multi-partitions load as a dict; the others are skipped
    @dg.asset(
        name="multi_some",
        ins={
            "multi": dg.AssetIn(
                partition_mapping=dg.AllPartitionMapping(),
                metadata={"allow_missing_partitions": True},
            )
        },
    )
    def multi_some(multi: dict[str, str]) -> list[str]:
        return sorted(multi)

    result = dg.materialize([multi, multi_some], resources=resources, selection=[multi_some])
    assert result.success
    assert result.output_for_node("multi_some") == ["2026-11-02|eu", "2026-11-02|us"]


def test_missing_partition_error_names_it(local_io_manager: CargoholdIOManager) -> None:
    resources = {"io_manager": local_io_manager}
    assert dg.materialize([daily_sales], resources=resources, partition_key="2026-11-01").success
    result = dg.materialize(
        [daily_sales, weekly_total],
        resources=resources,
        selection=[weekly_total],
        raise_on_error=False,
    )
    assert not result.success
    text = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "2026-11-02" in text
    assert "allow_missing_partitions" in text


def test_missing_partitions_skipped_when_allowed(local_io_manager: CargoholdIOManager) -> None:
    @dg.asset(
        name="tolerant",
        ins={
            "daily_sales": dg.AssetIn(
                partition_mapping=dg.AllPartitionMapping(),
                metadata={"allow_missing_partitions": True},
            )
        },
    )
    def tolerant(daily_sales: dict[str, Any]) -> list[str]:
        return sorted(daily_sales)

    resources = {"io_manager": local_io_manager}
    for day in ("2026-11-01", "2026-11-03"):
        assert dg.materialize([daily_sales], resources=resources, partition_key=day).success
    result = dg.materialize([daily_sales, tolerant], resources=resources, selection=[tolerant])
    assert result.success
    assert result.output_for_node("tolerant") == ["2026-11-01", "2026-11-03"]


@pytest.mark.parametrize("max_concurrency", [1, 4])
def test_partitioned_downstream_of_partitioned(tmp_path: Any, max_concurrency: int) -> None:
    manager = CargoholdIOManager(
        store_url=f"file://{tmp_path}/s",
        catalog_url=f"sqlite:///{tmp_path}/c.db",
        max_concurrency=max_concurrency,
    )

    @dg.asset(partitions_def=DAILY, name="cleaned")
    def cleaned(daily_sales: pd.DataFrame) -> pd.DataFrame:
        return daily_sales.assign(amount=daily_sales["amount"] * 10)

    resources = {"io_manager": manager}
    for day in ("2026-11-05", "2026-11-06"):
        assert dg.materialize(
            [daily_sales, cleaned], resources=resources, partition_key=day
        ).success
    found = manager.hold().catalog.get_latest(dataset="cleaned", partitions={"date": "2026-11-06"})
    assert manager.hold().get(found.data["value"])["amount"].tolist() == [10, 20, 30]
