"""Artifacts: create (with an atomically assigned version), get, load and update.

Versions come from ``catalog_version_counters``: one row per (dataset, partition values), bumped
with ``INSERT ... ON CONFLICT DO UPDATE SET last_version = last_version + 1 RETURNING`` inside the
artifact's transaction. On PostgreSQL the statement locks the counter row until commit; on SQLite
the write transaction holds the database lock (``BEGIN IMMEDIATE``). Either way concurrent writers
to one partition serialise on the counter and a rolled-back insert gives its number back, so
versions run 1..N without gaps or duplicates.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.catalog.blobrefs import OWNER_ARTIFACT, blobs_of, register_blobs, release_blobs
from cargohold.core.catalog.objects import Artifact, ArtifactSource, Dataset
from cargohold.core.catalog.pgwrite import ArtifactChildren, insert_artifact_pg, insert_artifacts_pg
from cargohold.core.catalog.rows import artifact_select, load_artifacts
from cargohold.core.catalog.validation import partition_key_string
from cargohold.core.errors import NotFoundError
from cargohold.core.types.literals import Literal

__all__ = [
    "artifact_select",
    "NewRow",
    "find_artifact",
    "insert_artifact",
    "insert_artifacts",
    "load_artifacts",
    "next_version",
    "update_artifact",
]


def next_version(conn: Connection, *, dataset_uuid: str, partition_key: str) -> int:
    """Reserve the next version of (dataset, partition) in the current transaction."""
    t = m.version_counters
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        make(t)
        .values(dataset_id=dataset_uuid, partition_key=partition_key, last_version=1)
        .on_conflict_do_update(
            index_elements=[t.c.dataset_id, t.c.partition_key],
            set_={"last_version": t.c.last_version + 1},
        )
        .returning(t.c.last_version)
    )
    return int(conn.execute(stmt).scalar_one())


@dataclass(frozen=True)
class NewRow:
    """One validated artifact of a batch (see :func:`insert_artifacts`)."""

    artifact_id: str
    data: Mapping[str, Literal]
    partitions: Mapping[str, str]
    metadata: Mapping[str, str]
    tags: Sequence[str]
    source: ArtifactSource | None


def _rows(dataset: Dataset, item: NewRow, now: datetime) -> tuple[dict[str, Any], ArtifactChildren]:
    """The artifact row (without its version) and its child rows."""
    row: dict[str, Any] = {
        "id": item.artifact_id,
        "dataset_id": dataset.uuid,
        "partition_key": partition_key_string(item.partitions),
        "partitions_json": json.dumps(dict(item.partitions), sort_keys=True),
        "metadata_json": json.dumps(dict(item.metadata), sort_keys=True),
        "created_at": now,
        "updated_at": now,
    }
    row.update(_source_columns(item.source))
    children = ArtifactChildren(
        data=[{"name": n, "literal_json": lit.to_json()} for n, lit in item.data.items()],
        partitions=[{"key": k, "value": v} for k, v in item.partitions.items()],
        metadata=[{"key": k, "value": v} for k, v in item.metadata.items()],
        tags=list(item.tags),
        blobs=blobs_of(item.data.values()),
    )
    return row, children


def _artifact(dataset: Dataset, item: NewRow, version: int, now: datetime) -> Artifact:
    return Artifact(
        id=item.artifact_id,
        dataset=dataset.id,
        version=version,
        data=dict(item.data),
        partitions=dict(item.partitions),
        metadata=dict(item.metadata),
        tags=tuple(sorted(item.tags)),
        source=item.source,
        created_at=now,
        updated_at=now,
    )


def _insert_other(
    conn: Connection,
    *,
    dataset: Dataset,
    row: dict[str, Any],
    children: ArtifactChildren,
    now: datetime,
) -> int:
    """Insert one artifact and its children one statement per table (SQLite)."""
    version = next_version(conn, dataset_uuid=dataset.uuid, partition_key=row["partition_key"])
    conn.execute(insert(m.artifacts), {**row, "version": version})
    _insert_children(
        conn, artifact_id=row["id"], dataset_uuid=dataset.uuid, children=children, now=now
    )
    return version


def insert_artifact(
    conn: Connection,
    *,
    dataset: Dataset,
    artifact_id: str,
    data: Mapping[str, Literal],
    partitions: Mapping[str, str],
    metadata: Mapping[str, str],
    tags: Sequence[str],
    source: ArtifactSource | None,
    now: datetime,
) -> Artifact:
    """Insert an artifact with its data, partitions, metadata, tags and blob references.

    On PostgreSQL this is one statement (data-modifying CTEs, one round trip); elsewhere one
    statement per table. Duplicate ids and taken tags surface as IntegrityError (the caller
    translates them).
    """
    item = NewRow(artifact_id, data, partitions, metadata, tags, source)
    row, children = _rows(dataset, item, now)
    if conn.dialect.name == "postgresql":
        version = insert_artifact_pg(conn, row=row, children=children, now=now)
    else:
        version = _insert_other(conn, dataset=dataset, row=row, children=children, now=now)
    return _artifact(dataset, item, version, now)


def insert_artifacts(
    conn: Connection, *, dataset: Dataset, items: Sequence[NewRow], now: datetime
) -> list[Artifact]:
    """Insert a batch of artifacts in order, in the caller's transaction: on PostgreSQL one
    statement (:func:`~cargohold.core.catalog.pgwrite.insert_artifacts_pg`), elsewhere one
    statement per table and artifact. Versions are assigned in order, so two items of one
    partition get consecutive versions."""
    prepared = [_rows(dataset, item, now) for item in items]
    if conn.dialect.name == "postgresql":
        versions = insert_artifacts_pg(conn, rows=prepared, now=now)
    else:
        versions = [
            _insert_other(conn, dataset=dataset, row=row, children=children, now=now)
            for row, children in prepared
        ]
    return [_artifact(dataset, i, v, now) for i, v in zip(items, versions, strict=True)]


def _insert_children(
    conn: Connection,
    *,
    artifact_id: str,
    dataset_uuid: str,
    children: ArtifactChildren,
    now: datetime,
) -> None:
    for table, rows in (
        (m.artifact_data, children.data),
        (
            m.artifact_partitions,
            [{**r, "dataset_id": dataset_uuid, "created_at": now} for r in children.partitions],
        ),
        (m.artifact_metadata, children.metadata),
    ):
        if rows:
            conn.execute(insert(table), [{**r, "artifact_id": artifact_id} for r in rows])
    if children.tags:
        conn.execute(
            insert(m.tags),
            [
                {
                    "dataset_id": dataset_uuid,
                    "name": t,
                    "artifact_id": artifact_id,
                    "created_at": now,
                }
                for t in children.tags
            ],
        )
    register_blobs(
        conn, owner_kind=OWNER_ARTIFACT, owner_id=artifact_id, blobs=children.blobs, now=now
    )


def _source_columns(source: ArtifactSource | None) -> dict[str, Any]:
    if source is None:
        return {}
    return {
        "source_orchestrator": source.orchestrator,
        "source_namespace": source.namespace,
        "source_job": source.job,
        "source_run_id": source.run_id,
        "source_task": source.task,
        "source_map_index": source.map_index,
        "source_try_number": source.try_number,
    }


@functools.cache
def _latest_statement() -> Select[Any]:
    a = m.artifacts
    return (
        artifact_select()
        .where(a.c.dataset_id == bindparam("ds"), a.c.partition_key == bindparam("pk"))
        .order_by(a.c.version.desc())
        .limit(1)
    )


@functools.cache
def _by_id_statement() -> Select[Any]:
    return artifact_select().where(m.artifacts.c.id == bindparam("id"))


def get_artifact_by_id(conn: Connection, artifact_id: str) -> Artifact:
    """The artifact with this id.

    Raises:
        NotFoundError: there is none.
    """
    rows = conn.execute(_by_id_statement(), {"id": artifact_id}).all()
    if not rows:
        raise NotFoundError(f"artifact {artifact_id} does not exist")
    return load_artifacts(conn, rows)[0]


def find_artifact(
    conn: Connection,
    *,
    dataset: Dataset,
    tag: str | None = None,
    partitions: Mapping[str, str] | None = None,
    version: int | None = None,
) -> Artifact | None:
    """The artifact a tag names, or the given (or latest) version of a partition; one indexed
    lookup on ``catalog_tags`` or ``(dataset_id, partition_key, version)``, then data and tags.
    """
    a = m.artifacts
    if tag is None and version is None:
        rows = conn.execute(
            _latest_statement(),
            {"ds": dataset.uuid, "pk": partition_key_string(partitions or {})},
        ).all()
        return load_artifacts(conn, rows)[0] if rows else None
    stmt = artifact_select()
    if tag is not None:
        t = m.tags
        stmt = stmt.join(t, t.c.artifact_id == a.c.id).where(
            t.c.dataset_id == dataset.uuid, t.c.name == tag
        )
    else:
        stmt = stmt.where(
            a.c.dataset_id == dataset.uuid,
            a.c.partition_key == partition_key_string(partitions or {}),
        )
        stmt = stmt.where(a.c.version == version)
    rows = conn.execute(stmt).all()
    return load_artifacts(conn, rows)[0] if rows else None


def update_artifact(
    conn: Connection,
    *,
    artifact_id: str,
    metadata: Mapping[str, str] | None,
    data: Mapping[str, Literal] | None,
    now: datetime,
) -> Artifact:
    """Replace an artifact's metadata and/or overwrite (or add) named data entries.

    Raises:
        NotFoundError: the artifact does not exist.
    """
    a = m.artifacts
    values: dict[str, Any] = {"updated_at": now}
    if metadata is not None:
        values["metadata_json"] = json.dumps(dict(metadata), sort_keys=True)
    result = conn.execute(update(a).where(a.c.id == artifact_id).values(**values))
    if result.rowcount == 0:
        raise NotFoundError(f"artifact {artifact_id} does not exist")
    if metadata is not None:
        am = m.artifact_metadata
        conn.execute(delete(am).where(am.c.artifact_id == artifact_id))
        if metadata:
            conn.execute(
                insert(am),
                [{"artifact_id": artifact_id, "key": k, "value": v} for k, v in metadata.items()],
            )
    if data:
        ad = m.artifact_data
        conn.execute(delete(ad).where(ad.c.artifact_id == artifact_id, ad.c.name.in_(list(data))))
        conn.execute(
            insert(ad),
            [
                {"artifact_id": artifact_id, "name": name, "literal_json": literal.to_json()}
                for name, literal in data.items()
            ],
        )
        everything = [
            Literal.from_json(text)
            for text in conn.execute(
                select(ad.c.literal_json).where(ad.c.artifact_id == artifact_id)
            ).scalars()
        ]
        release_blobs(conn, owner_kind=OWNER_ARTIFACT, owner_ids=[artifact_id])
        register_blobs(
            conn,
            owner_kind=OWNER_ARTIFACT,
            owner_id=artifact_id,
            blobs=blobs_of(everything),
            now=now,
        )
    return get_artifact_by_id(conn, artifact_id)
