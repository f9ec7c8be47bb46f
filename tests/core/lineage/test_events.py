"""Run ids and job names match Airflow's OpenLineage provider; events validate against the spec."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from openlineage.client.uuid import generate_static_uuid

from cargohold.core.context import RunContext
from cargohold.core.lineage.events import (
    ParentRun,
    RunIdentity,
    airflow_dag_run_id,
    airflow_task_run_id,
    build_run_event,
    dagster_job_name,
    new_run_id,
    static_uuid,
)
from tests.support.services import unavailable

WHEN = datetime(2026, 11, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.mark.parametrize(
    "instant",
    [
        WHEN,
        WHEN.astimezone(timezone(timedelta(hours=5, minutes=30))),
        datetime(1999, 1, 1, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("data", [b"", b"default.dag.task.1.-1", "ü".encode()])
def test_static_uuid_matches_openlineage_bit_for_bit(instant: datetime, data: bytes) -> None:
    assert static_uuid(instant=instant, data=data) == str(generate_static_uuid(instant, data))


def test_airflow_ids_use_the_providers_data_layout() -> None:
    task = airflow_task_run_id(
        namespace="prod", dag_id="etl", task_id="load", try_number=2, logical_date=WHEN, map_index=3
    )
    dag = airflow_dag_run_id(namespace="prod", dag_id="etl", logical_date=WHEN, clear_number=1)
    assert task == str(generate_static_uuid(WHEN, b"prod.etl.load.2.3"))
    assert dag == str(generate_static_uuid(WHEN, b"prod.etl.1"))


def _provider_source() -> str:
    dist = importlib.metadata.distribution("apache-airflow-providers-openlineage")
    path = dist.locate_file("airflow/providers/openlineage/utils/utils.py")
    return path.read_text()  # type: ignore[union-attr]


def test_the_providers_source_still_builds_ids_this_way() -> None:
    """Read (not import) the provider: its run-id data strings are the ones we replicate."""
    source = _provider_source()
    assert (
        'data=f"{conf.namespace()}.{dag_id}.{task_id}.{try_number}.{map_index}".encode()' in source
    )
    assert 'data=f"{conf.namespace()}.{dag_id}.{clear_number}".encode()' in source
    assert 'return f"{task.dag_id}.{task.task_id}"' in source


def test_ids_equal_the_providers_when_airflow_imports(tmp_path: Any) -> None:
    """Call the provider's own functions in a clean interpreter (skips if Airflow cannot start)."""
    code = (
        "import datetime, json\n"
        "from airflow.providers.openlineage.utils.utils import "
        "build_task_instance_ol_run_id as t, build_dag_run_ol_run_id as d\n"
        "w = datetime.datetime.fromisoformat('" + WHEN.isoformat() + "')\n"
        "print(json.dumps([t(dag_id='etl', task_id='load', try_number=2, logical_date=w, "
        "map_index=3), d(dag_id='etl', logical_date=w, clear_number=1)]))\n"
    )
    env = {"AIRFLOW_HOME": str(tmp_path), "OPENLINEAGE_NAMESPACE": "prod", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        reason = f"Airflow could not be imported here: {done.stderr.strip().splitlines()[-1]}"
        unavailable(reason)
    task, dag = json.loads(done.stdout.strip().splitlines()[-1])
    ctx = RunContext(
        orchestrator="airflow", namespace="prod", job="etl", task="load", try_number=2, map_index=3
    )
    identity = RunIdentity.for_context(ctx, logical_date=WHEN, clear_number=1)
    assert (identity.run_id, identity.parent and identity.parent.run_id) == (task, dag)


def test_airflow_identity_from_context(check_events: Any) -> None:
    ctx = RunContext(
        orchestrator="airflow",
        namespace="default",
        job="etl",
        run_id="scheduled__2026-11-02",
        task="extract",
        try_number=1,
        extra={"logical_date": WHEN.isoformat()},
    )
    identity = RunIdentity.for_context(ctx)
    assert identity.job_name == "etl.extract"
    assert identity.run_id == airflow_task_run_id(
        namespace="default", dag_id="etl", task_id="extract", try_number=1, logical_date=WHEN
    )
    assert identity.parent == ParentRun(
        namespace="default",
        job_name="etl",
        run_id=airflow_dag_run_id(namespace="default", dag_id="etl", logical_date=WHEN),
    )
    event = build_run_event(event_type="START", run=identity, event_time=WHEN)
    parent = event["run"]["facets"]["parent"]
    assert parent["job"] == {"namespace": "default", "name": "etl"}
    assert parent["root"]["run"]["runId"] == identity.parent.run_id
    assert event["job"]["facets"]["jobType"]["integration"] == "AIRFLOW"
    assert event["eventTime"] == "2026-11-02T03:04:05.678901Z"
    check_events([event])


def test_airflow_identity_without_logical_date_is_deterministic() -> None:
    ctx = RunContext(orchestrator="airflow", job="etl", run_id="manual__1", task="t")
    first, second = RunIdentity.for_context(ctx), RunIdentity.for_context(ctx)
    assert first == second
    uuid.UUID(first.run_id)
    other = RunIdentity.for_context(
        RunContext(orchestrator="airflow", job="etl", run_id="manual__2", task="t")
    )
    assert other.run_id != first.run_id


def test_dagster_identity_and_job_name(check_events: Any) -> None:
    assert dagster_job_name(job="daily", asset_key=["sales", "clean"]) == "daily.sales.clean"
    assert dagster_job_name(job="", asset_key="sales") == "sales"
    dagster_run = str(uuid.uuid4())
    ctx = RunContext(
        orchestrator="dagster",
        namespace="analytics",
        job="daily",
        run_id=dagster_run,
        task="sales.clean",
        extra={
            "root_parent_run_id": dagster_run,
            "root_parent_job_name": "x",
            "root_parent_job_namespace": "y",
        },
    )
    identity = RunIdentity.for_context(ctx)
    assert identity.job_name == "daily.sales.clean"
    assert identity.namespace == "analytics"
    assert identity.parent is not None
    assert identity.parent.run_id == dagster_run
    assert identity.parent.root == ParentRun(namespace="y", job_name="x", run_id=dagster_run)
    assert identity.run_id != dagster_run
    assert RunIdentity.for_context(ctx) == identity  # another process derives the same run
    event = build_run_event(event_type="COMPLETE", run=identity)
    assert event["job"]["facets"]["jobType"]["jobType"] == "ASSET"
    check_events([event])


def test_plain_python_identity_uses_a_uuid_run_id() -> None:
    run_id = new_run_id()
    assert uuid.UUID(run_id).version == 7
    identity = RunIdentity.for_context(RunContext(job="script", run_id=run_id))
    assert (identity.run_id, identity.parent, identity.job_name) == (run_id, None, "script")


def test_fail_event_carries_the_error_message(check_events: Any) -> None:
    identity = RunIdentity(namespace="ns", job_name="job", run_id=new_run_id())
    try:
        raise KeyError("missing column")
    except KeyError as exc:
        event = build_run_event(event_type="FAIL", run=identity, error=exc)
    facet = event["run"]["facets"]["errorMessage"]
    assert facet["message"] == "KeyError: 'missing column'"
    assert facet["programmingLanguage"] == "python"
    assert "raise KeyError" in facet["stackTrace"]
    text_error = build_run_event(event_type="FAIL", run=identity, error="upstream failed")
    assert "stackTrace" not in text_error["run"]["facets"]["errorMessage"]
    check_events([event, text_error])
