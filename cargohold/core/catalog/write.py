"""How an artifact is written: the next version of its partition, its row and child rows, and
later updates of its metadata and data.

Versions come from ``catalog_version_counters``: one row per (dataset, partition values), bumped
with ``INSERT ... ON CONFLICT DO UPDATE SET last_version = last_version + 1 RETURNING`` inside the
artifact's transaction. On PostgreSQL the statement locks the counter row until commit; on SQLite
the write transaction holds the database lock (``BEGIN IMMEDIATE``). Either way concurrent writers
to one partition serialise on the counter and a rolled-back insert gives its number back, so
versions run 1..N without gaps or duplicates.

``create_artifact`` touches up to seven tables. On PostgreSQL they are written by one statement
of data-modifying CTEs (:func:`insert_artifact_pg`, one round trip): the version counter upsert
(which locks the counter row until commit), the artifact row built from the returned version, and
the data, partition, metadata, tag and blob-reference rows selected from the artifact's returned
id. Foreign keys are checked at the end of the statement, when every row exists. A duplicate id
or a taken tag fails the whole statement, so nothing (not even the version) is consumed.
Elsewhere it is one statement per table.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.catalog.blobrefs import OWNER_ARTIFACT, blobs_of, register_blobs, release_blobs
from cargohold.core.catalog.models import UTCDateTime
from cargohold.core.catalog.objects import Artifact, ArtifactSource, Dataset
from cargohold.core.catalog.read import SOURCE_COLUMNS, get_artifact_by_id, source_columns
from cargohold.core.catalog.validation import partition_key_string
from cargohold.core.errors import NotFoundError
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["ArtifactChildren", "insert_artifact", "next_version", "update_artifact"]


@dataclass
class ArtifactChildren:
    """The rows that hang off a new artifact."""

    data: list[dict[str, str]] = field(default_factory=list)
    partitions: list[dict[str, str]] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    blobs: Sequence[BlobRef] = ()


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

    On PostgreSQL this is one statement (data-modifying CTEs, one round trip); elsewhere one
    statement per table. Duplicate ids and taken tags surface as IntegrityError (the caller
    translates them).
    """
    key = partition_key_string(partitions)
    row: dict[str, Any] = {
        "id": artifact_id,
        "dataset_id": dataset.uuid,
        "partition_key": key,
        "partitions_json": json.dumps(dict(partitions), sort_keys=True),
        "metadata_json": json.dumps(dict(metadata), sort_keys=True),
        "created_at": now,
        "updated_at": now,
    }
    row.update(source_columns(source))
    children = ArtifactChildren(
        data=[{"name": n, "literal_json": lit.to_json()} for n, lit in data.items()],
        partitions=[{"key": k, "value": v} for k, v in partitions.items()],
        metadata=[{"key": k, "value": v} for k, v in metadata.items()],
        tags=list(tags),
        blobs=blobs_of(data.values()),
    )
    if conn.dialect.name == "postgresql":
        version = insert_artifact_pg(conn, row=row, children=children, now=now)
    else:
        version = next_version(conn, dataset_uuid=dataset.uuid, partition_key=key)
        conn.execute(insert(m.artifacts), {**row, "version": version})
        _insert_children(
            conn, artifact_id=artifact_id, dataset_uuid=dataset.uuid, children=children, now=now
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


# -- PostgreSQL: one statement per artifact ----------------------------------------------

_ARTIFACT_COLUMNS = (
    *("id", "dataset_id", "partition_key", "partitions_json", "metadata_json"),
    *SOURCE_COLUMNS,
)

_DATA = ("name", "literal_json")
_KV = ("key", "value")
_TAG = ("name",)
_BLOB = ("hash", "uri", "size")


def _values(prefix: str, count: int, columns: Sequence[str]) -> str:
    return ", ".join(
        "(" + ", ".join(f":{prefix}{index}_{column}" for column in columns) + ")"
        for index in range(count)
    )


def _bind(
    prefix: str, rows: Sequence[Mapping[str, Any]], columns: Sequence[str], params: dict[str, Any]
) -> None:
    for index, row in enumerate(rows):
        for column in columns:
            params[f"{prefix}{index}_{column}"] = row[column]


@functools.lru_cache(maxsize=256)
def _statement(data: int, partitions: int, metadata: int, tags: int, blobs: int) -> TextClause:
    """The insert statement for an artifact with this many child rows of each kind (cached:
    building and parsing the text costs more than running it)."""
    ctes = [
        "v AS (INSERT INTO catalog_version_counters (dataset_id, partition_key, last_version) "
        "VALUES (:dataset_id, :partition_key, 1) ON CONFLICT (dataset_id, partition_key) "
        "DO UPDATE SET last_version = catalog_version_counters.last_version + 1 "
        "RETURNING last_version)",
        "a AS (INSERT INTO catalog_artifacts (" + ", ".join(_ARTIFACT_COLUMNS) + ", version, "
        "created_at, updated_at) SELECT "
        + ", ".join(f":{column}" for column in _ARTIFACT_COLUMNS)
        + ", v.last_version, :now, :now FROM v RETURNING id)",
    ]
    if data:
        ctes.append(
            "d AS (INSERT INTO catalog_artifact_data (artifact_id, name, literal_json) "
            "SELECT a.id, x.name, x.literal_json FROM a, "
            f"(VALUES {_values('d', data, _DATA)}) AS x(name, literal_json))"
        )
    if partitions:
        ctes.append(
            "p AS (INSERT INTO catalog_artifact_partitions "
            "(artifact_id, key, dataset_id, value, created_at) "
            "SELECT a.id, x.key, :dataset_id, x.value, :now FROM a, "
            f"(VALUES {_values('p', partitions, _KV)}) AS x(key, value))"
        )
    if metadata:
        ctes.append(
            "m AS (INSERT INTO catalog_artifact_metadata (artifact_id, key, value) "
            f"SELECT a.id, x.key, x.value FROM a, (VALUES {_values('m', metadata, _KV)}) "
            "AS x(key, value))"
        )
    if tags:
        ctes.append(
            "t AS (INSERT INTO catalog_tags (dataset_id, name, artifact_id, created_at) "
            f"SELECT :dataset_id, x.name, a.id, :now FROM a, (VALUES {_values('t', tags, _TAG)}) "
            "AS x(name))"
        )
    if blobs:
        ctes.append(
            "b AS (INSERT INTO cargohold_blob_refs "
            "(owner_kind, owner_id, blob_hash, uri, size, created_at) "
            "SELECT :owner_kind, a.id, x.hash, x.uri, x.size::bigint, :now "
            f"FROM a, (VALUES {_values('b', blobs, _BLOB)}) AS x(hash, uri, size))"
        )
    return text("WITH " + ",\n".join(ctes) + "\nSELECT last_version FROM v").bindparams(
        bindparam("now", type_=UTCDateTime())
    )


def insert_artifact_pg(
    conn: Connection, *, row: Mapping[str, Any], children: ArtifactChildren, now: datetime
) -> int:
    """Insert the artifact ``row`` (without its version) and its children; returns the version."""
    params: dict[str, Any] = {column: row.get(column) for column in _ARTIFACT_COLUMNS}
    params["now"] = now
    params["owner_kind"] = OWNER_ARTIFACT
    blobs = [{"hash": b.hash, "uri": b.uri, "size": b.size} for b in children.blobs]
    tags = [{"name": t} for t in children.tags]
    _bind("d", children.data, _DATA, params)
    _bind("p", children.partitions, _KV, params)
    _bind("m", children.metadata, _KV, params)
    _bind("t", tags, _TAG, params)
    _bind("b", blobs, _BLOB, params)
    statement = _statement(
        len(children.data), len(children.partitions), len(children.metadata), len(tags), len(blobs)
    )
    return int(conn.execute(statement, params).scalar_one())
