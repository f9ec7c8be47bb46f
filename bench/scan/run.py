"""A year of daily partitions read as one table: ``ArtifactQuery.scan`` against its peers.

    python bench/scan/run.py [--days 365] [--rows 100000] [--repeats 7] [--spellings filter]

The dataset ``daily_sales`` has ``--days`` partitions (``date``), each ``--rows`` rows of five
columns (``day`` date32, ``store`` int32, ``product`` int32, ``quantity`` int32, ``amount``
float64) stored by cargohold as Parquet on a local store with a SQLite catalog. The query reads
two of the five columns (``store``, ``amount``) of the rows of one range of days
(``--range-days`` days), in two spellings:

* **filter**: the day range as a row filter on ``day``; the readers must find the matching
  files themselves (cargohold and DuckDB by row-group statistics, the per-partition loop reads
  every partition and filters after ``pd.concat``);
* **partitions**: the day range as a partition range (``partition_keys={"date": Range(...)}``);
  every reader reads only the matching partitions (the loop calls ``get_latest`` per day of the
  range, DuckDB reads only those files).

Readers, each ending in a pandas DataFrame:

* ``scan``: ``ArtifactQuery.scan(...).to_pandas()`` (every byte read verified);
* ``get_latest+concat``: ``ArtifactQuery.get_latest(...).load(columns=...)`` per partition, then
  ``pd.concat`` (and the filter, for the filter spelling);
* ``duckdb``: DuckDB's ``read_parquet`` over the same blob files with the same projection and
  filter, ``.df()`` (reads unverified bytes; knows nothing of the catalog).

Each round runs every reader once, in a rotating order; the figures are medians over the
rounds. Data generation is vectorised (numpy) and the blobs are written on a thread pool.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cargohold.core.catalog import Range  # noqa: E402
from cargohold.core.hold import Cargohold  # noqa: E402
from cargohold.core.query import ArtifactQuery  # noqa: E402

DATASET = "daily_sales"
FIRST = date(2026, 1, 1)


def day_table(day: date, rows: int) -> pa.Table:
    """One day of sales, from a generator seeded by the day (fast: numpy, no Python loops)."""
    rng = np.random.default_rng(day.toordinal())
    return pa.table(
        {
            "day": pa.array(np.full(rows, day, dtype="datetime64[D]")),
            "store": pa.array(rng.integers(0, 500, rows, dtype=np.int32)),
            "product": pa.array(rng.integers(0, 20_000, rows, dtype=np.int32)),
            "quantity": pa.array(rng.integers(1, 10, rows, dtype=np.int32)),
            "amount": pa.array(rng.gamma(2.0, 15.0, rows)),
        }
    )


def seed(hold: Cargohold, *, days: int, rows: int) -> list[str]:
    """Write the dataset; returns the local paths of the blobs, in day order."""
    catalog = hold.catalog
    catalog.create_dataset(dataset=DATASET, partition_keys=["date"])
    dates = [FIRST + timedelta(days=i) for i in range(days)]
    # The first put alone: the type engine registers its transformers on first use, and two
    # threads racing there can miss the table transformer.
    literals = [hold.put(day_table(dates[0], rows))]
    with ThreadPoolExecutor(max_workers=2) as pool:
        literals += pool.map(lambda d: hold.put(day_table(d, rows)), dates[1:])
    for day, literal in zip(dates, literals, strict=True):
        catalog.create_artifact(
            dataset=DATASET, partitions={"date": day.isoformat()}, data={"value": literal}
        )
    return [hold.store.local_path(lit.blob.uri) for lit in literals if lit.blob is not None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--range-days", type=int, default=31, help="days the query reads")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--spellings", default="filter,partitions", help="which spellings to run (comma-separated)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cargohold-bench-scan-") as tmp:
        hold = Cargohold(
            store_url=Path(tmp, "store").as_uri(),
            catalog_url=f"sqlite:///{tmp}/catalog.db",
            table_format="parquet",
        )
        started = time.perf_counter()
        paths = seed(hold, days=args.days, rows=args.rows)
        seeded = time.perf_counter() - started
        size = sum(os.path.getsize(p) for p in paths)
        print(
            f"seeded {args.days} partitions x {args.rows:,} rows ({size / 2**20:.0f} MiB "
            f"Parquet) in {seeded:.1f} s; cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}"
        )
        lo = FIRST + timedelta(days=max(0, (args.days - args.range_days) // 2))
        hi = lo + timedelta(days=args.range_days - 1)
        in_range = [p for i, p in enumerate(paths) if lo <= FIRST + timedelta(days=i) <= hi]
        columns = ["store", "amount"]
        day_filter = (pc.field("day") >= pa.scalar(lo)) & (pc.field("day") <= pa.scalar(hi))
        where = f"day BETWEEN DATE '{lo}' AND DATE '{hi}'"
        catalog, store = hold.catalog, hold.store
        dates = [FIRST + timedelta(days=i) for i in range(args.days)]
        range_dates = [d for d in dates if lo <= d <= hi]
        part_range = {"date": Range(ge=lo, le=hi)}

        def scan_filter() -> pd.DataFrame:
            return ArtifactQuery.scan(
                dataset=DATASET, catalog=catalog, store=store, columns=columns, filter=day_filter
            ).to_pandas()

        def scan_partitions() -> pd.DataFrame:
            return ArtifactQuery.scan(
                dataset=DATASET,
                catalog=catalog,
                store=store,
                columns=columns,
                partition_keys=part_range,
            ).to_pandas()

        def loop(days: list[date], *, filtered: bool) -> pd.DataFrame:
            wanted = ["day", *columns] if filtered else columns
            frames = []
            for day in days:
                found = ArtifactQuery.get_latest(
                    dataset=DATASET, partition_keys={"date": day}, catalog=catalog, hold=hold
                )
                assert found is not None
                frames.append(found.load(as_type=pd.DataFrame, columns=wanted))
            frame = pd.concat(frames, ignore_index=True)
            if filtered:
                day_col = pd.to_datetime(frame["day"])
                keep = (day_col >= pd.Timestamp(lo)) & (day_col <= pd.Timestamp(hi))
                frame = frame.loc[keep, columns].reset_index(drop=True)
            return frame

        def duck(files: list[str], sql_where: str | None) -> pd.DataFrame:
            con = duckdb.connect()
            try:
                query = f"SELECT store, amount FROM read_parquet({files!r})"
                if sql_where:
                    query += f" WHERE {sql_where}"
                return con.sql(query).df()
            finally:
                con.close()

        cases: dict[str, dict[str, Callable[[], pd.DataFrame]]] = {
            "filter": {
                "scan": scan_filter,
                "get_latest+concat": lambda: loop(dates, filtered=True),
                "duckdb": lambda: duck(paths, where),
            },
            "partitions": {
                "scan": scan_partitions,
                "get_latest+concat": lambda: loop(range_dates, filtered=False),
                "duckdb": lambda: duck(in_range, None),
            },
        }
        expected_rows = len(range_dates) * args.rows
        chosen = [name.strip() for name in args.spellings.split(",") if name.strip()]
        for spelling, readers in ((name, cases[name]) for name in chosen):
            times: dict[str, list[float]] = {name: [] for name in readers}
            names = list(readers)
            for name in names:  # warm the page cache and check the answers agree
                frame = readers[name]()
                assert len(frame) == expected_rows, (spelling, name, len(frame))
                assert list(frame.columns) == columns
            for round_ in range(args.repeats):
                order = names[round_ % len(names) :] + names[: round_ % len(names)]
                for name in order:
                    began = time.perf_counter()
                    readers[name]()
                    times[name].append(time.perf_counter() - began)
            medians = {name: statistics.median(values) for name, values in times.items()}
            print(
                f"\n{spelling}: {args.range_days} of {args.days} days, columns {columns}, "
                f"{expected_rows:,} rows; medians of {args.repeats} (load "
                f"{os.getloadavg()[0]:.1f})"
            )
            for name, value in medians.items():
                spread = f"{min(times[name]) * 1e3:.0f}-{max(times[name]) * 1e3:.0f}"
                print(f"  {name:<20} {value * 1e3:8.1f} ms  (range {spread} ms)")
            base = medians["scan"]
            print(
                f"  get_latest+concat / scan = {medians['get_latest+concat'] / base:.2f}x  "
                f"(target >= 5x)"
            )
            print(f"  scan / duckdb            = {base / medians['duckdb']:.2f}x  (target <= 1.3x)")
        probe = ArtifactQuery.scan(
            dataset=DATASET, catalog=catalog, store=store, columns=columns, filter=day_filter
        )
        probe.to_arrow()
        stats = probe.stats
        print(
            f"\nscan (filter) fetched {stats.bytes_read / 2**20:.1f} MiB of {size / 2**20:.0f} "
            f"MiB: {stats.row_groups_read} row groups, {stats.chunks_read} column chunks, "
            f"{stats.blobs_opened} footers/blobs opened"
        )
        hold.catalog.close()


if __name__ == "__main__":
    main()
