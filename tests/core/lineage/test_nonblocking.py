"""A down or hung lineage server never slows the caller: bounded time, counted drops."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import uuid

import pytest
from openlineage.client.transport.http import HttpConfig, HttpTransport

from cargohold.core.context import RunContext
from cargohold.core.errors import ConfigurationError
from cargohold.core.lineage import LineageEmitter
from cargohold.core.lineage.testing import BlackHoleServer, refused_url

CTX = RunContext(
    orchestrator="dagster", namespace="ns", job="j", run_id=str(uuid.uuid4()), task="t"
)


def _http(url: str, timeout: float) -> HttpTransport:
    return HttpTransport(
        HttpConfig.from_dict({"url": url, "timeout": timeout, "retry": {"total": 0}})
    )


class _StuckTransport:
    """A transport whose every emit waits until the test releases it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def emit(self, event: object) -> None:
        self.entered.set()
        self.release.wait(30)


def test_the_caller_never_waits_for_a_send() -> None:
    # No clock: the transport is stuck inside its first send until released, so a caller that
    # waited for any send could not finish its 40 runs before the release
    transport = _StuckTransport()
    emitter = LineageEmitter(transport=transport, queue_size=10, flush_timeout=2)
    finished = threading.Event()

    def caller() -> None:
        for _ in range(40):
            with emitter.track(CTX) as run:
                run.add_output("s3://b/k")
        finished.set()

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    assert finished.wait(30), "the caller waited for the stuck send"
    assert transport.entered.is_set()
    assert not transport.release.is_set()
    assert emitter.dropped > 0  # 80 events, a queue of 10, the sender stuck on the first
    transport.release.set()
    emitter.close(timeout=5)


def test_refused_connections_are_counted_not_raised() -> None:
    emitter = LineageEmitter(transport=_http(refused_url(), 0.5), queue_size=50, flush_timeout=2)
    for _ in range(40):
        with emitter.track(CTX) as run:
            run.add_output("s3://b/k")
    assert emitter.flush(timeout=10)
    stats = emitter.close(timeout=1)
    assert stats.failed + stats.dropped == 80
    assert stats.sent == 0


def test_a_server_that_never_answers_cannot_hold_the_caller() -> None:
    with BlackHoleServer() as server:
        emitter = LineageEmitter(transport=_http(server.url, 0.3), queue_size=10, flush_timeout=0.5)
        for _ in range(50):
            with emitter.track(CTX) as run:
                run.add_output("s3://b/k")
        assert emitter.dropped > 0  # 100 events, a queue of 10, each send waits 0.3 s
        began = time.perf_counter()
        stats = emitter.close()
        # the flush is bounded (0.5 s); sending all that is queued would take 10 x 0.3 s
        assert time.perf_counter() - began < 2.5
        assert stats.sent == 0
        assert stats.dropped + stats.failed + stats.pending >= 99


def test_from_env_tunes_http_so_a_hung_server_costs_one_timeout_per_event() -> None:
    with BlackHoleServer() as server:
        import os

        os.environ["OPENLINEAGE_URL"] = server.url
        emitter = LineageEmitter.from_env(send_timeout=0.2, queue_size=100)
        emitter.start(run=emitter.identity(CTX))
        emitter.start(run=emitter.identity(CTX))
        began = time.perf_counter()
        assert emitter.flush(timeout=5)
        assert time.perf_counter() - began < 1.5  # 2 x 0.2 s, no retries with backoff
        assert emitter.stats.failed == 2


def test_process_exit_is_bounded_by_the_flush_timeout() -> None:
    with BlackHoleServer() as server:
        code = textwrap.dedent(f"""
            import time
            from openlineage.client.transport.http import HttpConfig, HttpTransport
            from cargohold.core.context import RunContext
            from cargohold.core.lineage import LineageEmitter
            t = HttpTransport(HttpConfig.from_dict({{"url": "{server.url}", "timeout": 30}}))
            e = LineageEmitter(transport=t, flush_timeout=0.5)
            for _ in range(20):
                e.start(run=e.identity(RunContext(job="j", task="t")))
            print("emitted", flush=True)
        """)
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the child's last line (imports are not timed)
        began = time.perf_counter()
        _, stderr = proc.communicate(timeout=60)
        elapsed = time.perf_counter() - began
    assert line.strip() == "emitted", stderr
    # a 30 s send timeout, yet the exit flush gives up after 0.5 s (generous for a busy host)
    assert elapsed < 10, elapsed
    assert "20 dropped" in stderr  # the summary counts all, the event in flight included


def test_close_counts_the_event_in_flight_as_dropped() -> None:
    with BlackHoleServer() as server:
        emitter = LineageEmitter(transport=_http(server.url, 30), flush_timeout=0.2)
        for _ in range(3):
            emitter.start(run=emitter.identity(CTX))
        deadline = time.monotonic() + 5
        while not server.connections and time.monotonic() < deadline:
            time.sleep(0.01)  # the first event is being sent (and will never be answered)
        stats = emitter.close()
        assert stats.sent == 0
        assert stats.dropped == 3  # two queued + the one in flight


def test_the_exit_timeout_defaults_to_one_second_and_is_configurable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")
    assert LineageEmitter.from_env().flush_timeout == 1.0
    monkeypatch.setenv("CARGOHOLD_LINEAGE_EXIT_TIMEOUT", "0.25")
    assert LineageEmitter.from_env().flush_timeout == 0.25
    monkeypatch.setenv("CARGOHOLD_LINEAGE_EXIT_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="CARGOHOLD_LINEAGE_EXIT_TIMEOUT"):
        LineageEmitter.from_env()
