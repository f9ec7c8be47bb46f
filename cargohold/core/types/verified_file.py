"""A read-only file over a table blob that hands its reader only verified bytes.

A scan gives pyarrow one :class:`VerifiedBlobFile` per partition and lets pyarrow's dataset
machinery prune row groups by their statistics, project columns and filter rows. The file fetches
from the store only what pyarrow asks for, and verifies it before serving it:

* A Parquet blob with recorded chunk hashes (``BlobRef.extra["chunks"]``, written by
  :func:`~cargohold.core.types.parquet_chunks.chunk_hashes`): the footer is fetched and checked
  against its BLAKE3 hash before pyarrow sees it; then each read pyarrow makes fetches every
  column chunk it overlaps and checks it against that chunk's hash (``row_groups``), or, for a
  blob with one row group or written before per-chunk hashes, against the hash of the whole
  column (``columns``: every chunk of that column is fetched then). Bytes outside the footer and
  every chunk (the leading magic, speculative read-ahead) are served as zeros and never decoded.
* Any other table blob (Arrow IPC, Parquet without chunk hashes): the whole blob is read and its
  content hash checked on the first read (a local blob is memory-mapped, as a full load is).
"""

from __future__ import annotations

import gc
import io
import mmap
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq
from blake3 import blake3

from cargohold.core.errors import CorruptDataError
from cargohold.core.storage.hashing import verify_bytes
from cargohold.core.storage.store import Store
from cargohold.core.types.literals import BlobRef
from cargohold.core.types.parquet_chunks import SparseFile, row_group_ranges

__all__ = ["ScanStats", "VerifiedBlobFile", "refuse_reads_and_wait"]

_TAIL = 8 << 10  # one fetch gets a footer of a few columns and row groups
_FOOTER_TAIL = 8


@dataclass
class ScanStats:
    """What a scan fetched from the store (updated as it reads; safe across threads)."""

    bytes_read: int = 0
    chunk_bytes: int = 0
    chunks_read: int = 0
    row_groups_read: int = 0
    blobs_opened: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self,
        *,
        nbytes: int = 0,
        chunk_bytes: int = 0,
        chunks: int = 0,
        row_groups: int = 0,
        blobs: int = 0,
    ) -> None:
        """Count a fetch (``bytes_read`` is every byte fetched; ``chunk_bytes`` those of
        column chunks, ``chunks_read`` and ``row_groups_read`` the chunks and row groups)."""
        with self._lock:
            self.bytes_read += nbytes
            self.chunk_bytes += chunk_bytes
            self.chunks_read += chunks
            self.row_groups_read += row_groups
            self.blobs_opened += blobs


def _hash(pieces: list[bytes]) -> str:
    hasher = blake3(max_threads=blake3.AUTO)
    for piece in pieces:
        hasher.update(piece)
    return hasher.hexdigest()


class _Reads:
    """The verified files alive and their reads in flight. pyarrow's threads use them (through
    ``pa.PythonFile``) and hold Python objects (the bytes read, wrapped as Arrow buffers) while
    they decode: a thread that needs the GIL once the interpreter is finalizing never gets it
    back; CPython ends it with ``pthread_exit`` and the C++ unwind aborts the process
    (``terminate called without an active exception``, rc 134), or the thread hangs and Arrow's
    pool joins it forever at exit."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._active = 0
        self._refused = False
        self._last = 0.0  # when a read last ended or was refused
        self.files: weakref.WeakSet[VerifiedBlobFile] = weakref.WeakSet()

    @contextmanager
    def track(self) -> Iterator[None]:
        with self._changed:
            self._last = time.monotonic()
            if self._refused:
                raise OSError("the interpreter is exiting: cargohold refuses new reads of blobs")
            self._active += 1
        try:
            yield
        finally:
            with self._changed:
                self._active -= 1
                self._last = time.monotonic()
                self._changed.notify_all()

    def refuse_and_wait(self, timeout: float, quiet: float) -> bool:
        """Refuse new reads, then wait until pyarrow let go of every verified file (they are
        freed), or no read has been in flight or asked for ``quiet`` seconds (a file kept by the
        caller, no scan running), at most ``timeout`` seconds; True unless it timed out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._refused = True
            self._last = time.monotonic()
        gc.collect()
        while True:
            with self._changed:
                now = time.monotonic()
                if not self.files:
                    return True
                if self._active == 0 and now - self._last >= quiet:
                    return True
                if now >= deadline:
                    return False
                self._changed.wait(min(0.02, deadline - now))


_READS = _Reads()


def refuse_reads_and_wait(timeout: float = 10.0, quiet: float = 1.0) -> bool:
    """At interpreter exit: make every further read of a verified file fail at once and wait
    until pyarrow's threads let go of the files (see :class:`_Reads`). Returns False when they
    were still reading at the timeout."""
    return _READS.refuse_and_wait(timeout, quiet)


class VerifiedBlobFile(io.RawIOBase):
    """The bytes of the table blob ``ref``; every byte served has been verified (see the
    module docstring). Reading raises :class:`CorruptDataError` on a hash mismatch."""

    def __init__(self, ref: BlobRef, store: Store, stats: ScanStats) -> None:
        super().__init__()
        self._ref = ref
        self._store = store
        self._stats = stats
        self._size = ref.size
        self._position = 0
        self._lock = threading.Lock()
        self._opened = False
        self._whole: Any = None  # the verified blob, when read whole
        self._footer_start = self._size
        self._pieces: dict[int, bytes] = {}  # verified ranges by offset
        self._chunks: list[tuple[int, int, int, str]] = []  # start, end, row group, column
        self._done: set[tuple[int, str]] = set()
        self._touched: set[int] = set()
        chunks = ref.extra.get("chunks") if ref.format == "parquet" else None
        self._recorded: dict[str, Any] | None = chunks if isinstance(chunks, dict) else None
        _READS.files.add(self)

    # -- io.RawIOBase ---------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._position)
        if want <= 0:
            return 0
        start, end = self._position, self._position + want
        with _READS.track(), self._lock:
            if not self._opened:
                self._open()
            if self._whole is not None:
                view[:want] = self._whole[start:end]
            else:
                self._fill(view, start, end)
        self._position = end
        return want

    # -- opening --------------------------------------------------------------------------

    def _open(self) -> None:
        self._opened = True
        self._stats.add(blobs=1)
        if self._recorded is None or "footer" not in self._recorded:
            self._read_whole()
            return
        tail_start = max(0, self._size - _TAIL)
        tail = self._fetch(tail_start, self._size - tail_start)
        length = int.from_bytes(tail[-_FOOTER_TAIL:-4], "little")
        footer_start = self._size - _FOOTER_TAIL - length
        if footer_start < tail_start:
            footer = self._fetch(footer_start, tail_start - footer_start) + tail
        else:
            footer = tail[footer_start - tail_start :]
        self._check("footer", _hash([footer]), self._recorded["footer"])
        self._footer_start = footer_start
        self._pieces[footer_start] = footer
        sparse = SparseFile(self._size, {footer_start: footer})
        metadata = pq.ParquetFile(sparse).metadata
        for group_index, group in enumerate(row_group_ranges(metadata)):
            for name, spans in group.items():
                for offset, length in spans:
                    self._chunks.append((offset, offset + length, group_index, name))
        self._chunks.sort()

    def _read_whole(self) -> None:
        ref = self._ref
        if self._store.is_local:
            with open(self._store.local_path(ref.uri), "rb") as handle:
                data: Any = (
                    mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY) if ref.size else b""
                )
            verify_bytes(memoryview(data), uri=ref.uri, expected_hash=ref.hash)
        else:
            data = self._store.read_bytes(ref.uri, expected_hash=ref.hash)
        self._stats.add(nbytes=ref.size)
        self._whole = memoryview(data)

    # -- serving --------------------------------------------------------------------------

    def _fill(self, view: memoryview, start: int, end: int) -> None:
        if end <= self._footer_start:
            for chunk_start, chunk_end, group, name in self._chunks:
                if chunk_start < end and chunk_end > start and (group, name) not in self._done:
                    self._verify_chunk(group, name)
        cursor = start  # verified pieces are copied; only the gaps between them are zeroed
        for offset, data in sorted(self._pieces.items()):
            lo, hi = max(offset, start), min(offset + len(data), end)
            if lo >= hi:
                continue
            if lo > cursor:
                view[cursor - start : lo - start] = bytes(lo - cursor)
            view[lo - start : hi - start] = data[lo - offset : hi - offset]
            cursor = max(cursor, hi)
        if cursor < end:
            view[cursor - start : end - start] = bytes(end - cursor)

    def _verify_chunk(self, group: int, name: str) -> None:
        """Fetch and verify one column chunk (or, without per-chunk hashes, the whole column)."""
        recorded = self._recorded or {}
        per_group = recorded.get("row_groups")
        if per_group is not None:
            wanted = [(s, e, g) for s, e, g, n in self._chunks if g == group and n == name]
            expected = per_group[group][name]
            what = f"column {name!r}, row group {group}"
        else:
            wanted = [(s, e, g) for s, e, g, n in self._chunks if n == name]
            wanted.sort(key=lambda item: item[2])
            expected = recorded["columns"][name]
            what = f"column {name!r}"
        pieces = [self._fetch(s, e - s) for s, e, _ in wanted]
        self._check(what, _hash(pieces), expected)
        for (s, _, g), data in zip(wanted, pieces, strict=True):
            self._pieces[s] = data
            self._done.add((g, name))
        fresh = {g for _, _, g in wanted} - self._touched
        self._touched |= fresh
        self._stats.add(
            chunk_bytes=sum(len(p) for p in pieces), chunks=len(wanted), row_groups=len(fresh)
        )

    def _fetch(self, offset: int, length: int) -> bytes:
        data = self._store.read_range(self._ref.uri, offset=offset, length=length)
        if len(data) != length:
            raise CorruptDataError(
                f"{self._ref.uri} (bytes {offset}..{offset + length})", "that many bytes", ""
            )
        self._stats.add(nbytes=length)
        return data

    def _check(self, what: str, actual: str, expected: str) -> None:
        if actual != expected:
            raise CorruptDataError(f"{self._ref.uri} ({what})", expected, actual)
