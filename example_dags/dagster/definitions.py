"""Dagster definitions using cargohold: daily partitioned assets and a downstream asset that
reads a range of partitions.

Copy this file and point the resources at your store and catalog (or set ``CARGOHOLD_STORE_URL``,
``CARGOHOLD_STORE_OPTIONS``, ``CARGOHOLD_CATALOG_URL``; lineage goes wherever ``OPENLINEAGE_URL``
says). ``dagster dev -f definitions.py`` shows them.

* ``daily_sales``: one Parquet artifact per day, catalog dataset ``daily_sales`` with partition key
  ``date``; every materialization is a new version. A single-run backfill over a range splits the
  frame by its ``date`` column (``cargohold/partition_column``).
* ``region_totals``: per day, reads only two columns of that day's sales (a range run loads
  the days as a dict and returns a dict keyed by day: one artifact per day).
* ``weekly_report``: reads the last 7 days of ``daily_sales`` in one run, loaded concurrently
  into a dict keyed by date; days not materialized yet are skipped.
* ``sales_job``: both daily assets, on the multiprocess executor.

Outside a run (a notebook, a script), Dagster's own loader reads the same values::

    defs.load_asset_value("daily_sales", partition_key="2026-11-01")

Downstream, anyone can query the catalog::

    ArtifactQuery.get_latest(dataset="daily_sales", partition_keys={"date": "2026-11-02"})
"""

import dagster as dg
import numpy as np
import pandas as pd

from cargohold.dagster_integration import CargoholdIOManager, CargoholdResource

DAILY = dg.DailyPartitionsDefinition(start_date="2026-11-01", end_date="2026-12-01")
REGIONS = ["eu", "us", "apac"]


@dg.asset(
    partitions_def=DAILY,
    metadata={"cargohold/partition_column": "date"},
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def daily_sales(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """Sales of each day in the run's partitions (one or a range)."""
    frames = []
    for day in context.partition_keys:
        rng = np.random.default_rng(int(day.replace("-", "")))
        frames.append(
            pd.DataFrame(
                {
                    "date": day,
                    "region": rng.choice(REGIONS, size=1000),
                    "amount": rng.uniform(1, 100, size=1000).round(2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@dg.asset(
    partitions_def=DAILY,
    ins={"daily_sales": dg.AssetIn(metadata={"columns": ["region", "amount"]})},
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def region_totals(daily_sales: dict[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    """Totals per region of each day of the run, keyed by day (one artifact per day); reads
    only two columns of each day's sales."""
    out = {}
    for day, frame in daily_sales.items():
        totals = frame.groupby("region")["amount"].sum().round(2)
        out[day] = {str(region): float(total) for region, total in totals.items()}
    return out


@dg.asset(
    ins={
        "daily_sales": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-6),
            metadata={"allow_missing_partitions": True, "columns": ["amount"]},
        )
    },
    partitions_def=DAILY,
)
def weekly_report(daily_sales: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Revenue of the 7 days ending on the partition's day (missing days are skipped)."""
    return pd.DataFrame(
        {"date": list(daily_sales), "revenue": [f["amount"].sum() for f in daily_sales.values()]}
    )


sales_job = dg.define_asset_job(
    "sales_job",
    selection=[daily_sales, region_totals],
    partitions_def=DAILY,
    executor_def=dg.multiprocess_executor,
)

# one line replaces FilesystemIOManager(); unset fields come from CARGOHOLD_* variables
io_manager = CargoholdIOManager()

defs = dg.Definitions(
    assets=[daily_sales, region_totals, weekly_report],
    jobs=[sales_job],
    resources={
        "io_manager": io_manager,
        "cargohold": CargoholdResource.of(io_manager),  # the same store and catalog
    },
)
