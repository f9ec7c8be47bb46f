"""What the provider needs at run time: the configured Cargohold and emitter, and the task.

Nothing here runs at import time. :func:`runtime` builds a :class:`Runtime` on first use and keeps
it for the process, keyed by the ``CARGOHOLD_*`` / ``OPENLINEAGE*`` environment it was built from,
so a changed environment (tests, a second configuration) gets a fresh one rather than a stale one.

:func:`current_task` finds the Airflow task instance this process is executing (the task SDK's
``RuntimeTaskInstance``): from the current task context while the task's code runs, and from the
task runner's frames when it pushes the return value (Airflow pushes it after leaving the context).
Outside a task (the API server, the scheduler, a plain script) it returns None.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from cargohold.core.context import RunContext

if TYPE_CHECKING:
    from cargohold.core.hold import Cargohold
    from cargohold.core.lineage import LineageEmitter

__all__ = [
    "DEFAULT_CONN_ID",
    "Runtime",
    "TaskInfo",
    "current_task",
    "lineage_namespace",
    "reset_runtime",
    "runtime",
    "task_context",
]

DEFAULT_CONN_ID = "cargohold_default"
_ENV_PREFIXES = ("CARGOHOLD_", "OPENLINEAGE", "AIRFLOW__OPENLINEAGE__", "AWS_")
# openlineage-python's client copies OPENLINEAGE_URL (and _ENDPOINT, _API_KEY) into these when
# it is built, which must not count as a new configuration (it would rebuild the Runtime: a second
# Cargohold and emitter per process)
_ALIASED_BY_OPENLINEAGE = "OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__"
_MAX_FRAMES = 40
_lock = threading.Lock()
_cached: tuple[tuple[tuple[str, str], ...], Runtime] | None = None


@dataclass(frozen=True, kw_only=True)
class TaskInfo:
    """The Airflow task instance being executed, reduced to what cargohold records."""

    dag_id: str
    task_id: str
    run_id: str
    map_index: int
    try_number: int
    logical_date: datetime | None
    clear_number: int
    partition_key: str | None
    params: Mapping[str, Any]
    task: Any


@dataclass(frozen=True, kw_only=True)
class Runtime:
    """The Cargohold (store + catalog), the lineage emitter, and the provider's switches."""

    hold: Cargohold
    emitter: LineageEmitter
    record_artifacts: bool
    record_reads: bool


def _fingerprint() -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k.startswith(_ENV_PREFIXES) and not k.startswith(_ALIASED_BY_OPENLINEAGE)
        )
    )


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def runtime() -> Runtime:
    """The process's Runtime, built from the environment (or the ``cargohold_default``
    connection when ``CARGOHOLD_STORE_URL`` is unset and that connection exists).

    ``CARGOHOLD_AIRFLOW_RECORD_ARTIFACTS`` (default true) records every XCom as a catalog
    artifact; ``CARGOHOLD_AIRFLOW_RECORD_READS`` (default true) records every read of one.

    Raises:
        ConfigurationError: a setting is malformed.
        LineageError: lineage is configured but cannot be set up.
    """
    global _cached
    key = _fingerprint()
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
        built = _build()
        _cached = (key, built)
        return built


def reset_runtime() -> None:
    """Forget the cached Runtime (tests; after changing a connection)."""
    global _cached
    with _lock:
        _cached = None


def _build() -> Runtime:
    from cargohold.core.hold import Cargohold
    from cargohold.core.lineage import LineageEmitter

    hold: Cargohold | None = None
    if not os.environ.get("CARGOHOLD_STORE_URL"):
        from cargohold.airflow_provider.connection import hold_from_connection

        hold = hold_from_connection(conn_id=DEFAULT_CONN_ID, missing_ok=True)
    if hold is None:
        hold = Cargohold.from_env()
    emitter = LineageEmitter.from_env(settings=hold.settings, namespace=lineage_namespace())
    return Runtime(
        hold=hold,
        emitter=emitter,
        record_artifacts=_flag("CARGOHOLD_AIRFLOW_RECORD_ARTIFACTS", True),
        record_reads=_flag("CARGOHOLD_AIRFLOW_RECORD_READS", True),
    )


def lineage_namespace() -> str:
    """The job namespace Airflow's OpenLineage provider uses (``[openlineage] namespace``,
    else ``OPENLINEAGE_NAMESPACE``, else ``default``), so our run ids equal the provider's."""
    try:
        from airflow.providers.openlineage.conf import namespace
    except ImportError:
        return os.environ.get("OPENLINEAGE_NAMESPACE", "default")
    return str(namespace())


def _runtime_ti_class() -> type | None:
    module = sys.modules.get("airflow.sdk.execution_time.task_runner")
    found = getattr(module, "RuntimeTaskInstance", None)
    return found if isinstance(found, type) else None


def current_task(
    *,
    dag_id: str | None = None,
    task_id: str | None = None,
    run_id: str | None = None,
    map_index: int | None = None,
) -> TaskInfo | None:
    """The task instance this process is executing, or None outside a task.

    When ids are given, only a task instance matching them is returned (an XCom pushed for
    another task from inside this one is attributed to that task, without try number).
    """
    ti_class = _runtime_ti_class()
    if ti_class is None:
        return None
    ti = _from_context(ti_class)
    if ti is None:
        ti = _from_frames(ti_class)
    if ti is None:
        return None
    wanted = {"dag_id": dag_id, "task_id": task_id, "run_id": run_id, "map_index": map_index}
    if any(v is not None and getattr(ti, k, None) != v for k, v in wanted.items()):
        return None
    return _task_info(ti)


def _from_context(ti_class: type) -> Any:
    stack_module = sys.modules.get("airflow.sdk.definitions._internal.contextmanager")
    stack = getattr(stack_module, "_CURRENT_CONTEXT", None)
    if not stack:
        return None
    ti = stack[-1].get("ti")
    return ti if isinstance(ti, ti_class) else None


def _from_frames(ti_class: type) -> Any:
    frame: FrameType | None = sys._getframe(2)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return None
        for name in ("ti", "self", "task_instance"):
            candidate = frame.f_locals.get(name)
            if isinstance(candidate, ti_class):
                return candidate
        frame = frame.f_back
    return None


def _task_info(ti: Any) -> TaskInfo:
    server = getattr(ti, "_ti_context_from_server", None)
    dag_run = getattr(server, "dag_run", None)
    logical = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    task = getattr(ti, "task", None)
    params = getattr(task, "params", None)
    try:
        plain_params = dict(params) if params is not None else {}
    except (TypeError, ValueError):
        plain_params = {}
    return TaskInfo(
        dag_id=str(ti.dag_id),
        task_id=str(ti.task_id),
        run_id=str(ti.run_id),
        map_index=int(ti.map_index if ti.map_index is not None else -1),
        try_number=int(getattr(ti, "try_number", 1) or 1),
        logical_date=logical if isinstance(logical, datetime) else None,
        clear_number=int(getattr(dag_run, "clear_number", 0) or 0),
        partition_key=getattr(dag_run, "partition_key", None),
        params=plain_params,
        task=task,
    )


def task_context(
    info: TaskInfo | None,
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    map_index: int,
    partitions: Mapping[str, str] | None = None,
    domain: str | None = None,
) -> RunContext:
    """The RunContext of an Airflow task instance (``info`` when known, else the ids alone)."""
    extra: dict[str, Any] = {}
    try_number = 1
    if info is not None:
        try_number = info.try_number
        if info.logical_date is not None:
            extra["logical_date"] = info.logical_date.isoformat()
        extra["clear_number"] = info.clear_number
        if info.partition_key:
            extra["partition_key"] = info.partition_key
    return RunContext(
        orchestrator="airflow",
        namespace=lineage_namespace(),
        job=dag_id,
        run_id=run_id,
        task=task_id,
        map_index=-1 if map_index is None else int(map_index),
        try_number=try_number,
        partitions=dict(partitions or {}),
        domain=domain,
        extra=extra,
    )
