"""The example through the ``dagster`` CLI on a persistent instance, then loaded in a fresh process.

``dagster asset materialize`` runs with a ``DAGSTER_HOME`` of its own (SQLite run and event
storage: the PostgreSQL-backed deployment is tested in ``tests/deploy/``), on the multiprocess
executor (the default of asset jobs: each step in its own process). A single-run range over two
days, then one day again with nothing changed; then a new Python process (no run, no shared
state) calls ``defs.load_asset_value("daily_sales", partition_key="2026-11-01")``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "example_dags" / "dagster" / "definitions.py"
TIMEOUT = 300

LOAD = """
import json, runpy, sys
defs = runpy.run_path(sys.argv[1])["defs"]
frame = defs.load_asset_value("daily_sales", partition_key="2026-11-01")
totals = defs.load_asset_value("region_totals", partition_key="2026-11-02")
print(json.dumps({
    "type": type(frame).__name__,
    "rows": len(frame),
    "dates": sorted(set(frame["date"])),
    "columns": list(frame.columns),
    "regions": sorted(totals),
}))
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    out = {k: v for k, v in os.environ.items() if not k.startswith(("CARGOHOLD_", "OPENLINEAGE"))}
    out.update(
        DAGSTER_HOME=str(home),
        PYTHONPATH=str(REPO),
        CARGOHOLD_STORE_URL=f"file://{tmp_path}/store",
        CARGOHOLD_CATALOG_URL=f"sqlite:///{tmp_path}/catalog.db",
    )
    return out


def _run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stderr[-4000:]}"
    return done.stdout


def _materialize(env: dict[str, str], cwd: Path, *selection: str) -> None:
    _run(
        [sys.executable, "-m", "dagster", "asset", "materialize", "-f", str(EXAMPLE), *selection],
        env,
        cwd,
    )


def test_cli_materialize_then_load_in_a_fresh_process(env: dict[str, str], tmp_path: Path) -> None:
    _materialize(
        env,
        tmp_path,
        "--select",
        "daily_sales,region_totals",
        "--partition-range",
        "2026-11-01...2026-11-02",
    )
    for _ in range(2):  # the same day twice, nothing changed
        _materialize(env, tmp_path, "--select", "daily_sales", "--partition", "2026-11-01")

    loaded = json.loads(_run([sys.executable, "-c", LOAD, str(EXAMPLE)], env, tmp_path))
    assert loaded == {
        "type": "DataFrame",
        "rows": 1000,
        "dates": ["2026-11-01"],
        "columns": ["date", "region", "amount"],
        "regions": ["apac", "eu", "us"],
    }

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        assert len(runs) == 3
        assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
        for run in runs:  # the multiprocess executor: every step in a process of its own
            events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event]
            orchestrator = {e.pid for e in events if e.event_type == dg.DagsterEventType.RUN_START}
            steps = [e.pid for e in events if e.event_type == dg.DagsterEventType.STEP_START]
            assert steps
            assert orchestrator.isdisjoint(steps)
            assert len(set(steps)) == len(steps)
        records = instance.fetch_materializations(dg.AssetKey("daily_sales"), limit=10).records
        by_day: dict[str, list[dg.AssetMaterialization]] = {}
        for record in records:
            event = record.asset_materialization
            assert event is not None
            assert event.partition is not None
            by_day.setdefault(event.partition, []).append(event)
    assert sorted(by_day) == ["2026-11-01", "2026-11-02"]
    first_day = by_day["2026-11-01"]
    assert len(first_day) == 3  # newest first: the two single-day runs, then the range run
    # each partition of the range run carries its own metadata, not the run's
    for events in by_day.values():
        assert events[-1].metadata["dagster/row_count"] == dg.MetadataValue.int(1000)
    ids = {e.metadata["cargohold/artifact_id"].value for e in first_day}
    assert len(ids) == 3  # three versions in the catalog ...
    again, once = (e.tags["dagster/data_version"] for e in first_day[:2])
    assert again == once  # ... the same data, the same data version
    assert once == first_day[0].metadata["cargohold/hash"].value  # the content hash
