"""A 2M-row frame made on one worker and read on another (queues ``<prefix>w1`` / ``w2``)."""

from __future__ import annotations

import os
import socket

import numpy as np
import pandas as pd
import pendulum
from airflow.sdk import dag, task

ROWS = 2_000_000
PREFIX = os.environ.get("DEPLOY_QUEUE_PREFIX", "")


def make_frame() -> pd.DataFrame:
    """The frame both sides agree on (the test computes its checksum the same way)."""
    ids = np.arange(ROWS, dtype=np.int64)
    return pd.DataFrame({"id": ids, "value": (ids % 1009) * 0.25})


def checksum(frame: pd.DataFrame) -> str:
    """A content checksum of the frame (row order included)."""
    return str(int(pd.util.hash_pandas_object(frame, index=False).sum()))


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def deploy_frames() -> None:
    @task(queue=f"{PREFIX}w1")
    def produce() -> pd.DataFrame:
        return make_frame()

    @task(queue=f"{PREFIX}w2")
    def consume(frame: pd.DataFrame) -> dict[str, object]:
        assert isinstance(frame, pd.DataFrame), type(frame)
        return {"rows": len(frame), "checksum": checksum(frame), "host": socket.gethostname()}

    consume(produce())


deploy_frames()
