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

A whole file with at least as many columns as Arrow has threads is read by Parquet's file
reader (what ``pq.ParquetFile.read`` uses, which takes no pool), one column per thread, each
decoded into one array, so pandas takes the numeric columns without copying them; the dataset
scanner (``pq.read_table``'s way, which parallelises row groups instead) hands out a chunk per
batch, which pandas must copy into one array per column. Measured in fresh processes, a read to
pandas: 10M rows (5 columns, 123 MiB) 0.42-0.45 s against 0.69-0.87 s, 3M 0.14-0.16 s against
0.21-0.23 s, peak memory the same or lower. With fewer columns than threads (one column: 0.15-0.17
s against 0.14-0.20 s on two cores) or a column selection, the scanner reads.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from pyarrow._parquet import ParquetReader  # pq.ParquetFile's reader; the public one takes no pool

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
    :func:`table_pool` memory: the whole file column by column, one array per column, when it
    has a column for every thread; else row groups in parallel, as ``pq.read_table`` does.

    Raises:
        pyarrow.ArrowException: the file is not Parquet, or a column is missing.
        OSError: the file cannot be read.
    """
    if columns is None:
        reader = ParquetReader(memory_pool=table_pool())
        reader.open(source, use_memory_map=False, pre_buffer=pre_buffer)
        if reader.metadata.num_columns >= pa.cpu_count():
            whole: pa.Table = reader.read_all(use_threads=True)
            return whole
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
