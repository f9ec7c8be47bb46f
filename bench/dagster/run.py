"""Benchmark: CargoholdIOManager against Dagster's FilesystemIOManager, in the same run.

1. Materialize a 10,000,000-row DataFrame asset and load it in a downstream asset
   (cargohold with its defaults: Arrow IPC on this local store, a catalog row per version, the
   load a verified copy-on-write memory map; Filesystem: pickle, overwriting one file). Each
   repetition materializes a frame with new content, so the content-addressed store writes it
   in full every time. ``--with-parquet`` adds cargohold with ``table_format="parquet"``.

   This machine is a Firecracker VM with free page reporting: memory the guest freed more
   than ~2 s ago has been handed back to the host, and touching it again costs ~2.3 s/GB
   (``/proc/cmdline``: page_reporting.page_reporting_order). A write that grows the page cache
   pays that; an overwrite (FilesystemIOManager) frees its old pages and reuses them. cargohold
   keeps every version on disk but releases the superseded version's cached pages before it
   writes the new one (``Store.release_cache``), so a re-materialization reuses them too.
   Alternating candidates hands one candidate's freed memory to the next, so ``--blocks``
   also times each candidate's repetitions back to back, in its own steady state.
2. Load 30 daily partitions in one downstream step: concurrently (max_concurrency=8) against one
   by one (max_concurrency=1), both through cargohold; timed from the step's start to its
   LOADED_INPUT event, from moto's S3 on loopback (about 1 ms per request, CPU-bound on two
   cores) and through bench/support/latency_proxy.py adding a 20 ms round trip, as a real
   object store has (where concurrency is meant to help).

Candidates alternate within each repetition (the machine is shared), and the table shows
medians and ratios. Run: ``.venv/bin/python bench/dagster/run.py [--rows N] [--repeat R]``.
Pass ``--local`` to read the partitions from a local folder instead.
"""

from __future__ import annotations

import argparse
import atexit
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

import dagster as dg
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.support.latency_proxy import start_proxy  # noqa: E402
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


def load_seconds(instance: dg.DagsterInstance, result: Any) -> float:
    """Seconds the ``month`` step spent loading its input: STEP_START to LOADED_INPUT."""
    started = loaded = None
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None or event.step_key != "month":
            continue
        if event.event_type_value == "STEP_START":
            started = entry.timestamp
        elif event.event_type_value == "LOADED_INPUT":
            loaded = entry.timestamp
    if started is None or loaded is None:
        raise RuntimeError("the month step logged no STEP_START or LOADED_INPUT event")
    return float(loaded - started)


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
    parser.add_argument(
        "--tmp",
        default=None,
        help="where the stores live (default: the system temp dir; /dev/shm keeps the kernel's "
        "dirty-page writeback, which stalls 400 MB writes at random, out of the comparison)",
    )
    parser.add_argument("--skip-partitions", action="store_true")
    parser.add_argument(
        "--blocks",
        action="store_true",
        help="run each candidate's 10M-row repetitions back to back instead of alternating "
        "(each then reuses its own freed memory; see the docstring)",
    )
    parser.add_argument(
        "--with-parquet",
        action="store_true",
        help="also time cargohold with table_format='parquet' (its 10M-row decode allocates "
        "fresh memory, which slows whichever run comes next on a VM; see the docstring)",
    )
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=20.0,
        help="also read the partitions through a proxy adding this round trip (0: off)",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    FRAME["big"] = make_frame(args.rows)
    FRAME["day"] = make_frame(args.day_rows)
    tmp = Path(tempfile.mkdtemp(prefix="cargohold-bench-dagster-", dir=args.tmp))
    instance = dg.DagsterInstance.ephemeral()
    times: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        times.setdefault(name, []).append(seconds)

    catalog = f"sqlite:///{tmp}/catalog.db"
    candidates: dict[str, Any] = {
        "cargohold (default: Arrow IPC here)": CargoholdIOManager(
            store_url=f"file://{tmp}/auto", catalog_url=catalog
        ),
        "FilesystemIOManager": dg.FilesystemIOManager(base_dir=str(tmp / "fs")),
    }
    if args.with_parquet:
        candidates["cargohold parquet"] = CargoholdIOManager(
            store_url=f"file://{tmp}/parquet", catalog_url=catalog, table_format="parquet"
        )
    base = FRAME["big"]
    if args.blocks:  # each candidate's repetitions back to back: its own steady state
        order = [(rep, name) for name in candidates for rep in range(args.repeat)]
    else:
        order = [(rep, name) for rep in range(args.repeat) for name in candidates]
    for repetition, name in order:
        # New content every repetition: a content-addressed store must not get to skip the
        # write of a frame it already holds (FilesystemIOManager rewrites it regardless).
        FRAME["big"] = base.assign(id=base["id"] + repetition * args.rows)
        manager = candidates[name]
        record(
            f"10M rows: {name}",
            timed(lambda m=manager: run([big, big_rows], m, instance=instance)),
        )

    if not args.skip_partitions:
        partition_loads(args, tmp, instance, record)
    report(times, args)


def partition_loads(
    args: Any, tmp: Path, instance: Any, record: Callable[[str, float], None]
) -> None:
    """Load 30 daily partitions concurrently and one by one, per endpoint (see the docstring)."""
    from tests.support.services import moto_s3

    with moto_s3(separate_process=True) as server:
        bucket = server.create_bucket()
        parts_catalog = f"sqlite:///{tmp}/parts.db"
        if args.local:
            endpoints = {"local disk": None}
        else:
            endpoints = {"moto S3": server.endpoint_url}
            if args.rtt_ms > 0:
                proxy, endpoints[f"S3 at {args.rtt_ms:g} ms RTT"] = start_proxy(
                    server.endpoint_url, args.rtt_ms / 2
                )
                atexit.register(proxy.terminate)

        def manager(endpoint: str | None, concurrency: int) -> CargoholdIOManager:
            if endpoint is None:
                return CargoholdIOManager(
                    store_url=f"file://{tmp}/parts",
                    catalog_url=parts_catalog,
                    max_concurrency=concurrency,
                )
            options = dict(server.options())
            options["client_kwargs"] = {"endpoint_url": endpoint, "region_name": "us-east-1"}
            return CargoholdIOManager(
                store_url=f"s3://{bucket}/parts",
                store_options=json.dumps(options),
                catalog_url=parts_catalog,
                max_concurrency=concurrency,
            )

        writer = manager(next(iter(endpoints.values())), 1)
        for key in DAILY.get_partition_keys():
            run([day_part], writer, partition_key=key, instance=instance)
        for _ in range(args.repeat):
            for where, endpoint in endpoints.items():
                for label, concurrency in (("concurrent (8)", 8), ("one by one", 1)):
                    result = dg.materialize(
                        [day_part, month],
                        resources={"io_manager": manager(endpoint, concurrency)},
                        selection=[month],
                        instance=instance,
                    )
                    assert result.success
                    record(f"30 partitions, {where}: {label}", load_seconds(instance, result))


def report(times: dict[str, list[float]], args: Any) -> None:
    """Print medians and ratios."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    fs = medians["10M rows: FilesystemIOManager"]
    print(f"\n{'case':50} {'median s':>9} {'ratio':>8}  runs")
    for name, median in medians.items():
        base = fs if name.startswith("10M") else medians[name.rsplit(":", 1)[0] + ": one by one"]
        ratio = base / median
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"{name:50} {median:9.2f} {ratio:7.2f}x  [{runs}]")
    print(
        f"\nrows={args.rows:,} repeat={args.repeat} day_rows={args.day_rows:,} "
        f"rtt_ms={args.rtt_ms:g}; partition times are the loading of the 30 inputs (the step's "
        f"STEP_START to LOADED_INPUT); ratio = baseline median / candidate median (higher is "
        f"faster)"
    )


if __name__ == "__main__":
    main()
