"""Tables and arrays: dtype fidelity, cross-library loading, column projection, formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cargohold import Cargohold, CorruptDataError, Literal, SerializationError, TypeMismatchError


def rich_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": np.arange(6, dtype="int64"),
            "f": [1.5, None, 3.0, 4.0, 5.0, 6.0],
            "s": pd.Series(["a", None, "c", "d", "e", "f"], dtype="str"),
            "cat": pd.Categorical(["x", "y", "x", "z", "y", "x"]),
            "ni": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "nb": pd.array([True, None, False, True, True, False], dtype="boolean"),
            "tz": pd.date_range("2026-11-01", periods=6, freq="h", tz="Europe/Paris"),
            "ts": pd.date_range("2026-11-01", periods=6, freq="D"),
        },
        index=pd.Index([f"r{i}" for i in range(6)], name="row"),
    )


@pytest.mark.parametrize("table_format", ["parquet", "arrow"])
def test_dataframe_round_trip_keeps_dtypes_and_index(tmp_path: Path, table_format: str) -> None:
    hold = Cargohold(store_url=f"file://{tmp_path}/s", table_format=table_format)
    frame = rich_frame()
    literal = hold.put(frame)
    assert not literal.is_inline
    assert literal.blob is not None
    assert literal.blob.format == table_format
    assert literal.blob.rows == 6
    assert literal.blob.schema is not None
    assert ("i", "int64") in literal.blob.schema
    back = hold.get(Literal.from_json(literal.to_json()))
    pd.testing.assert_frame_equal(back, frame)


@pytest.mark.parametrize("table_format", ["parquet", "arrow"])
def test_loaded_frames_are_writable_and_leave_the_blob_alone(
    tmp_path: Path, table_format: str
) -> None:
    hold = Cargohold(store_url=f"file://{tmp_path}/s", table_format=table_format)
    frame = rich_frame().assign(n=np.arange(6, dtype="float64"))
    literal = hold.put(frame)
    back = hold.get(literal)
    back.loc["r0", "i"] = 99
    back.loc["r1", "n"] = -1.0
    back.loc["r2", "ts"] = pd.Timestamp("2020-01-01")
    back.loc["r3", "tz"] = pd.Timestamp("2020-01-01", tz="Europe/Paris")
    back.loc["r4", "ni"] = 7
    back.loc["r5", "f"] = 0.5
    assert back.loc["r0", "i"] == 99
    assert back.loc["r1", "n"] == -1.0
    assert back.loc["r5", "f"] == 0.5
    pd.testing.assert_frame_equal(hold.get(literal), frame)


def test_auto_format_is_arrow_ipc_on_a_local_store(tmp_path: Path) -> None:
    hold = Cargohold(store_url=f"file://{tmp_path}/s", table_format="auto")
    literal = hold.put(rich_frame())
    assert literal.blob is not None
    assert literal.blob.format == "arrow"
    pd.testing.assert_frame_equal(hold.get(literal), rich_frame())


def test_corrupt_arrow_blob_is_refused(tmp_path: Path) -> None:
    hold = Cargohold(store_url=f"file://{tmp_path}/s", table_format="arrow")
    literal = hold.put(rich_frame())
    assert literal.blob is not None
    path = Path(literal.blob.uri.removeprefix("file://"))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptDataError):
        hold.get(literal)


def test_multiindex_and_range_index(hold: Cargohold) -> None:
    frame = pd.DataFrame(
        {"v": [1, 2, 3, 4]},
        index=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1), ("b", 2)], names=["k", "n"]),
    )
    pd.testing.assert_frame_equal(hold.get(hold.put(frame)), frame)
    ranged = pd.DataFrame({"v": [1, 2]}, index=pd.RangeIndex(10, 12))
    pd.testing.assert_frame_equal(hold.get(hold.put(ranged)), ranged)


def test_series_round_trip(hold: Cargohold) -> None:
    series = pd.Series(pd.array([1, None, 3], dtype="Int64"), name="counts")
    pd.testing.assert_series_equal(hold.get(hold.put(series)), series)
    unnamed = pd.Series(["a", "b"], dtype="str")
    pd.testing.assert_series_equal(hold.get(hold.put(unnamed)), unnamed)


def test_arrow_table_and_batch(hold: Cargohold) -> None:
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", None]})
    assert hold.get(hold.put(table)).equals(table)
    batch = table.to_batches()[0]
    back = hold.get(hold.put(batch))
    assert isinstance(back, pa.RecordBatch)
    assert back.equals(batch)


def test_polars_round_trip_and_cross_loading(hold: Cargohold) -> None:
    frame = pl.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    literal = hold.put(frame)
    back = hold.get(literal)
    assert isinstance(back, pl.DataFrame)
    assert back.equals(frame)
    as_pandas = hold.get(literal, as_type=pd.DataFrame)
    assert list(as_pandas["b"]) == ["x", "y", "z"]
    pandas_literal = hold.put(pd.DataFrame({"a": [1, 2]}))
    assert isinstance(hold.get(pandas_literal, as_type=pa.Table), pa.Table)
    assert hold.get(pandas_literal, as_type=pl.DataFrame)["a"].to_list() == [1, 2]


def test_columns_reads_only_those_columns(tmp_path: Path) -> None:
    """Corrupting column b's bytes leaves a read of column a intact: a never touches b."""
    hold = Cargohold(
        store_url=f"file://{tmp_path}/store",
        catalog_url=f"sqlite:///{tmp_path}/catalog.db",
        table_format="parquet",  # a local store's default is Arrow IPC
    )
    frame = pd.DataFrame({"a": np.arange(50_000), "b": np.arange(50_000) * 2.0})
    literal = hold.put(frame)
    assert literal.blob is not None
    path = hold.store._path(literal.blob.uri)
    meta = pq.ParquetFile(path).metadata
    b_chunk = meta.row_group(0).column(1)
    start = b_chunk.data_page_offset + 64
    raw = bytearray(Path(path).read_bytes())
    raw[start : start + 256] = b"\xff" * 256
    Path(path).write_bytes(bytes(raw))

    only_a = hold.get(literal, columns=["a"])
    assert list(only_a.columns) == ["a"]
    assert only_a["a"].iloc[-1] == 49_999
    with pytest.raises(CorruptDataError):
        hold.get(literal)
    with pytest.raises(CorruptDataError, match="column 'b'"):
        hold.get(literal, columns=["b"])


def test_unknown_column_is_named(hold: Cargohold) -> None:
    literal = hold.put(pd.DataFrame({"a": [1]}))
    with pytest.raises(SerializationError, match=r"\['nope'\]"):
        hold.get(literal, columns=["nope"])


def test_identical_frames_share_one_blob(hold: Cargohold) -> None:
    first = hold.put(pd.DataFrame({"a": [1, 2, 3]}))
    second = hold.put(pd.DataFrame({"a": [1, 2, 3]}))
    assert first.blob == second.blob
    assert first.hash == second.hash
    assert len(list(hold.store.iter_blobs())) == 1


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype="int32").reshape(3, 4),
        np.linspace(0, 1, 7, dtype="float16"),
        np.array([[True, False]]),
        np.array(["a", "bc"], dtype="U2"),
        np.array(3.5),
        np.zeros((2, 0, 3), dtype="complex128"),
        np.array(["2026-11-01"], dtype="datetime64[D]"),
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_ndarray_keeps_dtype_and_shape(hold: Cargohold, array: np.ndarray) -> None:
    back = hold.get(hold.put(array))
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_object_arrays_are_refused(hold: Cargohold) -> None:
    with pytest.raises(TypeMismatchError, match="dtype object"):
        hold.put(np.array([object()], dtype=object))


def test_tables_on_s3(s3_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bucket = s3_server.create_bucket()
    hold = Cargohold(store_url=f"s3://{bucket}/root", store_options=s3_server.options())
    frame = rich_frame()
    literal = hold.put(frame)
    assert literal.blob is not None
    assert literal.blob.uri.startswith(f"s3://{bucket}/root/cas/")
    auto = Cargohold(
        store_url=f"s3://{bucket}/root", store_options=s3_server.options(), table_format="auto"
    )
    auto_literal = auto.put(frame)
    assert auto_literal.blob is not None
    assert auto_literal.blob.format == "parquet"
    back = auto.get(auto_literal)
    back.loc["r0", "i"] = 5  # immutable downloaded bytes: the load copies what it must
    pd.testing.assert_frame_equal(auto.get(auto_literal), frame)
    pd.testing.assert_frame_equal(hold.get(literal), frame)
    assert list(hold.get(literal, columns=["i", "s"]).columns) == ["i", "s"]
    pd.testing.assert_frame_equal(
        hold.get(literal, columns=["cat", "tz"]), frame[["cat", "tz"]].reset_index(drop=True)
    )
    np.testing.assert_array_equal(hold.get(hold.put(np.arange(4))), np.arange(4))
