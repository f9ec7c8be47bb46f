"""Serving the web application with uvicorn: on a background thread, or in the foreground.

``cargohold serve`` and the tests use :class:`WebServer`; uvicorn owns the sockets, HTTP
parsing, keep-alive timeouts and the connection limit.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import uvicorn

from cargohold.core.errors import ConfigurationError
from cargohold.core.proxy.service import DataProxy
from cargohold.core.proxy.signing import DEFAULT_MAX_EXPIRES_IN
from cargohold.web.app import WebSettings, create_app

if TYPE_CHECKING:
    from cargohold.core.hold import Cargohold

__all__ = ["WebServer", "is_loopback"]

_START_TIMEOUT = 30.0


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _AccessLog(logging.Handler):
    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__()
        self._log = log

    def emit(self, record: logging.LogRecord) -> None:
        self._log(record.getMessage())


class WebServer:
    """The web UI, its JSON API and the data proxy of a hold, served by uvicorn.

    ::

        with WebServer(hold=hold, secret="...") as server:
            link = server.proxy.create_download_link(uri=blob_uri)

    Args:
        hold: whose store and catalog are served.
        host, port: where to listen (``port=0`` picks a free port). Binding anything but a
            loopback address needs ``token``.
        secret: the signing secret (default ``hold.settings.proxy_secret``).
        max_expires_in: the longest link :attr:`proxy` hands out.
        token: the token the pages and the JSON API require (``CARGOHOLD_UI_TOKEN``).
        airflow_url, dagster_url: the Airflow and Dagster UIs that source links point to.
        timeout_keep_alive: seconds an idle keep-alive connection stays open.
        limit_concurrency: connections served at once; more get 503.
        log: called with one line per request (quiet when None).
        max_upload_bytes: the largest body of an upload without an MD5 (default the setting
            ``proxy_max_upload_bytes``, ``CARGOHOLD_PROXY_MAX_UPLOAD_BYTES``); larger ones get 413.
        body_timeout: seconds an upload's body may stay silent; then it is dropped with 408.

    Raises:
        ConfigurationError: no secret, or a non-loopback host without a token.
        OSError: the address is in use.
    """

    def __init__(
        self,
        *,
        hold: Cargohold,
        host: str = "127.0.0.1",
        port: int = 0,
        secret: str | None = None,
        max_expires_in: timedelta = DEFAULT_MAX_EXPIRES_IN,
        token: str | None = None,
        airflow_url: str | None = None,
        dagster_url: str | None = None,
        timeout_keep_alive: int = 5,
        limit_concurrency: int = 256,
        log: Callable[[str], None] | None = None,
        max_upload_bytes: int | None = None,
        body_timeout: float = 60.0,
    ) -> None:
        if not is_loopback(host) and not token:
            raise ConfigurationError(
                f"refusing to serve on {host} without a token: the catalog would be open to "
                f"the network; set CARGOHOLD_UI_TOKEN (or pass --token), or bind 127.0.0.1"
            )
        self.hold = hold
        key = secret if secret is not None else hold.settings.proxy_secret
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
            self._socket.listen(2048)  # connections queue from here on, before uvicorn runs
        except OSError:
            self._socket.close()
            raise
        bound_host, bound_port = self._socket.getsockname()[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        self.url = f"http://{shown}:{bound_port}"
        self.proxy = DataProxy(
            hold=hold,
            base_url=self.url,
            secret=key,
            max_expires_in=max_expires_in,
            max_upload_bytes=max_upload_bytes,
        )
        self.proxy.signer  # noqa: B018 - raises ConfigurationError without a secret
        self.app = create_app(
            hold=hold,
            settings=WebSettings(
                secret=key,
                max_expires_in=max_expires_in,
                token=token,
                airflow_url=airflow_url,
                dagster_url=dagster_url,
                max_upload_bytes=max_upload_bytes,
                body_timeout=body_timeout,
            ),
        )
        self._log_handler = _AccessLog(log) if log is not None else None
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=log is not None,
            log_level="warning" if log is None else "info",
            timeout_keep_alive=timeout_keep_alive,
            limit_concurrency=limit_concurrency,
            lifespan="off",
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"WebServer(url={self.url!r}, store={self.hold.store.url!r})"

    def _attach_log(self) -> None:
        if self._log_handler is not None:
            access = logging.getLogger("uvicorn.access")
            access.addHandler(self._log_handler)
            access.setLevel(logging.INFO)

    def _detach_log(self) -> None:
        if self._log_handler is not None:
            logging.getLogger("uvicorn.access").removeHandler(self._log_handler)

    def start(self) -> WebServer:
        """Serve on a daemon thread once it accepts connections; returns self.

        Raises:
            ConfigurationError: the server did not start within 30 s.
        """
        if self._thread is None:
            self._attach_log()
            self._thread = threading.Thread(
                target=self._server.run,
                kwargs={"sockets": [self._socket]},
                name="cargohold-web",
                daemon=True,
            )
            self._thread.start()
            deadline = time.monotonic() + _START_TIMEOUT
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    self.stop()
                    raise ConfigurationError(f"the web server at {self.url} did not start")
                time.sleep(0.01)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or Ctrl-C (SIGINT, SIGTERM)."""
        self._attach_log()
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._detach_log()
            self._socket.close()

    def stop(self) -> None:
        """Stop serving (open connections get 10 s to finish) and close the socket."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout=5)
            self._thread = None
        self._detach_log()
        self._socket.close()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
