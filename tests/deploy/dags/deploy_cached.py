"""A cached task: a second run returns the first run's value without computing it."""

from __future__ import annotations

import uuid

import pendulum
from airflow.sdk import dag, task

from cargohold.airflow_provider.caching import cached_task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def deploy_cached() -> None:
    @task
    @cached_task(version="1")
    def expensive(n: int) -> dict[str, object]:
        # a fresh token on every computation: equal tokens across runs mean a cache hit
        return {"n": n, "squares": [i * i for i in range(n)], "token": uuid.uuid4().hex}

    expensive(12)


deploy_cached()
