"""Large blobs from S3: one stream that splits into concurrent ranged GETs when it proves slow.

A download starts as one plain GET, read in order, hashed (BLAKE3, once) and written as it comes.
Once the stream has delivered its first :data:`PROBE` bytes its rate is known. A stream faster
than :data:`SPLIT_BELOW` is not held back by a per-connection limit (one connection to S3 gives
tens of MB/s up to about 100 MB/s; a local server gives several hundred), so more connections
would only add requests: it carries the whole object, which costs one request, as raw s3fs does.
A slower stream splits: the rest of the object is shared by up to ``concurrency`` streams in
equal shares of at least ``part_size`` and at most :data:`MAX_SPAN`, the first stream keeping the
next share and ranged GETs fetching the others, ``concurrency`` streams in flight (the shares of
an object too large for one round wait for a free stream); the first stream is closed when its
share is read.

Memory stays bounded whatever the shares' size: every stream writes its bytes where they belong
in the destination (:class:`Sink`: the file being downloaded, or the buffer being read into),
about a MiB at a time. The first stream takes aiohttp's chunks as they came off the socket (no
copy into larger reads) and hashes and writes each MiB of them on the event loop, in one
``pwritev``. The hash runs in order: the first stream's bytes as they arrive, then each share,
once it is complete, read back from the destination (the page cache, for a file) while later
shares are still arriving.

Why on the loop, not on a thread of its own: BLAKE3 and ``pwrite`` release the GIL, but each
must take it back, and while the loop parses the response the thread waits for it up to the
interpreter's switch interval; measured on a 256 MiB loopback download (bench/s3/run.py), the
thread cost 0.38-0.43 CPU-s where the loop costs 0.27-0.30, and was no faster in wall time.

Every ranged GET asks for the ETag the first answer gave (``If-Match``) and must report the
object's size, so an object replaced mid-read is refused, never mixed.

Every request runs under a deadline (:class:`~cargohold.core.storage.transfers.Deadlines`).

Why not ranged parts of ``part_size`` from the start, 8 in flight: a fast single stream would pay
for requests it does not need; and moto, the S3 server of the tests and benchmarks, copies the
whole object for every GET, ranged or not (about 0.15 s of its CPU for 256 MiB, under the
object's lock), so its cost grows with the number of requests: 16 ranged parts cost it over 2 s
where one GET costs 0.15 s (bench/s3/run.py). Equal shares make the fewest requests that still
use every stream.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from blake3 import blake3

from cargohold.core.errors import StorageError
from cargohold.core.storage.transfers import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PART_SIZE,
    MIN_THROUGHPUT,
    Deadlines,
    check,
    in_thread,
    run,
    within,
)

__all__ = [
    "MAX_SPAN",
    "Chunk",
    "PROBE",
    "SPLIT_BELOW",
    "Download",
    "FileSink",
    "MemorySink",
    "Sink",
    "download",
]

SPLIT_BELOW = float(160 << 20)
"""A first stream slower than this (bytes per second) splits into ranged GETs: above the ~100
MB/s that S3 gives one connection, below what a local server or a fast link gives."""
MAX_SPAN = 256 << 20
"""The most bytes one ranged GET asks for."""
PROBE = 4 << 20
"""Bytes of the first stream read before its rate decides whether it splits."""

_READ = 1 << 20  # bytes per read of a ranged GET, per batch of the first stream
_HASH = 8 << 20


Chunk = bytes | memoryview


class Sink(Protocol):
    """Where a download's bytes go, each write at its offset; the hash reads them back."""

    def write_at(self, offset: int, chunks: list[Chunk]) -> None:
        """Store ``chunks`` one after the other from ``offset``."""

    def read_at(self, offset: int, length: int) -> bytes | memoryview:
        """The ``length`` bytes stored at ``offset``."""


class MemorySink:
    """A buffer of the object's size, for a read into memory."""

    def __init__(self, size: int) -> None:
        self.buffer = bytearray(size)

    def write_at(self, offset: int, chunks: list[Chunk]) -> None:
        """Copy ``chunks`` into the buffer one after the other from ``offset``."""
        for chunk in chunks:
            self.buffer[offset : offset + len(chunk)] = chunk
            offset += len(chunk)

    def read_at(self, offset: int, length: int) -> memoryview:
        """A view of the buffer (no copy)."""
        return memoryview(self.buffer)[offset : offset + length]


class FileSink:
    """An open local file (readable and writable), written at offsets."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write_at(self, offset: int, chunks: list[Chunk]) -> None:
        """``pwritev`` all of ``chunks`` one after the other from ``offset`` (a short write
        goes on from where it stopped)."""
        views = [memoryview(chunk) for chunk in chunks]
        while views:
            written = os.pwritev(self.fd, views, offset)
            offset += written
            while views and written >= len(views[0]):
                written -= len(views.pop(0))
            if views:
                views[0] = views[0][written:]

    def read_at(self, offset: int, length: int) -> bytes:
        """``pread`` ``length`` bytes at ``offset``.

        Raises:
            StorageError: the file is shorter than what was written to it.
        """
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise StorageError(f"the download's file lost bytes at offset {offset}")
        return data


@dataclass(frozen=True, slots=True)
class Download:
    """What :func:`download` fetched: the object's size and the BLAKE3 of its bytes."""

    size: int
    hash: str


def download(
    fs: Any,
    path: str,
    *,
    sink: Callable[[int], Sink],
    part_size: int = DEFAULT_PART_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    min_throughput: float = MIN_THROUGHPUT,
    split_below: float = SPLIT_BELOW,
) -> Download:
    """Fetch ``path`` from the s3fs filesystem ``fs`` into ``sink(size)`` (called once, from a
    worker thread, when the size is known), hashing the bytes once, in order.

    Raises:
        FileNotFoundError: there is no such object.
        StorageError: the object changed while it was read, or ended early.
        TimeoutError: a request passed its deadline.
        Exception: the backend's own errors, for the caller to translate.
    """
    check(part_size, concurrency, min_throughput)
    bucket, key, version = fs.split_path(path)
    extra = {"VersionId": version} if version else {}
    deadlines = Deadlines.of(fs, concurrency=concurrency, min_throughput=min_throughput)
    plan = _Plan(part_size, concurrency, split_below)
    return run(fs, _download(fs, bucket, key, extra, sink, plan, deadlines), deadlines)


@dataclass(frozen=True, slots=True)
class _Plan:
    part_size: int
    concurrency: int
    split_below: float

    def spans(self, position: int, size: int) -> list[tuple[int, int]]:
        """The shares of ``[position, size)``: the first stream's, then the ranged GETs'."""
        rest = size - position
        streams = max(1, min(self.concurrency, -(-rest // self.part_size)))
        share = min(MAX_SPAN, -(-rest // streams))
        return [(start, min(start + share, size)) for start in range(position, size, share)]


async def _download(
    fs: Any,
    bucket: str,
    key: str,
    extra: dict[str, Any],
    open_sink: Callable[[int], Sink],
    plan: _Plan,
    deadlines: Deadlines,
) -> Download:
    name = f"s3://{bucket}/{key}"
    answer = await within(
        deadlines.request(),
        f"reading {name}",
        fs._call_s3("get_object", Bucket=bucket, Key=key, **extra),
    )
    body = answer["Body"]
    size = int(answer.get("ContentLength") or 0)
    ranged = {**extra, "IfMatch": answer["ETag"]} if answer.get("ETag") else extra
    hasher = blake3()  # one thread: the others move bytes
    spans: list[tuple[int, int]] = []  # the ranged GETs', once the first stream splits
    helpers: list[asyncio.Task[None]] = []
    slots = asyncio.Semaphore(plan.concurrency - 1)  # the first stream holds the last slot

    async def fetch(target: Sink, start: int, end: int) -> None:
        async with slots:
            await within(
                deadlines.request(end - start),
                f"bytes {start}-{end - 1} of {name}",
                _ranged(fs, bucket, key, ranged, target, start, end, size),
            )

    async def lead(target: Sink) -> None:
        """Read the first stream, in order, until its share ends, hashing and writing it a
        batch at a time; split it if it is slow."""
        stop, position, first, started = size, 0, 0, 0.0
        decided = size <= 2 * plan.part_size  # too small to split
        read = _reader(body)
        batch: list[Chunk] = []
        batched = 0
        while position < stop:
            chunk = await read(stop - position)
            if not chunk:
                raise StorageError(f"{name} ended early: read {position} of its {size} bytes")
            now = time.monotonic()
            if not started:
                first, started = len(chunk), now
            batch.append(chunk)
            batched += len(chunk)
            position += len(chunk)
            if batched >= _READ or position >= stop:
                for piece in batch:
                    hasher.update(piece)
                target.write_at(position - batched, batch)
                batch, batched = [], 0
            if not decided and position >= PROBE:
                decided = True
                elapsed = now - started
                rate = (position - first) / elapsed if elapsed > 0 else float("inf")
                if rate < plan.split_below and size - position > plan.part_size:
                    shares = plan.spans(position, size)
                    stop = shares[0][1]
                    spans.extend(shares[1:])
                    helpers.extend(asyncio.create_task(fetch(target, *s)) for s in spans)

    try:
        target = await in_thread(open_sink, size)
        await within(deadlines.request(size), f"reading {name}", lead(target))
        body.close()
        slots.release()  # the first stream is done: one more ranged GET may run
        for task, (start, end) in zip(helpers, spans, strict=True):
            await task
            await in_thread(_hash_span, hasher, target, start, end)
    finally:
        body.close()
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
    return Download(size=size, hash=hasher.hexdigest())


def _reader(body: Any) -> Callable[[int], Awaitable[Chunk]]:
    """A read of at most ``limit`` bytes of ``body``, of whatever has arrived: aiohttp's
    chunks as they came off the socket (``readchunk``: no copy into a larger read), or, with
    another HTTP client, ``body.read`` of at most :data:`_READ` bytes. An empty read is the end.
    """
    content = getattr(getattr(body, "raw_stream", None), "content", None)
    readchunk = getattr(content, "readchunk", None)
    if readchunk is None:

        async def read_body(limit: int) -> Chunk:
            data: bytes = await body.read(min(_READ, limit))
            return data

        return read_body

    async def read_chunk(limit: int) -> Chunk:
        while True:
            chunk, ends_http_chunk = await readchunk()
            if chunk or not ends_http_chunk:  # (b"", True) ends a chunk of chunked encoding
                return chunk if len(chunk) <= limit else memoryview(chunk)[:limit]

    return read_chunk


async def _ranged(
    fs: Any,
    bucket: str,
    key: str,
    extra: dict[str, Any],
    target: Sink,
    start: int,
    end: int,
    size: int,
) -> None:
    """GET ``[start, end)`` into ``target`` at its offsets.

    Raises:
        StorageError: the object's size changed, or the answer was short.
    """
    name = f"s3://{bucket}/{key}"
    answer = await fs._call_s3(
        "get_object", Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}", **extra
    )
    body = answer["Body"]
    try:
        total = (answer.get("ContentRange") or "").rpartition("/")[2]
        if total != str(size):
            raise StorageError(f"{name} changed while it was read ({size} bytes, then {total})")
        position = start
        while position < end:
            chunk = await body.read(min(_READ, end - position))
            if not chunk:
                raise StorageError(f"{name}: bytes {start}-{end - 1} ended at {position}")
            await in_thread(target.write_at, position, [chunk])
            position += len(chunk)
    finally:
        body.close()


def _hash_span(hasher: Any, target: Sink, start: int, end: int) -> None:
    for offset in range(start, end, _HASH):
        hasher.update(target.read_at(offset, min(_HASH, end - offset)))
