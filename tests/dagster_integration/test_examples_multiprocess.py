"""The example definitions, run on Dagster's multiprocess executor with a persistent instance.

Each step runs in its own process, rebuilding the store, catalog and emitter from configuration
(here the ``CARGOHOLD_*`` variables the example's IO manager falls back to).
"""

import json
import runpy
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from cargohold.core.hold import Cargohold
from cargohold.core.lineage.testing import LineageReceiver
from cargohold.core.query import ArtifactQuery

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example_dags" / "dagster" / "definitions.py"


def _defs() -> dg.Definitions:
    return runpy.run_path(str(EXAMPLE))["defs"]  # type: ignore[no-any-return]


def sales_job() -> dg.JobDefinition:
    """The example's multiprocess job (module level, so Dagster can reconstruct it)."""
    return _defs().resolve_job_def("sales_job")


@pytest.fixture
def example_env(
    monkeypatch: pytest.MonkeyPatch, s3_store_url: str, s3_options: dict[str, Any], pg_url: str
) -> Cargohold:
    monkeypatch.setenv("CARGOHOLD_STORE_URL", s3_store_url)
    monkeypatch.setenv("CARGOHOLD_STORE_OPTIONS", json.dumps(s3_options))
    monkeypatch.setenv("CARGOHOLD_CATALOG_URL", pg_url)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    return Cargohold.from_env()


def test_multiprocess_range_run_then_weekly_report(
    example_env: Cargohold, receiver: LineageReceiver, tmp_path: Path
) -> None:
    (tmp_path / "dagster").mkdir()
    with dg.DagsterInstance.local_temp(tempdir=str(tmp_path / "dagster")) as instance:
        result = dg.execute_job(
            dg.reconstructable(sales_job),
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": "2026-11-01",
                "dagster/asset_partition_range_end": "2026-11-03",
            },
        )
        assert result.success
        pids = {
            event.pid
            for event in result.all_events
            if event.event_type == dg.DagsterEventType.STEP_START
        }
        assert len(pids) == 2  # each step in its own process

    catalog = example_env.catalog
    for day in ("2026-11-01", "2026-11-02", "2026-11-03"):
        found = ArtifactQuery.get_latest(
            dataset="region_totals", partition_keys={"date": day}, catalog=catalog, hold=example_env
        )
        assert found is not None
        assert set(found.load()) == {"eu", "us", "apac"}

    defs = _defs()
    assets = [defs.resolve_assets_def(name) for name in ("daily_sales", "weekly_report")]
    report = dg.materialize(
        assets, partition_key="2026-11-04", selection=[assets[1]], resources=defs.resources
    )
    assert report.success
    frame = report.output_for_node("weekly_report")
    assert list(frame["date"]) == ["2026-11-01", "2026-11-02", "2026-11-03"]  # 11-04 missing

    events = receiver.wait_for(6, timeout=15)
    completes = {e["job"]["name"] for e in events if e["eventType"] == "COMPLETE"}
    assert {"sales_job.daily_sales", "sales_job.region_totals"} <= completes
