"""Scanning a partitioned dataset as one table: :func:`plan_scan` and :class:`ScannedTable`.

::

    table = ArtifactQuery.scan(
        dataset="daily_sales",
        partition_keys={"date": Range(ge="2026-11-01", lt="2026-12-01")},
        columns=["store", "amount"],
        filter=pc.field("amount") > 100,
    )
    frame = table.to_pandas()

**What is read.** The catalog picks one artifact per matching partition (the latest version, or
the ``version`` pinned: an int version, a tag, or a ``datetime`` to read the dataset as it was
then); listing reads no blob. Nothing else happens until the table is consumed. Each partition's
blob becomes a pyarrow dataset fragment whose partition values are known (they become columns),
and pyarrow's scanner reads only the asked columns (plus those the filter needs) of the row
groups whose statistics can match the filter.

**What is verified.** Every byte pyarrow reads is served by
:class:`~cargohold.core.types.verified_file.VerifiedBlobFile` after a BLAKE3 check: for Parquet
blobs the footer against its recorded hash, then each column chunk read against its own recorded
hash (or, for a blob with one row group or older blobs, against the hash of the whole column);
Arrow IPC blobs and Parquet blobs without chunk hashes are checked whole against their content
hash before any byte is parsed. A mismatch raises :class:`CorruptDataError` naming the blob.

**Filters.** ``filter`` is a ``pyarrow.compute`` expression (``pc.field("amount") > 100``), or
the simple form of pandas' and pyarrow's ``read_parquet``: a list of ``(column, op, value)``
tuples that must all hold (ops ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``,
``not in``), or a list of such lists (any may hold). Filters may name partition columns too; to
skip partitions without opening their blobs at all, use ``partition_keys``. Row groups are
pruned only in Parquet partitions (Arrow IPC carries no statistics; its rows are filtered after
the verified read).

**Schemas.** Partitions may differ: a column missing from some partitions reads as nulls there,
and types that widen safely (int32 and int64, a null column and any type) are unified; types
that cannot be unified raise :class:`TypeMismatchError` naming the column, the types and the
partitions of each. Partition keys are string columns (the catalog's canonical values, ISO
dates for dates), after the data columns.
"""

from __future__ import annotations

import atexit
import weakref
from collections.abc import Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cargohold.core.catalog.catalog import Catalog, DatasetRef
from cargohold.core.catalog.objects import Artifact
from cargohold.core.errors import (
    CargoholdError,
    InvalidArgumentError,
    NotFoundError,
    SerializationError,
    TypeMismatchError,
)
from cargohold.core.storage.store import Store
from cargohold.core.types.arrow_pool import table_pool
from cargohold.core.types.literals import BlobRef, Literal
from cargohold.core.types.verified_file import (
    ScanStats,
    VerifiedBlobFile,
    refuse_reads_and_wait,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    import polars as pl

__all__ = ["ScanPart", "ScanStats", "ScannedTable", "Version", "plan_scan", "to_expression"]

Version = int | str | datetime | None
_FORMATS = {"parquet": ds.ParquetFileFormat, "arrow": ds.IpcFileFormat}
_PAGE = 1000
# Scans being iterated (``iter(table)``, ``to_reader()``): closed at interpreter exit, see
# _close_open_scans.
_OPEN_SCANS: weakref.WeakSet[Generator[pa.RecordBatch, None, None]] = weakref.WeakSet()


@dataclass(frozen=True, kw_only=True)
class ScanPart:
    """One partition of a scan: its artifact, its values and its table blob."""

    artifact: Artifact
    partitions: Mapping[str, str]
    blob: BlobRef

    @classmethod
    def of(cls, artifact: Artifact, literal: Literal, *, partition_keys: Sequence[str]) -> ScanPart:
        """The part reading ``literal`` (one of ``artifact``'s data entries).

        Raises:
            TypeMismatchError: the literal is not a table stored as Parquet or Arrow IPC.
        """
        return cls(
            artifact=artifact,
            partitions={k: artifact.partitions.get(k, "") for k in partition_keys},
            blob=_check_table(artifact, literal),
        )

    def describe(self) -> str:
        """``date=2026-11-01`` style name of the partition."""
        return ",".join(f"{k}={v}" for k, v in self.partitions.items()) or "(unpartitioned)"


def plan_scan(
    catalog: Catalog,
    *,
    dataset: DatasetRef,
    partitions: Mapping[str, object] | None = None,
    version: Version = None,
    data_name: str | None = None,
) -> list[ScanPart]:
    """The artifact of each partition matching ``partitions`` that ``version`` selects (the
    latest by default; an int version; a tag; a datetime: the latest created at or before it),
    in partition order. Reads no blob.

    Raises:
        NotFoundError: the dataset does not exist, or a pinned int version is missing in some
            matching partitions (the message names them).
        InvalidArgumentError: an unknown partition key, or a bad ``version`` or ``data_name``.
        TypeMismatchError: a matching artifact's data is not a table stored as a blob.
    """
    found = catalog.get_dataset(dataset=dataset)
    filters: dict[str, Any] = {"dataset": found.id, "partitions": dict(partitions or {})}
    if isinstance(version, bool) or not isinstance(version, int | str | datetime | None):
        raise InvalidArgumentError(
            f"version must be an int, a tag (str), a datetime or None, got {version!r}"
        )
    if isinstance(version, str):
        filters["tag"] = version
    elif isinstance(version, datetime):
        filters["created_before"] = version
    chosen: dict[tuple[str, ...], Artifact] = {}
    keys = tuple(found.partition_keys)
    for artifact in catalog.iter_artifacts(**filters, sort_by="version", limit=_PAGE):
        if isinstance(version, datetime) and artifact.created_at and artifact.created_at > version:
            continue
        if isinstance(version, int) and artifact.version != version:
            continue
        where = tuple(artifact.partitions.get(k, "") for k in keys)
        best = chosen.get(where)
        if best is None or artifact.version > best.version:
            chosen[where] = artifact
    if isinstance(version, int):
        _check_pinned(catalog, found.id, filters["partitions"], version, set(chosen))
    return [
        ScanPart(
            artifact=artifact,
            partitions={k: artifact.partitions[k] for k in keys},
            blob=_table_blob(artifact, data_name),
        )
        for _, artifact in sorted(chosen.items())
    ]


def _check_pinned(
    catalog: Catalog, dataset: Any, partitions: Mapping[str, object], version: int, have: set[Any]
) -> None:
    keys = tuple(catalog.get_dataset(dataset=dataset).partition_keys)
    every = {
        tuple(a.partitions.get(k, "") for k in keys)
        for a in catalog.iter_artifacts(
            dataset=dataset, partitions=dict(partitions), sort_by="version", limit=_PAGE
        )
    }
    lacking = sorted(every - have)
    if lacking:
        names = [",".join(f"{k}={v}" for k, v in zip(keys, w, strict=True)) for w in lacking]
        raise NotFoundError(
            f"dataset {dataset} has no version {version} in partitions {names[:10]}"
            f"{' ...' if len(names) > 10 else ''}; scan the latest versions (version=None) or "
            f"narrow partition_keys"
        )


def _table_blob(artifact: Artifact, data_name: str | None) -> BlobRef:
    data = artifact.data
    if data_name is not None:
        if data_name not in data:
            raise InvalidArgumentError(
                f"artifact {artifact.id} has data {sorted(data)}, not {data_name!r}"
            )
        literal = data[data_name]
    elif len(data) == 1:
        literal = next(iter(data.values()))
    else:
        raise InvalidArgumentError(
            f"artifact {artifact.id} has data {sorted(data)}; pick one with data_name="
        )
    return _check_table(artifact, literal)


def _check_table(artifact: Artifact, literal: Literal) -> BlobRef:
    blob = literal.blob
    if literal.type.kind != "table" or blob is None or blob.format not in _FORMATS:
        raise TypeMismatchError(
            f"artifact {artifact.id} ({dict(artifact.partitions)}) holds {literal.type}, not a "
            f"table stored as Parquet or Arrow IPC; only tables can be scanned"
        )
    return blob


_OPS = {"==", "=", "!=", "<", "<=", ">", ">=", "in", "not in"}


def to_expression(filter: Any) -> pc.Expression | None:
    """A ``pyarrow.compute`` expression from a scan's ``filter`` (see the module docstring).

    Raises:
        InvalidArgumentError: the filter is neither an expression nor the tuple form.
    """
    if filter is None or isinstance(filter, pc.Expression):
        return filter
    if isinstance(filter, list | tuple) and filter:
        groups = filter if isinstance(filter[0], list) else [filter]
        for group in groups:
            for term in group:
                if not (
                    isinstance(term, tuple)
                    and len(term) == 3
                    and isinstance(term[0], str)
                    and term[1] in _OPS
                ):
                    raise InvalidArgumentError(
                        f"filter term {term!r} is not (column, op, value) with op one of "
                        f"{sorted(_OPS)}"
                    )
        try:
            expression: pc.Expression = pq.filters_to_expression([list(group) for group in groups])
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise InvalidArgumentError(f"bad filter {filter!r}: {exc}") from exc
        return expression
    raise InvalidArgumentError(
        f"filter must be a pyarrow.compute expression or a list of (column, op, value) "
        f"tuples, got {filter!r:.80}"
    )


class ScannedTable:
    """Many partitions as one lazy table. Nothing is read until it is consumed; each
    consumption (iteration, ``to_*``) scans again, verifying what it reads (see the module
    docstring). ``stats`` counts what the scans fetched."""

    def __init__(
        self,
        *,
        parts: Sequence[ScanPart],
        store: Store,
        partition_keys: Sequence[str],
        columns: Sequence[str] | None = None,
        filter: Any = None,
    ) -> None:
        """Raises:
        InvalidArgumentError: a bad filter.
        """
        self.parts = tuple(parts)
        self.store = store
        self.partition_keys = tuple(partition_keys)
        self.columns = None if columns is None else list(columns)
        self.filter = to_expression(filter)
        self.stats = ScanStats()
        self._schema: pa.Schema | None = None

    def __repr__(self) -> str:
        return f"ScannedTable({len(self.parts)} partitions, columns={self.columns})"

    # -- schema ---------------------------------------------------------------------------

    @property
    def full_schema(self) -> pa.Schema:
        """Every data column of every partition (unified), then the partition columns.

        Raises:
            TypeMismatchError: a column's types in different partitions cannot be unified.
            CorruptDataError: a blob read to learn its schema fails its hash.
        """
        if self._schema is None:
            self._schema = self._unify()
        return self._schema

    @property
    def schema(self) -> pa.Schema:
        """The schema of what the scan returns (``columns`` of :attr:`full_schema`).

        Raises:
            InvalidArgumentError: an asked column exists in no partition.
        """
        full = self.full_schema
        if self.columns is None:
            return full
        missing = [name for name in self.columns if name not in full.names]
        if missing:
            raise InvalidArgumentError(
                f"columns {missing} are in no scanned partition; the columns are {full.names}"
            )
        return pa.schema([full.field(name) for name in self.columns])

    def _unify(self) -> pa.Schema:
        by_shape: dict[Any, list[ScanPart]] = {}
        for part in self.parts:
            by_shape.setdefault((part.blob.format, part.blob.schema), []).append(part)
        fields: dict[str, list[tuple[pa.Field, list[ScanPart]]]] = {}
        for group in by_shape.values():
            for field in self._physical_schema(group[0]):
                entries = fields.setdefault(field.name, [])
                for index, (known, users) in enumerate(entries):
                    if known.type == field.type:
                        entries[index] = (known, users + group)
                        break
                else:
                    entries.append((field, list(group)))
        out = [self._unify_field(name, entries) for name, entries in fields.items()]
        out += [pa.field(key, pa.string()) for key in self.partition_keys if key not in fields]
        return pa.schema(out)

    def _physical_schema(self, part: ScanPart) -> pa.Schema:
        fragment = _FORMATS[part.blob.format]().make_fragment(
            pa.PythonFile(VerifiedBlobFile(part.blob, self.store, self.stats), mode="r")
        )
        with _arrow_errors(part):
            schema: pa.Schema = fragment.physical_schema
        return schema.remove_metadata()

    @staticmethod
    def _unify_field(name: str, entries: list[tuple[pa.Field, list[ScanPart]]]) -> pa.Field:
        if len(entries) == 1:
            return entries[0][0]
        try:
            unified = pa.unify_schemas(
                [pa.schema([field]) for field, _ in entries], promote_options="permissive"
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            where = "; ".join(f"{field.type} in {_names(users)}" for field, users in entries)
            raise TypeMismatchError(
                f"column {name!r} has types that cannot be combined: {where}. Rewrite those "
                f"partitions with one type, or scan fewer partitions or other columns"
            ) from exc
        return unified.field(name)

    # -- scanning -------------------------------------------------------------------------

    def dataset(self) -> ds.Dataset:
        """A pyarrow dataset over the partitions (fresh verified files; consume it once or
        many times). Its scans prune, project and filter natively.

        Raises:
            TypeMismatchError: see :attr:`full_schema`.
        """
        schema = self.full_schema
        runs: list[list[ScanPart]] = []  # consecutive partitions of one format, in order
        for part in self.parts:
            if runs and runs[-1][0].blob.format == part.blob.format:
                runs[-1].append(part)
            else:
                runs.append([part])
        children: list[ds.Dataset] = []
        for parts in runs:
            file_format = _file_format(parts[0].blob.format)
            fragments = [
                file_format.make_fragment(
                    pa.PythonFile(VerifiedBlobFile(part.blob, self.store, self.stats), mode="r"),
                    partition_expression=self._partition_expression(part),
                )
                for part in parts
            ]
            children.append(ds.FileSystemDataset(fragments, schema, file_format))
        if not children:
            return ds.dataset(schema.empty_table())
        return children[0] if len(children) == 1 else ds.UnionDataset(schema, children)

    def _partition_expression(self, part: ScanPart) -> pc.Expression:
        expression = pc.scalar(True)
        for key, value in part.partitions.items():
            expression = expression & (pc.field(key) == pc.scalar(value))
        return expression

    def scanner(self, *, batch_size: int = 131_072) -> ds.Scanner:
        """The pyarrow scanner of this table's columns and filter."""
        return self.dataset().scanner(
            columns=self.schema.names,
            filter=self.filter,
            batch_size=batch_size,
            memory_pool=table_pool(),
        )

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        """The rows as record batches, partition by partition (an iteration left unfinished is
        closed at interpreter exit).

        Raises:
            CorruptDataError: a byte read fails its hash.
            SerializationError: a blob cannot be decoded.
        """
        batches = self._batches()
        _OPEN_SCANS.add(batches)
        return batches

    def _batches(self) -> Generator[pa.RecordBatch, None, None]:
        with _arrow_errors(None):
            yield from self.scanner().to_batches()

    def to_reader(self) -> pa.RecordBatchReader:
        """A one-pass ``RecordBatchReader`` (for DuckDB, Arrow Flight, ...)."""
        return pa.RecordBatchReader.from_batches(self.schema, iter(self))

    def to_arrow(self) -> pa.Table:
        """The whole result as one Arrow table.

        Raises:
            CorruptDataError, SerializationError: as iteration.
        """
        with _arrow_errors(None):
            table: pa.Table = self.scanner().to_table()
        return table

    def to_pandas(self) -> pd.DataFrame:
        """The result as a pandas DataFrame (a fresh RangeIndex)."""
        frame: pd.DataFrame = self.to_arrow().to_pandas(
            split_blocks=True, self_destruct=True, memory_pool=table_pool()
        )
        return frame

    def to_polars(self) -> pl.LazyFrame:
        """A polars LazyFrame over the scan: polars pushes its column selection and filters
        down into the verified pyarrow scan.

        Raises:
            ConfigurationError: polars is not installed (``pip install 'cargohold[polars]'``).
        """
        try:
            import polars as pl
        except ImportError as exc:
            from cargohold.core.errors import ConfigurationError

            raise ConfigurationError(
                "to_polars needs polars: pip install 'cargohold[polars]'"
            ) from exc
        frame = pl.scan_pyarrow_dataset(self._filtered())
        return frame.select(self.schema.names)

    def to_duckdb(self, connection: duckdb.DuckDBPyConnection | None = None) -> Any:
        """A DuckDB relation over the scan (DuckDB pushes projections and filters into it).

        Raises:
            ConfigurationError: duckdb is not installed (``pip install 'cargohold[sql]'``).
        """
        con = connection if connection is not None else _duckdb().connect()
        relation = con.from_arrow(self._filtered())
        return relation.select(*[_quote(name) for name in self.schema.names])

    def _filtered(self) -> ds.Dataset:
        """The dataset with the filter attached: every scan of it prunes and filters."""
        source = self.dataset()
        return source if self.filter is None else source.filter(self.filter)


def _file_format(fmt: str) -> ds.FileFormat:
    if fmt == "parquet":
        # No coalescing across holes: each read pyarrow makes then covers only chunks it
        # decodes, so a damaged chunk of a column not asked for never fails a scan.
        cache = pa.CacheOptions(hole_size_limit=0, range_size_limit=64 << 20, lazy=True)
        options = ds.ParquetFragmentScanOptions(
            pre_buffer=True, use_buffered_stream=False, cache_options=cache
        )
        return ds.ParquetFileFormat(default_fragment_scan_options=options)
    return ds.IpcFileFormat()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:
        from cargohold.core.errors import ConfigurationError

        raise ConfigurationError("this needs duckdb: pip install 'cargohold[sql]'") from exc
    return duckdb


def _names(parts: Sequence[ScanPart]) -> str:
    names = [part.describe() for part in parts]
    shown = ", ".join(names[:5])
    return f"partitions [{shown}{', ...' if len(names) > 5 else ''}] ({len(names)})"


@contextmanager
def _arrow_errors(part: ScanPart | None) -> Iterator[None]:
    """Translate pyarrow's errors into cargohold's; cargohold's pass through (pyarrow re-raises
    an error raised in a verified file's read as itself)."""
    try:
        yield
    except CargoholdError:
        raise
    except (pa.ArrowException, OSError) as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, CargoholdError):
            raise cause from exc
        where = f" of {part.describe()}" if part else ""
        raise SerializationError(f"cannot read the scanned table{where}: {exc}") from exc


@atexit.register
def _close_open_scans() -> None:
    """Before the interpreter finalizes: close the scans still being iterated (their pyarrow
    scanners read ahead on Arrow's IO threads, which call back into Python), refuse further reads
    of verified files, and wait until those threads stopped calling them. A thread that calls
    into Python once finalization began never returns: Arrow's pools then hang or abort the
    process at exit (``terminate called without an active exception``, rc 134)."""
    for batches in list(_OPEN_SCANS):
        with suppress(ValueError, RuntimeError):  # being iterated in another thread right now
            batches.close()
    refuse_reads_and_wait()
