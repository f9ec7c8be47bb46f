"""Mapped tasks and a gather, a branch, and a retry that succeeds on try 2."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def deploy_features() -> None:
    @task
    def square(x: int) -> int:
        return x * x

    @task
    def total(values: list[int]) -> int:
        values = list(values)
        assert all(isinstance(v, int) for v in values), values
        return sum(values)

    @task.branch
    def choose(value: int) -> str:
        return "big" if value > 50 else "small"

    @task
    def big(value: int) -> str:
        return f"big:{value}"

    @task
    def small(value: int) -> str:
        return f"small:{value}"

    @task(retries=1, retry_delay=timedelta(seconds=1))
    def flaky(**context: object) -> int:
        ti = context["ti"]
        if ti.try_number == 1:  # type: ignore[attr-defined]
            raise RuntimeError("the first try fails on purpose")
        return int(ti.try_number)  # type: ignore[attr-defined]

    summed = total(square.expand(x=[1, 2, 3, 4, 5]))
    choose(summed) >> [big(summed), small(summed)]
    flaky()


deploy_features()
