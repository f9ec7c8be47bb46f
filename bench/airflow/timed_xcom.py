"""The two XCom backends of the deployment benchmark, each timing its own serialize and
deserialize calls (and nothing else: every call goes to the real backend's method unchanged).

``AIRFLOW__CORE__XCOM_BACKEND`` names :class:`TimedCargohold` or :class:`TimedObjectStorage`;
each call appends one JSON line ``{"pid", "task", "kind", "seconds"}`` to the file named by
``BENCH_TIMINGS_FILE`` (nothing when unset). The DAG's tasks record their own code's time with
:func:`record` too, so the bench splits a task's duration into the task's code, the backend's
calls and the rest (Airflow's fixed cost per task).

With ``BENCH_PROFILE_DIR`` set, each call also runs under :mod:`cProfile` and its statistics are
dumped to ``<dir>/<pid>-<kind>-<n>.prof`` (``run_deployment.py --profile`` summarizes them).
"""

from __future__ import annotations

import cProfile
import itertools
import json
import os
import time
from collections.abc import Callable
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


_calls = itertools.count()


def _call(kind: str, fn: Callable[[], Any], *, task: str | None = None) -> Any:
    """``fn()``, timed (and profiled when ``BENCH_PROFILE_DIR`` is set)."""
    folder = os.environ.get("BENCH_PROFILE_DIR")
    profile = cProfile.Profile() if folder else None
    started = time.perf_counter()
    result = profile.runcall(fn) if profile is not None else fn()
    record(kind, time.perf_counter() - started, task=task)
    if profile is not None and folder:
        profile.dump_stats(os.path.join(folder, f"{os.getpid()}-{kind}-{next(_calls)}.prof"))
    return result


def _task(dag_id: str | None, run_id: str | None, task_id: str | None) -> str | None:
    return f"{dag_id}/{run_id}/{task_id}" if dag_id and run_id and task_id else None


class TimedCargohold(CargoholdXComBackend):
    """:class:`CargoholdXComBackend`, timing serialize and deserialize."""

    @staticmethod
    def serialize_value(value: Any, **kwargs: Any) -> Any:
        task = _task(kwargs.get("dag_id"), kwargs.get("run_id"), kwargs.get("task_id"))
        return _call(
            "serialize", lambda: CargoholdXComBackend.serialize_value(value, **kwargs), task=task
        )

    @staticmethod
    def deserialize_value(result: Any) -> Any:
        return _call("deserialize", lambda: CargoholdXComBackend.deserialize_value(result))


class TimedObjectStorage(XComObjectStorageBackend):
    """common-io's :class:`XComObjectStorageBackend`, timing serialize and deserialize."""

    @staticmethod
    def serialize_value(value: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        task = _task(kwargs.get("dag_id"), kwargs.get("run_id"), kwargs.get("task_id"))
        return _call(
            "serialize",
            lambda: XComObjectStorageBackend.serialize_value(value, **kwargs),
            task=task,
        )

    @staticmethod
    def deserialize_value(result: Any) -> Any:
        return _call("deserialize", lambda: XComObjectStorageBackend.deserialize_value(result))
