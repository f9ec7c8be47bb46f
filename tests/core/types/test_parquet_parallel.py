"""The parallel Parquet writer: one valid file, deterministic, verified, column-readable."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cargohold import Cargohold, CorruptDataError
from cargohold.core.types.literals import BlobRef
from cargohold.core.types.parquet_chunks import chunk_hashes
from cargohold.core.types.parquet_writer import rows_per_group, write_parquet
from cargohold.core.types.tables import _dictionary_columns, read_table
from cargohold.core.types.thrift_compact import decode_struct, encode_struct

ROWS = 100_003


@pytest.fixture
def hold(tmp_path: Path) -> Cargohold:
    """A hold writing Parquet (on a local store the default is Arrow IPC)."""
    return Cargohold(
        store_url=f"file://{tmp_path}/store",
        catalog_url=f"sqlite:///{tmp_path}/catalog.db",
        table_format="parquet",
    )


def wide_frame(rows: int = ROWS) -> pd.DataFrame:
    """40 columns (a row is ~400 raw bytes), so a row group holds 32,768 rows: 4 groups."""
    rng = np.random.default_rng(7)
    columns: dict[str, Any] = {f"f{i}": rng.random(rows) for i in range(30)}
    labels = np.array(["alpha", "beta", "gamma", None], dtype=object)
    for i in range(10):
        columns[f"s{i}"] = pd.Series(labels[rng.integers(0, 4, rows)], dtype="str")
    return pd.DataFrame(columns)


def encode(table: pa.Table, threads: int) -> tuple[bytes, Any]:
    out = io.BytesIO()
    written = write_parquet(
        table, out, compression="zstd", use_dictionary=_dictionary_columns(table), threads=threads
    )
    return out.getvalue(), written


def blob_path(hold: Cargohold, literal: Any) -> str:
    return str(hold.store._path(literal.blob.uri))


def test_a_frame_round_trips_through_several_row_groups(hold: Cargohold) -> None:
    frame = wide_frame()
    literal = hold.put(frame)
    assert literal.blob is not None
    assert literal.blob.format == "parquet"
    assert pq.ParquetFile(blob_path(hold, literal)).metadata.num_row_groups == 4
    pd.testing.assert_frame_equal(hold.get(literal), frame)


def test_the_same_input_gives_the_same_bytes_whatever_the_threads() -> None:
    """Content addressing still deduplicates: the layout depends on the schema, never on the
    cores; the bytes equal pyarrow's single-threaded writer with the same row group size."""
    table = pa.Table.from_pandas(wide_frame(), preserve_index=None)
    one, written_one = encode(table, threads=1)
    four, written_four = encode(table, threads=4)
    assert one == four
    assert written_one == written_four
    reference = io.BytesIO()
    pq.write_table(
        table,
        reference,
        row_group_size=rows_per_group(table.schema),
        compression="zstd",
        use_dictionary=_dictionary_columns(table),
    )
    assert one == reference.getvalue()


def test_the_same_frame_is_stored_once(hold: Cargohold) -> None:
    frame = wide_frame()
    first, second = hold.put(frame), hold.put(frame.copy())
    assert first.blob is not None
    assert second.blob is not None
    assert first.blob.uri == second.blob.uri


def test_hash_and_chunk_hashes_computed_while_writing_match_the_file(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(wide_frame(), preserve_index=None)
    data, written = encode(table, threads=2)
    path = tmp_path / "t.parquet"
    path.write_bytes(data)
    from cargohold.core.storage.hashing import hash_file

    assert written.size == len(data)
    assert written.content_hash == hash_file(str(path))
    from_file = chunk_hashes(str(path))  # what the single-threaded path recorded
    assert written.chunks == {"footer": from_file["footer"], "row_groups": from_file["row_groups"]}
    assert len(written.chunks["row_groups"]) == 4
    small, one_group = encode(table.slice(0, 10), threads=2)
    path.write_bytes(small)
    assert one_group.chunks == chunk_hashes(str(path))  # one group: a hash per column


def test_the_blob_is_one_parquet_file_for_pyarrow_polars_and_duckdb(hold: Cargohold) -> None:
    frame = wide_frame()
    literal = hold.put(frame)
    path = blob_path(hold, literal)
    assert pq.read_table(path).num_rows == ROWS
    assert pl.read_parquet(path).shape == (ROWS, 40)
    [(total, rows)] = duckdb.sql(f"select sum(f0), count(*) from read_parquet('{path}')").fetchall()
    assert rows == ROWS
    assert total == pytest.approx(frame["f0"].sum())


def test_columns_read_only_their_own_chunks(hold: Cargohold) -> None:
    """Spoiling column s3's chunk in the third row group: reading f1 and s2 still works (their
    bytes alone are read and verified); reading s3, or everything, fails verification."""
    frame = wide_frame()
    literal = hold.put(frame)
    path = blob_path(hold, literal)
    chunk = pq.ParquetFile(path).metadata.row_group(2).column(frame.columns.get_loc("s3"))
    start = chunk.data_page_offset + chunk.total_compressed_size // 2
    raw = bytearray(Path(path).read_bytes())
    raw[start] ^= 0xFF
    Path(path).write_bytes(bytes(raw))

    two = hold.get(literal, columns=["f1", "s2"])
    pd.testing.assert_frame_equal(two, frame[["f1", "s2"]])
    with pytest.raises(CorruptDataError, match="column 's3'"):
        hold.get(literal, columns=["s3"])
    with pytest.raises(CorruptDataError):
        hold.get(literal)


def test_a_blob_of_the_single_threaded_writer_still_reads(hold: Cargohold) -> None:
    """Blobs written before the parallel writer (pyarrow's write_table, 1Mi-row groups, chunk
    hashes computed from the file) read whole and by column."""
    table = pa.Table.from_pandas(wide_frame(), preserve_index=None)
    with hold.store.new_blob() as sink:
        pq.write_table(table, sink.path, compression="zstd")
        extra = {"chunks": chunk_hashes(sink.path)}
    info = sink.result
    ref = BlobRef(
        uri=info.uri,
        size=info.size,
        hash=info.hash,
        format="parquet",
        python_type="pyarrow.Table",
        rows=table.num_rows,
        schema=tuple((f.name, str(f.type)) for f in table.schema),
        extra=extra,
    )
    assert read_table(ref, hold.store).equals(table)
    assert read_table(ref, hold.store, ["f3", "s1"]).equals(table.select(["f3", "s1"]))


def test_nested_and_empty_tables_match_pyarrow() -> None:
    nested = pa.table(
        {
            "tags": pa.array([["a", "b"], [], None] * 5000, pa.list_(pa.string())),
            "point": pa.array([{"x": 1, "y": 2.0}, None, {"x": 3, "y": None}] * 5000),
            "props": pa.array([[("k", 1)], [], None] * 5000, pa.map_(pa.string(), pa.int64())),
            "ok": pa.array([True, False, None] * 5000),
        }
    )
    for table in (nested, nested.slice(0, 0)):
        data, _ = encode(table, threads=2)
        reference = io.BytesIO()
        pq.write_table(
            table,
            reference,
            row_group_size=rows_per_group(table.schema),
            compression="zstd",
            use_dictionary=_dictionary_columns(table),
        )
        assert data == reference.getvalue()
        assert pq.read_table(io.BytesIO(data)).equals(table)


def test_the_thrift_codec_gives_back_the_footer_it_read() -> None:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(wide_frame(1000), preserve_index=None), sink)
    data = sink.getvalue()
    length = int.from_bytes(data[-8:-4], "little")
    footer = data[-8 - length : -8]
    assert encode_struct(decode_struct(footer)) == footer
