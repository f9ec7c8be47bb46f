"""RunContext: what an adapter knows about the execution that reads or writes data.

Adapters translate their framework's context (an Airflow task instance, a Dagster step context)
into this frozen value; the core never sees the framework's own objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunContext"]


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """One execution of a task or asset.

    Attributes:
        orchestrator: ``airflow``, ``dagster`` or ``python``.
        namespace: the lineage namespace of the job (the Airflow instance, a Dagster namespace).
        job: the DAG id or Dagster job name.
        run_id: the DAG run id or Dagster run id.
        task: the task id or asset key path (joined with ``.``).
        map_index: the index of a mapped task instance (Airflow), ``-1`` otherwise.
        try_number: the attempt number, starting at 1.
        partitions: partition key/value pairs of this execution (``{"date": "2026-11-01"}``).
        domain: the catalog domain.
        extra: anything else an adapter wants recorded with the source.
    """

    orchestrator: str = "python"
    namespace: str = "cargohold"
    job: str = ""
    run_id: str = ""
    task: str = ""
    map_index: int = -1
    try_number: int = 1
    partitions: Mapping[str, str] = field(default_factory=dict)
    domain: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def job_name(self) -> str:
        """The OpenLineage job name: ``{job}.{task}`` (or whichever part is set)."""
        return ".".join(part for part in (self.job, self.task) if part)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict of this context."""
        return {
            "orchestrator": self.orchestrator,
            "namespace": self.namespace,
            "job": self.job,
            "run_id": self.run_id,
            "task": self.task,
            "map_index": self.map_index,
            "try_number": self.try_number,
            "partitions": dict(self.partitions),
            "domain": self.domain,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunContext:
        """Build a context from :meth:`to_dict`'s output."""
        return cls(
            orchestrator=str(data.get("orchestrator", "python")),
            namespace=str(data.get("namespace", "cargohold")),
            job=str(data.get("job", "")),
            run_id=str(data.get("run_id", "")),
            task=str(data.get("task", "")),
            map_index=int(data.get("map_index", -1)),
            try_number=int(data.get("try_number", 1)),
            partitions=dict(data.get("partitions") or {}),
            domain=data.get("domain"),
            extra=dict(data.get("extra") or {}),
        )
