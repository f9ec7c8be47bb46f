"""A partitioned producer and a consumer that waits for its partition with a deferrable sensor.

``deploy_producer`` writes the partition ``region=<params.region>`` of the catalog dataset
``deploy_producer.produce.return_value``; ``deploy_consumer`` defers (in the triggerer) until
that partition exists, then loads two of its columns.
"""

from __future__ import annotations

import pandas as pd
import pendulum
from airflow.sdk import dag, task

from cargohold.airflow_provider.operators import LoadArtifactOperator
from cargohold.airflow_provider.sensors import ArtifactSensor
from cargohold.core.catalog import partition_by_key

DATASET = "deploy_producer.produce.return_value"
START = pendulum.datetime(2026, 1, 1, tz="UTC")


@dag(schedule=None, start_date=START, catchup=False, params={"region": "eu"})
def deploy_producer() -> None:
    @task
    @partition_by_key(key="region")
    def produce(**context: object) -> pd.DataFrame:
        region = str(context["params"]["region"])  # type: ignore[index]
        return pd.DataFrame(
            {"region": [region] * 5000, "amount": [i * 0.5 for i in range(5000)], "n": 1}
        )

    produce()


@dag(schedule=None, start_date=START, catchup=False, params={"region": "eu"})
def deploy_consumer() -> None:
    wait = ArtifactSensor(
        task_id="wait",
        dataset=DATASET,
        partitions={"region": "{{ params.region }}"},
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )
    load = LoadArtifactOperator(
        task_id="load",
        dataset=DATASET,
        partitions={"region": "{{ params.region }}"},
        columns=["region", "amount"],
    )

    @task
    def summary(frame: pd.DataFrame) -> dict[str, object]:
        return {
            "columns": list(frame.columns),
            "rows": len(frame),
            "regions": sorted(set(frame["region"])),
            "amount": float(frame["amount"].sum()),
        }

    wait >> load
    summary(load.output)


deploy_producer()
deploy_consumer()
