"""Verified column reads of Parquet blobs.

Reading a few columns must not read (or hash) the whole blob, yet every byte read must be
verified. At write time we record a BLAKE3 hash of the footer and, per row group, one of each
top-level column's chunks (``row_groups``; a blob of one row group, or one written by
:func:`chunk_hashes` before the parallel writer, records one hash per column over its chunks in
row-group order instead, ``columns``). A column read fetches only the footer and the chunks
of the wanted columns, verifies them, and hands pyarrow a sparse file that serves exactly those
verified bytes: pyarrow never sees an unverified byte, on a local disk or over S3.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow.parquet as pq
from blake3 import blake3

from cargohold.core.errors import CorruptDataError, SerializationError
from cargohold.core.storage.hashing import hash_ranges
from cargohold.core.storage.store import Store
from cargohold.core.types.arrow_pool import read_parquet
from cargohold.core.types.literals import BlobRef

__all__ = ["SparseFile", "chunk_hashes", "read_verified_columns", "row_group_ranges"]

_FOOTER_TAIL = 8  # 4-byte little-endian footer length + "PAR1"


def _column_ranges(metadata: Any) -> dict[str, list[tuple[int, int]]]:
    """Byte ranges ``(offset, length)`` of each top-level column's chunks, row group order."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    names = [metadata.schema.column(j).path.split(".")[0] for j in range(metadata.num_columns)]
    for r in range(metadata.num_row_groups):
        group = metadata.row_group(r)
        for j in range(group.num_columns):
            chunk = group.column(j)
            start = chunk.data_page_offset
            if chunk.has_dictionary_page and chunk.dictionary_page_offset:
                start = min(start, chunk.dictionary_page_offset)
            ranges.setdefault(names[j], []).append((start, chunk.total_compressed_size))
    return ranges


def _footer_range(size: int, tail: bytes) -> tuple[int, int]:
    length = int.from_bytes(tail[:4], "little")
    return size - _FOOTER_TAIL - length, length + _FOOTER_TAIL


def chunk_hashes(path: str) -> dict[str, Any]:
    """Hash the footer and each column's chunks of a local Parquet file (for ``BlobRef.extra``),
    reading in bounded memory."""
    metadata = pq.ParquetFile(path).metadata
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        handle.seek(size - _FOOTER_TAIL)
        footer_range = _footer_range(size, handle.read(_FOOTER_TAIL))
    columns = {
        name: hash_ranges(path, [(start, n) for start, n in spans])
        for name, spans in _column_ranges(metadata).items()
    }
    out: dict[str, Any] = {"footer": hash_ranges(path, [footer_range]), "columns": columns}
    if metadata.num_row_groups > 1:
        # One hash per column chunk too, so a scan that skips row groups verifies what it reads
        # (with one row group, a column's hash is its chunk's hash).
        out["row_groups"] = [
            {name: hash_ranges(path, spans) for name, spans in group.items()}
            for group in row_group_ranges(metadata)
        ]
    return out


def row_group_ranges(metadata: Any) -> list[dict[str, list[tuple[int, int]]]]:
    """Per row group: the byte ranges ``(offset, length)`` of each top-level column's chunks
    (several for a nested column, one per leaf)."""
    names = [metadata.schema.column(j).path.split(".")[0] for j in range(metadata.num_columns)]
    groups: list[dict[str, list[tuple[int, int]]]] = []
    for r in range(metadata.num_row_groups):
        group = metadata.row_group(r)
        spans: dict[str, list[tuple[int, int]]] = {}
        for j in range(group.num_columns):
            chunk = group.column(j)
            start = chunk.data_page_offset
            if chunk.has_dictionary_page and chunk.dictionary_page_offset:
                start = min(start, chunk.dictionary_page_offset)
            spans.setdefault(names[j], []).append((start, chunk.total_compressed_size))
        groups.append(spans)
    return groups


def _hash_ranges(pieces: Iterable[bytes]) -> str:
    hasher = blake3(max_threads=blake3.AUTO)
    for piece in pieces:
        hasher.update(piece)
    return hasher.hexdigest()


class SparseFile(io.RawIOBase):
    """A read-only file of ``size`` bytes that serves only the verified ranges it was given."""

    def __init__(self, size: int, pieces: dict[int, bytes]) -> None:
        super().__init__()
        self._size = size
        self._pieces = sorted(pieces.items())
        self._position = 0

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
        """Serve verified bytes; bytes outside every verified range read as zeros.

        pyarrow reads speculatively (the last 64 KiB for the footer, coalesced ranges across
        small gaps) but decodes only the chunk ranges the verified footer names, all of which
        are verified pieces; the zero-filled gaps are fetched and never decoded.
        """
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._size - self._position)
        if want <= 0:
            return 0
        view[:want] = b"\x00" * want
        end = self._position + want
        for start, data in self._pieces:
            lo, hi = max(start, self._position), min(start + len(data), end)
            if lo < hi:
                view[lo - self._position : hi - self._position] = data[lo - start : hi - start]
        self._position = end
        return want


def read_verified_columns(ref: BlobRef, store: Store, columns: Sequence[str]) -> Any:
    """Read ``columns`` of a Parquet blob, verifying every byte read against ``ref.extra``.

    Raises:
        CorruptDataError: the footer or a column's chunks do not match their recorded hashes.
        SerializationError: a column has no recorded hash.
    """
    recorded = ref.extra["chunks"]
    with store.open_blob(ref.uri) as handle:
        size = ref.size
        handle.seek(size - _FOOTER_TAIL)
        footer_start, footer_length = _footer_range(size, handle.read(_FOOTER_TAIL))
        handle.seek(footer_start)
        footer = handle.read(footer_length)
        _check(ref, "footer", _hash_ranges([footer]), recorded["footer"])
        metadata = pq.ParquetFile(SparseFile(size, {footer_start: footer})).metadata
        pieces = {footer_start: footer}

        def fetch(spans: list[tuple[int, int]]) -> list[bytes]:
            chunks = []
            for start, length in spans:
                handle.seek(start)
                chunks.append(handle.read(length))
                pieces[start] = chunks[-1]
            return chunks

        per_group = recorded.get("row_groups")
        if per_group is not None:  # one hash per column chunk
            groups = row_group_ranges(metadata)
            for name in columns:
                if any(name not in hashes for hashes in per_group):
                    raise SerializationError(f"column {name!r} has no recorded hash in {ref.uri}")
                for index, (group, hashes) in enumerate(zip(groups, per_group, strict=True)):
                    actual = _hash_ranges(fetch(group[name]))
                    _check(ref, f"column {name!r}, row group {index}", actual, hashes[name])
        else:  # one hash per column, over its chunks in row-group order
            spans = _column_ranges(metadata)
            for name in columns:
                if name not in recorded["columns"]:
                    raise SerializationError(f"column {name!r} has no recorded hash in {ref.uri}")
                actual = _hash_ranges(fetch(spans[name]))
                _check(ref, f"column {name!r}", actual, recorded["columns"][name])
    return read_parquet(SparseFile(size, pieces), columns=columns)


def _check(ref: BlobRef, what: str, actual: str, expected: str) -> None:
    if actual != expected:
        raise CorruptDataError(f"{ref.uri} ({what})", expected, actual)
