"""A cached task: the same inputs compute once, across map indexes, retries and runs.

``features`` is cached on (task identity, interface, ``version``, the content of its inputs); the
mapped instances with equal inputs share one result, and a later run with the same inputs reads it
back instead of recomputing. Bump ``version`` when the function's logic changes.
"""

from __future__ import annotations

import uuid

import pandas as pd
import pendulum
from airflow.sdk import dag, task

from cargohold.airflow_provider.caching import cached_task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def cached_features() -> None:
    @task
    def raw() -> pd.DataFrame:
        return pd.DataFrame({"x": range(30_000), "y": [i % 7 for i in range(30_000)]})

    @task
    @cached_task(version="1")
    def features(frame: pd.DataFrame, window: int) -> dict[str, object]:
        """An expensive computation; ``computed`` tells one computation from another."""
        rolled = frame["y"].rolling(window).mean().fillna(0.0)
        return {"window": window, "mean": float(rolled.mean()), "computed": uuid.uuid4().hex}

    features.partial(frame=raw()).expand(window=[3, 3, 5])


cached_features()
