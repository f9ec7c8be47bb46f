"""Benchmark DAG: 200 small XComs pushed by one task and pulled by the next."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

COUNT = 200


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def bench_small_xcoms() -> None:
    @task
    def push(**context: object) -> None:
        ti = context["ti"]
        for i in range(COUNT):
            ti.xcom_push(key=f"k{i}", value={"i": i, "name": f"item-{i}"})  # type: ignore[attr-defined]

    @task
    def pull(**context: object) -> int:
        ti = context["ti"]
        total = 0
        for i in range(COUNT):
            total += ti.xcom_pull(task_ids="push", key=f"k{i}")["i"]  # type: ignore[attr-defined]
        assert total == sum(range(COUNT))
        return total

    push() >> pull()


bench_small_xcoms()
