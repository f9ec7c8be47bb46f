"""An input over several partitions annotated with a table type loads as one table."""

from typing import Any

import dagster as dg
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from dagster import AssetExecutionContext

from cargohold.core.catalog.scan import ScannedTable
from cargohold.dagster_integration import CargoholdIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-11-05")
DAYS = DAILY.get_partition_keys()
ALL = dg.AllPartitionMapping()


@dg.asset(partitions_def=DAILY)
def sales(context: AssetExecutionContext) -> pd.DataFrame:
    day = int(context.partition_key[-2:])
    return pd.DataFrame({"amount": [day * 10 + i for i in range(3)], "store": ["a", "b", "c"]})


seen: dict[str, Any] = {}


@dg.asset(ins={"sales": dg.AssetIn(partition_mapping=ALL)})
def as_pandas(sales: pd.DataFrame) -> int:
    seen["pandas"] = sales
    return len(sales)


@dg.asset(ins={"sales": dg.AssetIn(partition_mapping=ALL, metadata={"columns": ["amount"]})})
def as_arrow(sales: pa.Table) -> int:
    seen["arrow"] = sales
    return sales.num_rows


@dg.asset(ins={"sales": dg.AssetIn(partition_mapping=ALL)})
def as_lazy(sales: pl.LazyFrame) -> int:
    seen["lazy"] = sales
    return int(sales.filter(pl.col("date") >= "2026-11-03").select(pl.len()).collect().item())


@dg.asset(ins={"sales": dg.AssetIn(partition_mapping=ALL)})
def as_scan(sales: ScannedTable) -> int:
    seen["scan"] = sales
    return sum(batch.num_rows for batch in sales)


@dg.asset(ins={"sales": dg.AssetIn(partition_mapping=ALL)})
def as_dict(sales: dict[str, pd.DataFrame]) -> int:
    seen["dict"] = sales
    return len(sales)


@dg.asset(
    partitions_def=DAILY,
    ins={"sales": dg.AssetIn(partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-2))},
)
def trailing(sales: pd.DataFrame) -> pd.DataFrame:
    return sales.groupby("date", as_index=False)["amount"].sum()


def _materialize_days(io_manager: CargoholdIOManager) -> None:
    for day in DAYS:
        result = dg.materialize([sales], resources={"io_manager": io_manager}, partition_key=day)
        assert result.success


def test_table_annotations_load_one_table_with_the_partition_column(
    local_io_manager: CargoholdIOManager,
) -> None:
    _materialize_days(local_io_manager)
    downstream = [as_pandas, as_arrow, as_lazy, as_scan, as_dict]
    result = dg.materialize(
        [sales, *downstream],
        resources={"io_manager": local_io_manager},
        selection=downstream,
    )
    assert result.success
    frame = seen["pandas"]
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["amount", "store", "date"]
    assert list(frame["date"]) == [day for day in DAYS for _ in range(3)]
    assert list(frame["amount"][:4]) == [10, 11, 12, 20]
    table = seen["arrow"]
    assert isinstance(table, pa.Table)
    assert table.schema.names == ["amount", "date"]  # the asked columns and the partition key
    assert table.num_rows == 3 * len(DAYS)
    assert isinstance(seen["lazy"], pl.LazyFrame)
    assert result.output_for_node("as_lazy") == 3 * 2
    assert isinstance(seen["scan"], ScannedTable)
    assert result.output_for_node("as_scan") == 3 * len(DAYS)
    assert isinstance(seen["dict"], dict)
    assert sorted(seen["dict"]) == DAYS


def test_partition_range_of_a_partitioned_downstream(io_manager: CargoholdIOManager) -> None:
    """On S3 (moto) and PostgreSQL: the three days ending on the run's day, as one frame."""
    _materialize_days(io_manager)
    result = dg.materialize(
        [sales, trailing],
        resources={"io_manager": io_manager},
        selection=[trailing],
        partition_key="2026-11-04",
    )
    assert result.success
    out = result.output_for_node("trailing")
    assert out.to_dict("list") == {
        "date": ["2026-11-02", "2026-11-03", "2026-11-04"],
        "amount": [63, 93, 123],
    }


@pytest.mark.parametrize("annotation", [pd.DataFrame, pa.Table, pl.LazyFrame, ScannedTable])
def test_table_kinds(annotation: Any) -> None:
    from cargohold.dagster_integration._scan_inputs import table_kind

    assert table_kind(annotation) is not None
    assert table_kind(dict[str, pd.DataFrame]) is None
    assert table_kind(int) is None
