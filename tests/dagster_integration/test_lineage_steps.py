"""Dagster's lineage stands alone: steps as runs, names a user knows, partitions, checks, docs."""

from typing import Any

import dagster as dg
import pandas as pd
import pytest

from cargohold.core.lineage.testing import LineageReceiver, dataset_node, job_node
from cargohold.dagster_integration import CargoholdIOManager

DAILY = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-11-10")
DATA = "cargohold://default/development"


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def sales(context: dg.AssetExecutionContext) -> dict[str, pd.DataFrame]:
    """Sales of each day of the run."""
    return {
        day: pd.DataFrame({"amount": [1.0, None, 3.0][: i + 1]})
        for i, day in enumerate(context.partition_keys)
    }


@dg.asset(partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run())
def totals(sales: dict[str, pd.DataFrame]) -> dict[str, float]:
    return {day: float(frame["amount"].sum()) for day, frame in sales.items()}


@dg.asset
def orders() -> pd.DataFrame:
    return pd.DataFrame({"amount": [5.0, 7.0]})


@dg.asset
def order_total(orders: pd.DataFrame) -> float:
    return float(orders["amount"].sum())


@dg.asset_check(asset=order_total, description="the total is never negative")
def non_negative(order_total: float) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=order_total >= 0)


RANGE = {
    "dagster/asset_partition_range_start": "2026-11-01",
    "dagster/asset_partition_range_end": "2026-11-03",
}


def _events(receiver: LineageReceiver, count: int) -> list[dict[str, Any]]:
    return receiver.wait_for(count, timeout=20)


def test_an_adhoc_range_run_is_one_run_per_step_with_its_partitions(
    io_manager: CargoholdIOManager, receiver: LineageReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "shared")
    resources = {"io_manager": io_manager}
    result = dg.materialize([sales, totals], resources=resources, tags=RANGE)
    assert result.success
    events = _events(receiver, 4)
    kinds = [(e["job"]["namespace"], e["job"]["name"], e["eventType"]) for e in events]
    assert kinds == [
        ("shared", "sales", "START"),
        ("shared", "sales", "COMPLETE"),
        ("shared", "totals", "START"),
        ("shared", "totals", "COMPLETE"),
    ]
    complete = events[1]
    parent = complete["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == result.run_id
    assert parent["job"] == {"namespace": "shared", "name": "adhoc_materialization"}
    job_facets = complete["job"]["facets"]
    assert job_facets["jobType"]["integration"] == "DAGSTER"
    assert job_facets["jobType"]["jobType"] == "ASSET"
    assert job_facets["jobType"]["processingType"] == "BATCH"
    assert job_facets["documentation"]["description"] == "Sales of each day of the run."
    (output,) = complete["outputs"]  # three partitions, one dataset
    assert (output["namespace"], output["name"]) == (DATA, "sales")
    partitions = output["facets"]["cargohold_partitions"]["partitions"]
    assert [p["keys"] for p in partitions] == [
        {"date": "2026-11-01"},
        {"date": "2026-11-02"},
        {"date": "2026-11-03"},
    ]
    assert {p["version"] for p in partitions} == {"1"}
    metrics = output["facets"]["dataQualityMetrics"]
    assert metrics["rowCount"] == 6
    assert metrics["columnMetrics"] == {"amount": {"nullCount": 2}}
    assert output["outputFacets"]["outputStatistics"]["fileCount"] == 3
    (read,) = events[3]["inputs"]
    assert (read["namespace"], read["name"]) == (DATA, "sales")
    assert len(read["facets"]["cargohold_partitions"]["partitions"]) == 3

    # a second run: same datasets and jobs, new versions
    assert dg.materialize([sales, totals], resources=resources, tags=RANGE).success
    _events(receiver, 8)
    graph = receiver.graph()
    assert graph.datasets == {dataset_node(DATA, "sales"), dataset_node(DATA, "totals")}
    assert graph.jobs == {job_node("shared", "sales"), job_node("shared", "totals")}
    assert graph.has_edge(job_node("shared", "sales"), dataset_node(DATA, "sales"))
    assert graph.has_edge(dataset_node(DATA, "sales"), job_node("shared", "totals"))
    versions = graph.versions[dataset_node(DATA, "sales")]
    assert len(versions) == 6  # 3 partitions x 2 runs
    assert {partition for partition, _ in versions} == {
        "date=2026-11-01",
        "date=2026-11-02",
        "date=2026-11-03",
    }


def test_a_job_names_its_steps_and_checks_become_assertions(
    io_manager: CargoholdIOManager, receiver: LineageReceiver
) -> None:
    job = dg.define_asset_job("nightly", selection=[orders, order_total])
    defs = dg.Definitions(
        assets=[orders, order_total],
        asset_checks=[non_negative],
        jobs=[job],
        resources={"io_manager": io_manager},
    )
    result = defs.resolve_job_def("nightly").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    events = _events(receiver, 6)
    names = {e["job"]["name"] for e in events}
    # the @asset_check is a step of its own: its run is named by the step, as Dagster shows it
    assert names == {"nightly.orders", "nightly.order_total", "nightly.order_total_non_negative"}
    check = next(
        e
        for e in events
        if e["job"]["name"] == "nightly.order_total_non_negative" and e["eventType"] == "COMPLETE"
    )
    assert [e["eventType"] for e in events if e["run"]["runId"] == check["run"]["runId"]] == [
        "START",
        "COMPLETE",
    ]
    (asserted,) = check["inputs"]
    assert (asserted["namespace"], asserted["name"]) == (DATA, "order_total")
    assertions = asserted["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert assertions == [{"assertion": "non_negative", "success": True, "severity": "error"}]
    assert check["run"]["facets"]["parent"]["job"]["name"] == "nightly"
