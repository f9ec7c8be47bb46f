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

__all__ = [
    "ArtifactChildren",
    "NewRow",
    "insert_artifact",
    "insert_artifacts",
    "next_version",
    "update_artifact",
]


# Built once: json.dumps with any non-default option builds a new JSONEncoder on every call.
_SORTED = json.JSONEncoder(sort_keys=True)  # the stored partitions_json and metadata_json
_ROWS = json.JSONEncoder(separators=(",", ":"))  # the batch's rows (ASCII: see _json_rows)


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
        "partitions_json": _SORTED.encode(dict(item.partitions)),
        "metadata_json": _SORTED.encode(dict(item.metadata)),
        "created_at": now,
        "updated_at": now,
    }
    row.update(source_columns(item.source))
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


def insert_artifact(conn: Connection, *, dataset: Dataset, item: NewRow, now: datetime) -> Artifact:
    """Insert an artifact with its data, partitions, metadata, tags and blob references.

    On PostgreSQL this is one statement (data-modifying CTEs, one round trip); elsewhere one
    statement per table. Duplicate ids and taken tags surface as IntegrityError (the caller
    translates them).
    """
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
    statement (:func:`insert_artifacts_pg`), elsewhere one
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
        values["metadata_json"] = _SORTED.encode(dict(metadata))
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


# -- PostgreSQL: a batch of artifacts in one statement ------------------------------------

_BATCH = text(
    """WITH
v AS (INSERT INTO catalog_version_counters (dataset_id, partition_key, last_version)
  SELECT :dataset_id, x->>0, (x->>1)::int FROM json_array_elements(CAST(:v AS json)) AS x
  ON CONFLICT (dataset_id, partition_key)
  DO UPDATE SET last_version = catalog_version_counters.last_version + excluded.last_version
  RETURNING partition_key, last_version),
a AS (INSERT INTO catalog_artifacts (id, dataset_id, partition_key, partitions_json,
  metadata_json, source_orchestrator, source_namespace, source_job, source_run_id, source_task,
  source_map_index, source_try_number, version, created_at, updated_at)
  SELECT x->>0, :dataset_id, x->>1, x->>2, x->>3, x->>4, x->>5, x->>6, x->>7, x->>8,
    (x->>9)::int, (x->>10)::int, v.last_version - (x->>11)::int, :now, :now
  FROM json_array_elements(CAST(:a AS json)) AS x
  JOIN v ON v.partition_key = x->>1
  RETURNING id, version),
d AS (INSERT INTO catalog_artifact_data (artifact_id, name, literal_json)
  SELECT x->>0, x->>1, x->>2 FROM json_array_elements(CAST(:d AS json)) AS x),
p AS (INSERT INTO catalog_artifact_partitions (artifact_id, key, dataset_id, value, created_at)
  SELECT x->>0, x->>1, :dataset_id, x->>2, :now FROM json_array_elements(CAST(:p AS json)) AS x),
m AS (INSERT INTO catalog_artifact_metadata (artifact_id, key, value)
  SELECT x->>0, x->>1, x->>2 FROM json_array_elements(CAST(:m AS json)) AS x),
t AS (INSERT INTO catalog_tags (dataset_id, name, artifact_id, created_at)
  SELECT :dataset_id, x->>0, x->>1, :now FROM json_array_elements(CAST(:t AS json)) AS x),
b AS (INSERT INTO cargohold_blob_refs (owner_kind, owner_id, blob_hash, uri, size, created_at)
  SELECT :owner_kind, x->>0, x->>1, x->>2, (x->>3)::bigint, :now
  FROM json_array_elements(CAST(:b AS json)) AS x)
SELECT id, version FROM a"""
).bindparams(bindparam("now", type_=UTCDateTime()))


def insert_artifacts_pg(
    conn: Connection,
    *,
    rows: Sequence[tuple[Mapping[str, Any], ArtifactChildren]],
    now: datetime,
) -> list[int]:
    """Insert many artifacts of one dataset, in order, with one statement; returns their
    versions.

    The statement is ``_BATCH``: each table's rows travel as one JSON array of row arrays
    (encoded by the json module's C encoder; psycopg's text dump of the same rows as arrays,
    element by element in Python, cost half the batch's client time), and each partition's
    version counter is bumped once, by the number of the batch's artifacts in it, so the k-th
    (from 1) of c artifacts of a partition whose counter ends at L gets L - c + k.
    """
    counts: dict[str, int] = {}
    for row, _ in rows:
        counts[row["partition_key"]] = counts.get(row["partition_key"], 0) + 1
    remaining = dict(counts)
    artifacts: list[list[Any]] = []
    data: list[list[str]] = []
    partitions: list[list[str]] = []
    metadata: list[list[str]] = []
    tags: list[list[str]] = []
    blobs: list[list[Any]] = []
    for row, children in rows:
        artifact_id, key = row["id"], row["partition_key"]
        remaining[key] -= 1
        artifacts.append(
            [
                artifact_id,
                key,
                row["partitions_json"],
                row["metadata_json"],
                *(row.get(column) for column in SOURCE_COLUMNS),
                remaining[key],
            ]
        )
        data.extend([artifact_id, d["name"], d["literal_json"]] for d in children.data)
        partitions.extend([artifact_id, p["key"], p["value"]] for p in children.partitions)
        metadata.extend([artifact_id, m["key"], m["value"]] for m in children.metadata)
        tags.extend([tag, artifact_id] for tag in children.tags)
        blobs.extend([artifact_id, b.hash, b.uri, b.size] for b in children.blobs)
    params: dict[str, Any] = {
        "dataset_id": rows[0][0]["dataset_id"],
        "now": now,
        "owner_kind": OWNER_ARTIFACT,
        "v": _json_rows([[k, n] for k, n in counts.items()]),
        "a": _json_rows(artifacts),
        "d": _json_rows(data),
        "p": _json_rows(partitions),
        "m": _json_rows(metadata),
        "t": _json_rows(tags),
        "b": _json_rows(blobs),
    }
    found = {str(i): int(v) for i, v in conn.execute(_BATCH, params).all()}
    return [found[row["id"]] for row, _ in rows]


def _json_rows(rows: list[list[Any]]) -> str:
    """Rows as one JSON array of arrays; ``ensure_ascii`` keeps the text plain ASCII, so no
    character of a value can reach the server other than as the JSON escape it decodes."""
    return _ROWS.encode(rows)
