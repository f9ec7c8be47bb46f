"""Benchmark: store size under retention. 7 daily partitions of a DataFrame asset, each
rematerialized 4 times (new content every time, so nothing deduplicates), through
CargoholdIOManager with ``retention_keep_last=1`` and through Dagster's FilesystemIOManager
(which overwrites one pickle per partition), in the same run. cargohold's store is measured
before and after ``cargohold gc --apply --grace-hours 0`` (retention, then blob collection);
the catalog database is reported apart. Prints both sizes and the ratio.

Run: ``.venv/bin/python bench/retention.py [--rows N] [--rounds R]``.
"""

import argparse
import io
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cargohold.cli.main import main as cargohold_cli  # noqa: E402
from cargohold.dagster_integration import CargoholdIOManager  # noqa: E402

DAYS = [f"2026-11-{day:02d}" for day in range(1, 8)]


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _asset(rows: int) -> Any:
    partitions = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-11-08")

    @dg.asset(partitions_def=partitions)
    def daily(context: dg.AssetExecutionContext) -> pd.DataFrame:
        rng = np.random.default_rng()
        return pd.DataFrame(
            {
                "id": np.arange(rows, dtype=np.int64),
                "value": rng.random(rows),
                "day": context.partition_key,
            }
        )

    return daily


def _run(manager: Any, asset: Any, rounds: int) -> None:
    instance = dg.DagsterInstance.ephemeral()
    for _ in range(rounds):
        for day in DAYS:
            result = dg.materialize(
                [asset],
                partition_key=day,
                resources={"io_manager": manager},
                instance=instance,
                raise_on_error=True,
            )
            assert result.success


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as name:
        tmp = Path(name)
        asset = _asset(args.rows)
        store = tmp / "cargohold" / "store"
        catalog = tmp / "cargohold" / "catalog.db"
        cargohold = CargoholdIOManager(
            store_url=store.as_uri(),
            catalog_url=f"sqlite:///{catalog}",
            retention_keep_last=1,
        )
        _run(cargohold, asset, args.rounds)
        _run(dg.FilesystemIOManager(base_dir=str(tmp / "fs")), asset, args.rounds)
        before = _size(store)
        os.environ.update(
            CARGOHOLD_STORE_URL=store.as_uri(), CARGOHOLD_CATALOG_URL=f"sqlite:///{catalog}"
        )
        out, err = io.StringIO(), io.StringIO()
        code = cargohold_cli(["gc", "--apply", "--grace-hours", "0"], stdout=out, stderr=err)
        assert code == 0, err.getvalue()
        after = _size(store)
        filesystem = _size(tmp / "fs")
        catalog_size = catalog.stat().st_size
    mib = 1 << 20
    print(f"{len(DAYS)} daily partitions x {args.rounds} materializations, {args.rows} rows each")
    print(out.getvalue().strip())
    print(f"{'':34}{'MiB':>10}")
    print(f"{'cargohold store before gc':34}{before / mib:>10.1f}")
    print(f"{'cargohold store after gc':34}{after / mib:>10.1f}")
    print(f"{'FilesystemIOManager':34}{filesystem / mib:>10.1f}")
    print(f"{'catalog database (not counted)':34}{catalog_size / mib:>10.1f}")
    print(f"ratio cargohold after gc / FilesystemIOManager: {after / filesystem:.2f}x")


if __name__ == "__main__":
    main()
