"""ArtifactQuery.scan: many partitions as one verified, pruned, projected table.

Every test runs on a local store and on S3 (moto over HTTP), and on SQLite and PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cargohold.core.catalog import OneOf, Range
from cargohold.core.catalog.scan import ScannedTable
from cargohold.core.errors import (
    CorruptDataError,
    InvalidArgumentError,
    NotFoundError,
    TypeMismatchError,
)
from cargohold.core.hold import Cargohold
from cargohold.core.query import ArtifactQuery
from tests.support.services import S3Server

ROWS = 4_000
GROUP = 1_000  # rows per row group


@pytest.fixture(params=["local", "s3"])
def hold(request: pytest.FixtureRequest, catalog_url: str, tmp_path: Path) -> Iterator[Cargohold]:
    if request.param == "local":
        hold = Cargohold(store_url=(tmp_path / "store").as_uri(), catalog_url=catalog_url)
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        hold = Cargohold(
            store_url=request.getfixturevalue("s3_store_url"),
            catalog_url=catalog_url,
            store_options=server.options(),
        )
    yield hold
    hold.catalog.close()


def day_table(day: int, *, rows: int = ROWS) -> pa.Table:
    start = day * 100_000
    return pa.table(
        {
            "id": pa.array(range(start, start + rows), pa.int64()),
            "amount": pa.array([float(i % 97) for i in range(rows)]),
            "store": pa.array([f"s{i % 5}" for i in range(rows)]),
        }
    )


def put(hold: Cargohold, table: pa.Table, *, fmt: str = "parquet") -> Any:
    if fmt == "parquet":
        # Several row groups per blob, so that statistics can prune inside a partition.
        info, extra = _write_grouped(hold, table)
        return _literal(hold, table, info, extra)
    other = Cargohold(
        store_url=hold.settings.store_url,
        catalog_url=hold.settings.catalog_url,
        store_options=hold.settings.store_options,
        table_format=fmt,
    )
    return other.put(table)


def _write_grouped(hold: Cargohold, table: pa.Table) -> tuple[Any, dict[str, Any]]:
    import pyarrow.parquet as pq

    from cargohold.core.types.parquet_chunks import chunk_hashes

    store = hold.store
    with store.new_blob() as sink:
        pq.write_table(table, sink.path, compression="zstd", row_group_size=GROUP)
        extra = {"chunks": chunk_hashes(sink.path)}
    return sink.result, extra


def _literal(hold: Cargohold, table: pa.Table, info: Any, extra: dict[str, Any]) -> Any:
    from cargohold.core.types.literals import BlobRef, Literal, LiteralType

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
    return Literal(type=LiteralType("table", name="pyarrow.Table"), blob=ref)


def seed(hold: Cargohold, days: int = 4, *, fmt_of: Any = None) -> None:
    hold.catalog.create_dataset(dataset="sales", partition_keys=["date"])
    for day in range(1, days + 1):
        fmt = fmt_of(day) if fmt_of else "parquet"
        hold.catalog.create_artifact(
            dataset="sales",
            partitions={"date": f"2026-11-{day:02d}"},
            data={"value": put(hold, day_table(day), fmt=fmt)},
        )


def scan(hold: Cargohold, **kwargs: Any) -> ScannedTable:
    return ArtifactQuery.scan(dataset="sales", catalog=hold.catalog, store=hold.store, **kwargs)


def test_scan_is_one_table_with_partition_columns(hold: Cargohold) -> None:
    seed(hold)
    table = scan(hold)
    assert table.schema.names == ["id", "amount", "store", "date"]
    out = table.to_arrow()
    assert out.num_rows == 4 * ROWS
    assert out.column("date").to_pylist()[::ROWS] == [f"2026-11-0{d}" for d in range(1, 5)]
    assert out.column("id").to_pylist()[:3] == [100_000, 100_001, 100_002]
    frame = table.to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 4 * ROWS
    assert list(frame.columns) == ["id", "amount", "store", "date"]
    assert sum(batch.num_rows for batch in table) == 4 * ROWS
    lazy = table.to_polars()
    assert isinstance(lazy, pl.LazyFrame)
    picked = lazy.filter(pl.col("date") == "2026-11-03").select("id").collect()
    assert picked["id"].to_list()[0] == 300_000
    assert picked.height == ROWS
    con = duckdb.connect()
    try:
        rel = table.to_duckdb(con)
        assert rel.aggregate("count(*), count(DISTINCT date)").fetchall() == [(4 * ROWS, 4)]
    finally:
        con.close()


def test_partition_keys_select_partitions_without_opening_others(hold: Cargohold) -> None:
    seed(hold)
    table = scan(hold, partition_keys={"date": Range(ge="2026-11-02", lt="2026-11-04")})
    assert [p.partitions["date"] for p in table.parts] == ["2026-11-02", "2026-11-03"]
    assert table.to_arrow().num_rows == 2 * ROWS
    assert table.stats.blobs_opened == 3  # one for the schema, then each of the two
    one = scan(hold, partition_keys={"date": OneOf(["2026-11-04"])}, columns=["id"])
    assert one.to_arrow().column("id").to_pylist()[0] == 400_000
    equal = scan(hold, partition_keys={"date": "2026-11-01"})
    assert len(equal.parts) == 1


def test_projection_and_filter_prune_row_groups(hold: Cargohold) -> None:
    seed(hold)
    everything = scan(hold, columns=["amount"])
    everything.to_arrow()
    full_bytes = everything.stats.chunk_bytes
    assert everything.stats.row_groups_read == 4 * (ROWS // GROUP)
    # ids 200_000..200_999 are the first row group of 2026-11-02 only.
    narrow = scan(
        hold,
        columns=["amount", "date"],
        filter=(pc.field("id") >= 200_000) & (pc.field("id") < 201_000),
    )
    out = narrow.to_arrow()
    assert out.num_rows == GROUP
    assert set(out.column("date").to_pylist()) == {"2026-11-02"}
    assert narrow.stats.row_groups_read == 1
    assert narrow.stats.chunks_read == 2  # id (for the filter) and amount, one row group
    assert narrow.stats.chunk_bytes < full_bytes / 3
    assert narrow.stats.bytes_read < everything.stats.bytes_read
    # The simple tuple form, and a filter on a partition column.
    tuples = scan(hold, columns=["id"], filter=[("date", "==", "2026-11-03"), ("id", "<", 300_010)])
    assert tuples.to_arrow().column("id").to_pylist() == list(range(300_000, 300_010))
    assert tuples.stats.row_groups_read == 1


def test_corrupt_partition_is_detected(hold: Cargohold) -> None:
    seed(hold, days=2)
    victim = scan(hold).parts[1].blob
    data = bytearray(hold.store.read_bytes(victim.uri))
    metadata = __import__("pyarrow.parquet", fromlist=["x"]).ParquetFile(pa.BufferReader(data))
    chunk = metadata.metadata.row_group(2).column(1)  # amount, row group 2 of 2026-11-02
    data[chunk.data_page_offset + 5] ^= 0xFF
    _overwrite(hold, victim.uri, bytes(data))
    with pytest.raises(CorruptDataError, match="column 'amount', row group 2"):
        scan(hold, columns=["amount"]).to_arrow()
    # A scan that never reads the damaged chunk is unaffected, and still verified.
    ok = scan(hold, columns=["id"]).to_arrow()
    assert ok.num_rows == 2 * ROWS
    assert scan(hold, columns=["amount"], filter=pc.field("id") < 201_000).to_arrow().num_rows
    with pytest.raises(CorruptDataError):
        scan(hold).to_pandas()


def _overwrite(hold: Cargohold, uri: str, data: bytes) -> None:
    store = hold.store
    if store.is_local:
        path = Path(store.local_path(uri))
        path.chmod(0o644)
        path.write_bytes(data)
    else:
        store.fs.pipe_file(uri, data)


def test_schema_drift_added_column_reads_as_nulls(hold: Cargohold) -> None:
    hold.catalog.create_dataset(dataset="sales", partition_keys=["date"])
    old = pa.table({"id": pa.array([1, 2], pa.int32())})
    new = pa.table({"id": pa.array([3], pa.int64()), "note": ["added"]})
    for day, table in (("2026-11-01", old), ("2026-11-02", new)):
        hold.catalog.create_artifact(
            dataset="sales", partitions={"date": day}, data={"value": hold.put(table)}
        )
    table = scan(hold)
    assert table.schema == pa.schema(
        [("id", pa.int64()), ("note", pa.string()), ("date", pa.string())]
    )
    assert table.to_arrow().to_pylist() == [
        {"id": 1, "note": None, "date": "2026-11-01"},
        {"id": 2, "note": None, "date": "2026-11-01"},
        {"id": 3, "note": "added", "date": "2026-11-02"},
    ]


def test_incompatible_types_name_the_partitions(hold: Cargohold) -> None:
    hold.catalog.create_dataset(dataset="sales", partition_keys=["date"])
    for day, values in (("2026-11-01", [1.5]), ("2026-11-02", ["x"]), ("2026-11-03", [2.5])):
        hold.catalog.create_artifact(
            dataset="sales",
            partitions={"date": day},
            data={"value": hold.put(pa.table({"v": values}))},
        )
    with pytest.raises(TypeMismatchError) as caught:
        scan(hold).to_arrow()
    message = str(caught.value)
    assert "column 'v'" in message
    assert "double in partitions [date=2026-11-01, date=2026-11-03]" in message
    assert "string in partitions [date=2026-11-02]" in message


def test_pinned_versions_tags_and_time_travel(hold: Cargohold) -> None:
    catalog = hold.catalog
    catalog.create_dataset(dataset="sales", partition_keys=["date"])
    first = [
        catalog.create_artifact(
            dataset="sales",
            partitions={"date": day},
            data={"value": hold.put(pa.table({"v": [f"{day} v1"]}))},
        )
        for day in ("2026-11-01", "2026-11-02")
    ]
    time.sleep(0.05)
    cut = datetime.now(UTC)
    time.sleep(0.05)
    catalog.create_artifact(
        dataset="sales",
        partitions={"date": "2026-11-01"},
        data={"value": hold.put(pa.table({"v": ["2026-11-01 v2"]}))},
    )
    catalog.add_tag(dataset="sales", tag="audited", artifact_id=first[0].id)

    def values(**kwargs: Any) -> list[str]:
        return scan(hold, columns=["v"], **kwargs).to_arrow().column("v").to_pylist()

    assert values() == ["2026-11-01 v2", "2026-11-02 v1"]
    assert values(version=1) == ["2026-11-01 v1", "2026-11-02 v1"]
    assert values(version=cut) == ["2026-11-01 v1", "2026-11-02 v1"]
    assert values(version="audited") == ["2026-11-01 v1"]
    assert values(version=2, partition_keys={"date": "2026-11-01"}) == ["2026-11-01 v2"]
    with pytest.raises(NotFoundError, match=r"no version 2 in partitions \['date=2026-11-02'\]"):
        scan(hold, version=2)


def test_mixed_parquet_and_arrow_partitions(hold: Cargohold) -> None:
    seed(hold, fmt_of=lambda day: "arrow" if day % 2 else "parquet")
    formats = [part.blob.format for part in scan(hold).parts]
    assert formats == ["arrow", "parquet", "arrow", "parquet"]
    out = scan(hold, columns=["id", "date"], filter=pc.field("amount") == 3.0).to_arrow()
    assert out.column("date").to_pylist()[0] == "2026-11-01"  # partition order kept
    assert set(out.column("date").to_pylist()) == {f"2026-11-0{d}" for d in range(1, 5)}
    assert out.num_rows == 4 * len([i for i in range(ROWS) if i % 97 == 3])


def test_bad_arguments(hold: Cargohold) -> None:
    seed(hold, days=1)
    with pytest.raises(InvalidArgumentError, match="are in no scanned partition"):
        scan(hold, columns=["nope"]).to_arrow()
    with pytest.raises(InvalidArgumentError, match="filter"):
        scan(hold, filter="id > 3")
    with pytest.raises(InvalidArgumentError, match="op one of"):
        scan(hold, filter=[("id", "~", 3)])
    with pytest.raises(InvalidArgumentError, match="version"):
        scan(hold, version=1.5)
    with pytest.raises(InvalidArgumentError, match="partition keys"):
        scan(hold, partition_keys={"region": "eu"})
    hold.catalog.create_dataset(dataset="numbers", partition_keys=["k"])
    hold.catalog.create_artifact(
        dataset="numbers", partitions={"k": "a"}, data={"value": hold.put(3)}
    )
    with pytest.raises(TypeMismatchError, match="only tables can be scanned"):
        ArtifactQuery.scan(dataset="numbers", catalog=hold.catalog, store=hold.store)
