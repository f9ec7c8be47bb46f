"""The README demo, run three times against a Marquez-like receiver, draws the pipeline.

The demo (``example_dags/demo_pipeline.py``: Airflow's ``daily_producer`` for three days with
``dag.test()``, then Dagster's ``region_totals`` backfill and ``weekly_report``) runs three times
on one ``CARGOHOLD_HOME`` with ``OPENLINEAGE_URL`` pointing at the receiver, once with Airflow's
OpenLineage provider installed and once with it uninstalled (hidden from the Airflow processes,
see ``_lineage_env``); cargohold's ``airflow.plugins`` entry point is declared as pip would.

The graph is built from completed runs only, keyed by namespace + name (as Marquez does): one
node per catalog dataset and one per task or asset, producer -> dataset -> consumer edges, no
node named by a content hash or an internal key, and one version per write of each partition.
Every event is validated against both schema folders by the ``receiver`` fixture.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from cargohold.core.hold import Cargohold
from cargohold.core.lineage.testing import LineageReceiver, dataset_node, job_node
from tests.airflow_provider._lineage_env import plugin_entry_point_dir, without_provider_dir

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "example_dags" / "demo_pipeline.py"
NS = "demo"
DATA = "cargohold://default/development"
RUNS = 3

DATASETS = {
    "daily_producer.report.return_value",
    "daily_producer.publish.return_value",
    "daily_sales",
    "region_totals",
    "weekly_report",
}
TASKS = {"daily_producer.report", "daily_producer.publish", "region_totals", "weekly_report"}


def _job(name: str) -> str:
    return job_node(NS, name)


def _data(name: str) -> str:
    return dataset_node(DATA, name)


EDGES = {
    (_job("daily_producer.report"), _data("daily_producer.report.return_value")),
    (_data("daily_producer.report.return_value"), _job("daily_producer.publish")),
    (_job("daily_producer.publish"), _data("daily_sales")),
    (_job("daily_producer.publish"), _data("daily_producer.publish.return_value")),
    (_data("daily_sales"), _job("region_totals")),
    (_job("region_totals"), _data("region_totals")),
    (_data("daily_sales"), _job("weekly_report")),
    (_job("weekly_report"), _data("weekly_report")),
}
DAYS = ("2026-11-01", "2026-11-02", "2026-11-03")


def _run_demo_three_times(
    tmp_path: Path, template: Path, receiver: LineageReceiver, *, provider: bool
) -> Path:
    home = tmp_path / "home"
    (home / "airflow").mkdir(parents=True)
    shutil.copy(template, home / "airflow" / "airflow.db")  # skip the demo's db migrate
    paths = [str(REPO), str(plugin_entry_point_dir(tmp_path))]
    if not provider:
        paths.append(str(without_provider_dir(tmp_path)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGOHOLD_", "AIRFLOW"))}
    env.update(
        CARGOHOLD_HOME=str(home),
        OPENLINEAGE_URL=receiver.url,
        OPENLINEAGE_NAMESPACE=NS,
        PYTHONPATH=os.pathsep.join(paths),
    )
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, str(DEMO)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    return home


@pytest.mark.slow
@pytest.mark.timeout(3600)  # three demo runs start nine Airflow processes
@pytest.mark.parametrize("provider", [True, False], ids=["provider-installed", "no-provider"])
def test_three_demo_runs_draw_one_node_per_dataset_and_task(
    provider: bool, tmp_path: Path, airflow_db_template: Path, receiver: LineageReceiver
) -> None:
    home = _run_demo_three_times(tmp_path, airflow_db_template, receiver, provider=provider)
    events = receiver.events
    (tmp_path / "events.json").write_text(json.dumps(events))  # for a look after a failure
    producers = {e["producer"] for e in events}
    if provider:
        assert any("airflow" in p for p in producers), producers  # the provider took part
    else:
        assert not any("apache/airflow" in p for p in producers), producers
    assert not receiver.rejected

    graph = receiver.graph()  # completed runs only
    catalog = Cargohold.from_env(environ={"CARGOHOLD_HOME": str(home)}).catalog
    assert {d.id.name for d in catalog.list_datasets()} == DATASETS
    # one node per catalog dataset and one per task or asset (the DAG itself, a parent job the
    # provider reports with no datasets, is the only other node)
    assert graph.datasets == {_data(name) for name in DATASETS}
    assert graph.jobs - {_job("daily_producer")} == {_job(t) for t in TASKS}
    assert graph.edges == EDGES  # producer -> dataset -> consumer, nothing else
    assert graph.connected(_job("daily_producer.report"), _job("weekly_report"))
    for node in graph.nodes:
        assert not re.search(r"[0-9a-f]{32}", node), node  # never named by a content hash
        assert not re.search(r"skipmixin|trigger|__", node), node  # nor by an internal key

    # versions: each write of each partition is one version of the one dataset
    per_partition: dict[tuple[str, str], set[str]] = defaultdict(set)
    for node, versions in graph.versions.items():
        for partition, version in versions:
            per_partition[(node, partition)].add(version)
    for name in ("daily_sales", "daily_producer.report.return_value", "region_totals"):
        for day in DAYS:
            assert len(per_partition[(_data(name), f"date={day}")]) == RUNS
    assert len(per_partition[(_data("weekly_report"), "date=2026-11-03")]) == RUNS
    # the publish task's summary is unpartitioned: one version per DAG run (3 days x 3 demos)
    assert len(per_partition[(_data("daily_producer.publish.return_value"), "")]) == (
        RUNS * len(DAYS)
    )
