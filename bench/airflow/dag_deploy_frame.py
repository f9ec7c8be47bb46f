"""Benchmark DAG for a real deployment: ``produce`` returns a frame of ``params.rows`` rows
(int64, float64, int64, str, timestamp columns, as bench/roundtrip.py), ``consume`` reads it.

The run's conf sets the row count (``{"rows": 10000000}``; the 1-row baseline is the same DAG
with ``{"rows": 1}``) and the random seed (each run a new one, so no run finds its bytes already
stored by an earlier one: cargohold's content-addressed store would skip the write). Each task
records how long its own code took (building the frame; the consumer's check) through
:mod:`bench.airflow.timed_xcom`, so the bench can tell that time apart from the XCom backend's.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pendulum
from airflow.sdk import Param, dag, get_current_context, task

LABELS = ["alpha", "beta", "gamma", "delta"]


def make_frame(rows: int, seed: int = 42) -> pd.DataFrame:
    """``rows`` rows: id int64, value float64, count int64, label str (Arrow-backed), at
    timestamp; ~43 bytes a row (10M rows ~430 MB in memory)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    labels = pa.array(LABELS).take(pa.array(rng.integers(0, len(LABELS), rows, dtype="int32")))
    label = pd.arrays.ArrowStringArray(labels, dtype=pd.StringDtype("pyarrow", na_value=np.nan))
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "value": rng.random(rows),
            "count": rng.integers(0, 1000, rows, dtype="int64"),
            "label": pd.Series(label),
            "at": pd.date_range("2026-01-01", periods=rows, freq="s"),
        },
        copy=False,
    )


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"rows": Param(1, type="integer", minimum=1), "seed": Param(42, type="integer")},
)
def bench_deploy_frame() -> None:
    @task
    def produce() -> pd.DataFrame:
        from bench.airflow.timed_xcom import record

        started = time.perf_counter()
        params = get_current_context()["params"]
        frame = make_frame(int(params["rows"]), int(params["seed"]))
        record("build", time.perf_counter() - started)
        return frame

    @task
    def consume(frame: pd.DataFrame) -> dict[str, int]:
        from bench.airflow.timed_xcom import record

        started = time.perf_counter()
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"expected a DataFrame, got {type(frame)}")
        result = {"rows": len(frame), "id_sum": int(frame["id"].sum())}
        record("check", time.perf_counter() - started)
        return result

    consume(produce())


bench_deploy_frame()
