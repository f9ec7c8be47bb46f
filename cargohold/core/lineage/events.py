"""Run events (START, RUNNING, COMPLETE, FAIL) as plain JSON dicts, and who the run is.

Job names and run ids match what the orchestrators' own OpenLineage integrations use, so that our
events and theirs describe the same runs:

* **Airflow** (``apache-airflow-providers-openlineage``): job ``{dag_id}.{task_id}`` in the
  provider's namespace (``[openlineage] namespace``, else ``OPENLINEAGE_NAMESPACE``, else
  ``default``); the task run id is ``generate_static_uuid(instant=logical_date,
  data=f"{namespace}.{dag_id}.{task_id}.{try_number}.{map_index}")``; the parent run facet names
  the DAG run, job ``{dag_id}``, run id ``generate_static_uuid(instant=logical_date,
  data=f"{namespace}.{dag_id}.{clear_number}")``, with root = parent. :func:`static_uuid`
  replicates openlineage-python's ``generate_static_uuid`` bit for bit (no import needed).
* **Dagster** (OpenLineage has no maintained Dagster integration, so these names are cargohold's):
  job ``{job}.{asset key path joined with .}``, or the asset key path alone when the run is an
  ad-hoc materialization (Dagster's ``__ephemeral_asset_job__``, which no user wrote); the parent
  is the Dagster run (job ``{job}``, or ``adhoc_materialization`` for an ad-hoc one; run id = the
  Dagster run id); the step's run id is derived deterministically from the Dagster run id, asset
  key and attempt, so the IO manager's reads and writes of one step (even in separate processes)
  share one run.

The job namespace is one for both orchestrators: the standard ``OPENLINEAGE_NAMESPACE`` (Airflow's
provider reads ``[openlineage] namespace`` first), else ``default``.
* anything else: job ``{job}.{task}``; the run id is ``RunContext.run_id`` when it is a UUID,
  else derived from it; a parent run when both ``job`` and ``run_id`` are set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha1
from typing import Any, Literal

from cargohold.core.context import RunContext
from cargohold.core.lineage import facets as _f
from cargohold.core.lineage.datasets import LineageDataset

__all__ = [
    "EventType",
    "ParentRun",
    "RunIdentity",
    "airflow_dag_run_id",
    "airflow_task_run_id",
    "build_run_event",
    "DAGSTER_ADHOC_JOB",
    "dagster_job_name",
    "dagster_run_job_name",
    "is_dagster_adhoc_job",
    "new_run_id",
    "static_uuid",
]

EventType = Literal["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]

_DERIVED = uuid.UUID("6f1b3c2e-9a47-5d1e-8c0b-1f2a3b4c5d6e")


def static_uuid(*, instant: datetime, data: bytes) -> str:
    """openlineage-python's ``generate_static_uuid``: a UUIDv7 from ``instant`` and a SHA-1 of data.

    The first 48 bits are the instant in milliseconds; the last 76 bits come from
    ``sha1(instant_utc.isoformat() + data)``. Same inputs, same UUID. A naive ``instant`` is taken
    as local time, as ``datetime.astimezone`` does.
    """
    instant_utc = instant.astimezone(UTC)
    timestamp_ms = int(instant_utc.timestamp() * 1000)
    digest = sha1(instant_utc.isoformat().encode("utf-8") + data).digest()
    node = int(digest.hex(), 16) >> 84
    return str(_uuid7(timestamp_ms, node))


def new_run_id() -> str:
    """A new, time-ordered run id (UUIDv7), like openlineage-python's ``generate_new_uuid``."""
    now = datetime.now(UTC)
    return str(_uuid7(int(now.timestamp() * 1000), int.from_bytes(uuid.uuid4().bytes[:10], "big")))


def airflow_task_run_id(
    *,
    namespace: str,
    dag_id: str,
    task_id: str,
    try_number: int,
    logical_date: datetime,
    map_index: int = -1,
) -> str:
    """The run id Airflow's OpenLineage provider gives a task instance.

    Same as the provider's ``build_task_instance_ol_run_id``.
    """
    data = f"{namespace}.{dag_id}.{task_id}.{try_number}.{map_index}".encode()
    return static_uuid(instant=logical_date, data=data)


def airflow_dag_run_id(
    *, namespace: str, dag_id: str, logical_date: datetime, clear_number: int = 0
) -> str:
    """The run id Airflow's OpenLineage provider gives a DAG run (``build_dag_run_ol_run_id``)."""
    return static_uuid(instant=logical_date, data=f"{namespace}.{dag_id}.{clear_number}".encode())


DAGSTER_ADHOC_JOB = "adhoc_materialization"
"""The parent job name of a Dagster run that materializes assets outside any user-defined job."""


def is_dagster_adhoc_job(job: str) -> bool:
    """True for the job name Dagster gives ad-hoc materializations (``__ephemeral_asset_job__``,
    ``__ASSET_JOB...``): internal names a user never wrote."""
    return job.startswith(("__ephemeral_asset_job__", "__ASSET_JOB"))


def dagster_job_name(*, job: str, asset_key: Sequence[str] | str) -> str:
    """The job name of a Dagster asset materialization: ``{job}.{asset key path joined with .}``,
    or the asset key path alone for an ad-hoc materialization (no job, or Dagster's own)."""
    path = asset_key if isinstance(asset_key, str) else ".".join(asset_key)
    return f"{job}.{path}" if job and not is_dagster_adhoc_job(job) else path


def dagster_run_job_name(job: str) -> str:
    """The job name of a Dagster run itself (the parent of its steps' runs)."""
    return DAGSTER_ADHOC_JOB if not job or is_dagster_adhoc_job(job) else job


@dataclass(frozen=True, kw_only=True)
class ParentRun:
    """The run that spawned this one (a DAG run, a Dagster run), and the root of the hierarchy."""

    namespace: str
    job_name: str
    run_id: str
    root: ParentRun | None = None

    def facet(self, *, producer: str = _f.PRODUCER) -> dict[str, Any]:
        """This parent as a ``parent`` run facet (root = the parent itself unless set)."""
        root = self.root or self
        return _f.parent_run_facet(
            run_id=self.run_id,
            namespace=self.namespace,
            name=self.job_name,
            root_run_id=root.run_id,
            root_namespace=root.namespace,
            root_name=root.job_name,
            producer=producer,
        )


@dataclass(frozen=True, kw_only=True)
class RunIdentity:
    """Who a run is in OpenLineage: job namespace and name, run id, parent, integration."""

    namespace: str
    job_name: str
    run_id: str
    parent: ParentRun | None = None
    integration: str = "CARGOHOLD"
    job_type: str = "TASK"

    @classmethod
    def for_context(
        cls,
        context: RunContext,
        *,
        namespace: str | None = None,
        logical_date: datetime | str | None = None,
        clear_number: int | None = None,
    ) -> RunIdentity:
        """The identity of the execution ``context`` describes (rules in the module docstring).

        Args:
            context: the adapter's run context.
            namespace: overrides ``context.namespace`` as the job namespace.
            logical_date: Airflow's logical date of the DAG run (``run_after`` when it has
                none); also read from ``context.extra["logical_date"]`` (datetime or ISO string).
                Without it the ids are still deterministic but differ from the provider's.
            clear_number: Airflow's DAG run clear number (``context.extra["clear_number"]``, 0).

        Raises:
            ValueError: ``logical_date`` is a string that is not an ISO 8601 date-time.
        """
        ns = namespace or context.namespace
        extra = context.extra
        if context.orchestrator == "airflow":
            when = _as_datetime(
                logical_date if logical_date is not None else extra.get("logical_date")
            )
            clear = int(clear_number if clear_number is not None else extra.get("clear_number", 0))
            if when is not None:
                run_id = airflow_task_run_id(
                    namespace=ns,
                    dag_id=context.job,
                    task_id=context.task,
                    try_number=context.try_number,
                    logical_date=when,
                    map_index=context.map_index,
                )
                dag_run_id = airflow_dag_run_id(
                    namespace=ns, dag_id=context.job, logical_date=when, clear_number=clear
                )
            else:
                base = f"{ns}.{context.job}.{context.run_id}"
                run_id = _derived(f"{base}.{context.task}.{context.try_number}.{context.map_index}")
                dag_run_id = _derived(f"{base}.{clear}")
            return cls(
                namespace=ns,
                job_name=context.job_name,
                run_id=run_id,
                parent=ParentRun(
                    namespace=ns, job_name=context.job, run_id=dag_run_id, root=_root_from(extra)
                ),
                integration="AIRFLOW",
            )
        parent_id = context.run_id if _is_uuid(context.run_id) else None
        if context.run_id and parent_id is None:
            parent_id = _derived(f"{ns}.{context.job}.{context.run_id}")
        is_dagster = context.orchestrator == "dagster"
        parent: ParentRun | None = None
        if context.job and parent_id and context.task:
            parent = ParentRun(
                namespace=ns,
                job_name=dagster_run_job_name(context.job) if is_dagster else context.job,
                run_id=parent_id,
                root=_root_from(extra),
            )
        if parent is not None:
            run_id = _derived(
                f"{ns}.{context.job}.{parent_id}.{context.task}.{context.try_number}"
                f".{context.map_index}"
            )
        else:
            run_id = parent_id or _derived(f"{ns}.{context.job_name}.{context.try_number}")
        return cls(
            namespace=ns,
            job_name=(
                dagster_job_name(job=context.job, asset_key=context.task)
                if is_dagster and context.task
                else context.job_name
            ),
            run_id=run_id,
            parent=parent,
            integration="DAGSTER" if is_dagster else "CARGOHOLD",
            job_type="ASSET" if is_dagster else "TASK",
        )


def build_run_event(
    *,
    event_type: EventType,
    run: RunIdentity,
    inputs: Iterable[LineageDataset] = (),
    outputs: Iterable[LineageDataset] = (),
    event_time: datetime | None = None,
    error: BaseException | str | None = None,
    run_facets: Mapping[str, Mapping[str, Any]] | None = None,
    job_facets: Mapping[str, Mapping[str, Any]] | None = None,
    producer: str = _f.PRODUCER,
) -> dict[str, Any]:
    """A RunEvent (OpenLineage 2-0-2) as a JSON-ready dict.

    The run carries the parent facet when ``run.parent`` is set and, for a FAIL event with an
    ``error``, the errorMessage facet (message, ``python``, stack trace); the job carries the
    jobType facet. ``run_facets`` / ``job_facets`` are added as given (each needs ``_producer``
    and ``_schemaURL``). ``event_time`` defaults to now, in UTC.
    """
    facets_run: dict[str, Any] = {}
    if run.parent is not None:
        facets_run["parent"] = run.parent.facet(producer=producer)
    if error is not None:
        facets_run["errorMessage"] = _f.error_message_facet(error, producer=producer)
    if run_facets:
        facets_run.update((key, dict(value)) for key, value in run_facets.items())
    facets_job: dict[str, Any] = {
        "jobType": _f.job_type_facet(
            job_type=run.job_type, integration=run.integration, producer=producer
        )
    }
    if job_facets:
        facets_job.update((key, dict(value)) for key, value in job_facets.items())
    when = (event_time or datetime.now(UTC)).astimezone(UTC)
    return {
        "eventType": event_type,
        "eventTime": when.isoformat().replace("+00:00", "Z"),
        "producer": producer,
        "schemaURL": _f.CORE_SCHEMA_URL,
        "run": {"runId": run.run_id, "facets": facets_run},
        "job": {"namespace": run.namespace, "name": run.job_name, "facets": facets_job},
        "inputs": [dataset.as_input() for dataset in inputs],
        "outputs": [dataset.as_output() for dataset in outputs],
    }


def _uuid7(timestamp_ms: int, node: int) -> uuid.UUID:
    value = (timestamp_ms & 0xFFFFFFFFFFFF) << 80
    value |= node & 0xFFFFFFFFFFFFFFFFFFFF
    value &= ~(0xF000 << 64)
    value |= 7 << 76
    value &= ~(0xC000 << 48)
    value |= 0x8000 << 48
    return uuid.UUID(int=value)


def _derived(data: str) -> str:
    return str(uuid.uuid5(_DERIVED, data))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _as_datetime(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _root_from(extra: Mapping[str, Any]) -> ParentRun | None:
    """The root run named in ``extra`` (``root_parent_run_id``, ``_job_name``, ``_namespace``)."""
    run_id = extra.get("root_parent_run_id")
    name = extra.get("root_parent_job_name")
    namespace = extra.get("root_parent_job_namespace")
    if run_id and name and namespace and _is_uuid(str(run_id)):
        return ParentRun(namespace=str(namespace), job_name=str(name), run_id=str(run_id))
    return None
