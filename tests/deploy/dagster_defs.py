"""Dagster definitions for the deployment tier: daily partitioned sales (4 days), their totals
per region (both single-run range backfills, on the multiprocess executor) and an unpartitioned
summary that loads the whole range of totals downstream."""

import dagster as dg
import numpy as np
import pandas as pd

from cargohold.dagster_integration import CargoholdIOManager

DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-05")
ROWS_PER_DAY = 50_000
REGIONS = np.array(["eu", "us", "apac"])


def day_frame(day: str) -> pd.DataFrame:
    """The sales of ``day`` (deterministic: the test recomputes them)."""
    seed = int(day.replace("-", ""))
    ids = np.arange(ROWS_PER_DAY, dtype=np.int64)
    return pd.DataFrame(
        {
            "date": day,
            "region": REGIONS[(ids + seed) % 3],
            "amount": ((ids * 7 + seed) % 1000) * 0.5,
        }
    )


@dg.asset(
    partitions_def=DAYS,
    metadata={"cargohold/partition_column": "date"},
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def deploy_sales(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return pd.concat([day_frame(day) for day in context.partition_keys], ignore_index=True)


@dg.asset(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def deploy_region_totals(deploy_sales: dict[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    """Per day of the run, the total per region (one artifact per day)."""
    return {
        day: {str(k): float(v) for k, v in frame.groupby("region")["amount"].sum().items()}
        for day, frame in deploy_sales.items()
    }


@dg.asset
def deploy_summary(deploy_region_totals: dict[str, dict[str, float]]) -> dict[str, float]:
    """The whole range of daily totals, loaded in one step: the grand total per day."""
    return {day: round(sum(totals.values()), 2) for day, totals in deploy_region_totals.items()}


defs = dg.Definitions(
    assets=[deploy_sales, deploy_region_totals, deploy_summary],
    resources={"io_manager": CargoholdIOManager()},
    executor=dg.multiprocess_executor.configured({"max_concurrent": 2}),
)
