"""The emitter: recorder semantics, configuration from the environment, disabled mode."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from cargohold.core.config import Settings
from cargohold.core.context import RunContext
from cargohold.core.errors import LineageError
from cargohold.core.lineage import LineageEmitter, lineage_configured
from cargohold.core.lineage.testing import CapturingTransport, LineageReceiver
from cargohold.core.types.literals import BlobRef, Literal, LiteralType

BLOB = BlobRef(
    uri="file:///store/cas/aa",
    size=10,
    hash="aa" * 32,
    format="parquet",
    python_type="pandas.DataFrame",
    rows=3,
    schema=(("x", "int64"),),
)
FRAME = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=BLOB)
CTX = RunContext(
    orchestrator="dagster", namespace="ns", job="daily", run_id=str(uuid.uuid4()), task="sales"
)


def test_track_emits_start_and_complete_with_datasets(capture: CapturingTransport) -> None:
    emitter = LineageEmitter(transport=capture, project="shop")
    with emitter.track(CTX) as run:
        run.add_input(Literal(type=LiteralType("int"), value=1), dataset_name="threshold")
        run.add_output(FRAME, dataset_name="sales", version="3")
        run.add_output(FRAME, dataset_name="sales", version="3")  # deduplicated
    assert emitter.flush(timeout=5)
    start, complete = capture.events
    assert [start["eventType"], complete["eventType"]] == ["START", "COMPLETE"]
    assert start["run"]["runId"] == complete["run"]["runId"] == run.run_id
    assert start["job"]["name"] == "daily.sales"
    assert [d["name"] for d in complete["inputs"]] == ["threshold"]
    assert [(d["namespace"], d["name"]) for d in complete["outputs"]] == [
        ("cargohold://shop/development", "sales")
    ]
    assert complete["outputs"][0]["facets"]["storage"]["locations"] == ["file:///store/cas/aa"]
    assert emitter.stats.sent == 2
    assert emitter.dropped == 0


def test_track_emits_fail_and_reraises(capture: CapturingTransport) -> None:
    emitter = LineageEmitter(transport=capture)
    run = emitter.track(CTX)
    run.add_input(FRAME, dataset_name="sales")
    with pytest.raises(ZeroDivisionError), run:
        _ = 1 / 0
    emitter.flush(timeout=5)
    fail = capture.events[-1]
    assert fail["eventType"] == "FAIL"
    assert fail["run"]["facets"]["errorMessage"]["message"].startswith("ZeroDivisionError")
    assert fail["inputs"][0]["name"] == "sales"
    assert run.complete() is False  # finished once only


def test_explicit_calls_for_separate_moments(capture: CapturingTransport) -> None:
    """How an XCom backend reports a write and later a read of the same task run."""
    emitter = LineageEmitter(transport=capture)
    ctx = RunContext(
        orchestrator="airflow",
        namespace="default",
        job="etl",
        run_id="manual__1",
        task="extract",
        extra={"logical_date": "2026-11-02T00:00:00+00:00"},
    )
    run = emitter.identity(ctx)
    assert emitter.start(run=run)
    assert emitter.running(
        run=run, outputs=[emitter.dataset(FRAME, dataset_name="etl.extract.return_value")]
    )
    assert emitter.complete(run=run)
    assert emitter.fail(run=run, error="later failure")
    emitter.flush(timeout=5)
    assert [e["eventType"] for e in capture.events] == ["START", "RUNNING", "COMPLETE", "FAIL"]
    assert {e["run"]["runId"] for e in capture.events} == {emitter.identity(ctx).run_id}


def test_emitter_namespace_overrides_the_context(capture: CapturingTransport) -> None:
    emitter = LineageEmitter(transport=capture, namespace="team-a")
    with emitter.track(CTX):
        pass
    emitter.flush(timeout=5)
    assert capture.events[0]["job"]["namespace"] == "team-a"


def test_a_failing_transport_never_reaches_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def send(self, event: Any, *, timeout: float) -> None:
            raise ConnectionError("down")

    emitter = LineageEmitter(transport=Broken())
    with caplog.at_level(logging.WARNING, logger="cargohold.lineage"):
        for _ in range(20):
            emitter.start(run=emitter.identity(CTX))
        emitter.flush(timeout=5)
    assert emitter.stats.failed == 20
    assert sum("ConnectionError" in r.getMessage() for r in caplog.records) == 1  # once per kind


def test_queue_overflow_drops_and_counts() -> None:
    import threading

    gate = threading.Event()

    class Slow:
        def send(self, event: Any, *, timeout: float) -> None:
            gate.wait(5)

    emitter = LineageEmitter(transport=Slow(), queue_size=3)
    results = [emitter.start(run=emitter.identity(CTX)) for _ in range(10)]
    assert results.count(False) >= 6
    assert emitter.dropped == results.count(False)
    gate.set()
    stats = emitter.close(timeout=5)
    assert stats.pending == 0
    assert emitter.start(run=emitter.identity(CTX)) is False  # closed: dropped too


def test_disabled_when_nothing_is_configured() -> None:
    assert lineage_configured() is False
    emitter = LineageEmitter.from_env(
        settings=Settings(store_url="memory://x", catalog_url="sqlite://")
    )
    assert emitter.enabled is False
    with emitter.track(CTX) as run:
        assert run.add_output(FRAME, dataset_name="x") is None
    assert emitter.start(run=emitter.identity(CTX)) is False
    assert emitter.stats.sent == emitter.dropped == 0


def test_openlineage_disabled_wins(
    monkeypatch: pytest.MonkeyPatch, capture: CapturingTransport
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert LineageEmitter.from_env().enabled is False
    assert LineageEmitter.from_env(transport=capture).enabled is False


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **env},
    )


def test_off_means_openlineage_is_never_imported() -> None:
    done = _run("""
        import sys
        from cargohold.core.lineage import LineageEmitter
        from cargohold.core.context import RunContext
        e = LineageEmitter.from_env()
        with e.track(RunContext(job="j", task="t")) as run:
            run.add_output("s3://b/k")
        heavy = ("openlineage", "airflow", "dagster", "jsonschema")
        banned = [m for m in heavy if m in sys.modules]
        print(e.enabled, banned)
    """)
    assert done.stdout.strip() == "False []", done.stderr


def test_configured_without_openlineage_installed_raises_with_hint() -> None:
    done = _run(
        """
        import sys
        sys.modules["openlineage"] = None  # as if the extra were not installed
        from cargohold.core.lineage import LineageEmitter
        from cargohold.core.errors import LineageError
        try:
            LineageEmitter.from_env()
        except LineageError as exc:
            print("raised:", exc)
    """,
        OPENLINEAGE_URL="http://127.0.0.1:9",
    )
    assert "pip install cargohold[openlineage]" in done.stdout, done.stderr


def test_invalid_configuration_is_a_lineage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "no-such-transport")
    with pytest.raises(LineageError, match="configuration is invalid"):
        LineageEmitter.from_env()


@pytest.mark.parametrize("how", ["url", "transport_vars", "config_file"])
def test_from_env_sends_to_the_configured_receiver(
    how: str, monkeypatch: pytest.MonkeyPatch, receiver: LineageReceiver, tmp_path: Path
) -> None:
    if how == "url":
        monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    elif how == "transport_vars":
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
        monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", receiver.url)
    else:
        config = tmp_path / "ol.yml"
        config.write_text(f"transport:\n  type: http\n  url: {receiver.url}\n  compression: gzip\n")
        monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))
    emitter = LineageEmitter.from_env()
    assert emitter.enabled
    with emitter.track(CTX) as run:
        run.add_output(FRAME, dataset_name="sales")
    assert emitter.flush(timeout=10)
    assert [e["eventType"] for e in receiver.wait_for(2)] == ["START", "COMPLETE"]
    assert receiver.rejected == []
    assert emitter.stats.sent == 2


def test_http_transport_from_env_is_tuned_to_the_send_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # openlineage-python's HTTP transport (a plain OPENLINEAGE_URL gets cargohold's own)
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__URL", "http://127.0.0.1:9")
    emitter = LineageEmitter.from_env(send_timeout=0.5)
    http = emitter._transport.transport  # type: ignore[union-attr]
    assert http.kind == "http"
    assert http.timeout == 0.5
    assert http.config.retry["total"] == 0
