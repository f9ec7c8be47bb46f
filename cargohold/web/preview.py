"""The first rows of a table blob, read with row and column limits (never the whole blob).

Parquet reads the footer and the first row group's chosen columns; Arrow IPC reads the footer
and the first record batch (memory-mapped on a local store). The bytes are not verified against
the content hash (that needs the whole blob): the page says so, and the download is verified by
whoever reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from cargohold.core.errors import BlobNotFoundError, InvalidArgumentError, SerializationError

if TYPE_CHECKING:
    from cargohold.core.storage.store import Store
    from cargohold.core.types.literals import BlobRef

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "preview_table"]

MAX_ROWS = 200
MAX_COLUMNS = 50
_CELL = 200


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def _first_batch(blob: BlobRef, store: Store, rows: int, columns: list[str] | None) -> pa.Table:
    if blob.format == "parquet":
        with store.open_blob(blob.uri) as handle:
            parquet = pq.ParquetFile(handle)
            for batch in parquet.iter_batches(batch_size=rows, columns=columns):
                return pa.Table.from_batches([batch])
            return parquet.schema_arrow.empty_table().select(columns or [])
    if blob.format == "arrow":
        if store.is_local:
            source: Any = pa.memory_map(store.local_path(blob.uri))
        else:
            source = store.open_blob(blob.uri)
        with source:
            reader = ipc.open_file(source)
            if reader.num_record_batches == 0:
                return reader.schema.empty_table()
            table = pa.Table.from_batches([reader.get_batch(0)]).slice(0, rows)
            if table.num_rows < rows and reader.num_record_batches > 1:
                more = [reader.get_batch(i) for i in range(1, min(reader.num_record_batches, 8))]
                table = pa.Table.from_batches([*table.to_batches(), *more]).slice(0, rows)
            return table.select(columns) if columns is not None else table
    raise SerializationError(f"no preview for {blob.format} blobs (only parquet and arrow)")


def preview_table(
    blob: BlobRef, store: Store, *, rows: int = 20, columns: int = 20
) -> dict[str, Any]:
    """The first ``rows`` rows of the first ``columns`` columns of a table blob.

    Raises:
        InvalidArgumentError: ``rows`` or ``columns`` out of range.
        SerializationError: the blob is not a table, or cannot be read.
        BlobNotFoundError: the blob is missing.
    """
    if not 1 <= rows <= MAX_ROWS:
        raise InvalidArgumentError(f"rows must be between 1 and {MAX_ROWS}, got {rows}")
    if not 1 <= columns <= MAX_COLUMNS:
        raise InvalidArgumentError(f"columns must be between 1 and {MAX_COLUMNS}, got {columns}")
    names = [n for n, _ in blob.schema] if blob.schema else None
    wanted = names[:columns] if names is not None else None
    try:
        table = _first_batch(blob, store, rows, wanted)
    except BlobNotFoundError:
        raise
    except (pa.ArrowInvalid, OSError) as exc:
        raise SerializationError(f"cannot preview the table at {blob.uri}: {exc}") from exc
    if wanted is None:
        table = table.select(table.column_names[:columns])
    all_columns = names if names is not None else table.column_names
    return {
        "columns": table.column_names,
        "rows": [[_cell(v) for v in row.values()] for row in table.to_pylist()],
        "total_rows": blob.rows,
        "total_columns": len(all_columns),
        "verified": False,
    }
