"""Benchmark DAG: one task returns a 10,000,000-row DataFrame, the next one reads it."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pendulum
from airflow.sdk import dag, task

ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def bench_big_frame() -> None:
    @task
    def produce() -> pd.DataFrame:
        return pd.DataFrame({"id": np.arange(ROWS), "value": np.arange(ROWS) * 0.5})

    @task
    def consume(frame: pd.DataFrame) -> int:
        assert isinstance(frame, pd.DataFrame), type(frame)
        return len(frame)

    consume(produce())


bench_big_frame()
