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
