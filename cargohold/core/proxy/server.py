"""The proxy server behind ``cargohold serve``: signed GET and PUT on a store, stdlib only.

Routes (every request must carry a valid signature, see :mod:`.signing`):

* ``GET|HEAD /v1/data/{path}?expires=..&sig=..``: stream the file (``sendfile`` on a local
  store, bounded chunks elsewhere). 403 when expired or tampered, 404 when missing.
* ``PUT /v1/data/{path}?expires=..&md5=..&sig=..``: store the body at ``path``. The body is
  streamed to a temporary file while its MD5 is computed; a mismatch with the signed MD5 (or
  with a ``Content-MD5`` header) answers 400 and stores nothing. The file is committed with a
  no-clobber link, so it appears whole or not at all, and never replaces other content (409);
  re-uploading identical bytes answers 200.

Errors come back as ``{"error": "..."}`` JSON bodies.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import posixpath
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from cargohold.core.errors import (
    BlobNotFoundError,
    CargoholdError,
    ConfigurationError,
    PathEscapeError,
    ProxyError,
)
from cargohold.core.proxy.service import DataProxy
from cargohold.core.proxy.signing import (
    DATA_ROUTE,
    DEFAULT_MAX_EXPIRES_IN,
    SignedRequest,
    UrlSigner,
    normalize_md5,
)

if TYPE_CHECKING:
    from cargohold.core.hold import Cargohold
    from cargohold.core.storage.store import Store

__all__ = ["ProxyServer"]

_CHUNK = 1 << 20


DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_CONNECTIONS = 256
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
    b"Connection: close\r\n\r\n"
)


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Server(ThreadingHTTPServer):
    """One thread per connection, at most ``slots`` at a time: a connection beyond the bound
    is answered ``503`` and closed at once, without a thread."""

    daemon_threads = True
    block_on_close = False
    store: Store
    signer: UrlSigner
    log: Callable[[str], None] | None
    io_timeout: float
    slots: threading.BoundedSemaphore

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "cargohold-proxy/1"

    def setup(self) -> None:
        # A client that sends nothing (an idle connection, a stalled body) for io_timeout
        # seconds is dropped.
        super().setup()
        self.connection.settimeout(self.server.io_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")

    # -- plumbing -----------------------------------------------------------------------------

    def _route(self, method: str) -> SignedRequest:
        parts = urlsplit(self.path)
        if not parts.path.startswith(DATA_ROUTE):
            raise _HTTPError(404, f"no route {parts.path}; signed URLs start with {DATA_ROUTE}")
        relpath = unquote(parts.path[len(DATA_ROUTE) :])
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            signed = self.server.signer.verify(method=method, path=relpath, query=query)
            self.server.store.uri(relpath)
        except ProxyError as exc:
            raise _HTTPError(403, str(exc)) from exc
        except PathEscapeError as exc:
            raise _HTTPError(400, str(exc)) from exc
        return signed

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _guard(self, work: Callable[[], None]) -> None:
        try:
            work()
        except _HTTPError as exc:
            self.close_connection = True
            self._reply(exc.status, {"error": str(exc)})
        except BlobNotFoundError as exc:
            self._reply(404, {"error": str(exc)})
        except CargoholdError as exc:
            self.close_connection = True
            self._reply(500, {"error": str(exc)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except TimeoutError:  # the client stalled past the server's timeout
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._reply(408, {"error": "the client sent nothing for too long; retry"})

    # -- GET / HEAD ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._guard(self._get)

    def do_HEAD(self) -> None:
        self._guard(self._get)

    def _get(self) -> None:
        signed = self._route("GET")
        store = self.server.store
        name = posixpath.basename(signed.path)
        if store.is_local:
            path = store.local_path(signed.path)
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                self._send_file_headers(size, name)
                if self.command == "GET" and size:
                    self.connection.sendfile(handle)
            return
        size = store.size(signed.path)
        with store.open(signed.path, "rb") as stream:
            self._send_file_headers(size, name)
            if self.command == "GET":
                while chunk := stream.read(_CHUNK):
                    self.wfile.write(chunk)

    def _send_file_headers(self, size: int, name: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Disposition", f'attachment; filename="{name}"')
        self.end_headers()

    # -- PUT ----------------------------------------------------------------------------------

    def do_PUT(self) -> None:
        self._guard(self._put)

    def _put(self) -> None:
        signed = self._route("PUT")
        declared = self.headers.get("Content-MD5")
        try:
            header_md5 = normalize_md5(declared) if declared else None
        except ProxyError as exc:
            raise _HTTPError(400, str(exc)) from exc
        if signed.md5 is not None and header_md5 is not None and header_md5 != signed.md5:
            raise _HTTPError(403, "Content-MD5 differs from the MD5 the link was signed for")
        expected = signed.md5 or header_md5
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise _HTTPError(411, "a PUT needs a Content-Length")
        store = self.server.store
        tmp = self._spool_path(store)
        try:
            digest = self._receive(tmp, int(length))
            if expected is not None and digest != expected:
                raise _HTTPError(
                    400,
                    f"BadDigest: the body's MD5 {base64.b64encode(digest).decode()} differs "
                    f"from the declared {base64.b64encode(expected).decode()}; nothing stored",
                )
            status = self._commit(store, tmp, signed.path, digest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        body = {"native_url": store.uri(signed.path), "md5": digest.hex(), "size": int(length)}
        self._reply(status, body)

    def _spool_path(self, store: Store) -> str:
        if store.is_local:
            tmp_dir = posixpath.join(store.root, ".tmp")
            os.makedirs(tmp_dir, exist_ok=True)
            return posixpath.join(tmp_dir, f"upload-{uuid.uuid4().hex}")
        fd, path = tempfile.mkstemp(prefix="cargohold-upload-")
        os.close(fd)
        return path

    def _receive(self, tmp: str, length: int) -> bytes:
        digest = hashlib.md5(usedforsecurity=False)
        remaining = length
        with open(tmp, "wb") as out:
            while remaining:
                chunk = self.rfile.read(min(_CHUNK, remaining))
                if not chunk:
                    raise _HTTPError(400, "the body ended before Content-Length; nothing stored")
                digest.update(chunk)
                out.write(chunk)
                remaining -= len(chunk)
        return digest.digest()

    def _commit(self, store: Store, tmp: str, relpath: str, digest: bytes) -> int:
        if store.is_local:
            final = store.uri(relpath).removeprefix("file://")
            os.makedirs(os.path.dirname(final), exist_ok=True)
            try:
                os.link(tmp, final)
            except FileExistsError:
                return self._same_or_conflict(store, relpath, digest)
            return 201
        if store.exists(relpath):
            return self._same_or_conflict(store, relpath, digest)
        with open(tmp, "rb") as source, store.open(relpath, "wb") as target:
            shutil.copyfileobj(source, target, _CHUNK)
        return 201

    def _same_or_conflict(self, store: Store, relpath: str, digest: bytes) -> int:
        existing = hashlib.md5(usedforsecurity=False)
        with store.open(relpath, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                existing.update(chunk)
        if existing.digest() == digest:
            return 200
        raise _HTTPError(409, f"{relpath} already holds other content; it is never overwritten")


class ProxyServer:
    """The signed-URL server of a hold's store, on a background thread or in the foreground.

    ::

        with ProxyServer(hold=hold, secret="...") as server:
            link = server.proxy.create_download_link(uri=blob_uri)

    Args:
        hold: whose store is served.
        host, port: where to listen (``port=0`` picks a free port).
        secret: the signing secret (default ``hold.settings.proxy_secret``).
        max_expires_in: the longest link :attr:`proxy` hands out.
        log: called with one line per request (quiet when None).
        timeout: seconds a connection may send nothing (idle, or a stalled upload body)
            before it is dropped (default 60).
        max_connections: connections served at once, one thread each (default 256); beyond
            it a connection is answered 503 and closed.

    Raises:
        ConfigurationError: no secret.
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
        log: Callable[[str], None] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        if not timeout > 0 or max_connections < 1:
            raise ConfigurationError(
                f"timeout must be > 0 and max_connections >= 1, got {timeout} and {max_connections}"
            )
        self.hold = hold
        key = secret if secret is not None else hold.settings.proxy_secret
        signer = UrlSigner(secret=key)
        self._httpd = _Server((host, port), _Handler)
        self._httpd.store = hold.store
        self._httpd.signer = signer
        self._httpd.log = log
        self._httpd.io_timeout = timeout
        self._httpd.slots = threading.BoundedSemaphore(max_connections)
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}"
        self.proxy = DataProxy(
            hold=hold, base_url=self.url, secret=key, max_expires_in=max_expires_in
        )
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"ProxyServer(url={self.url!r}, store={self.hold.store.url!r})"

    def start(self) -> ProxyServer:
        """Serve on a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="cargohold-proxy", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (or KeyboardInterrupt)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
