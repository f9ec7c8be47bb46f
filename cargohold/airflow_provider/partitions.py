"""Catalog partitions of an Airflow task's output.

A task's XComs land in a partitioned dataset when its function declares
``partition_by_date(key=...)`` / ``partition_by_key(key=...)`` (put them *below* ``@task``, on the
plain function), or when the DAG run carries an Airflow partition key (asset partitions, AIP-76:
``CronPartitionTimetable``, ``PartitionedAssetTimetable``, ``PartitionedAtRuntime``).

Values, per declared key, in this order:

1. the run's ``partition_key``: one part per declared key when it is composite (``a|b``, in the
   order the decorators are written, top first), or the whole key for a single declaration;
2. the task's ``params[key]``;
3. for a date key, the run's logical date (``run_after`` for runs without one).

Without a declaration, a run with a partition key gives the dimension ``partition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cargohold.airflow_provider._runtime import TaskInfo
from cargohold.core.catalog import PartitionSpec, partition_specs
from cargohold.core.errors import InvalidArgumentError

__all__ = ["AIRFLOW_PARTITION_KEY", "declared_specs", "task_partitions"]

AIRFLOW_PARTITION_KEY = "partition"
_COMPOSITE_SEPARATOR = "|"


def declared_specs(task: Any) -> tuple[PartitionSpec, ...]:
    """The partition declarations of an Airflow task's function (empty for other operators)."""
    if task is None:
        return ()
    for owner in (getattr(task, "python_callable", None), task):
        specs = partition_specs(owner) if owner is not None else ()
        if specs:
            return specs
    return ()


def task_partitions(info: TaskInfo | None) -> dict[str, str]:
    """The catalog partitions of the task instance ``info`` describes (see the module doc).

    Raises:
        InvalidArgumentError: a declared key has no value (no partition key, param or date), a
            composite partition key has the wrong number of parts, or a value is malformed.
    """
    if info is None:
        return {}
    specs = declared_specs(info.task)
    key = info.partition_key
    if not specs:
        return {AIRFLOW_PARTITION_KEY: key} if key else {}
    parts = _split(key, len(specs))
    out: dict[str, str] = {}
    for index, spec in enumerate(specs):
        value: object | None = parts[index] if parts else None
        if value is None:
            value = _param(info.params, spec.key)
        if value is None and spec.kind == "date":
            value = info.logical_date
        if value is None:
            raise InvalidArgumentError(
                f"task {info.dag_id}.{info.task_id} declares partition {spec.key!r} but the run "
                f"has no partition key and the task no param {spec.key!r}; run it with a "
                f"partition key (a partitioned timetable or asset) or set the param"
            )
        out[spec.key] = spec.normalize(value)
    return out


def _split(key: str | None, count: int) -> list[str] | None:
    if not key:
        return None
    if count == 1:
        return [key]
    parts = key.split(_COMPOSITE_SEPARATOR)
    if len(parts) != count:
        raise InvalidArgumentError(
            f"partition key {key!r} has {len(parts)} part(s) but the task declares {count} "
            f"partition keys; a composite key joins one value per key with '|'"
        )
    return parts


def _param(params: Mapping[str, Any], key: str) -> object | None:
    value = params.get(key)
    return getattr(value, "value", value)
