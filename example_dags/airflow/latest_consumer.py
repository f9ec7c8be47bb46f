"""A consumer of the daily partitions: waits for the day's partition, then reads the latest.

``wait`` (``ArtifactSensor``, deferrable in production) waits until ``daily_sales`` has the
partition of this run's date; ``load`` reads two columns of it with ``LoadArtifactOperator``;
``latest`` asks the catalog, the Flyte Artifacts way, for the newest partition the producer task
wrote (``ArtifactQuery.get_latest``), whatever its date.
"""

from __future__ import annotations

import pandas as pd
import pendulum
from airflow.sdk import dag, task

from cargohold.airflow_provider.operators import LoadArtifactOperator
from cargohold.airflow_provider.sensors import ArtifactSensor
from cargohold.core.query import ArtifactQuery


@dag(schedule="@daily", start_date=pendulum.datetime(2026, 11, 1, tz="UTC"), catchup=False)
def latest_consumer() -> None:
    wait = ArtifactSensor(
        task_id="wait",
        dataset="daily_sales",
        partitions={"date": "{{ ds }}"},
        poke_interval=5,
        timeout=600,
        mode="reschedule",
    )
    load = LoadArtifactOperator(
        task_id="load",
        dataset="daily_sales",
        partitions={"date": "{{ ds }}"},
        columns=["region", "amount"],
    )

    @task
    def total(frame: pd.DataFrame) -> float:
        return float(frame["amount"].sum())

    @task
    def latest() -> dict[str, object]:
        found = ArtifactQuery.get_latest(dataset="daily_producer.report.return_value")
        if found is None:
            raise LookupError("the producer has not written any partition yet")
        frame = found.load(columns=["amount"])
        return {"date": found.partitions["date"], "version": found.version, "rows": len(frame)}

    wait >> load
    total(load.output)
    wait >> latest()


latest_consumer()
