"""Airflow tasks get complete OpenLineage runs from cargohold when no provider listens.

The ``failing`` DAG (``produce`` pushes a list, ``explode`` pushes ``partial`` then raises) runs
with ``dag.test()``, cargohold's ``airflow.plugins`` entry point declared, and Airflow's
OpenLineage provider installed but its listener disabled (``[openlineage] disabled``). (The
README demo's test covers the provider installed and uninstalled.)
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cargohold.core.lineage.events import airflow_task_run_id
from cargohold.core.lineage.testing import LineageReceiver, dataset_node, job_node
from tests.airflow_provider._lineage_env import plugin_entry_point_dir
from tests.airflow_provider.conftest import DAGS, REPO, AirflowEnv
from tests.airflow_provider.test_dag_xcom import wait_quiet

NS = "airflow-test"
DATA = "cargohold://default/development"


def test_without_the_provider_cargohold_opens_and_closes_each_task_run(
    airflow_env: AirflowEnv, receiver: LineageReceiver, tmp_path: Path
) -> None:
    paths = [str(REPO), str(plugin_entry_point_dir(tmp_path)), os.environ.get("PYTHONPATH", "")]
    run = airflow_env.run(
        DAGS / "failing.py",
        "failing",
        timeout=600,
        extra_env={
            "AIRFLOW__OPENLINEAGE__DISABLED": "True",
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        },
    )
    assert run.state == "failed"
    wait_quiet(receiver)
    events = receiver.events
    assert all(e["producer"] == "https://github.com/cargohold/cargohold" for e in events)
    by_job: dict[str, list[str]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], []).append(event["eventType"])
    assert by_job["failing.produce"] == ["START", "COMPLETE"]
    assert by_job["failing.explode"][0] == "START"
    assert by_job["failing.explode"][-1] == "FAIL"
    assert "failing.after" not in by_job  # never ran
    fail = next(e for e in events if e["eventType"] == "FAIL")
    assert "boom" in fail["run"]["facets"]["errorMessage"]["message"]
    assert fail["run"]["facets"]["parent"]["job"]["name"] == "failing"
    # the provider's run id: switching the provider on never changes a run's identity
    logical = datetime.fromisoformat(run.data["logical_date"] or run.data["run_after"])
    assert fail["run"]["runId"] == airflow_task_run_id(
        namespace=NS, dag_id="failing", task_id="explode", try_number=1, logical_date=logical
    )
    graph = receiver.graph()  # completed runs only: COMPLETE and FAIL close them
    produced = dataset_node(DATA, "failing.produce.return_value")
    assert graph.has_edge(job_node(NS, "failing.produce"), produced)
    assert graph.has_edge(produced, job_node(NS, "failing.explode"))
    assert graph.has_edge(
        job_node(NS, "failing.explode"), dataset_node(DATA, "failing.explode.partial")
    )
    assert graph.jobs == {job_node(NS, "failing.produce"), job_node(NS, "failing.explode")}
