"""Large blobs to and from S3 as concurrent parts, in bounded memory, every wait bounded.

An upload is one S3 multipart upload whose parts (``part_size`` bytes, 16 MiB by default, in
S3's advised 8-16 MiB range) are sent ``concurrency`` at a time: a sliding window, so a slow part
does not hold back the others and at most ``concurrency`` parts are in memory. The upload is
completed only after every part was stored and the source was found unchanged since its hash
named the key; on any failure, a timeout, a cancellation or an interrupt of the calling thread it
is aborted, so no object appears. An abort that cannot reach the server leaves an incomplete
upload under the store's prefix, which :mod:`cargohold.core.storage.leftovers` finds and removes.

A download (:mod:`cargohold.core.storage.downloads`) starts as one stream and splits into
ranged GETs only when that stream proves slow.

Deadlines. botocore's ``connect_timeout`` and ``read_timeout`` bound a wait for a connection
and for each read of an answer, but not a *write*: a part whose body a stopped server no longer
reads would wait forever, and a server that trickles an answer never trips the read timeout.
So every request here also runs under a deadline (:func:`request_deadline`): per attempt the
connect and read timeouts plus the bytes it carries at :data:`MIN_THROUGHPUT` shared by the
parts in flight, times the attempts botocore makes, plus botocore's longest backoff between
them. A request past its deadline is cancelled and raises :class:`TimeoutError`, which the
store turns into its timeout :class:`~cargohold.core.errors.StorageError`; an upload is aborted
first. Raising ``store_read_timeout`` lengthens every deadline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import CancelledError as FutureCancelled
from dataclasses import dataclass
from typing import Any, TypeVar

from cargohold.core.errors import StorageError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PART_SIZE",
    "MIN_PART_SIZE",
    "MIN_THROUGHPUT",
    "Deadlines",
    "file_reader",
    "request_deadline",
    "run",
    "upload",
    "within",
]

DEFAULT_PART_SIZE = 16 << 20
"""Bytes per part: the top of S3's advised 8-16 MiB range (fewer requests, same throughput)."""
DEFAULT_CONCURRENCY = 8
"""Parts in flight per transfer; an upload's memory is bounded by ``concurrency x part_size``."""
MIN_PART_SIZE = 5 << 20
"""S3's smallest part (all but the last)."""
MIN_THROUGHPUT = float(1 << 20)
"""The slowest rate, in bytes per second, that a transfer's parts in flight may share before a
part is given up as stalled (1 MiB/s: a slow uplink's; a 16 MiB part among 8 in flight gets
128 s on top of the connect and read timeouts)."""

_T = TypeVar("_T")
_log = logging.getLogger(__name__)
_BACKOFF = 20.0  # botocore's standard retry mode waits at most 20 s between attempts
_ABORT_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The bounds of one transfer's requests (see :func:`request_deadline`)."""

    connect_timeout: float
    read_timeout: float
    attempts: int
    seconds_per_byte: float
    """``concurrency / min_throughput``: each part in flight gets its share of the rate."""

    @classmethod
    def of(cls, fs: Any, *, concurrency: int, min_throughput: float) -> Deadlines:
        """The deadlines of a transfer on the s3fs filesystem ``fs`` (its botocore timeouts and
        retries, as :func:`~cargohold.core.storage.filesystems.resolve` configured them)."""
        config = getattr(fs, "config_kwargs", None) or {}
        retries = config.get("retries") or {}
        attempts = retries.get("total_max_attempts") or (int(retries.get("max_attempts", 0)) + 1)
        return cls(
            connect_timeout=float(config.get("connect_timeout", 60)),
            read_timeout=float(config.get("read_timeout", 60)),
            attempts=max(1, int(attempts)),
            seconds_per_byte=concurrency / min_throughput,
        )

    def request(self, nbytes: int = 0) -> float:
        """Seconds a request carrying ``nbytes`` (sent or received) may take, retries included."""
        per_attempt = self.connect_timeout + self.read_timeout + nbytes * self.seconds_per_byte
        return self.attempts * per_attempt + (self.attempts - 1) * _BACKOFF


def request_deadline(
    fs: Any,
    *,
    nbytes: int,
    concurrency: int = DEFAULT_CONCURRENCY,
    min_throughput: float = MIN_THROUGHPUT,
) -> float:
    """Seconds one request of a transfer on ``fs`` may take when it carries ``nbytes``:
    ``attempts x (connect_timeout + read_timeout + nbytes x concurrency / min_throughput)`` plus
    20 s of backoff between attempts."""
    deadlines = Deadlines.of(fs, concurrency=concurrency, min_throughput=min_throughput)
    return deadlines.request(nbytes)


async def within(seconds: float, what: str, call: Awaitable[_T]) -> _T:
    """Await ``call``; cancel it once ``seconds`` have passed.

    Raises:
        TimeoutError: the deadline passed (the message names ``what`` and the deadline).
    """
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            return await call
    except TimeoutError as exc:
        if scope.expired():
            raise TimeoutError(
                f"{what} did not finish within its deadline of {seconds:g} s"
            ) from exc
        raise  # the backend's own timeout


def upload(
    fs: Any,
    path: str,
    *,
    size: int,
    read: Callable[[int, int], bytes | memoryview],
    unchanged: Callable[[], bool] = lambda: True,
    part_size: int = DEFAULT_PART_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    min_throughput: float = MIN_THROUGHPUT,
) -> None:
    """Write ``size`` bytes to ``path`` on the s3fs filesystem ``fs`` as a multipart upload.

    ``read(offset, length)`` returns the source's bytes (it is called from a worker thread, in
    order); ``unchanged()`` is asked before completing, and a false answer aborts the upload (the
    source changed after its hash named the key).

    Raises:
        StorageError: the source changed or was shorter than ``size``; the upload was aborted.
        TimeoutError: a request passed its deadline (:func:`request_deadline`); the upload was
            aborted.
        Exception: the backend's own errors (botocore's, its timeouts), for the caller to
            translate; the upload was aborted (or, if the server could not be reached, left for
            the leftovers clean-up).
    """
    check(part_size, concurrency, min_throughput)
    bucket, key, _ = fs.split_path(path)
    deadlines = Deadlines.of(fs, concurrency=concurrency, min_throughput=min_throughput)
    work = _upload(fs, bucket, key, size, read, unchanged, part_size, concurrency, deadlines)
    run(fs, work, deadlines)


def check(part_size: int, concurrency: int, min_throughput: float) -> None:
    """Refuse settings no transfer can run with.

    Raises:
        ValueError: a part below S3's minimum, no concurrency, or a rate that is not positive.
    """
    if part_size < MIN_PART_SIZE:
        raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if not min_throughput > 0:
        raise ValueError("min_throughput must be a positive number of bytes per second")


def run(fs: Any, coro: Coroutine[Any, Any, _T], deadlines: Deadlines) -> _T:
    """Run ``coro`` on the filesystem's event loop and wait for it (every wait inside it has a
    deadline). If the waiting thread is interrupted (KeyboardInterrupt, a signal handler
    raising), the coroutine is cancelled, which aborts its upload, and the thread waits a bounded
    time for that clean-up before re-raising.

    Raises:
        StorageError: the filesystem's event loop stopped.
        TimeoutError: a request passed its deadline (the message names the endpoint, if set).
    """
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
    except TimeoutError as exc:  # a deadline of :func:`within` passed: say which server
        endpoint = (getattr(fs, "client_kwargs", None) or {}).get("endpoint_url")
        if endpoint and endpoint not in str(exc):
            raise TimeoutError(f"{exc} at {endpoint}") from exc
        raise
    except BaseException:
        if not future.done():
            fs.loop.call_soon_threadsafe(future.cancel)
            done.wait(deadlines.request() + _ABORT_GRACE)
        raise


async def in_thread(function: Callable[..., _T], *args: Any) -> _T:
    """Run a blocking local call (a file read or write, hashing) in the loop's executor."""
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
    deadlines: Deadlines,
) -> None:
    name = f"s3://{bucket}/{key}"
    created = await within(
        deadlines.request(),
        f"starting the multipart upload of {name}",
        fs._call_s3("create_multipart_upload", Bucket=bucket, Key=key),
    )
    upload_id = created["UploadId"]
    count = max(1, -(-size // part_size))
    etags: list[str | None] = [None] * count
    slots = asyncio.Semaphore(concurrency)
    tasks: list[asyncio.Task[None]] = []

    async def send(number: int, body: bytes | memoryview) -> None:
        try:
            answer = await within(
                deadlines.request(len(body)),
                f"part {number + 1} of {count} ({len(body)} bytes) of {name}",
                fs._call_s3(
                    "upload_part",
                    Bucket=bucket,
                    Key=key,
                    UploadId=upload_id,
                    PartNumber=number + 1,
                    Body=bytes(body) if isinstance(body, memoryview) else body,
                ),
            )
            etags[number] = answer["ETag"]
        finally:
            slots.release()

    try:
        for number in range(count):
            await slots.acquire()  # released by every part as it ends: bounded by theirs
            for task in tasks:  # fail fast: stop reading once a part has failed
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            offset = number * part_size
            length = min(part_size, size - offset)
            body = await in_thread(read, offset, length)
            if len(body) != length:
                raise StorageError(
                    f"the source of {name} changed during its upload: expected {length} bytes "
                    f"at offset {offset}, read {len(body)}; nothing was stored"
                )
            tasks.append(asyncio.create_task(send(number, body)))
            del body
        await asyncio.gather(*tasks)
        if not await in_thread(unchanged):
            raise StorageError(
                f"the source of {name} changed during its upload; nothing was stored"
            )
        parts = [{"PartNumber": i + 1, "ETag": etag} for i, etag in enumerate(etags)]
        await within(
            deadlines.request(),
            f"completing the multipart upload of {name}",
            fs._call_s3(
                "complete_multipart_upload",
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            ),
        )
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await _abort(fs, bucket, key, upload_id, deadlines)
        raise


async def _abort(fs: Any, bucket: str, key: str, upload_id: str, deadlines: Deadlines) -> None:
    """Abort an upload within a request's deadline, shielded from a second cancellation; a
    failure here is not raised over the one that caused the abort (the leftovers clean-up
    removes what stays)."""
    call: Awaitable[Any] = fs._call_s3(
        "abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id
    )
    attempt = asyncio.ensure_future(call)
    try:
        await within(deadlines.request(), "aborting the upload", asyncio.shield(attempt))
    except BaseException as exc:  # the error that caused the abort is the one raised
        if isinstance(exc, TimeoutError):
            attempt.cancel()
        _log.warning(
            "could not abort multipart upload %s of s3://%s/%s (%r); the leftovers clean-up "
            "(`cargohold gc`) removes it",
            upload_id,
            bucket,
            key,
            exc,
        )


def file_reader(path: str) -> Callable[[int, int], bytes]:
    """``read(offset, length)`` over a local file, for :func:`upload` (one handle per call, so
    reads from worker threads never share a file position)."""

    def read(offset: int, length: int) -> bytes:
        with open(path, "rb", buffering=0) as handle:
            return os.pread(handle.fileno(), length, offset)

    return read
