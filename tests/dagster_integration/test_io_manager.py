"""Unpartitioned assets and ops through CargoholdIOManager: S3 (moto) store, PostgreSQL catalog."""

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from cargohold.core.errors import NotFoundError
from cargohold.core.query import ArtifactQuery
from cargohold.dagster_integration import CargoholdIOManager, CargoholdResource
from tests.support.pagecache import resident_pages


@dataclass
class Summary:
    rows: int
    label: str


@dg.asset
def orders() -> pd.DataFrame:
    return pd.DataFrame({"id": range(1000), "region": ["eu", "us"] * 500, "amount": [1.5] * 1000})


@dg.asset
def as_polars(orders: pl.DataFrame) -> int:
    assert isinstance(orders, pl.DataFrame)
    return orders.height


@dg.asset
def as_arrow(orders: pa.Table) -> int:
    assert isinstance(orders, pa.Table)
    return orders.num_rows


@dg.asset(ins={"orders": dg.AssetIn(metadata={"columns": ["region"]})})
def regions(orders: pd.DataFrame) -> list[str]:
    assert list(orders.columns) == ["region"]
    return sorted(set(orders["region"]))


@dg.asset
def summary(orders: pd.DataFrame) -> Summary:
    return Summary(rows=len(orders), label="orders")


@dg.asset
def label(summary: Summary) -> str:
    assert isinstance(summary, Summary)
    return summary.label.upper()


ALL = [orders, as_polars, as_arrow, regions, summary, label]


def test_round_trip_types_columns_and_metadata(io_manager: CargoholdIOManager) -> None:
    result = dg.materialize(ALL, resources={"io_manager": io_manager})
    assert result.success
    assert result.output_for_node("as_polars") == 1000
    assert result.output_for_node("as_arrow") == 1000
    assert result.output_for_node("regions") == ["eu", "us"]
    assert result.output_for_node("label") == "ORDERS"

    meta = result.asset_materializations_for_node("orders")[0].metadata
    uri = meta["dagster/uri"].value
    assert uri.startswith("s3://")
    assert meta["uri"].value == uri
    assert meta["path"].value == uri
    assert meta["dagster/row_count"].value == 1000
    schema = meta["dagster/column_schema"].value
    assert [column.name for column in schema.columns] == ["id", "region", "amount"]
    assert meta["cargohold/version"].value == 1
    assert meta["cargohold/size"].value > 0

    hold = io_manager.hold()
    latest = ArtifactQuery.get_latest(dataset="orders", catalog=hold.catalog, hold=hold)
    assert latest is not None
    assert latest.literal.blob is not None
    assert latest.literal.blob.format == "parquet"  # the default ("auto") on an object store
    assert latest.id == meta["cargohold/artifact_id"].value
    assert latest.uri == uri
    assert latest.source is not None
    assert latest.source.orchestrator == "dagster"
    assert latest.load(columns=["id"]).shape == (1000, 1)
    reads = hold.catalog.reads_of(artifact_id=latest.id)
    assert len(reads) == 4  # as_polars, as_arrow, regions, summary
    small = ArtifactQuery.get_latest(dataset="label", catalog=hold.catalog, hold=hold)
    assert small is not None
    assert small.uri is None
    assert small.load() == "ORDERS"


@dg.asset
def discounted(orders: pd.DataFrame) -> pd.DataFrame:
    orders.loc[0, "amount"] = 0.0  # a loaded frame is writable, like one built in memory
    orders["amount"] *= 0.5
    return orders


def test_local_store_moves_frames_as_arrow_ipc(local_io_manager: CargoholdIOManager) -> None:
    result = dg.materialize([orders, discounted], resources={"io_manager": local_io_manager})
    assert result.success
    hold = local_io_manager.hold()
    for dataset in ("orders", "discounted"):
        latest = ArtifactQuery.get_latest(dataset=dataset, catalog=hold.catalog, hold=hold)
        assert latest is not None
        assert latest.literal.blob is not None
        assert latest.literal.blob.format == "arrow"
    frame = result.output_for_node("discounted")
    assert frame["amount"].tolist()[:2] == [0.0, 0.75]
    upstream = ArtifactQuery.get_latest(dataset="orders", catalog=hold.catalog, hold=hold)
    assert upstream is not None
    assert upstream.load()["amount"].tolist()[:2] == [1.5, 1.5]  # the blob is untouched


RUNS = {"count": 0}


@dg.asset
def snapshot() -> pd.DataFrame:
    RUNS["count"] += 1
    return pd.DataFrame({"run": [RUNS["count"]] * 200_000, "value": range(200_000)})


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is Linux/BSD only")
def test_a_new_version_releases_the_cached_pages_of_the_one_it_supersedes(
    local_io_manager: CargoholdIOManager,
) -> None:
    def latest_path() -> str:
        hold = local_io_manager.hold()
        latest = ArtifactQuery.get_latest(dataset="snapshot", catalog=hold.catalog, hold=hold)
        assert latest is not None
        assert latest.uri is not None
        return hold.store.local_path(latest.uri)

    assert dg.materialize([snapshot], resources={"io_manager": local_io_manager}).success
    first = latest_path()
    assert resident_pages(first) > 0
    assert dg.materialize([snapshot], resources={"io_manager": local_io_manager}).success
    second = latest_path()
    assert second != first
    assert resident_pages(first) == 0  # released, as an overwrite would
    assert resident_pages(second) > 0
    assert os.path.getsize(first) > 0  # and kept: it is version 1 of the history


def test_store_options_as_json_string(
    s3_store_url: str, s3_options: dict[str, object], tmp_path: object
) -> None:
    import json

    manager = CargoholdIOManager(
        store_url=s3_store_url,
        store_options=json.dumps(s3_options),
        catalog_url=f"sqlite:///{tmp_path}/c.db",
    )
    result = dg.materialize([orders, as_polars], resources={"io_manager": manager})
    assert result.success
    assert result.output_for_node("as_polars") == 1000


def test_missing_upstream_names_the_asset(local_io_manager: CargoholdIOManager) -> None:
    result = dg.materialize(
        [orders, as_polars],
        resources={"io_manager": local_io_manager},
        selection=[as_polars],
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0]
    text = str(failure.step_failure_data.error)
    assert "orders" in text
    assert NotFoundError.__name__ in text


@dg.op
def produce() -> pd.DataFrame:
    return pd.DataFrame({"x": [1, 2, 3]})


@dg.op(out=dg.DynamicOut())
def fan_out(frame: pd.DataFrame):  # type: ignore[no-untyped-def]
    for value in frame["x"]:
        yield dg.DynamicOutput(int(value), mapping_key=f"k{value}")


@dg.op
def double(value: int) -> int:
    return value * 2


@dg.op
def add_up(values: list[int]) -> int:
    return sum(values)


@dg.job
def op_job() -> None:
    add_up(fan_out(produce()).map(double).collect())


def test_ops_and_dynamic_outputs(local_io_manager: CargoholdIOManager) -> None:
    result = op_job.execute_in_process(resources={"io_manager": local_io_manager})
    assert result.success
    assert result.output_for_node("add_up") == 12


def test_failing_asset_fails_the_run(local_io_manager: CargoholdIOManager) -> None:
    @dg.asset
    def broken() -> int:
        raise RuntimeError("boom")

    result = dg.materialize(
        [broken], resources={"io_manager": local_io_manager}, raise_on_error=False
    )
    assert not result.success
    with pytest.raises(NotFoundError):
        local_io_manager.hold().catalog.get_dataset(dataset="broken")


def test_resource_of_the_io_manager_reads_what_it_wrote(tmp_path: Path) -> None:
    manager = CargoholdIOManager(
        store_url=f"file://{tmp_path}/elsewhere",
        catalog_url=f"sqlite:///{tmp_path}/elsewhere.db",
        table_format="parquet",
    )
    resource = CargoholdResource.of(manager)
    assert resource.settings() == manager.settings()

    @dg.asset
    def written() -> list[int]:
        return [1, 2]

    @dg.asset(deps=[written])
    def queried(cargohold: CargoholdResource) -> list[int]:
        latest = cargohold.get_latest(dataset="written")
        assert latest is not None
        return list(cargohold.load(latest))

    result = dg.materialize(
        [written, queried], resources={"io_manager": manager, "cargohold": resource}
    )
    assert result.output_for_node("queried") == [1, 2]
