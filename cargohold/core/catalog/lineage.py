"""Lineage inside the catalog: which execution read which artifact version.

A run is identified by ``(job, run_id)`` (Airflow run ids are only unique within a DAG), an
execution by ``(job, run_id, task)``: one Airflow task instance, one Dagster asset step. The
producer of an artifact is its source; consumers are recorded with :func:`record_read`. From those
two facts:

* inputs of a run: the artifacts it read; outputs of a run: the artifacts whose source it is;
* upstream of an artifact: what the execution that produced it read (the whole run's inputs when
  the producer recorded no task);
* downstream of an artifact: what the executions that read it produced.

Matching executions, not runs, keeps the tasks of one DAG run apart: a ``report`` task's output
is not "upstream" of itself because a later ``publish`` task of the same run read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, insert, or_, select

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import (
    SOURCE_FIELDS,
    Artifact,
    ArtifactSource,
    Neighbours,
    Read,
)
from cargohold.core.catalog.read import artifact_select, dataset_of, load_artifacts
from cargohold.core.errors import NotFoundError

__all__ = [
    "downstream",
    "neighbours",
    "reads_of",
    "record_read",
    "run_inputs",
    "run_outputs",
    "upstream",
]


def record_read(
    conn: Connection, *, artifact_id: str, source: ArtifactSource, now: datetime
) -> Read:
    """Record that ``source`` read the artifact.

    Raises:
        NotFoundError: the artifact does not exist.
    """
    dataset_of(conn, artifact_id=artifact_id)  # NotFoundError when there is no such artifact
    fields = {name: getattr(source, name) for name in SOURCE_FIELDS}
    conn.execute(insert(m.reads), {"artifact_id": artifact_id, **fields, "read_at": now})
    return Read(artifact_id=artifact_id, source=source, read_at=now)


def reads_of(conn: Connection, *, artifact_id: str) -> list[Read]:
    """Every recorded read of an artifact, oldest first."""
    r = m.reads
    rows = conn.execute(select(r).where(r.c.artifact_id == artifact_id).order_by(r.c.id))
    return [
        Read(
            artifact_id=row.artifact_id,
            source=ArtifactSource(**{name: row._mapping[name] for name in SOURCE_FIELDS}),
            read_at=row.read_at,
        )
        for row in rows
    ]


def run_inputs(
    conn: Connection, *, job: str, run_id: str, task: str | None = None
) -> list[Artifact]:
    """The artifacts a run read (only those its execution ``task`` read, when given)."""
    a, r = m.artifacts, m.reads
    match = and_(r.c.artifact_id == a.c.id, r.c.job == job, r.c.run_id == run_id)
    if task:
        match = and_(match, r.c.task == task)
    stmt = artifact_select().where(exists().where(match))
    return load_artifacts(conn, conn.execute(stmt.order_by(a.c.created_at, a.c.id)).all())


def run_outputs(conn: Connection, *, job: str, run_id: str) -> list[Artifact]:
    """The artifacts a run produced."""
    a = m.artifacts
    stmt = artifact_select().where(a.c.source_job == job, a.c.source_run_id == run_id)
    return load_artifacts(conn, conn.execute(stmt.order_by(a.c.created_at, a.c.id)).all())


def upstream(conn: Connection, *, artifact_id: str) -> list[Artifact]:
    """The artifacts read by the run that produced this artifact.

    Raises:
        NotFoundError: the artifact does not exist.
    """
    a = m.artifacts
    row = conn.execute(
        select(a.c.source_job, a.c.source_run_id, a.c.source_task).where(a.c.id == artifact_id)
    ).first()
    if row is None:
        raise NotFoundError(f"artifact {artifact_id} does not exist")
    if row.source_run_id is None:
        return []
    found = run_inputs(
        conn, job=row.source_job or "", run_id=row.source_run_id, task=row.source_task
    )
    return [artifact for artifact in found if artifact.id != artifact_id]


def downstream(conn: Connection, *, artifact_id: str) -> list[Artifact]:
    """The artifacts produced by the runs that read this artifact.

    Raises:
        NotFoundError: the artifact does not exist.
    """
    a, r = m.artifacts, m.reads
    dataset_of(conn, artifact_id=artifact_id)  # NotFoundError when there is no such artifact
    same_execution = or_(
        a.c.source_task.is_(None), a.c.source_task == "", r.c.task == a.c.source_task
    )
    readers = exists().where(
        and_(
            r.c.artifact_id == artifact_id,
            r.c.job == a.c.source_job,
            r.c.run_id == a.c.source_run_id,
            same_execution,
        )
    )
    stmt = artifact_select().where(readers, a.c.id != artifact_id)
    return load_artifacts(conn, conn.execute(stmt.order_by(a.c.created_at, a.c.id)).all())


_CHUNK = 500  # ids per IN list: well under SQLite's bound-parameter limit


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _run_read(job: ColumnElement[Any]) -> ColumnElement[bool]:
    """A read row made by the execution that produced an artifact row (the producer's job given
    as ``job``: coalesced or not, for the index each side of the join uses)."""
    a, r = m.artifacts, m.reads
    return and_(
        r.c.job == job,
        r.c.run_id == a.c.source_run_id,
        or_(a.c.source_task.is_(None), a.c.source_task == "", r.c.task == a.c.source_task),
    )


def neighbours(conn: Connection, *, artifact_ids: Iterable[str]) -> dict[str, Neighbours]:
    """:func:`upstream` and :func:`downstream` of many artifacts at once, in a fixed number of
    queries per 500 ids (existence, upstream pairs, downstream pairs, then the artifacts found).

    The predicates are those of :func:`upstream` and :func:`downstream`: an upstream pair joins an
    artifact's producing execution (its whole run when it names no task) with that execution's
    reads; a downstream pair joins the artifact's reads with the artifacts whose producing
    execution made the read. An artifact is never its own neighbour.

    Raises:
        NotFoundError: one of the artifacts does not exist (all missing ids are named).
    """
    ids = list(dict.fromkeys(artifact_ids))
    a, r = m.artifacts, m.reads
    found: set[str] = set()
    pairs: dict[str, tuple[set[str], set[str]]] = {i: (set(), set()) for i in ids}
    for chunk in _chunks(ids):
        found.update(conn.execute(select(a.c.id).where(a.c.id.in_(chunk))).scalars())
        ups = (
            select(a.c.id, r.c.artifact_id)
            .join(r, _run_read(func.coalesce(a.c.source_job, "")))
            .where(a.c.id.in_(chunk), r.c.artifact_id != a.c.id)
            .distinct()
        )
        for of, other in conn.execute(ups):
            pairs[of][0].add(other)
        downs = (
            select(r.c.artifact_id, a.c.id)
            .join(a, _run_read(a.c.source_job))
            .where(r.c.artifact_id.in_(chunk), a.c.id != r.c.artifact_id)
            .distinct()
        )
        for of, other in conn.execute(downs):
            pairs[of][1].add(other)
    missing = [i for i in ids if i not in found]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise NotFoundError(f"artifacts do not exist: {shown}")
    wanted = sorted({o for up, down in pairs.values() for o in up | down})
    loaded: dict[str, Artifact] = {}
    for chunk in _chunks(wanted):
        rows = conn.execute(artifact_select().where(a.c.id.in_(chunk))).all()
        loaded.update((x.id, x) for x in load_artifacts(conn, rows))

    def oldest_first(x: Artifact) -> tuple[float, str]:
        return (x.created_at.timestamp() if x.created_at else 0.0, x.id)

    def ordered(others: set[str]) -> tuple[Artifact, ...]:
        return tuple(sorted((loaded[o] for o in others), key=oldest_first))

    return {
        i: Neighbours(upstream=ordered(up), downstream=ordered(down))
        for i, (up, down) in pairs.items()
    }
