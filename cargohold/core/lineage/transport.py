"""Where events go: the transport protocol, and transports from the standard OpenLineage config.

:func:`lineage_configured` decides, without importing openlineage, whether the standard OpenLineage
configuration asks for events at all (the same test as Airflow's provider): ``OPENLINEAGE_DISABLED``
true means off; otherwise any of ``OPENLINEAGE_URL``, an ``OPENLINEAGE__TRANSPORT...`` variable, the
file named by ``OPENLINEAGE_CONFIG``, or ``openlineage.yml`` in the working directory or in
``~/.openlineage`` means on. Nothing configured means off (no console fallback).

:func:`transport_from_env` then lets openlineage-python load that configuration its own way
(``OpenLineageClient()``: config file, ``OPENLINEAGE__`` variables, ``OPENLINEAGE_URL``) and takes
its transport; except for a plain ``http://`` ``OPENLINEAGE_URL`` (:func:`plain_http_url`), which
:mod:`cargohold.core.lineage.http` serves on the standard library: the same requests, without the
cost of importing openlineage-python in every process that emits. HTTP transports are tuned so
that one send takes at most ``send_timeout`` seconds: the request timeout is capped, and unless
the user configured ``retry`` the 5 retries with backoff are turned off (the emitter never
re-sends; a failed event is counted and logged once per kind).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin

from cargohold.core.errors import LineageError

__all__ = [
    "INSTALL_HINT",
    "LineageTransport",
    "OpenLineageTransport",
    "as_lineage_transport",
    "lineage_configured",
    "plain_http_url",
    "transport_from_env",
]

INSTALL_HINT = "install the OpenLineage client to emit lineage: pip install cargohold[openlineage]"

_TRUE = {"1", "true", "yes", "on"}
_PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")


@runtime_checkable
class LineageTransport(Protocol):
    """What the emitter sends events through: one JSON-ready event dict at a time.

    ``send`` runs on the emitter's worker thread, never on the caller's. It should give up after
    ``timeout`` seconds and raise on failure; the emitter counts and logs failures.
    """

    def send(self, event: Mapping[str, Any], *, timeout: float) -> None:
        """Deliver ``event``; raise on failure."""


def lineage_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True when the standard OpenLineage configuration asks for events (module docstring)."""
    env = os.environ if environ is None else environ
    if env.get("OPENLINEAGE_DISABLED", "").strip().lower() in _TRUE:
        return False
    if env.get("OPENLINEAGE_URL"):
        return True
    if any(key.startswith("OPENLINEAGE__TRANSPORT") and value for key, value in env.items()):
        return True
    return _config_file(env)


def _config_file(env: Mapping[str, str]) -> bool:
    """True when openlineage-python would read a config file (``OPENLINEAGE_CONFIG``, else
    ``openlineage.yml`` in the working directory or ``~/.openlineage``)."""
    candidates = [
        env.get("OPENLINEAGE_CONFIG") or "",
        str(Path.cwd() / "openlineage.yml"),
        str(Path("~/.openlineage/openlineage.yml").expanduser()),
    ]
    return any(path and os.path.isfile(path) for path in candidates)


class OpenLineageTransport:
    """Adapts an openlineage-python ``Transport`` (http, kafka, file...) to the protocol above.

    Each event dict is turned into an ``openlineage.client.event_v2.RunEvent`` (facets stay plain
    dicts, which the client serializes as they are) and passed to ``transport.emit``.
    """

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.kind = str(getattr(transport, "kind", type(transport).__name__))

    @property
    def target(self) -> str:
        """The endpoint events go to: the URL of an HTTP transport, else this transport."""
        url = getattr(self.transport, "url", None)
        if self.kind == "http" and isinstance(url, str):
            return urljoin(url, str(getattr(self.transport, "endpoint", "") or ""))
        return f"{self.kind}@{id(self.transport):x}"

    def send(self, event: Mapping[str, Any], *, timeout: float) -> None:
        """Convert ``event`` and emit it through the wrapped transport (which may raise)."""
        self.transport.emit(_to_openlineage(event))

    def close(self, *, timeout: float) -> None:
        """Close the wrapped transport."""
        self.transport.close(timeout)


def as_lineage_transport(transport: object) -> LineageTransport:
    """``transport`` when it has ``send``; wrapped in :class:`OpenLineageTransport` if ``emit``.

    Raises:
        LineageError: ``transport`` has neither method.
    """
    if isinstance(transport, LineageTransport):
        return transport
    if callable(getattr(transport, "emit", None)):
        return OpenLineageTransport(transport)
    raise LineageError(
        f"{type(transport).__name__} is not a transport: pass an openlineage-python Transport "
        f"(with emit(event)) or an object with send(event, *, timeout)"
    )


def transport_from_env(*, send_timeout: float) -> LineageTransport:
    """The transport the standard OpenLineage configuration names, tuned to ``send_timeout``.

    A plain ``http://`` ``OPENLINEAGE_URL`` (see :func:`plain_http_url`) gets
    :class:`~cargohold.core.lineage.http.HttpLineageTransport`, which sends what openlineage-python
    would without importing it; any other configuration gets openlineage-python's transport.

    Raises:
        LineageError: openlineage-python is not installed (with the install hint), or its
            configuration is invalid (a malformed file, an unknown transport type, a bad URL).
    """
    if importlib.util.find_spec("openlineage") is None:
        raise LineageError(INSTALL_HINT)  # the extra is what lineage needs, whatever the config
    if plain_http_url():
        from cargohold.core.lineage.http import HttpLineageTransport

        return HttpLineageTransport.from_env()
    try:
        from openlineage.client import OpenLineageClient
    except ImportError as exc:
        raise LineageError(INSTALL_HINT) from exc
    try:
        client = OpenLineageClient()
    except Exception as exc:
        raise LineageError(f"the OpenLineage configuration is invalid: {exc}") from exc
    transport = client.transport
    _tune(transport, send_timeout)
    return OpenLineageTransport(transport)


def plain_http_url(environ: Mapping[str, str] | None = None) -> bool:
    """True when the configuration is an ``http://`` ``OPENLINEAGE_URL`` and nothing that
    openlineage-python would prefer or add: no config file, no ``OPENLINEAGE__TRANSPORT...``
    variable, no ``http_proxy`` / ``all_proxy`` in the environment (requests would use it)."""
    env = os.environ if environ is None else environ
    if not env.get("OPENLINEAGE_URL", "").strip().startswith("http://"):
        return False
    if any(key.startswith("OPENLINEAGE__TRANSPORT") for key in env) or _config_file(env):
        return False
    return not any(env.get(key) for key in _PROXY_VARIABLES)


def _tune(transport: Any, send_timeout: float) -> None:
    """Cap an HTTP transport's timeout at ``send_timeout`` and drop default retries."""
    kind = getattr(transport, "kind", None)
    if kind == "composite":
        for child in getattr(transport, "transports", []) or []:
            _tune(child, send_timeout)
        return
    if kind != "http":
        return
    from openlineage.client.transport.http_common import DEFAULT_RETRY_CONFIG

    transport.timeout = min(float(transport.timeout), send_timeout)
    config = transport.config
    if config.retry == DEFAULT_RETRY_CONFIG and getattr(transport, "_session", None) is None:
        config.retry = {**DEFAULT_RETRY_CONFIG, "total": 0, "read": 0, "connect": 0}


def _to_openlineage(event: Mapping[str, Any]) -> Any:
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )

    run = event["run"]
    job = event["job"]
    return RunEvent(
        eventType=RunState(event["eventType"]),
        eventTime=event["eventTime"],
        run=Run(runId=run["runId"], facets=dict(run.get("facets") or {})),
        job=Job(namespace=job["namespace"], name=job["name"], facets=dict(job.get("facets") or {})),
        inputs=[
            InputDataset(
                namespace=d["namespace"],
                name=d["name"],
                facets=dict(d.get("facets") or {}),
                inputFacets=dict(d["inputFacets"]) if d.get("inputFacets") else None,
            )
            for d in event.get("inputs") or []
        ],
        outputs=[
            OutputDataset(
                namespace=d["namespace"],
                name=d["name"],
                facets=dict(d.get("facets") or {}),
                outputFacets=dict(d["outputFacets"]) if d.get("outputFacets") else None,
            )
            for d in event.get("outputs") or []
        ],
        producer=event["producer"],
    )
