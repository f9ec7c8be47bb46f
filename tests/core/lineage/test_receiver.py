"""The Marquez-like receiver: status codes, the graph, and a producer connected to its consumer."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from openlineage.client.transport.http import HttpConfig, HttpTransport

from cargohold.core.context import RunContext
from cargohold.core.lineage import LineageEmitter
from cargohold.core.lineage.events import RunIdentity, build_run_event, new_run_id
from cargohold.core.lineage.testing import LineageGraph, LineageReceiver, dataset_node, job_node
from cargohold.core.types.literals import BlobRef, Literal, LiteralType


def _post(url: str, body: bytes, *, gzipped: bool = False) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if gzipped:
        body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
    request = urllib.request.Request(f"{url}/api/v1/lineage", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _event() -> dict[str, Any]:
    run = RunIdentity(namespace="ns", job_name="job", run_id=new_run_id())
    return build_run_event(event_type="COMPLETE", run=run)


def test_valid_events_get_201(receiver: LineageReceiver) -> None:
    assert _post(receiver.url, json.dumps(_event()).encode())[0] == 201
    assert _post(receiver.url, json.dumps(_event()).encode(), gzipped=True)[0] == 201
    assert len(receiver.events) == 2


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["job"]["facets"]["jobType"].pop("_producer"), "lacks _producer or _schemaURL"),
        (
            lambda e: e["job"]["facets"]["jobType"].pop("_schemaURL"),
            "lacks _producer or _schemaURL",
        ),
        (lambda e: e["run"].update(runId="1234"), "not a UUID"),
        (lambda e: e.update(eventTime="2026-11-02 10:00"), "not an RFC 3339"),
        (lambda e: e.update(eventType="DONE"), "is not one of"),
    ],
)
def test_invalid_events_get_422(receiver: LineageReceiver, mutate: Any, message: str) -> None:
    event = _event()
    mutate(event)
    status, body = _post(receiver.url, json.dumps(event).encode())
    assert status == 422
    assert any(message in error for error in body["errors"]), body
    assert receiver.events == []
    assert receiver.rejected[0][0] == 422


def test_bad_json_gets_400_and_unknown_paths_404(receiver: LineageReceiver) -> None:
    assert _post(receiver.url, b"{not json")[0] == 400
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{receiver.url}/api/v1/other", timeout=5)
    assert info.value.code == 404


def test_graph_only_counts_runs_that_finished() -> None:
    run = RunIdentity(namespace="ns", job_name="job", run_id=new_run_id())
    out = {"namespace": "s3://b", "name": "k"}
    start = build_run_event(event_type="START", run=run)
    start["outputs"] = [out]
    assert LineageGraph.from_events([start]).edges == set()
    assert LineageGraph.from_events([start], terminal_only=False).has_edge(
        job_node("ns", "job"), dataset_node("s3://b", "k")
    )
    done = build_run_event(event_type="COMPLETE", run=run)
    assert LineageGraph.from_events([start, done]).has_edge(  # datasets merged across events
        job_node("ns", "job"), dataset_node("s3://b", "k")
    )


def test_producer_and_consumer_connect_through_the_same_dataset(receiver: LineageReceiver) -> None:
    """An Airflow task writes a frame, a Dagster asset reads it: job -> dataset -> job."""
    emitter = LineageEmitter(transport=HttpTransport(HttpConfig(url=receiver.url)), project="shop")
    blob = BlobRef(
        uri="s3://lake/cas/0f/0f0f",
        size=4096,
        hash="0f" * 32,
        format="parquet",
        python_type="pandas.DataFrame",
        rows=100,
        schema=(("day", "date32[day]"),),
    )
    written = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=blob)
    producer = RunContext(
        orchestrator="airflow",
        namespace="default",
        job="etl",
        run_id="manual__1",
        task="extract",
        extra={"logical_date": "2026-11-02T00:00:00+00:00"},
    )
    with emitter.track(producer) as run:
        run.add_output(written, dataset_name="daily_sales", version="1")
    # The consumer gets the literal back from its JSON reference, as an IO manager would.
    read = Literal.from_json(written.to_json())
    consumer = RunContext(
        orchestrator="dagster",
        namespace="default",
        job="reports",
        run_id=str(uuid.uuid4()),
        task="sales_report",
    )
    with emitter.track(consumer) as run:
        run.add_input(read, dataset_name="daily_sales", version="1")
    assert emitter.flush(timeout=10)
    receiver.wait_for(4)
    graph = receiver.graph()
    data = dataset_node("cargohold://shop/development", "daily_sales")
    assert graph.has_edge(job_node("default", "etl.extract"), data)
    assert graph.has_edge(data, job_node("default", "reports.sales_report"))
    assert graph.connected(
        job_node("default", "etl.extract"), job_node("default", "reports.sales_report")
    )
    assert graph.versions[data] == {("", f"1:{written.hash}")}
    # Marquez's lineage endpoint answers with the same graph.
    with urllib.request.urlopen(
        f"{receiver.url}/api/v1/lineage?nodeId={data}", timeout=5
    ) as response:
        nodes = {node["id"]: node for node in json.load(response)["graph"]}
    assert set(nodes) == {
        data,
        job_node("default", "etl.extract"),
        job_node("default", "reports.sales_report"),
    }
    assert nodes[data]["type"] == "DATASET"
    assert nodes[data]["inEdges"] == [
        {"origin": job_node("default", "etl.extract"), "destination": data}
    ]
