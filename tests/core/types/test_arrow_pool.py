"""The pool table reads decode into, and the Parquet reader that uses it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cargohold.core.types import arrow_pool
from cargohold.core.types.arrow_pool import read_parquet, table_pool


def test_a_read_decodes_into_the_table_pool(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(100_000)), "b": ["x"] * 100_000}), path)
    before = table_pool().bytes_allocated()
    table = read_parquet(str(path), columns=["a"])
    assert table.column_names == ["a"]
    assert table.column("a").to_pylist()[:3] == [0, 1, 2]
    assert table_pool().bytes_allocated() - before >= 100_000 * 8
    from_file = read_parquet(pa.BufferReader(path.read_bytes()))
    assert from_file.equals(pq.read_table(path))


def test_jemalloc_unless_arrow_names_a_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    arrow_pool.table_pool.cache_clear()
    try:
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
        assert table_pool().backend_name == "jemalloc"
        arrow_pool.table_pool.cache_clear()
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
        assert table_pool().backend_name == pa.default_memory_pool().backend_name
    finally:
        arrow_pool.table_pool.cache_clear()


def test_a_whole_file_reads_one_array_per_column_when_it_has_a_column_per_thread(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.parquet"
    expected = pa.table({"a": list(range(50_000)), "b": [1.5] * 50_000})
    pq.write_table(expected, path, row_group_size=10_000)  # five row groups
    threads = pa.cpu_count()
    try:
        pa.set_cpu_count(2)
        whole = read_parquet(str(path))
        assert [column.num_chunks for column in whole.columns] == [1, 1]
        assert whole.equals(expected)
        assert read_parquet(pa.BufferReader(path.read_bytes())).column("a").num_chunks == 1
        pa.set_cpu_count(3)  # more threads than columns: row groups in parallel, a chunk each
        scanned = read_parquet(str(path))
        assert scanned.column("a").num_chunks >= 5
        assert scanned.equals(expected)
    finally:
        pa.set_cpu_count(threads)
