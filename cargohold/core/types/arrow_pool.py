"""The memory cargohold's table reads decode into, and the one Parquet reader that uses it.

pyarrow's default pool (mimalloc) backs its arenas with transparent huge pages. On a
Firecracker microVM (this project's machines; AWS Fargate and Lambda run on the same) the first
touch of a huge page costs about six times that of ordinary pages (400 MB of fresh memory:
350-440 MB/s against 2.0-2.6 GB/s in fresh processes), and a consumer task's
read of a table is mostly first touches: every decoded buffer is new memory. pyarrow's jemalloc
pool asks for ordinary pages, so table reads allocate from it, returning freed pages at once
(decay 0: a read frees each decoded column as pandas takes it): a 10M-row Parquet read to
pandas in a fresh process took 0.62-0.81 s against 1.3-1.6 s from the default pool, and
``bench/roundtrip.py``'s Parquet round trip went from 0.85x to 0.49x raw pyarrow at 10M rows.
Where the wheel has no jemalloc, or ``ARROW_DEFAULT_MEMORY_POOL`` names a pool (pyarrow's own
setting), pyarrow's default pool is used.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

__all__ = ["read_parquet", "table_pool"]


@functools.cache
def table_pool() -> pa.MemoryPool:
    """The pool table reads allocate from: jemalloc, unless ``ARROW_DEFAULT_MEMORY_POOL`` is set
    or pyarrow was built without it (then pyarrow's default pool)."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
        return pool
    except (NotImplementedError, pa.ArrowException):
        return pa.default_memory_pool()


def read_parquet(
    source: str | Any, *, columns: Sequence[str] | None = None, pre_buffer: bool = True
) -> pa.Table:
    """Read one Parquet file, a local path or a file-like object, on every core into
    :func:`table_pool` memory (``pq.read_table`` reads the same way, into the default pool).

    Raises:
        pyarrow.ArrowException: the file is not Parquet, or a column is missing.
        OSError: the file cannot be read.
    """
    file_format = ds.ParquetFileFormat(
        default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=pre_buffer)
    )
    if isinstance(source, str):
        fragment = file_format.make_fragment(source, filesystem=pafs.LocalFileSystem())
    else:
        fragment = file_format.make_fragment(source)
    dataset = ds.FileSystemDataset(
        [fragment], fragment.physical_schema, file_format, fragment.filesystem
    )
    table: pa.Table = dataset.to_table(
        columns=list(columns) if columns is not None else None, memory_pool=table_pool()
    )
    return table
