"""The XCom backend under real Airflow (``dag.test()``): S3 store, PostgreSQL catalog, lineage."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from cargohold.airflow_provider.xcom import CargoholdXComBackend
from cargohold.core.catalog import Catalog
from cargohold.core.lineage.testing import LineageReceiver, job_node
from tests.airflow_provider.conftest import DAGS, AirflowEnv

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]

NS = "airflow-test"


def wait_quiet(receiver: LineageReceiver, seconds: float = 1.0) -> None:
    import time

    last = -1
    while len(receiver.events) != last:
        last = len(receiver.events)
        time.sleep(seconds)


def test_features_dag(airflow_env: AirflowEnv, catalog_url: str, receiver: LineageReceiver) -> None:
    run = airflow_env.run(DAGS / "xcom_features.py", "xcom_features")
    assert run.state == "success", run.log[-6000:]
    states = {t["task_id"]: t["state"] for t in run.data["task_instances"]}
    assert states["tiny"] == "skipped"
    assert states["big"] == "success"
    assert run.tis("flaky")[0]["try_number"] == 2  # the retry ran
    assert [t["map_index"] for t in run.tis("square")] == [0, 1, 2, 3]

    # what Airflow stores: readable JSON documents
    frame_doc = run.xcom("make_frame")
    blob = frame_doc["blob"]
    assert blob["uri"].startswith("s3://")
    assert blob["python_type"] == "pandas.DataFrame"
    assert blob["rows"] == 20_000
    assert blob["size"] > 0
    assert frame_doc["artifact"]["dataset"] == "xcom_features.make_frame.return_value"
    assert run.xcom("small", "answer")["value"] == 42
    assert run.xcom("total")["value"] == 1 + 4 + 9 + 16  # mapped values, not paths
    assert run.xcom("pull_many")["value"] == ["DataFrame", "dict"]
    assert run.xcom("check_retry")["value"] == 100
    assert run.xcom("square", map_index=2)["value"] == 9

    # outside a task (API server, scheduler) the stored document reads as a reference, no crash
    view = CargoholdXComBackend.deserialize_value(SimpleNamespace(value=frame_doc))
    assert view["cargohold_reference"] is True
    assert view["rows"] == 20_000
    assert view["uri"] == blob["uri"]
    assert CargoholdXComBackend.deserialize_value(SimpleNamespace(value=run.xcom("total"))) == 30

    # the catalog: every returned value is an artifact with its source execution
    catalog = Catalog.from_url(catalog_url)
    made = catalog.get_latest(dataset="xcom_features.make_frame.return_value")
    assert made.version == 1
    assert made.source is not None
    assert made.source.job == "xcom_features"
    assert made.source.run_id == run.data["run_id"]
    assert made.data["value"].blob is not None
    assert made.data["value"].blob.rows == 20_000
    squares = catalog.list_artifacts(dataset="xcom_features.square.return_value").items
    assert sorted(a.source.map_index for a in squares if a.source) == [0, 1, 2, 3]
    flaky = catalog.get_latest(dataset="xcom_features.flaky.return_value")
    assert flaky.source is not None
    assert flaky.source.try_number == 2
    readers = {r.source.task for r in catalog.reads_of(artifact_id=made.id)}
    assert {"flaky", "pull_many", "choose", "big"} <= readers
    with pytest.raises(LookupError):  # Airflow's branch bookkeeping is not an artifact
        catalog.get_dataset(dataset="xcom_features.choose.skipmixin_key")

    # nothing unreferenced: a GC dry run with no grace finds no garbage
    from cargohold.core.hold import Cargohold

    hold = Cargohold(
        store_url=airflow_env.env["CARGOHOLD_STORE_URL"],
        catalog_url=catalog_url,
        store_options=__import__("json").loads(airflow_env.env["CARGOHOLD_STORE_OPTIONS"]),
    )
    report = catalog.collect_garbage(store=hold.store, grace=timedelta(0), dry_run=True)
    assert report.count == 0

    # lineage: our RUNNING events carry the datasets under the provider's run ids
    wait_quiet(receiver)
    events = receiver.events
    ours = [e for e in events if e["eventType"] == "RUNNING"]
    provider_runs = {e["run"]["runId"] for e in events if e["eventType"] in ("START", "COMPLETE")}
    assert ours
    assert {e["run"]["runId"] for e in ours} <= provider_runs
    graph = receiver.graph()
    producer = job_node(NS, "xcom_features.make_frame")
    assert graph.connected(producer, job_node(NS, "xcom_features.big"))
    assert graph.connected(producer, job_node(NS, "xcom_features.pull_many"))
    assert graph.connected(
        job_node(NS, "xcom_features.square"), job_node(NS, "xcom_features.total")
    )
    # the catalog dataset, not its S3 blob (which is in the storage facet)
    (frame_node,) = graph.successors(producer)
    assert (
        frame_node
        == "dataset:cargohold://default/development:xcom_features.make_frame.return_value"
    )
    assert not any("cas/" in node for node in graph.nodes)


def test_failing_task(airflow_env: AirflowEnv, catalog_url: str, receiver: LineageReceiver) -> None:
    run = airflow_env.run(DAGS / "failing.py", "failing")
    assert run.state == "failed"
    states = {t["task_id"]: t["state"] for t in run.data["task_instances"]}
    assert states == {"produce": "success", "explode": "failed", "after": "upstream_failed"}
    catalog = Catalog.from_url(catalog_url)
    partial = catalog.get_latest(dataset="failing.explode.partial")
    assert partial.data["value"].value == {"seen": [1, 2, 3]}
    with pytest.raises(LookupError):
        catalog.get_dataset(dataset="failing.after.return_value")
    wait_quiet(receiver)
    fails = [e for e in receiver.events if e["eventType"] == "FAIL"]
    assert any(e["job"]["name"] == "failing.explode" for e in fails)
