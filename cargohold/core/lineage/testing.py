"""Testing tools shipped with cargohold: capture events, receive them over HTTP, draw the graph.

* :class:`CapturingTransport`: an in-memory transport (``send`` for the emitter, ``emit`` for an
  ``OpenLineageClient``) that keeps every event as a JSON dict.
* :class:`LineageReceiver`: a small HTTP server on 127.0.0.1 (random port, daemon thread) that
  speaks Marquez's ``POST /api/v1/lineage``: 201 on a valid event; 422 when a facet lacks
  ``_producer`` or ``_schemaURL``, the runId is not a UUID, the eventTime is not RFC 3339, or
  (``validate=True``, the default) the event violates the OpenLineage schemas; 400 on bad JSON.
  ``GET /api/v1/lineage?nodeId=dataset:{ns}:{name}`` returns the connected graph as Marquez does.
  :meth:`LineageReceiver.graph` builds the job/dataset graph from what it accepted.
* :class:`BlackHoleServer`: accepts TCP connections and never answers (a hung lineage server);
  :func:`refused_url`: a URL on which connections are refused (a down lineage server).

Use them as context managers::

    with LineageReceiver() as receiver:
        emitter = LineageEmitter(transport=HttpTransport(HttpConfig(url=receiver.url)))
        ...
        graph = receiver.graph()
        assert graph.connected(job_node("ns", "dag.producer"), job_node("ns", "dag.consumer"))
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cargohold.core.lineage.validation import EventValidator, is_rfc3339, is_uuid, iter_facets

__all__ = [
    "BlackHoleServer",
    "CapturingTransport",
    "LineageGraph",
    "LineageReceiver",
    "dataset_node",
    "job_node",
    "refused_url",
]

_TERMINAL = {"COMPLETE", "FAIL", "ABORT"}


def job_node(namespace: str, name: str) -> str:
    """The Marquez node id of a job: ``job:{namespace}:{name}``."""
    return f"job:{namespace}:{name}"


def dataset_node(namespace: str, name: str) -> str:
    """The Marquez node id of a dataset: ``dataset:{namespace}:{name}``."""
    return f"dataset:{namespace}:{name}"


class _Waitable:
    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._cond = threading.Condition()

    @property
    def events(self) -> list[dict[str, Any]]:
        """A copy of the events kept so far, in arrival order."""
        with self._cond:
            return list(self._events)

    def _keep(self, event: dict[str, Any]) -> None:
        with self._cond:
            self._events.append(event)
            self._cond.notify_all()

    def wait_for(self, count: int, *, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` events arrived (at most ``timeout`` s); return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._events) < count and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return list(self._events)

    def clear(self) -> None:
        """Forget the events kept so far."""
        with self._cond:
            self._events.clear()


class CapturingTransport(_Waitable):
    """Keeps every event in memory as a JSON dict (round-tripped through JSON)."""

    kind = "capture"

    def send(self, event: Mapping[str, Any], *, timeout: float = 0.0) -> None:
        """Keep ``event`` (the emitter's transport protocol)."""
        self._keep(json.loads(json.dumps(event)))

    def emit(self, event: Any) -> None:
        """Keep an openlineage-python event object (the openlineage ``Transport`` protocol)."""
        if isinstance(event, Mapping):
            self.send(event)
            return
        from openlineage.client.serde import Serde

        self._keep(json.loads(Serde.to_json(event)))

    def close(self, timeout: float = -1.0) -> bool:
        """Nothing to close (the openlineage ``Transport`` protocol)."""
        return True


@dataclass
class LineageGraph:
    """The job/dataset graph of a set of events, as Marquez draws it.

    Nodes are ``job:{ns}:{name}`` and ``dataset:{ns}:{name}`` (keyed on namespace + name, as
    Marquez keys jobs and datasets); a run's inputs give edges dataset -> job, its outputs
    job -> dataset. Like Marquez, only runs that reached a terminal state (COMPLETE, FAIL, ABORT)
    count unless built with ``terminal_only=False``; the datasets of all of a run's events (its
    RUNNING events included) are merged. ``symlinks`` maps a dataset node to its symlinked names;
    ``versions`` maps a dataset node to the versions its completed runs wrote, as
    ``(partition, datasetVersion)`` pairs: one per entry of cargohold's partitions facet (partition
    ``key=value,...``), else ``("", datasetVersion)`` from the DatasetVersion facet.
    """

    edges: set[tuple[str, str]] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)
    symlinks: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    versions: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))

    @property
    def jobs(self) -> set[str]:
        """The job nodes."""
        return {node for node in self.nodes if node.startswith("job:")}

    @property
    def datasets(self) -> set[str]:
        """The dataset nodes."""
        return {node for node in self.nodes if node.startswith("dataset:")}

    def component(self, node_id: str) -> set[str]:
        """Every node connected to ``node_id`` (either direction), itself included."""
        return {item["id"] for item in self.lineage(node_id)["graph"]}

    @classmethod
    def from_events(
        cls, events: Iterable[Mapping[str, Any]], *, terminal_only: bool = True
    ) -> LineageGraph:
        """Build the graph of ``events`` (see the class docstring)."""
        runs: dict[str, dict[str, Any]] = {}
        for event in events:
            run_id = str(event.get("run", {}).get("runId"))
            job = event.get("job", {})
            run = runs.setdefault(
                run_id, {"job": job_node(job.get("namespace"), job.get("name")), "done": False}
            )
            run.setdefault("io", []).append(event)
            run["done"] = run["done"] or event.get("eventType") in _TERMINAL
        graph = cls()
        for run in runs.values():
            if terminal_only and not run["done"]:
                continue
            graph.nodes.add(run["job"])
            for event in run["io"]:
                for dataset in event.get("inputs") or []:
                    graph.edges.add((graph._dataset(dataset), run["job"]))
                for dataset in event.get("outputs") or []:
                    node = graph._dataset(dataset)
                    graph.edges.add((run["job"], node))
                    graph.versions[node].update(_versions(dataset))
        return graph

    def _dataset(self, dataset: Mapping[str, Any]) -> str:
        node = dataset_node(dataset["namespace"], dataset["name"])
        self.nodes.add(node)
        links = (dataset.get("facets") or {}).get("symlinks", {}).get("identifiers", [])
        self.symlinks[node].update(dataset_node(i["namespace"], i["name"]) for i in links)
        return node

    def has_edge(self, origin: str, destination: str) -> bool:
        """True when the graph has the edge ``origin -> destination``."""
        return (origin, destination) in self.edges

    def successors(self, node: str) -> set[str]:
        """The nodes ``node`` has an edge to."""
        return {dst for src, dst in self.edges if src == node}

    def predecessors(self, node: str) -> set[str]:
        """The nodes with an edge to ``node``."""
        return {src for src, dst in self.edges if dst == node}

    def connected(self, origin: str, destination: str) -> bool:
        """True when a directed path leads from ``origin`` to ``destination``."""
        seen, todo = {origin}, [origin]
        while todo:
            for nxt in self.successors(todo.pop()):
                if nxt == destination:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def lineage(self, node_id: str) -> dict[str, Any]:
        """Marquez's ``GET /api/v1/lineage?nodeId=`` answer: every node connected to ``node_id``."""
        seen, todo = {node_id}, [node_id]
        while todo:
            node = todo.pop()
            for nxt in self.successors(node) | self.predecessors(node):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if node_id not in self.nodes:
            seen = set()
        return {
            "graph": [
                {
                    "id": node,
                    "type": node.split(":", 1)[0].upper(),
                    "inEdges": [
                        {"origin": src, "destination": node}
                        for src in sorted(self.predecessors(node))
                    ],
                    "outEdges": [
                        {"origin": node, "destination": dst}
                        for dst in sorted(self.successors(node))
                    ],
                }
                for node in sorted(seen)
            ]
        }


class _Server:
    url: str

    def __enter__(self) -> Any:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving."""


class LineageReceiver(_Server, _Waitable):
    """A Marquez-like lineage receiver on 127.0.0.1 (see the module docstring). Starts at once.

    Args:
        validate: also reject (422) events that violate the OpenLineage schemas.
        spec_dir: the schema folder (default: the schemas shipped with cargohold).

    Raises:
        LineageError: ``validate`` is on and the schemas or jsonschema are missing.
    """

    def __init__(self, *, validate: bool = True, spec_dir: str | Path | None = None) -> None:
        _Waitable.__init__(self)
        self.validator = EventValidator(spec_dir=spec_dir) if validate else None
        self.rejected: list[tuple[int, list[str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if urlsplit(self.path).path.rstrip("/") != "/api/v1/lineage":
                    self._reply(404, {"error": "not found"})
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                status, errors = receiver._accept(body)
                self._reply(status, {"errors": errors} if errors else None)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                node = parse_qs(parts.query).get("nodeId", [""])[0]
                if parts.path.rstrip("/") != "/api/v1/lineage" or not node:
                    self._reply(404, {"error": "not found"})
                    return
                self._reply(200, receiver.graph().lineage(node))

            def _reply(self, status: int, payload: object) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="lineage-receiver", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> LineageReceiver:
        return self

    def graph(self, *, terminal_only: bool = True) -> LineageGraph:
        """The job/dataset graph of the accepted events (see :class:`LineageGraph`)."""
        return LineageGraph.from_events(self.events, terminal_only=terminal_only)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def _accept(self, body: bytes) -> tuple[int, list[str]]:
        try:
            event = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return self._reject(400, [f"not JSON: {exc}"])
        if not isinstance(event, dict):
            return self._reject(400, ["an event must be a JSON object"])
        errors = _marquez_errors(event)
        if not errors and self.validator is not None:
            errors = self.validator.errors(event)
        if errors:
            return self._reject(422, errors)
        self._keep(event)
        return 201, []

    def _reject(self, status: int, errors: list[str]) -> tuple[int, list[str]]:
        with self._cond:
            self.rejected.append((status, errors))
        return status, errors


def _versions(dataset: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The ``(partition, version)`` pairs an output dataset records (see LineageGraph)."""
    facets = dataset.get("facets") or {}
    entries = (facets.get("cargohold_partitions") or {}).get("partitions") or []
    found = {
        (
            ",".join(f"{k}={v}" for k, v in sorted((entry.get("keys") or {}).items())),
            ":".join(str(entry[k]) for k in ("version", "contentHash") if entry.get(k)),
        )
        for entry in entries
    }
    if not found and (facets.get("version") or {}).get("datasetVersion"):
        found.add(("", str(facets["version"]["datasetVersion"])))
    return found


def _marquez_errors(event: Mapping[str, Any]) -> list[str]:
    """The checks Marquez answers 422 to: facets' _producer/_schemaURL, runId, eventTime."""
    errors = [
        f"{where}.{key}: the facet lacks _producer or _schemaURL"
        for where, key, facet in iter_facets(event)
        if not isinstance(facet, Mapping)
        or not facet.get("_producer")
        or not facet.get("_schemaURL")
    ]
    run = event.get("run")
    if "run" in event and not (isinstance(run, Mapping) and is_uuid(run.get("runId"))):
        errors.append("run.runId: not a UUID")
    if not is_rfc3339(event.get("eventTime")):
        errors.append("eventTime: not an RFC 3339 date-time")
    return errors


class BlackHoleServer(_Server):
    """Accepts TCP connections on 127.0.0.1 and never answers them (a hung lineage server)."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(512)
        self._socket.settimeout(0.2)
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._hold, name="lineage-blackhole", daemon=True)
        self._thread.start()

    def __enter__(self) -> BlackHoleServer:
        return self

    def _hold(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except OSError:
                continue
            self.connections.append(conn)

    def stop(self) -> None:
        """Stop accepting and close every held connection."""
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self.connections:
            conn.close()
        self._socket.close()


def refused_url() -> str:
    """An ``http://127.0.0.1:{port}`` URL on which nothing listens (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    return f"http://127.0.0.1:{port}"
