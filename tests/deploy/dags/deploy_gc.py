"""A DAG whose one task returns a frame large enough to be offloaded to the store as a blob
(fresh random values each run, so every run's blob is its own): the clean-up test deletes runs
and XComs through Airflow and checks that ``cargohold gc`` frees exactly those blobs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pendulum
from airflow.sdk import dag, task

ROWS = 20_000


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def deploy_gc() -> None:
    @task
    def produce() -> pd.DataFrame:
        return pd.DataFrame({"v": np.random.default_rng().random(ROWS)})

    produce()


deploy_gc()
