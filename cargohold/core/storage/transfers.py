"""Large blobs to and from S3 as concurrent parts, in bounded memory.

An upload is one S3 multipart upload whose parts (``part_size`` bytes, 16 MiB by default, in
S3's advised 8-16 MiB range) are sent ``concurrency`` at a time: a sliding window, so a slow part
does not hold back the others and at most ``concurrency`` parts are in memory. The upload is
completed only after every part was stored and the source was found unchanged since its hash
named the key; on any failure, a timeout, a cancellation or an interrupt of the calling thread it
is aborted, so no object appears. An abort that cannot reach the server leaves an incomplete
upload under the store's prefix, which :mod:`cargohold.core.storage.leftovers` finds and removes.

A download is a series of ranged GETs, ``concurrency`` in flight, consumed in order: each part is
hashed (BLAKE3, once, streaming) and written as it comes, so verification costs no second pass.
The first request asks for the first part and learns the object's size from its answer, so a
small object costs one request.

Every request is bounded by the filesystem's botocore ``connect_timeout``, ``read_timeout`` and
``retries`` (see :func:`~cargohold.core.storage.filesystems.resolve`); the read timeout also ends
a part whose body a stopped server no longer reads (tests/core/storage/test_parallel_transfers.py
freezes the server mid-part). These functions wait on nothing else.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import CancelledError as FutureCancelled
from dataclasses import dataclass
from typing import Any, TypeVar

from blake3 import blake3

from cargohold.core.errors import StorageError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PART_SIZE",
    "MIN_PART_SIZE",
    "Download",
    "download",
    "file_reader",
    "upload",
]

DEFAULT_PART_SIZE = 16 << 20
"""Bytes per part: the top of S3's advised 8-16 MiB range (fewer requests, same throughput)."""
DEFAULT_CONCURRENCY = 8
"""Parts in flight per transfer; memory is bounded by ``concurrency x part_size``."""
MIN_PART_SIZE = 5 << 20
"""S3's smallest part (all but the last)."""

_T = TypeVar("_T")
_log = logging.getLogger(__name__)
_ABORT_GRACE = 5.0
_READ = 1 << 20


@dataclass(frozen=True, slots=True)
class Download:
    """What :func:`download` fetched: the object's size and the BLAKE3 of its bytes."""

    size: int
    hash: str


def upload(
    fs: Any,
    path: str,
    *,
    size: int,
    read: Callable[[int, int], bytes | memoryview],
    unchanged: Callable[[], bool] = lambda: True,
    part_size: int = DEFAULT_PART_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> None:
    """Write ``size`` bytes to ``path`` on the s3fs filesystem ``fs`` as a multipart upload.

    ``read(offset, length)`` returns the source's bytes (it is called from a worker thread, in
    order); ``unchanged()`` is asked before completing, and a false answer aborts the upload (the
    source changed after its hash named the key).

    Raises:
        StorageError: the source changed or was shorter than ``size``; the upload was aborted.
        Exception: the backend's own errors (botocore's, timeouts), for the caller to translate;
            the upload was aborted (or, if the server could not be reached, left for the
            leftovers clean-up).
    """
    _check(part_size, concurrency)
    bucket, key, _ = fs.split_path(path)
    _run(fs, _upload(fs, bucket, key, size, read, unchanged, part_size, concurrency))


def download(
    fs: Any,
    path: str,
    *,
    write: Callable[[bytearray], object],
    part_size: int = DEFAULT_PART_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Download:
    """Fetch ``path`` from the s3fs filesystem ``fs`` in concurrent ranged GETs, calling
    ``write(chunk)`` with its bytes in order (from a worker thread) and hashing them as they pass.

    Raises:
        FileNotFoundError: there is no such object.
        StorageError: the object changed size while it was read.
        Exception: the backend's own errors, for the caller to translate.
    """
    _check(part_size, concurrency)
    bucket, key, version = fs.split_path(path)
    extra = {"VersionId": version} if version else {}
    return _run(fs, _download(fs, bucket, key, extra, write, part_size, concurrency))


def _check(part_size: int, concurrency: int) -> None:
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")


def _run(fs: Any, coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` on the filesystem's event loop and wait for it. If the waiting thread is
    interrupted (KeyboardInterrupt, a signal handler raising), the coroutine is cancelled, which
    aborts its upload, and the thread waits a bounded time for that clean-up before re-raising."""
    done = threading.Event()

    async def tracked() -> _T:
        try:
            return await coro
        finally:
            done.set()

    future = asyncio.run_coroutine_threadsafe(tracked(), fs.loop)
    try:
        return future.result()
    except FutureCancelled as exc:  # the loop itself was shut down
        raise StorageError("the transfer was cancelled: the store's event loop stopped") from exc
    except BaseException:
        if not future.done():
            fs.loop.call_soon_threadsafe(future.cancel)
            done.wait(_abort_bound(fs))
        raise


def _abort_bound(fs: Any) -> float:
    """How long an abort may take: botocore's connect + read timeout per attempt."""
    config = getattr(fs, "config_kwargs", None) or {}
    per_attempt = float(config.get("connect_timeout", 10)) + float(config.get("read_timeout", 60))
    attempts = int((config.get("retries") or {}).get("total_max_attempts", 1))
    return per_attempt * attempts + _ABORT_GRACE


async def _in_thread(function: Callable[..., _T], *args: Any) -> _T:
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


async def _upload(
    fs: Any,
    bucket: str,
    key: str,
    size: int,
    read: Callable[[int, int], bytes | memoryview],
    unchanged: Callable[[], bool],
    part_size: int,
    concurrency: int,
) -> None:
    created = await fs._call_s3("create_multipart_upload", Bucket=bucket, Key=key)
    upload_id = created["UploadId"]
    count = max(1, -(-size // part_size))
    etags: list[str | None] = [None] * count
    slots = asyncio.Semaphore(concurrency)
    tasks: list[asyncio.Task[None]] = []

    async def send(number: int, body: bytes | memoryview) -> None:
        try:
            answer = await fs._call_s3(
                "upload_part",
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number + 1,
                Body=bytes(body) if isinstance(body, memoryview) else body,
            )
            etags[number] = answer["ETag"]
        finally:
            slots.release()

    try:
        for number in range(count):
            await slots.acquire()
            for task in tasks:  # fail fast: stop reading once a part has failed
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            offset = number * part_size
            length = min(part_size, size - offset)
            body = await _in_thread(read, offset, length)
            if len(body) != length:
                raise StorageError(
                    f"the source of s3://{bucket}/{key} changed during its upload: expected "
                    f"{length} bytes at offset {offset}, read {len(body)}; nothing was stored"
                )
            tasks.append(asyncio.create_task(send(number, body)))
            del body
        await asyncio.gather(*tasks)
        if not await _in_thread(unchanged):
            raise StorageError(
                f"the source of s3://{bucket}/{key} changed during its upload; nothing was stored"
            )
        parts = [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]
        await fs._call_s3(
            "complete_multipart_upload",
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _abort(fs, bucket, key, upload_id)
        raise


async def _abort(fs: Any, bucket: str, key: str, upload_id: str) -> None:
    """Abort an upload, shielded from a second cancellation; a failure here is not raised over
    the one that caused the abort (the leftovers clean-up removes what stays)."""
    call: Awaitable[Any] = fs._call_s3(
        "abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id
    )
    try:
        await asyncio.shield(call)
    except BaseException as exc:  # the error that caused the abort is the one raised
        _log.warning(
            "could not abort multipart upload %s of s3://%s/%s (%r); the leftovers clean-up "
            "(`cargohold gc`) removes it",
            upload_id,
            bucket,
            key,
            exc,
        )


async def _download(
    fs: Any,
    bucket: str,
    key: str,
    extra: dict[str, Any],
    write: Callable[[bytearray], object],
    part_size: int,
    concurrency: int,
) -> Download:
    async def fetch(start: int, end: int | None) -> tuple[bytearray, int]:
        span = {} if end is None else {"Range": f"bytes={start}-{end}"}
        answer = await fs._call_s3("get_object", Bucket=bucket, Key=key, **span, **extra)
        body = answer["Body"]
        try:
            data = await _read_body(body, int(answer.get("ContentLength") or 0))
        finally:
            body.close()
        return data, _total_size(answer, len(data))

    hasher = blake3(max_threads=blake3.AUTO)
    try:
        first, size = await fetch(0, part_size - 1)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        first, size = await fetch(0, None)  # S3 refuses any range of an empty object
    ranges = [(s, min(s + part_size, size) - 1) for s in range(len(first), size, part_size)]
    window: list[asyncio.Task[tuple[bytearray, int]]] = []
    following = iter(ranges)

    def refill() -> None:
        while len(window) < concurrency:
            span = next(following, None)
            if span is None:
                return
            window.append(asyncio.create_task(fetch(*span)))

    try:
        refill()
        chunk, received = first, len(first)
        while True:
            await _in_thread(_consume, hasher, write, chunk)
            if not window:
                break
            chunk, total = await window.pop(0)
            refill()
            if total != size:
                raise StorageError(
                    f"s3://{bucket}/{key} changed while it was read ({size} then {total} bytes)"
                )
            received += len(chunk)
    finally:
        for task in window:
            task.cancel()
        await asyncio.gather(*window, return_exceptions=True)
    if received != size:
        raise StorageError(f"s3://{bucket}/{key}: read {received} of its {size} bytes")
    return Download(size=size, hash=hasher.hexdigest())


async def _read_body(body: Any, length: int) -> bytearray:
    """A response body read into one buffer of its announced length (reading it whole would hold
    its pieces and their join, twice the part)."""
    buffer = bytearray(length)
    view = memoryview(buffer)
    filled = 0
    while filled < length:
        piece = await body.read(min(_READ, length - filled))
        if not piece:
            break
        view[filled : filled + len(piece)] = piece
        filled += len(piece)
    rest = await body.read()  # a body longer than announced (never from S3): keep it all
    view.release()
    if filled < length:
        del buffer[filled:]
    buffer += rest
    return buffer


def _consume(hasher: Any, write: Callable[[bytearray], object], chunk: bytearray) -> None:
    hasher.update(chunk)
    write(chunk)


def _total_size(answer: dict[str, Any], received: int) -> int:
    """The object's full size, from a ranged GET's ``Content-Range: bytes a-b/size``."""
    content_range = answer.get("ContentRange") or ""
    total = content_range.rpartition("/")[2]
    if total.isdigit():
        return int(total)
    return received  # an empty object answers without a range


def file_reader(path: str) -> Callable[[int, int], bytes]:
    """``read(offset, length)`` over a local file, for :func:`upload` (one handle per call, so
    reads from worker threads never share a file position)."""

    def read(offset: int, length: int) -> bytes:
        with open(path, "rb", buffering=0) as handle:
            return os.pread(handle.fileno(), length, offset)

    return read
