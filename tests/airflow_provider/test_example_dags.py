"""The example DAGs, run for real: data that arrived, catalog entries, lineage events."""

from __future__ import annotations

import pytest

from cargohold.core.catalog import Catalog
from cargohold.core.lineage.testing import LineageReceiver, job_node
from tests.airflow_provider.conftest import EXAMPLES, AirflowEnv
from tests.airflow_provider.test_dag_xcom import NS, wait_quiet

pytestmark = [pytest.mark.postgres, pytest.mark.s3, pytest.mark.slow]

DAY = "2026-11-05T00:00:00+00:00"


def test_etl_frames(airflow_env: AirflowEnv, catalog_url: str, receiver: LineageReceiver) -> None:
    run = airflow_env.run(EXAMPLES / "etl_frames.py", "etl_frames")
    assert run.state == "success", run.log[-6000:]
    assert run.xcom("extract")["blob"]["rows"] == 50_000
    summary = run.xcom("load")["value"]
    expected: dict[str, float] = {}
    for i in range(50_000):  # what the example computes, without Airflow
        region = ("north", "south", "east", "west")[i % 4]
        expected[region] = expected.get(region, 0.0) + float(i % 100)
    assert summary == expected
    catalog = Catalog.from_url(catalog_url)
    extract = catalog.get_latest(dataset="etl_frames.extract.return_value")
    transform = catalog.get_latest(dataset="etl_frames.transform.return_value")
    assert extract.id in {a.id for a in catalog.upstream(artifact_id=transform.id)}
    wait_quiet(receiver)
    graph = receiver.graph()
    assert graph.connected(job_node(NS, "etl_frames.extract"), job_node(NS, "etl_frames.load"))


def test_partitioned_producer_and_consumer(
    airflow_env: AirflowEnv, catalog_url: str, receiver: LineageReceiver
) -> None:
    produced = airflow_env.run(EXAMPLES / "daily_producer.py", "daily_producer", logical_date=DAY)
    assert produced.state == "success", produced.log[-6000:]
    summary = produced.xcom("publish")["value"]
    assert summary["dataset"] == "daily_sales"
    assert summary["partitions"] == {"date": "2026-11-05"}
    assert summary["version"] == 1
    assert summary["uri"].startswith("s3://")

    catalog = Catalog.from_url(catalog_url)
    report = catalog.get_latest(
        dataset="daily_producer.report.return_value", partitions={"date": "2026-11-05"}
    )
    assert report.partitions == {"date": "2026-11-05"}
    assert report.data["value"].blob is not None
    tagged = catalog.get_artifact(dataset="daily_sales", tag="latest")
    assert tagged.id == summary["id"]
    assert tagged.metadata["owner"] == "analytics"

    consumed = airflow_env.run(EXAMPLES / "latest_consumer.py", "latest_consumer", logical_date=DAY)
    assert consumed.state == "success", consumed.log[-6000:]
    assert consumed.xcom("wait")["value"]["id"] == summary["id"]
    loaded = consumed.xcom("load")["blob"]
    assert loaded["rows"] == 1000
    assert [c for c, _ in loaded["schema"]] == ["region", "amount"]  # only two columns read
    assert consumed.xcom("latest")["value"] == {"date": "2026-11-05", "version": 1, "rows": 1000}
    readers = {r.source.job for r in catalog.reads_of(artifact_id=tagged.id) if r.source}
    assert readers == {"latest_consumer"}

    wait_quiet(receiver)
    graph = receiver.graph(terminal_only=False)
    assert graph.connected(
        job_node(NS, "daily_producer.publish"), job_node(NS, "latest_consumer.load")
    )


def test_cached_task(airflow_env: AirflowEnv, catalog_url: str) -> None:
    first = airflow_env.run(EXAMPLES / "cached_features.py", "cached_features")
    assert first.state == "success", first.log[-6000:]
    values = [first.xcom("features", map_index=i)["value"] for i in range(3)]
    assert values[0] == values[1]  # equal inputs: computed once, the second is a hit
    assert values[2]["window"] == 5
    assert values[2]["computed"] != values[0]["computed"]
    again = airflow_env.run(EXAMPLES / "cached_features.py", "cached_features")
    assert again.state == "success", again.log[-6000:]
    assert [again.xcom("features", map_index=i)["value"] for i in range(3)] == values
