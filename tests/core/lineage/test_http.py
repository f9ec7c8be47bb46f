"""The standard-library HTTP transport of a plain ``OPENLINEAGE_URL``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cargohold.core.context import RunContext
from cargohold.core.errors import LineageError
from cargohold.core.lineage import LineageEmitter
from cargohold.core.lineage.http import HttpLineageTransport
from cargohold.core.lineage.testing import LineageReceiver
from cargohold.core.lineage.transport import OpenLineageTransport, plain_http_url

CTX = RunContext(job="daily", task="sales")


class _Recorder:
    """An HTTP/1.1 server that records each POST (path, headers, body) and its connection, and
    answers ``status``; ``drop_after_reply`` closes each connection without saying so."""

    def __init__(self, *, status: int = 201, drop_after_reply: bool = False) -> None:
        self.requests: list[tuple[str, dict[str, str], Any, int]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                port = self.client_address[1]
                recorder.requests.append((self.path, dict(self.headers), json.loads(body), port))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if drop_after_reply:
                    self.close_connection = True  # no "Connection: close": the client keeps it

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    yield server
    server.close()


def test_a_plain_url_is_sent_without_importing_openlineage(receiver: LineageReceiver) -> None:
    code = textwrap.dedent("""
        import sys
        from cargohold.core.context import RunContext
        from cargohold.core.lineage import LineageEmitter
        e = LineageEmitter.from_env()
        with e.track(RunContext(job="j", task="t")) as run:
            run.add_output("s3://b/k", dataset_name="sales")
        print(e.flush(timeout=30), e.stats.sent, type(e._transport).__name__,
              "openlineage" in sys.modules)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLINEAGE")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "OPENLINEAGE_URL": receiver.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.split() == ["True", "2", "HttpLineageTransport", "False"], done.stderr
    assert [e["eventType"] for e in receiver.wait_for(2)] == ["START", "COMPLETE"]
    assert receiver.rejected == []


def test_endpoint_and_api_key_are_sent_as_openlineage_python_sends_them(
    recorder: _Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", recorder.url + "/base/")
    monkeypatch.setenv("OPENLINEAGE_ENDPOINT", "custom/lineage")
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "s3cret")
    emitter = LineageEmitter.from_env()
    assert isinstance(emitter._transport, HttpLineageTransport)
    emitter.start(run=emitter.identity(CTX))
    emitter.complete(run=emitter.identity(CTX))
    assert emitter.flush(timeout=10)
    assert emitter.stats.sent == 2
    (path, headers, body, first), (_, _, _, second) = recorder.requests
    assert path == "/base/custom/lineage"
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"
    assert body["eventType"] == "START"
    assert body["job"]["name"] == "daily.sales"
    assert first == second  # one connection, kept open


def test_a_connection_the_server_dropped_is_reopened_once() -> None:
    server = _Recorder(drop_after_reply=True)
    try:
        transport = HttpLineageTransport(url=server.url)
        event = {"eventType": "START", "run": {"runId": "r"}, "note": None}
        for _ in range(3):
            transport.send(event, timeout=5)
    finally:
        server.close()
    assert len({port for *_, port in server.requests}) == 3  # each send on a new connection
    assert server.requests[0][2] == {"eventType": "START", "run": {"runId": "r"}}  # no nulls


def test_an_error_status_is_a_counted_failure(caplog: pytest.LogCaptureFixture) -> None:
    server = _Recorder(status=500)
    try:
        emitter = LineageEmitter(transport=HttpLineageTransport(url=server.url))
        emitter.start(run=emitter.identity(CTX))
        assert emitter.flush(timeout=10)
    finally:
        server.close()
    assert emitter.stats.failed == 1
    assert emitter.stats.sent == 0
    assert "LineageHTTPError 500" in caplog.text


def test_a_url_that_is_not_http_is_a_lineage_error() -> None:
    with pytest.raises(LineageError, match="not an http:// URL"):
        HttpLineageTransport(url="localhost:5000")


def test_other_configurations_go_through_openlineage_python(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = {"OPENLINEAGE_URL": "http://127.0.0.1:9"}
    assert plain_http_url(url)
    assert not plain_http_url({"OPENLINEAGE_URL": "https://lineage.example"})
    assert not plain_http_url({**url, "OPENLINEAGE__TRANSPORT__COMPRESSION": "gzip"})
    assert not plain_http_url({**url, "https_proxy": "", "http_proxy": "http://proxy:3128"})
    config = tmp_path / "ol.yml"
    config.write_text("transport:\n  type: console\n")
    assert not plain_http_url({**url, "OPENLINEAGE_CONFIG": str(config)})
    monkeypatch.setenv("OPENLINEAGE_URL", "https://127.0.0.1:9")
    assert isinstance(LineageEmitter.from_env()._transport, OpenLineageTransport)
