"""A cached asset skips its body when its version and its inputs' contents are unchanged."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from cargohold.dagster_integration import CargoholdIOManager, cached_asset


def build(calls: Path, *, version: str, source_value: int) -> list[dg.AssetsDefinition]:
    @dg.asset
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"amount": [source_value, 2, 3]})

    @dg.asset
    @cached_asset(version=version)
    def totals(context: dg.AssetExecutionContext, orders: pd.DataFrame) -> pd.DataFrame:
        with calls.open("a") as log:
            log.write("ran\n")
        return pd.DataFrame({"total": [int(orders["amount"].sum())]})

    return [orders, totals]


def body_runs(calls: Path) -> int:
    return len(calls.read_text().splitlines()) if calls.exists() else 0


def test_cached_asset_is_skipped_on_the_second_run(
    io_manager: CargoholdIOManager, tmp_path: Path
) -> None:
    calls = tmp_path / "calls.log"
    resources = {"io_manager": io_manager}
    instance = dg.DagsterInstance.ephemeral()

    first = dg.materialize(
        build(calls, version="1", source_value=1), resources=resources, instance=instance
    )
    assert first.success
    assert body_runs(calls) == 1

    second = dg.materialize(
        build(calls, version="1", source_value=1), resources=resources, instance=instance
    )
    assert second.success
    assert body_runs(calls) == 1  # skipped: same version, same input content
    assert second.output_for_node("totals")["total"].tolist() == [6]
    catalog = io_manager.hold().catalog
    first_meta = first.asset_materializations_for_node("totals")[0].metadata
    second_meta = second.asset_materializations_for_node("totals")[0].metadata
    assert second_meta["cargohold/version"].value == 2  # history is kept: a new version ...
    assert second_meta["uri"].value == first_meta["uri"].value  # ... of the same blob
    assert len(catalog.list_artifacts(dataset="totals").items) == 2

    dg.materialize(
        build(calls, version="2", source_value=1), resources=resources, instance=instance
    )
    assert body_runs(calls) == 2  # a version bump recomputes

    dg.materialize(
        build(calls, version="2", source_value=10), resources=resources, instance=instance
    )
    assert body_runs(calls) == 3  # changed input content recomputes
