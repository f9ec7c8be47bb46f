"""A daily partitioned producer: each run writes the partition of its logical date.

``report`` declares ``partition_by_date`` (below ``@task``), so its XCom artifacts land in the
dataset ``daily_producer.report.return_value`` partitioned by ``date``; the publish step also
records the report under the curated dataset ``daily_sales`` (partition ``date``), moves its
``latest`` tag, and emits an asset event whose ``extra`` carries the artifact's uri and version.
With an Airflow partitioned timetable (``CronPartitionTimetable``) the run's partition key is
used instead of the logical date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pendulum
from airflow.sdk import Asset, dag, task

from cargohold.airflow_provider.operators import PublishArtifactOperator
from cargohold.core.catalog import partition_by_date

DAILY_SALES = Asset("cargohold://default/development/daily_sales")


@dag(schedule="@daily", start_date=pendulum.datetime(2026, 11, 1, tz="UTC"), catchup=False)
def daily_producer() -> None:
    @task
    @partition_by_date(key="date")
    def report(ds: str | None = None) -> pd.DataFrame:
        """The day's sales: 1000 orders, each with its region and amount (the same schema as
        the Dagster example's ``daily_sales``, so either orchestrator can produce it); every
        region sells every day, in proportions that vary from day to day."""
        day = pd.Timestamp(ds).date().isoformat()
        rng = np.random.default_rng(int(day.replace("-", "")))
        orders = 1000
        weights = rng.dirichlet([4.0, 3.0, 2.0])
        return pd.DataFrame(
            {
                "date": day,
                "region": rng.choice(["eu", "us", "apac"], size=orders, p=weights),
                "amount": rng.lognormal(mean=3.5, sigma=0.6, size=orders).round(2),
            }
        )

    publish = PublishArtifactOperator(
        task_id="publish",
        dataset="daily_sales",
        value=report(),
        partitions={"date": "{{ ds }}"},
        move_tags=["latest"],
        metadata={"owner": "analytics"},
        outlets=[DAILY_SALES],
    )
    publish  # noqa: B018


daily_producer()
