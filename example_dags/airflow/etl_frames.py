"""ETL with DataFrames passed between ``@task`` functions through cargohold's XCom backend.

Enable the backend (``AIRFLOW__CORE__XCOM_BACKEND=cargohold.airflow_provider.xcom.
CargoholdXComBackend``) and set ``CARGOHOLD_STORE_URL`` / ``CARGOHOLD_CATALOG_URL``: each frame
is written once to the store as Parquet, the XCom table holds a small reference, the next task
gets the DataFrame itself, and every value is a versioned catalog artifact with lineage.
"""

from __future__ import annotations

import pandas as pd
import pendulum
from airflow.sdk import dag, task

ROWS = 50_000


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def etl_frames() -> None:
    @task
    def extract() -> pd.DataFrame:
        """Raw orders: one row per order."""
        return pd.DataFrame(
            {
                "order_id": range(ROWS),
                "region": [("north", "south", "east", "west")[i % 4] for i in range(ROWS)],
                "amount": [float(i % 100) for i in range(ROWS)],
            }
        )

    @task
    def transform(orders: pd.DataFrame) -> pd.DataFrame:
        """Revenue per region."""
        return orders.groupby("region", as_index=False)["amount"].sum()

    @task
    def load(revenue: pd.DataFrame) -> dict[str, float]:
        """The summary a report would publish."""
        return {str(r.region): float(r.amount) for r in revenue.itertuples()}

    load(transform(extract()))


etl_frames()
