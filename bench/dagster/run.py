"""Benchmark: CargoholdIOManager against Dagster's FilesystemIOManager, in the same run.

1. Materialize a 10,000,000-row DataFrame asset and load it in a downstream asset
   (cargohold: Parquet/Arrow through the type engine + a catalog row; Filesystem: pickle).
2. Load 30 daily partitions in one downstream step: concurrently (max_concurrency=8) against one
   by one (max_concurrency=1), both through cargohold.

Candidates alternate within each repetition (the machine is shared), and the table shows
medians and ratios. Run: ``.venv/bin/python bench/dagster/run.py [--rows N] [--repeat R]``.
The partition loads read from moto's S3 server over HTTP (where concurrency matters); pass
``--local`` to read them from a local folder instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import dagster as dg

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from cargohold.dagster_integration import CargoholdIOManager  # noqa: E402

FRAME: dict[str, pd.DataFrame] = {}
DAILY = dg.DailyPartitionsDefinition(start_date="2026-10-01", end_date="2026-10-31")


def make_frame(rows: int) -> pd.DataFrame:
    """A realistic frame: ids, amounts, a low-cardinality string column, timestamps."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "amount": rng.uniform(0, 1000, rows),
            "region": pd.Categorical.from_codes(
                rng.integers(0, 8, rows), ["eu", "us", "apac", "latam", "mea", "cn", "in", "jp"]
            ).astype(str),
            "ts": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**9, rows), "s"),
        }
    )


@dg.asset
def big() -> pd.DataFrame:
    return FRAME["big"]


@dg.asset
def big_rows(big: pd.DataFrame) -> int:
    return len(big)


@dg.asset(partitions_def=DAILY)
def day_part() -> pd.DataFrame:
    return FRAME["day"]


@dg.asset(ins={"day_part": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())})
def month(day_part: dict[str, pd.DataFrame]) -> int:
    return sum(len(frame) for frame in day_part.values())


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(assets: list[Any], manager: Any, **kwargs: Any) -> None:
    result = dg.materialize(assets, resources={"io_manager": manager}, **kwargs)
    assert result.success


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--day-rows", type=int, default=200_000)
    parser.add_argument("--local", action="store_true", help="partitions on a local folder")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    FRAME["big"] = make_frame(args.rows)
    FRAME["day"] = make_frame(args.day_rows)
    tmp = Path(tempfile.mkdtemp(prefix="cargohold-bench-dagster-"))
    instance = dg.DagsterInstance.ephemeral()
    times: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    catalog = f"sqlite:///{tmp}/catalog.db"
    candidates = {
        "cargohold parquet": CargoholdIOManager(
            store_url=f"file://{tmp}/parquet", catalog_url=catalog, table_format="parquet"
        ),
        "cargohold arrow": CargoholdIOManager(
            store_url=f"file://{tmp}/arrow", catalog_url=catalog, table_format="arrow"
        ),
        "FilesystemIOManager": dg.FilesystemIOManager(base_dir=str(tmp / "fs")),
    }
    for _ in range(args.repeat):
        for name, manager in candidates.items():
            record(
                f"10M rows: {name}",
                timed(lambda m=manager: run([big, big_rows], m, instance=instance)),
            )

    from tests.support.services import moto_s3

    with moto_s3(separate_process=True) as server:
        if args.local:
            store, options = f"file://{tmp}/parts", None
        else:
            store, options = f"s3://{server.create_bucket()}/parts", json.dumps(server.options())
        parts_catalog = f"sqlite:///{tmp}/parts.db"
        writer = CargoholdIOManager(
            store_url=store, store_options=options, catalog_url=parts_catalog
        )
        for key in DAILY.get_partition_keys():
            run([day_part], writer, partition_key=key, instance=instance)
        readers = {
            "30 partitions: concurrent (8)": CargoholdIOManager(
                store_url=store, store_options=options, catalog_url=parts_catalog, max_concurrency=8
            ),
            "30 partitions: one by one": CargoholdIOManager(
                store_url=store, store_options=options, catalog_url=parts_catalog, max_concurrency=1
            ),
        }
        for _ in range(args.repeat):
            for name, manager in readers.items():
                record(
                    name,
                    timed(
                        lambda m=manager: run(
                            [day_part, month], m, selection=[month], instance=instance
                        )
                    ),
                )

    medians = {name: statistics.median(values) for name, values in times.items()}
    fs = medians["10M rows: FilesystemIOManager"]
    one_by_one = medians["30 partitions: one by one"]
    print(f"\n{'case':44} {'median s':>9} {'ratio':>8}  runs")
    for name, median in medians.items():
        base = fs if name.startswith("10M") else one_by_one
        ratio = base / median
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:44} {median:9.2f} {ratio:7.2f}x  [{runs}]")
    print(
        f"\nrows={args.rows:,} repeat={args.repeat} day_rows={args.day_rows:,} "
        f"partitions on {'local disk' if args.local else 'moto S3 over HTTP'}; "
        f"ratio = baseline median / candidate median (higher is faster)"
    )


if __name__ == "__main__":
    main()
