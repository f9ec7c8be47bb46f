"""Parquet written on every core: row groups encoded concurrently, joined into one file.

pyarrow's ``write_table`` encodes and compresses on one thread. Here the table is cut into
slices of a fixed number of rows; a thread pool encodes each slice as a one-row-group Parquet
file in memory (pyarrow releases the GIL while it encodes); the main thread appends each slice's
row group to the output in order, hashing the bytes as it writes them, and finally writes one
footer naming every row group at its offset in the joined file (the slices' footers, with their
offsets shifted, see :mod:`cargohold.core.types.thrift_compact`). The result is one ordinary
Parquet file, read by pyarrow, polars and DuckDB as any other.

The rows per group depend on the schema only, never on the number of cores, so the same table
gives the same bytes everywhere (content addressing still deduplicates), and the bytes equal
what ``pq.write_table(table, row_group_size=rows_per_group(table.schema), ...)`` writes.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq
from blake3 import blake3

from cargohold.core.errors import SerializationError
from cargohold.core.types.parquet_chunks import row_group_ranges
from cargohold.core.types.thrift_compact import (
    I64,
    LIST,
    STRUCT,
    Field,
    ThriftList,
    decode_struct,
    encode_struct,
)

__all__ = ["WrittenParquet", "encoding_threads", "rows_per_group", "write_parquet"]

_MAGIC = b"PAR1"
_TARGET_GROUP_BYTES = 16 << 20  # raw (decoded) bytes a row group aims at
_MIN_GROUP_ROWS = 1 << 13
_MAX_GROUP_ROWS = 1 << 20  # pyarrow's own default row group size
_VARIABLE_WIDTH = 16  # the guess for a string, binary or nested value's raw size

# Thrift field ids (parquet.thrift): FileMetaData, RowGroup, ColumnChunk, ColumnMetaData
_FMD_NUM_ROWS, _FMD_ROW_GROUPS = 3, 4
_RG_COLUMNS, _RG_FILE_OFFSET, _RG_ORDINAL = 1, 5, 7
_CC_FILE_OFFSET, _CC_META, _CC_OFFSET_INDEX, _CC_COLUMN_INDEX = 2, 3, 4, 6
_CMD_OFFSETS = (9, 10, 11, 14)  # data, index, dictionary page; bloom filter


@dataclass(frozen=True)
class WrittenParquet:
    """What :func:`write_parquet` wrote: size, BLAKE3 of the bytes, and the chunk hashes
    (as :func:`cargohold.core.types.parquet_chunks.chunk_hashes` computes them)."""

    size: int
    content_hash: str
    chunks: dict[str, Any]


def rows_per_group(schema: pa.Schema) -> int:
    """Rows per row group for tables of ``schema``: about 16 MiB of raw values, a power of two
    between 8,192 and 1,048,576. From the schema alone, so the layout is deterministic."""
    width = 0
    for field in schema:
        try:
            width += max(1, field.type.bit_width // 8)
        except ValueError:  # not fixed width
            width += _VARIABLE_WIDTH
    rows = _TARGET_GROUP_BYTES // max(width, 1)
    rows = 1 << max(rows.bit_length() - 1, 0)
    return max(_MIN_GROUP_ROWS, min(_MAX_GROUP_ROWS, rows))


def encoding_threads() -> int:
    """The encoding threads: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def write_parquet(
    table: pa.Table,
    out: BinaryIO,
    *,
    compression: str,
    use_dictionary: list[str],
    threads: int | None = None,
) -> WrittenParquet:
    """Write ``table`` to ``out`` as one Parquet file, its row groups encoded by ``threads``
    threads (default :func:`encoding_threads`); at most ``threads + 1`` encoded row groups
    are held in memory at once.

    Raises:
        SerializationError: pyarrow cannot encode the table.
        OSError: writing to ``out`` failed.
    """
    threads = threads or encoding_threads()
    group_rows = rows_per_group(table.schema)
    starts = range(0, table.num_rows, group_rows) if table.num_rows else range(1)

    def encode(start: int) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        piece = table.slice(start, group_rows)
        pq.write_table(
            piece,
            sink,
            row_group_size=group_rows,
            compression=compression,
            use_dictionary=use_dictionary,
        )
        return sink.getvalue()

    hasher = blake3(max_threads=blake3.AUTO)
    joiner = _Joiner()
    out.write(_MAGIC)
    hasher.update(_MAGIC)
    position = len(_MAGIC)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cargohold-parquet") as pool:
        for encoded in _in_order(pool, encode, starts, ahead=threads + 1):
            view = memoryview(encoded).cast("B")
            body = joiner.add(view, position)
            out.write(body)
            hasher.update(body)
            position += len(body)
    footer = joiner.footer()
    out.write(footer)
    hasher.update(footer)
    position += len(footer)
    return WrittenParquet(
        size=position, content_hash=hasher.hexdigest(), chunks=joiner.chunk_hashes()
    )


def _in_order(
    pool: ThreadPoolExecutor, work: Any, items: range, *, ahead: int
) -> Iterator[pa.Buffer]:
    """``work(item)`` for each item on the pool, results in order, ``ahead`` at most in flight."""
    pending: deque[Future[pa.Buffer]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= ahead:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())
    finally:
        for future in pending:
            future.cancel()


def _result(future: Future[pa.Buffer]) -> pa.Buffer:
    try:
        return future.result()
    except pa.ArrowException as exc:
        raise SerializationError(f"cannot encode the table as Parquet: {exc}") from exc


class _Joiner:
    """Collects the row groups of one-file slices and their hashes; writes the joined footer."""

    def __init__(self) -> None:
        self._first: list[Field] | None = None
        self._groups: list[list[Field]] = []
        self._rows = 0
        self._columns: dict[str, Any] = {}
        self._group_hashes: list[dict[str, str]] = []

    def add(self, encoded: memoryview, position: int) -> memoryview:
        """Take one slice file; return its row-group bytes, to be written at ``position``."""
        footer_length = int.from_bytes(encoded[-8:-4], "little")
        footer_start = len(encoded) - 8 - footer_length
        metadata = decode_struct(encoded[footer_start:-8])
        shift = position - len(_MAGIC)
        for field in metadata:
            if field.id == _FMD_NUM_ROWS:
                self._rows += field.value
            elif field.id == _FMD_ROW_GROUPS:
                for group in field.value.values:
                    self._groups.append(_shift_group(group, shift, len(self._groups)))
        if self._first is None:
            self._first = metadata
        self._hash_chunks(encoded, pq.ParquetFile(pa.BufferReader(encoded)).metadata)
        return encoded[len(_MAGIC) : footer_start]

    def _hash_chunks(self, encoded: memoryview, metadata: Any) -> None:
        for group in row_group_ranges(metadata):
            hashes: dict[str, str] = {}
            for name, spans in group.items():
                column = self._columns.setdefault(name, blake3(max_threads=blake3.AUTO))
                piece = blake3()
                for start, length in spans:
                    column.update(encoded[start : start + length])
                    piece.update(encoded[start : start + length])
                hashes[name] = piece.hexdigest()
            self._group_hashes.append(hashes)

    def footer(self) -> bytes:
        """The joined file's footer: metadata, its length, the magic."""
        if self._first is None:
            raise SerializationError("no row group was encoded")
        fields = [
            Field(f.id, f.type, self._rows)
            if f.id == _FMD_NUM_ROWS
            else Field(f.id, LIST, ThriftList(STRUCT, self._groups))
            if f.id == _FMD_ROW_GROUPS
            else f
            for f in self._first
        ]
        metadata = encode_struct(fields)
        self._footer = metadata + len(metadata).to_bytes(4, "little") + _MAGIC
        return self._footer

    def chunk_hashes(self) -> dict[str, Any]:
        """The hashes :func:`~cargohold.core.types.parquet_chunks.chunk_hashes` would compute."""
        footer = blake3()
        footer.update(self._footer)
        out: dict[str, Any] = {
            "footer": footer.hexdigest(),
            "columns": {name: hasher.hexdigest() for name, hasher in self._columns.items()},
        }
        if len(self._group_hashes) > 1:
            out["row_groups"] = self._group_hashes
        return out


def _shift_group(group: list[Field], shift: int, ordinal: int) -> list[Field]:
    """A row group's fields with every file offset moved by ``shift`` and its ordinal set."""
    out = []
    for field in group:
        if field.id == _RG_FILE_OFFSET:
            field = Field(field.id, field.type, field.value + shift)
        elif field.id == _RG_ORDINAL:
            field = Field(field.id, field.type, ordinal)
        elif field.id == _RG_COLUMNS:
            field = Field(
                field.id,
                field.type,
                ThriftList(
                    field.value.elem_type, [_shift_chunk(c, shift) for c in field.value.values]
                ),
            )
        out.append(field)
    return out


def _shift_chunk(chunk: list[Field], shift: int) -> list[Field]:
    out = []
    for field in chunk:
        if field.id in (_CC_OFFSET_INDEX, _CC_COLUMN_INDEX):
            # page indexes hold absolute page offsets inside the data: never written here
            raise SerializationError("cannot join Parquet row groups that carry a page index")
        if field.id == _CC_FILE_OFFSET and field.value:  # 0: unset (pyarrow writes 0)
            field = Field(field.id, field.type, field.value + shift)
        elif field.id == _CC_META:
            field = Field(
                field.id,
                field.type,
                [
                    Field(m.id, m.type, m.value + shift)
                    if m.id in _CMD_OFFSETS and m.type == I64
                    else m
                    for m in field.value
                ],
            )
        out.append(field)
    return out
