"""Exercises the XCom backend: frames, mapped tasks, several task ids, branching, a retry."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pendulum
from airflow.sdk import dag, task

ROWS = 20_000  # well above the 64 KiB inline limit: offloaded to the store


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def xcom_features() -> None:
    @task
    def make_frame() -> pd.DataFrame:
        return pd.DataFrame({"id": range(ROWS), "score": [i * 0.5 for i in range(ROWS)]})

    @task
    def small() -> dict[str, object]:
        return {"answer": 42, "tags": ["a", "b"]}

    @task
    def square(x: int) -> int:
        return x * x

    @task
    def total(values: list[int]) -> int:
        values = list(values)
        assert all(isinstance(v, int) for v in values), values
        return sum(values)

    @task(retries=1, retry_delay=timedelta(seconds=0))
    def flaky(frame: pd.DataFrame, **context: object) -> pd.DataFrame:
        ti = context["ti"]
        if ti.try_number == 1:  # type: ignore[attr-defined]
            raise RuntimeError("first try fails on purpose")
        return frame.head(100)

    @task
    def pull_many(**context: object) -> list[str]:
        ti = context["ti"]
        got = ti.xcom_pull(task_ids=["make_frame", "small"])  # type: ignore[attr-defined]
        frame, info = got
        assert isinstance(frame, pd.DataFrame), type(frame)
        assert len(frame) == ROWS
        assert info == {"answer": 42, "tags": ["a", "b"]}, info
        return [type(frame).__name__, type(info).__name__]

    @task.branch
    def choose(frame: pd.DataFrame) -> str:
        assert isinstance(frame, pd.DataFrame), type(frame)
        return "big" if len(frame) >= ROWS else "tiny"

    @task
    def big(frame: pd.DataFrame) -> float:
        return float(frame["score"].sum())

    @task
    def tiny() -> str:
        return "tiny"

    @task
    def check_retry(frame: pd.DataFrame) -> int:
        assert isinstance(frame, pd.DataFrame)
        return len(frame)

    frame = make_frame()
    info = small()
    total(square.expand(x=[1, 2, 3, 4]))
    check_retry(flaky(frame))
    [frame, info] >> pull_many()
    chosen = choose(frame)
    chosen >> [big(frame), tiny()]


xcom_features()
