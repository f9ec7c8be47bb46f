"""Transformers for tables: pandas DataFrame and Series, pyarrow Table and RecordBatch, polars.

Every table goes through Arrow and is stored as one blob. The default table format ``auto`` is
Arrow IPC (uncompressed) on a local store and Parquet (zstd, row groups encoded on every core,
see :mod:`cargohold.core.types.parquet_writer`) on object stores: the fastest put+get measured
for each (``bench/roundtrip.py``; figures in the README's performance section).

Any table literal loads as any table type (a Parquet blob written from pandas loads as pyarrow
or polars with ``as_type=``), and a reader that passes ``columns=`` reads only those columns.

pandas metadata rides along in the Arrow schema, so the index, categoricals, nullable and
tz-aware dtypes and pandas 3's ``str`` dtype come back as they were (``string[python]`` comes
back as the equivalent pyarrow-backed ``string``).

Full reads verify the blob's content hash; column reads fetch and verify only the footer and the
chunks of the wanted columns (see :mod:`cargohold.core.types.parquet_chunks`).
"""

from __future__ import annotations

import mmap
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from cargohold.core.errors import CargoholdError, SerializationError, TypeMismatchError
from cargohold.core.storage.hashing import verify_bytes
from cargohold.core.storage.store import BlobInfo, Store
from cargohold.core.types.arrow_pool import read_parquet, table_pool
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.frame_memory import owned_memory, writable_frame
from cargohold.core.types.literals import BlobRef, LiteralType
from cargohold.core.types.parquet_chunks import read_verified_columns
from cargohold.core.types.parquet_writer import write_parquet
from cargohold.core.types.transformer import TransformContext, TypeTransformer

__all__ = ["TableTransformer", "read_table", "register", "resolve_table_format", "write_table"]

PANDAS_FRAME = "pandas.DataFrame"
PANDAS_SERIES = "pandas.Series"
ARROW_TABLE = "pyarrow.Table"
ARROW_BATCH = "pyarrow.RecordBatch"
POLARS_FRAME = "polars.DataFrame"
_SERIES_COLUMN = "__cargohold_series__"
PARQUET_COMPRESSION = "zstd"
ARROW_COMPRESSION: str | None = None


def write_table(
    table: pa.Table, store: Store, table_format: str
) -> tuple[BlobInfo, dict[str, Any]]:
    """Write ``table`` to the store as one content-addressed blob.

    Returns the blob and what its reference must carry besides (for Parquet, the hashes of the
    footer and of each column's chunks, which let a column read verify only what it reads).

    Raises:
        StorageError: the store failed; nothing partial is visible.
    """
    extra: dict[str, Any] = {}
    table_format = resolve_table_format(table_format, store)
    with store.new_blob() as sink:
        if table_format == "arrow":
            options = ipc.IpcWriteOptions(compression=ARROW_COMPRESSION, use_threads=True)
            with (
                pa.OSFile(sink.path, "wb") as out,
                ipc.new_file(out, table.schema, options=options) as writer,
            ):
                writer.write_table(table)
        else:
            with open(sink.path, "wb") as out:
                written = write_parquet(
                    table,
                    out,
                    compression=PARQUET_COMPRESSION,
                    use_dictionary=_dictionary_columns(table),
                )
            sink.content_hash = written.content_hash
            extra["chunks"] = written.chunks
    return sink.result, extra


def resolve_table_format(table_format: str, store: Store) -> str:
    """The file format a table is written in: ``auto`` is Arrow IPC on a local store (a load
    is then a memory map, nothing decoded) and Parquet elsewhere (compressed, for the wire)."""
    if table_format == "auto":
        return "arrow" if store.is_local else "parquet"
    return table_format


def _dictionary_columns(table: pa.Table) -> list[str]:
    """Dictionary-encode only columns that gain from it (strings, binaries, categoricals):
    trying it on numeric columns costs a quarter of the write time and rarely pays."""
    wanted = []
    for field in table.schema:
        kind = field.type
        if (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
            or pa.types.is_dictionary(kind)
            or pa.types.is_boolean(kind)
        ):
            wanted.append(field.name)
    return wanted


def read_table(ref: BlobRef, store: Store, columns: Sequence[str] | None = None) -> pa.Table:
    """Read a table blob, all columns (hash verified) or only ``columns``.

    Raises:
        CorruptDataError: the blob fails its hash or page checksums.
        BlobNotFoundError: the blob is missing.
        SerializationError: a requested column does not exist.
    """
    wanted = list(columns) if columns is not None else None
    if wanted is not None and ref.schema is not None:
        known = [name for name, _ in ref.schema]
        missing = [name for name in wanted if name not in known]
        if missing:
            raise SerializationError(
                f"columns {missing} are not in the table at {ref.uri}; it has {known}"
            )
    try:
        if wanted is not None and ref.format == "parquet" and "chunks" in ref.extra:
            return read_verified_columns(ref, store, wanted)
        if ref.format == "arrow":
            table = ipc.open_file(pa.BufferReader(_read_blob(ref, store))).read_all()
            return table.select(wanted) if wanted is not None else table
        if store.is_local:
            # No pre-buffering: on a local file it only adds a copy of the compressed column
            # chunks to the peak (measured: 1.67x -> 1.43x the frame for a read to pandas)
            return read_parquet(
                store.local_blob_path(ref.uri, expected_hash=ref.hash),
                columns=wanted,
                pre_buffer=False,
            )
        return read_parquet(pa.BufferReader(_read_blob(ref, store)), columns=wanted)
    except CargoholdError:
        raise
    except (pa.ArrowException, OSError) as exc:
        raise SerializationError(f"cannot read the table at {ref.uri}: {exc}") from exc


def _read_blob(ref: BlobRef, store: Store) -> Any:
    """The whole blob as an Arrow buffer, verified.

    A local blob is memory-mapped copy-on-write: its pages are the ones already in the page
    cache (nothing is copied or allocated, which a read into a new buffer would), and writes
    through a loaded frame land in private copies of the pages they touch, never in the blob
    (see :mod:`cargohold.core.types.frame_memory`). Blobs are immutable (written once under
    their hash, removed only by unlinking), so the mapping stays valid while the frame lives.
    """
    if not store.is_local:
        return store.read_bytes(ref.uri, expected_hash=ref.hash)
    with open(store.local_path(ref.uri), "rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            data: Any = b""
        else:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    verify_bytes(memoryview(data), uri=ref.uri, expected_hash=ref.hash)
    return pa.py_buffer(data)


class _Codec(ABC):
    """Converts one table type to Arrow and back."""

    name: str

    @abstractmethod
    def to_arrow(self, value: Any) -> pa.Table:
        """The value as an Arrow table."""

    @abstractmethod
    def from_arrow(self, table: pa.Table, ref: BlobRef) -> Any:
        """An Arrow table read from ``ref`` as this codec's type."""

    def extra(self, value: Any) -> dict[str, Any]:
        return {}


class _PandasFrame(_Codec):
    name = PANDAS_FRAME

    def to_arrow(self, value: Any) -> pa.Table:
        return pa.Table.from_pandas(value, preserve_index=None)

    def from_arrow(self, table: pa.Table, ref: BlobRef) -> Any:
        # One block per column and the Arrow buffers released as they convert: numeric columns
        # become pandas data without a second copy, so a load peaks near one frame, not two.
        owners = owned_memory(table)
        frame = table.to_pandas(split_blocks=True, self_destruct=True, memory_pool=table_pool())
        return writable_frame(frame, owners)


class _PandasSeries(_Codec):
    name = PANDAS_SERIES

    def to_arrow(self, value: Any) -> pa.Table:
        return pa.Table.from_pandas(value.to_frame(name=_SERIES_COLUMN), preserve_index=None)

    def from_arrow(self, table: pa.Table, ref: BlobRef) -> Any:
        frame = table.to_pandas()
        if frame.shape[1] != 1:
            raise TypeMismatchError(
                f"the table at {ref.uri} has {frame.shape[1]} columns; a Series needs one "
                f"(pass columns=[...] to pick it)"
            )
        series = frame.iloc[:, 0]
        series.name = ref.extra.get("series_name", series.name)
        if series.name == _SERIES_COLUMN:
            series.name = None
        return series

    def extra(self, value: Any) -> dict[str, Any]:
        name = value.name
        if name is not None and not isinstance(name, str | int | float | bool):
            raise TypeMismatchError(f"Series name {name!r} is not a str, int, float or bool")
        return {"series_name": name}


class _ArrowTable(_Codec):
    name = ARROW_TABLE

    def to_arrow(self, value: Any) -> pa.Table:
        return value

    def from_arrow(self, table: pa.Table, ref: BlobRef) -> Any:
        return table


class _ArrowBatch(_Codec):
    name = ARROW_BATCH

    def to_arrow(self, value: Any) -> pa.Table:
        return pa.Table.from_batches([value])

    def from_arrow(self, table: pa.Table, ref: BlobRef) -> Any:
        batches = table.combine_chunks().to_batches()
        if not batches:
            return pa.RecordBatch.from_pylist([], schema=table.schema)
        return batches[0]


class _PolarsFrame(_Codec):
    name = POLARS_FRAME

    def to_arrow(self, value: Any) -> pa.Table:
        return value.to_arrow()

    def from_arrow(self, table: pa.Table, ref: BlobRef) -> Any:
        import polars as pl

        return pl.from_arrow(table)


_CODECS: dict[str, _Codec] = {
    codec.name: codec
    for codec in (_PandasFrame(), _PandasSeries(), _ArrowTable(), _ArrowBatch(), _PolarsFrame())
}


def _codec_name(python_type: Any) -> str:
    module = (getattr(python_type, "__module__", "") or "").split(".", 1)[0]
    return f"{module}.{getattr(python_type, '__name__', python_type)}"


class TableTransformer(TypeTransformer):
    """Tables of every supported library, stored through Arrow as Parquet or Arrow IPC."""

    kinds = ("table",)

    def handles(self, python_type: Any) -> bool:
        return self._find_codec(python_type) is not None

    @staticmethod
    def _find_codec(python_type: Any) -> _Codec | None:
        for base in getattr(python_type, "__mro__", ()):
            codec = _CODECS.get(_codec_name(base))
            if codec is not None:
                return codec
        return None

    def _codec(self, python_type: Any) -> _Codec:
        codec = self._find_codec(python_type)
        if codec is not None:
            return codec
        raise TypeMismatchError(
            f"cannot load a table as {python_type!r}; ask for one of {sorted(_CODECS)}"
        )

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        codec = self._codec(type(value))
        table = codec.to_arrow(value)
        info, extra = write_table(table, ctx.store, ctx.table_format)
        schema = tuple((field.name, str(field.type)) for field in table.schema)
        marker = ctx.blob_marker(
            info,
            fmt=resolve_table_format(ctx.table_format, ctx.store),
            python_type=codec.name,
            rows=table.num_rows,
            schema=schema,
            # null counts are Arrow metadata (no scan): lineage reports them as data quality
            extra={
                **extra,
                **codec.extra(value),
                "null_counts": {
                    field.name: col.null_count
                    for field, col in zip(table.schema, table.columns, strict=True)
                },
            },
        )
        return LiteralType("table", name=codec.name), marker

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        ref = ctx.blob_ref(encoded)
        if python_type is not None:
            codec = self._codec(python_type)
        else:
            codec = _CODECS.get(literal_type.name or "", _CODECS[ARROW_TABLE])
        return codec.from_arrow(read_table(ref, ctx.store, ctx.columns), ref)


def register(engine: TypeEngine) -> None:
    """Register the table transformer on ``engine``."""
    engine.register(TableTransformer())
