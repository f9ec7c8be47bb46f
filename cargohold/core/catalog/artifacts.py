"""Artifacts: create (with an atomically assigned version), get, load and update.

Versions come from ``catalog_version_counters``: one row per (dataset, partition values), bumped
with ``INSERT ... ON CONFLICT DO UPDATE SET last_version = last_version + 1 RETURNING`` inside the
artifact's transaction. On PostgreSQL the statement locks the counter row until commit; on SQLite
the write transaction holds the database lock (``BEGIN IMMEDIATE``). Either way concurrent writers
to one partition serialise on the counter and a rolled-back insert gives its number back, so
versions run 1..N without gaps or duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.catalog.blobrefs import OWNER_ARTIFACT, blobs_of, register_blobs, release_blobs
from cargohold.core.catalog.objects import Artifact, ArtifactSource, Dataset, DatasetID
from cargohold.core.catalog.validation import partition_key_string
from cargohold.core.errors import NotFoundError
from cargohold.core.types.literals import Literal

__all__ = [
    "artifact_select",
    "find_artifact_id",
    "insert_artifact",
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

    Duplicate ids and taken tags surface as IntegrityError (the caller translates them).
    """
    key = partition_key_string(partitions)
    version = next_version(conn, dataset_uuid=dataset.uuid, partition_key=key)
    row: dict[str, Any] = {
        "id": artifact_id,
        "dataset_id": dataset.uuid,
        "partition_key": key,
        "partitions_json": json.dumps(dict(partitions), sort_keys=True),
        "version": version,
        "metadata_json": json.dumps(dict(metadata), sort_keys=True),
        "created_at": now,
        "updated_at": now,
    }
    row.update(_source_columns(source))
    conn.execute(insert(m.artifacts), row)
    _insert_data(conn, artifact_id=artifact_id, data=data, now=now)
    if partitions:
        conn.execute(
            insert(m.artifact_partitions),
            [
                {"artifact_id": artifact_id, "dataset_id": dataset.uuid, "key": k, "value": v}
                for k, v in partitions.items()
            ],
        )
    if metadata:
        conn.execute(
            insert(m.artifact_metadata),
            [{"artifact_id": artifact_id, "key": k, "value": v} for k, v in metadata.items()],
        )
    if tags:
        conn.execute(
            insert(m.tags),
            [
                {
                    "dataset_id": dataset.uuid,
                    "name": t,
                    "artifact_id": artifact_id,
                    "created_at": now,
                }
                for t in tags
            ],
        )
    return Artifact(
        id=artifact_id,
        dataset=dataset.id,
        version=version,
        data=dict(data),
        partitions=dict(partitions),
        metadata=dict(metadata),
        tags=tuple(sorted(tags)),
        source=source,
        created_at=now,
        updated_at=now,
    )


def _insert_data(
    conn: Connection, *, artifact_id: str, data: Mapping[str, Literal], now: datetime
) -> None:
    if data:
        conn.execute(
            insert(m.artifact_data),
            [
                {"artifact_id": artifact_id, "name": name, "literal_json": literal.to_json()}
                for name, literal in data.items()
            ],
        )
    register_blobs(
        conn,
        owner_kind=OWNER_ARTIFACT,
        owner_id=artifact_id,
        blobs=blobs_of(data.values()),
        now=now,
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


def artifact_select() -> Select[Any]:
    """SELECT of artifact rows joined with their dataset's id fields."""
    a, d = m.artifacts, m.datasets
    return select(
        a,
        d.c.project.label("ds_project"),
        d.c.domain.label("ds_domain"),
        d.c.name.label("ds_name"),
        d.c.version.label("ds_version"),
    ).join(d, d.c.id == a.c.dataset_id)


def load_artifacts(conn: Connection, rows: Sequence[Row[Any]]) -> list[Artifact]:
    """Domain objects for rows of :func:`artifact_select`, with data and tags (two queries)."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    data: dict[str, dict[str, Literal]] = {i: {} for i in ids}
    for drow in conn.execute(select(m.artifact_data).where(m.artifact_data.c.artifact_id.in_(ids))):
        data[drow.artifact_id][drow.name] = Literal.from_json(drow.literal_json)
    tag_names: dict[str, list[str]] = {i: [] for i in ids}
    for trow in conn.execute(
        select(m.tags.c.artifact_id, m.tags.c.name).where(m.tags.c.artifact_id.in_(ids))
    ):
        tag_names[trow.artifact_id].append(trow.name)
    return [
        _artifact(row, data=data[row.id], tags=tuple(sorted(tag_names[row.id]))) for row in rows
    ]


def _artifact(row: Row[Any], *, data: Mapping[str, Literal], tags: tuple[str, ...]) -> Artifact:
    source = None
    if row.source_orchestrator is not None:
        source = ArtifactSource(
            orchestrator=row.source_orchestrator,
            namespace=row.source_namespace or "",
            job=row.source_job or "",
            run_id=row.source_run_id or "",
            task=row.source_task or "",
            map_index=row.source_map_index if row.source_map_index is not None else -1,
            try_number=row.source_try_number if row.source_try_number is not None else 1,
        )
    return Artifact(
        id=row.id,
        dataset=DatasetID(
            project=row.ds_project, domain=row.ds_domain, name=row.ds_name, version=row.ds_version
        ),
        version=row.version,
        data=data,
        partitions=json.loads(row.partitions_json),
        metadata=json.loads(row.metadata_json),
        tags=tags,
        source=source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def get_artifact_by_id(conn: Connection, artifact_id: str) -> Artifact:
    """The artifact with this id.

    Raises:
        NotFoundError: there is none.
    """
    rows = conn.execute(artifact_select().where(m.artifacts.c.id == artifact_id)).all()
    if not rows:
        raise NotFoundError(f"artifact {artifact_id} does not exist")
    return load_artifacts(conn, rows)[0]


def find_artifact_id(
    conn: Connection,
    *,
    dataset: Dataset,
    tag: str | None = None,
    partitions: Mapping[str, str] | None = None,
    version: int | None = None,
) -> str | None:
    """The id of the artifact a tag names, or of the given (or latest) version of a partition."""
    a = m.artifacts
    if tag is not None:
        t = m.tags
        return conn.execute(
            select(t.c.artifact_id).where(t.c.dataset_id == dataset.uuid, t.c.name == tag)
        ).scalar_one_or_none()
    stmt = select(a.c.id).where(
        a.c.dataset_id == dataset.uuid,
        a.c.partition_key == partition_key_string(partitions or {}),
    )
    if version is not None:
        stmt = stmt.where(a.c.version == version)
    else:
        stmt = stmt.order_by(a.c.version.desc()).limit(1)
    return conn.execute(stmt).scalar_one_or_none()


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
