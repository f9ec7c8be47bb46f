"""The HTTP transport for a plain ``http://`` ``OPENLINEAGE_URL``, on the standard library.

When the only OpenLineage configuration is an ``http://`` ``OPENLINEAGE_URL`` (with
``OPENLINEAGE_ENDPOINT`` and ``OPENLINEAGE_API_KEY``), openlineage-python would build its HTTP
transport from exactly these: POST each event as JSON to ``urljoin(url, endpoint)``
(``api/v1/lineage`` by default), with ``Authorization: Bearer <api key>`` when a key is set.
:class:`HttpLineageTransport` does the same without importing openlineage-python, whose import
costs about 0.4 s of CPU in every process that emits (measured in an Airflow task process and in
a Dagster run's process). Every other configuration (``https://``, whose certificates requests
verifies its own way; a config file; ``OPENLINEAGE__TRANSPORT...`` variables; a proxy in the
environment) goes through openlineage-python (see
:func:`cargohold.core.lineage.transport.transport_from_env`).

One connection is kept open and reused; a failed send closes it (the next send reconnects), and a
kept connection the server closed meanwhile is reopened once. Each socket operation (connect,
write, read) gives up after the send's ``timeout``; there are no retries.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from cargohold.core.errors import LineageError

__all__ = ["DEFAULT_ENDPOINT", "HttpLineageTransport", "LineageHTTPError"]

DEFAULT_ENDPOINT = "api/v1/lineage"

_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class LineageHTTPError(LineageError):
    """A lineage server answered with an error status (``status``); seen by the emitter's worker
    only, which counts and logs it."""

    def __init__(self, status: int, target: str, body: str) -> None:
        self.status = status
        super().__init__(f"HTTP {status} from {target}: {body[:200]}")


class HttpLineageTransport:
    """POSTs each event as JSON to ``urljoin(url, endpoint)``; see the module docstring.

    Raises:
        LineageError: ``url`` is not an ``http://`` URL with a host.
    """

    def __init__(
        self, *, url: str, endpoint: str = DEFAULT_ENDPOINT, api_key: str | None = None
    ) -> None:
        url = url.strip()
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise LineageError(
                f"OPENLINEAGE_URL={url!r} is not an http:// URL with a host "
                f"(e.g. http://localhost:5000)"
            )
        self.target = urljoin(url, endpoint)
        target = urlsplit(self.target)
        self._host = target.hostname or ""
        self._port = target.port
        self._path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> HttpLineageTransport:
        """From ``OPENLINEAGE_URL``, ``OPENLINEAGE_ENDPOINT`` and ``OPENLINEAGE_API_KEY``.

        Raises:
            LineageError: ``OPENLINEAGE_URL`` is not an http:// URL.
        """
        return cls(
            url=os.environ.get("OPENLINEAGE_URL", ""),
            endpoint=os.environ.get("OPENLINEAGE_ENDPOINT") or DEFAULT_ENDPOINT,
            api_key=os.environ.get("OPENLINEAGE_API_KEY") or None,
        )

    def send(self, event: Mapping[str, Any], *, timeout: float) -> None:
        """POST ``event``; raise on a network failure, a timeout or an error status.

        Raises:
            OSError: the connection failed or timed out (``TimeoutError``).
            LineageHTTPError: the server answered with a status of 400 or more.
        """
        body = json.dumps(_without_nulls(event), separators=(",", ":")).encode()
        with self._lock:
            reused = self._connection is not None
            try:
                try:
                    status, text = self._post(body, timeout)
                except _STALE:
                    if not reused:
                        raise
                    self.close()
                    status, text = self._post(body, timeout)  # the kept one had gone stale
            except BaseException:
                self.close()
                raise
        if status >= 400:
            raise LineageHTTPError(status, self.target, text)

    def close(self, *, timeout: float = 0) -> None:
        """Close the kept connection, if any."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _post(self, body: bytes, timeout: float) -> tuple[int, str]:
        connection = self._connection
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            self._connection = connection
        elif connection.sock is not None:
            connection.sock.settimeout(timeout)
        connection.timeout = timeout
        connection.request("POST", self._path, body=body, headers=self._headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        if response.will_close:
            self.close(timeout=0)
        return response.status, text


def _without_nulls(value: Any) -> Any:
    """``value`` without ``None`` members (as openlineage-python sends events)."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_nulls(v) for v in value]
    return value
