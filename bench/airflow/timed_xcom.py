"""The two XCom backends of the deployment benchmark, each timing its own serialize and
deserialize calls (and nothing else: every call goes to the real backend's method unchanged).

``AIRFLOW__CORE__XCOM_BACKEND`` names :class:`TimedCargohold` or :class:`TimedObjectStorage`;
each call appends one JSON line ``{"pid", "task", "kind", "seconds"}`` to the file named by
``BENCH_TIMINGS_FILE`` (nothing when unset). The DAG's tasks record their own code's time with
:func:`record` too, so the bench splits a task's duration into the task's code, the backend's
calls and the rest (Airflow's fixed cost per task).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from airflow.providers.common.io.xcom.backend import XComObjectStorageBackend

from cargohold.airflow_provider.xcom import CargoholdXComBackend

__all__ = ["TimedCargohold", "TimedObjectStorage", "record"]


def record(kind: str, seconds: float, *, task: str | None = None) -> None:
    """Append ``kind`` took ``seconds`` (in this process, for ``task`` when known) to the
    timings file; a no-op when ``BENCH_TIMINGS_FILE`` is unset."""
    path = os.environ.get("BENCH_TIMINGS_FILE")
    if not path:
        return
    if task is None:
        try:
            from airflow.sdk import get_current_context

            ti = get_current_context()["ti"]
            task = f"{ti.dag_id}/{ti.run_id}/{ti.task_id}"
        except Exception:  # no task context here: the pid still ties the line to its task
            task = None
    line = json.dumps({"pid": os.getpid(), "task": task, "kind": kind, "seconds": seconds})
    with open(path, "a", encoding="utf-8") as out:  # one short append: whole lines
        out.write(line + "\n")


def _task(dag_id: str | None, run_id: str | None, task_id: str | None) -> str | None:
    return f"{dag_id}/{run_id}/{task_id}" if dag_id and run_id and task_id else None


class TimedCargohold(CargoholdXComBackend):
    """:class:`CargoholdXComBackend`, timing serialize and deserialize."""

    @staticmethod
    def serialize_value(value: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        stored = CargoholdXComBackend.serialize_value(value, **kwargs)
        task = _task(kwargs.get("dag_id"), kwargs.get("run_id"), kwargs.get("task_id"))
        record("serialize", time.perf_counter() - started, task=task)
        return stored

    @staticmethod
    def deserialize_value(result: Any) -> Any:
        started = time.perf_counter()
        value = CargoholdXComBackend.deserialize_value(result)
        record("deserialize", time.perf_counter() - started)
        return value


class TimedObjectStorage(XComObjectStorageBackend):
    """common-io's :class:`XComObjectStorageBackend`, timing serialize and deserialize."""

    @staticmethod
    def serialize_value(value: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        started = time.perf_counter()
        stored = XComObjectStorageBackend.serialize_value(value, **kwargs)
        task = _task(kwargs.get("dag_id"), kwargs.get("run_id"), kwargs.get("task_id"))
        record("serialize", time.perf_counter() - started, task=task)
        return stored

    @staticmethod
    def deserialize_value(result: Any) -> Any:
        started = time.perf_counter()
        value = XComObjectStorageBackend.deserialize_value(result)
        record("deserialize", time.perf_counter() - started)
        return value
