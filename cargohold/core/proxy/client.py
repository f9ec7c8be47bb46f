"""Using signed URLs with the standard library: upload a file, download one (bounded memory).

These work for the proxy server's URLs and for S3 presigned URLs alike::

    location = proxy.create_upload_location(filename="a.csv", content_md5=md5)
    upload(url=location.signed_url, headers=location.headers, path="a.csv")
    download(url=link.signed_url, local_path="copy.csv", progress=print)
"""

from __future__ import annotations

import contextlib
import http.client
import mmap
import os
import socket
import tempfile
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from cargohold.core.errors import ProxyError, StorageError

__all__ = [
    "Progress",
    "TransferResult",
    "download",
    "read_body_into",
    "tune_connection",
    "upload",
]

Progress = Callable[[int, int | None], None]
"""Called with (bytes done, total bytes or None) as a transfer proceeds."""

TransferResult = dict[str, Any]
_CHUNK = 16 << 20
_RCVBUF = 8 << 20


def tune_connection(conn: http.client.HTTPConnection) -> None:
    """Connect with a large receive buffer: fewer, larger reads on fast links."""
    conn.connect()
    if conn.sock is not None:
        with contextlib.suppress(OSError):
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)


def _connect(url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ProxyError(f"not an http(s) URL: {url!r:.120}")
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return cls(parts.netloc, timeout=timeout), target


def _failure(status: int, reason: str, body: bytes, url: str) -> Exception:
    text = body.decode("utf-8", "replace").strip()[:300]
    where = url.split("?", 1)[0]
    if status == 403:
        return ProxyError(
            f"{where}: 403 {reason}: {text} (the link expired or was altered; ask for a new one)"
        )
    if status in (409, 412):
        return ProxyError(f"{where}: {status}: the location already holds other content")
    if status in (400, 413):
        return ProxyError(f"{where}: {status} {reason}: {text}")
    return StorageError(f"{where}: HTTP {status} {reason}: {text}")


def upload(
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    path: str | None = None,
    data: bytes | None = None,
    timeout: float = 60.0,
) -> TransferResult:
    """PUT a local file (streamed) or ``data`` to a signed URL.

    When ``headers`` carry a ``Content-Length`` (an upload location created with a declared
    size; on S3 it is signed), a file or ``data`` of another size is refused before anything is
    sent.

    Returns:
        ``{"status": int, "body": str}`` of the server's answer.

    Raises:
        ProxyError: the size differs from the declared ``Content-Length``, or the URL was
            refused (expired, tampered, MD5 mismatch, existing content, too large).
        StorageError: another HTTP or network failure.
    """
    if (path is None) == (data is None):
        raise ProxyError("upload needs exactly one of path or data")
    sent = {k: v for k, v in (headers or {}).items() if k.lower() != "content-length"}
    declared = [v for k, v in (headers or {}).items() if k.lower() == "content-length"]
    try:
        size = os.path.getsize(path) if path is not None else len(data or b"")
    except OSError as exc:
        raise StorageError(f"cannot upload {path}: {exc}") from exc
    if declared and declared[0].strip() != str(size):
        raise ProxyError(
            f"{path or 'data'} is {size} bytes but the upload location was created for "
            f"{declared[0]}; create a location with content_length={size}; nothing sent"
        )
    sent.setdefault("Content-Type", "application/octet-stream")
    sent["Content-Length"] = str(size)
    conn, target = _connect(url, timeout)
    try:
        if path is not None:
            with open(path, "rb") as body:
                conn.request("PUT", target, body=body, headers=sent)
                response = conn.getresponse()
        else:
            assert data is not None
            conn.request("PUT", target, body=data, headers=sent)
            response = conn.getresponse()
        answer = response.read()
    except OSError as exc:
        raise StorageError(f"upload to {url.split('?', 1)[0]} failed: {exc}") from exc
    finally:
        conn.close()
    if response.status >= 300:
        raise _failure(response.status, response.reason, answer, url)
    return {"status": response.status, "body": answer.decode("utf-8", "replace")}


def read_body_into(
    response: http.client.HTTPResponse, view: memoryview, *, done: int, total: int | None
) -> int:
    """Read the next part of a response body into ``view``; 0 at the end.

    With a known length it reads the socket's buffered file directly: ``HTTPResponse.readinto``
    adds a copy and per-call bookkeeping that cost about a third of loopback throughput.
    """
    if total is None:
        return response.readinto(view)
    left = total - done
    if left <= 0:
        return 0
    assert response.fp is not None
    return response.fp.readinto(view[: min(len(view), left)])


def _receive_mapped(
    response: http.client.HTTPResponse,
    out: Any,
    total: int,
    chunk_size: int,
    progress: Progress | None,
) -> int:
    """Receive a body of known length straight into the memory-mapped output file: one copy
    fewer than reading into a buffer and writing it out."""
    os.ftruncate(out.fileno(), total)
    done = 0
    with mmap.mmap(out.fileno(), total) as mapped:
        view = memoryview(mapped)
        try:
            while done < total:
                count = read_body_into(
                    response, view[done : done + chunk_size], done=done, total=total
                )
                if not count:
                    break
                done += count
                if progress is not None:
                    progress(done, total)
        finally:
            view.release()
    if done < total:
        os.ftruncate(out.fileno(), done)
    return done


def _receive_streamed(
    response: http.client.HTTPResponse, out: Any, chunk_size: int, progress: Progress | None
) -> int:
    """Receive a body of unknown length in chunks."""
    view = memoryview(bytearray(chunk_size))
    done = 0
    while count := read_body_into(response, view, done=done, total=None):
        out.write(view[:count])
        done += count
        if progress is not None:
            progress(done, None)
    return done


def download(
    *,
    url: str,
    local_path: str,
    progress: Progress | None = None,
    timeout: float = 60.0,
    chunk_size: int = _CHUNK,
) -> int:
    """GET a signed URL into ``local_path`` in bounded memory; returns the bytes written.

    The file is written under a temporary name next to ``local_path`` and renamed when
    complete, so a failed download leaves nothing behind.

    Raises:
        ProxyError: the link was refused (expired or tampered: 403).
        StorageError: another HTTP or network failure, or a truncated body.
    """
    conn, target = _connect(url, timeout)
    parent = os.path.dirname(os.path.abspath(local_path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cargohold-download-", dir=parent)
    done = 0
    try:
        tune_connection(conn)
        conn.request("GET", target)
        response = conn.getresponse()
        if response.status >= 300:
            raise _failure(response.status, response.reason, response.read(), url)
        length = response.getheader("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with os.fdopen(fd, "r+b", buffering=0) as out:
            fd = -1
            if total:
                done = _receive_mapped(response, out, total, chunk_size, progress)
            else:
                done = _receive_streamed(response, out, chunk_size, progress)
        if total is not None and done != total:
            raise StorageError(f"download of {url.split('?', 1)[0]} truncated at {done}/{total}")
        os.replace(tmp, local_path)
    except OSError as exc:
        raise StorageError(f"download from {url.split('?', 1)[0]} failed: {exc}") from exc
    finally:
        conn.close()
        if fd >= 0:
            os.close(fd)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return done
