"""A task that fails after pushing an XCom: the run fails, downstream never runs."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def failing() -> None:
    @task
    def produce() -> list[int]:
        return [1, 2, 3]

    @task
    def explode(values: list[int], **context: object) -> int:
        context["ti"].xcom_push(key="partial", value={"seen": list(values)})  # type: ignore[attr-defined]
        raise ValueError("boom")

    @task
    def after(value: int) -> int:
        return value

    after(explode(produce()))


failing()
