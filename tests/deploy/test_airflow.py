"""Airflow for real: scheduler, dag-processor, triggerer and api-server on PostgreSQL, with the
LocalExecutor and then the CeleryExecutor (two workers on Redis); cargohold's XCom backend, the
store on S3 (moto over HTTP), the catalog on PostgreSQL. DAGs are triggered and awaited through
the REST API; one deployment per executor, its DAGs triggered concurrently.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy.conftest import DAGS, cargohold_env, require_redis
from tests.deploy.dags.deploy_frames import ROWS, checksum, make_frame
from tests.support.airflow_deploy import AirflowDeployment, airflow_deployment
from tests.support.services import S3Server, postgres_database, require_postgres

pytestmark = [pytest.mark.deploy, pytest.mark.postgres, pytest.mark.s3, pytest.mark.timeout(900)]

BACKEND = "cargohold.airflow_provider.xcom.CargoholdXComBackend"
DAG_FILES = ["deploy_cached.py", "deploy_features.py", "deploy_frames.py", "deploy_partitions.py"]
DAG_IDS = [
    "deploy_frames",
    "deploy_features",
    "deploy_cached",
    "deploy_producer",
    "deploy_consumer",
]
FEATURES_DATE = "2026-01-02T00:00:00Z"
RUN_TIMEOUT = 420.0


@pytest.fixture(scope="module", params=["LocalExecutor", "CeleryExecutor"])
def airflow(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    deploy_s3: S3Server,
) -> Iterator[AirflowDeployment]:
    """One deployment per executor for the whole module."""
    executor = str(request.param)
    require_postgres()
    workers: tuple[str, ...] = ()
    if executor == "CeleryExecutor":
        require_redis()
        workers = ("w1", "w2")
    root = tmp_path_factory.mktemp(executor.lower())
    dags = root / "dags"  # only this module's DAGs (the folder also holds other modules')
    dags.mkdir()
    for name in DAG_FILES:
        shutil.copy(DAGS / name, dags / name)
    with postgres_database() as metadata_url, postgres_database() as catalog_url:
        env = cargohold_env(deploy_s3, catalog_url=catalog_url, home=root / "cargohold")
        env["AIRFLOW__CORE__XCOM_BACKEND"] = BACKEND
        with airflow_deployment(
            root,
            metadata_url=metadata_url,
            dags_folder=dags,
            executor=executor,
            celery_workers=workers,
            extra_env=env,
        ) as deployment:
            deployment.rest.wait_for_dags(DAG_IDS, timeout=240)
            yield deployment


@pytest.fixture(scope="module")
def runs(airflow: AirflowDeployment) -> dict[str, str]:
    """Every DAG of the module triggered at once (the consumer before its producer)."""
    rest = airflow.rest
    return {
        "frames": rest.trigger("deploy_frames"),
        "features": rest.trigger("deploy_features", logical_date=FEATURES_DATE),
        "cached": rest.trigger("deploy_cached"),
        "consumer": rest.trigger("deploy_consumer", conf={"region": "emea"}),
    }


def document(value: Any) -> dict[str, Any]:
    """The stored XCom document as the REST API returns it (a JSON string or an object)."""
    return dict(json.loads(value) if isinstance(value, str) else value)


def succeed(airflow: AirflowDeployment, dag_id: str, run_id: str) -> dict[str, Any]:
    return airflow.succeed(dag_id, run_id, timeout=RUN_TIMEOUT)


def test_a_2m_row_frame_crosses_workers(airflow: AirflowDeployment, runs: dict[str, str]) -> None:
    rest, run_id = airflow.rest, runs["frames"]
    succeed(airflow, "deploy_frames", run_id)
    result = document(rest.xcom("deploy_frames", run_id, "consume"))
    assert result["value"]["rows"] == ROWS
    assert result["value"]["checksum"] == checksum(make_frame())
    produced = document(rest.xcom("deploy_frames", run_id, "produce"))
    assert produced["blob"]["rows"] == ROWS
    assert produced["blob"]["uri"].startswith("s3://"), produced
    assert produced["artifact"]["dataset"] == "deploy_frames.produce.return_value"
    if airflow.executor == "CeleryExecutor":
        producer = rest.task_instance("deploy_frames", run_id, "produce")
        consumer = rest.task_instance("deploy_frames", run_id, "consume")
        # each worker alone serves its own queue: the frame went from worker w1 to worker w2
        assert producer["queue"] == f"{airflow.queue_prefix}w1"
        assert consumer["queue"] == f"{airflow.queue_prefix}w2"
        for worker, task_id in (("w1", "produce"), ("w2", "consume")):
            ran = f"dag_id=deploy_frames/run_id={run_id}/task_id={task_id}/"
            assert ran in airflow.deployment.log(f"celery-{worker}"), f"{task_id} not on {worker}"


def test_mapped_tasks_a_gather_a_branch_and_a_retry(
    airflow: AirflowDeployment, runs: dict[str, str]
) -> None:
    rest, run_id = airflow.rest, runs["features"]
    succeed(airflow, "deploy_features", run_id)
    squares = [
        document(rest.xcom("deploy_features", run_id, "square", map_index=i))["value"]
        for i in range(5)
    ]
    assert squares == [1, 4, 9, 16, 25]
    assert document(rest.xcom("deploy_features", run_id, "total"))["value"] == 55
    assert rest.task_instance("deploy_features", run_id, "big")["state"] == "success"
    assert rest.task_instance("deploy_features", run_id, "small")["state"] == "skipped"
    assert document(rest.xcom("deploy_features", run_id, "big"))["value"] == "big:55"
    flaky = rest.task_instance("deploy_features", run_id, "flaky")
    assert (flaky["state"], flaky["try_number"]) == ("success", 2)
    assert document(rest.xcom("deploy_features", run_id, "flaky"))["value"] == 2


def test_tasks_clear_and_a_rerun(airflow: AirflowDeployment, runs: dict[str, str]) -> None:
    rest, run_id = airflow.rest, runs["features"]
    succeed(airflow, "deploy_features", run_id)
    # the deployment has one run of deploy_features: clear its total and what follows it
    # (Airflow 3.3.1 matches -t as a substring of the task id, not as the regex its help says)
    airflow.cli("tasks-clear", "tasks", "clear", "deploy_features", "-t", "total", "-d", "-y")
    succeed(airflow, "deploy_features", run_id)
    total = rest.task_instance("deploy_features", run_id, "total")
    assert (total["state"], total["try_number"]) == ("success", 2)
    assert document(rest.xcom("deploy_features", run_id, "total"))["value"] == 55
    assert rest.task_instance("deploy_features", run_id, "big")["try_number"] == 2
    assert document(rest.xcom("deploy_features", run_id, "big"))["value"] == "big:55"


def test_a_cached_task_is_not_computed_twice(
    airflow: AirflowDeployment, runs: dict[str, str]
) -> None:
    rest = airflow.rest
    first = runs["cached"]
    succeed(airflow, "deploy_cached", first)
    second = rest.trigger("deploy_cached")
    succeed(airflow, "deploy_cached", second)
    a = document(rest.xcom("deploy_cached", first, "expensive"))["value"]
    b = document(rest.xcom("deploy_cached", second, "expensive"))["value"]
    assert a["squares"] == [i * i for i in range(12)]
    assert a == b, "the second run computed the value again instead of hitting the cache"


def test_a_deferrable_sensor_waits_in_the_triggerer_for_a_partition(
    airflow: AirflowDeployment, runs: dict[str, str]
) -> None:
    rest, consumer = airflow.rest, runs["consumer"]
    rest.wait_for_task_state("deploy_consumer", consumer, "wait", "deferred", timeout=RUN_TIMEOUT)
    other = rest.trigger("deploy_producer", conf={"region": "apac"})
    succeed(airflow, "deploy_producer", other)  # another partition does not wake the sensor
    assert rest.task_instance("deploy_consumer", consumer, "wait")["state"] == "deferred"
    producer = rest.trigger("deploy_producer", conf={"region": "emea"})
    succeed(airflow, "deploy_producer", producer)
    produced = document(rest.xcom("deploy_producer", producer, "produce"))
    assert produced["artifact"]["partitions"] == {"region": "emea"}
    succeed(airflow, "deploy_consumer", consumer)
    found = document(rest.xcom("deploy_consumer", consumer, "wait"))["value"]
    assert found["version"] == produced["artifact"]["version"]
    summary = document(rest.xcom("deploy_consumer", consumer, "summary"))["value"]
    assert summary == {
        "columns": ["region", "amount"],
        "rows": 5000,
        "regions": ["emea"],
        "amount": sum(i * 0.5 for i in range(5000)),
    }


def test_xcom_entries_read_back_through_the_rest_api(
    airflow: AirflowDeployment, runs: dict[str, str]
) -> None:
    rest, run_id = airflow.rest, runs["frames"]
    succeed(airflow, "deploy_frames", run_id)
    entries = rest.xcom_entries("deploy_frames", run_id, "produce")
    keys = {(e["key"], e["map_index"]) for e in entries}
    assert ("return_value", -1) in keys
    stored = document(rest.xcom("deploy_frames", run_id, "produce"))
    assert stored["cargohold"] >= 1
    assert stored["blob"]["python_type"] == "pandas.DataFrame"
    assert stored["blob"]["size"] > 0
