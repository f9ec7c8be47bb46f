"""One round trip per new artifact on PostgreSQL.

``create_artifact`` touches up to seven tables. On PostgreSQL they are written by one statement
of data-modifying CTEs: the version counter upsert (``ON CONFLICT DO UPDATE ... RETURNING``, which
locks the counter row until commit), the artifact row built from the returned version, and the
data, partition, metadata, tag and blob-reference rows selected from the artifact's returned id.
Foreign keys are checked at the end of the statement, when every row exists. A duplicate id or
a taken tag fails the whole statement, so nothing (not even the version) is consumed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, String, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from cargohold.core.catalog.blobrefs import OWNER_ARTIFACT
from cargohold.core.catalog.models import UTCDateTime
from cargohold.core.types.literals import BlobRef

__all__ = ["ArtifactChildren", "insert_artifact_pg", "insert_artifacts_pg"]

_ARTIFACT_COLUMNS = (
    "id",
    "dataset_id",
    "partition_key",
    "partitions_json",
    "metadata_json",
    "source_orchestrator",
    "source_namespace",
    "source_job",
    "source_run_id",
    "source_task",
    "source_map_index",
    "source_try_number",
)

_DATA = ("name", "literal_json")
_KV = ("key", "value")
_TAG = ("name",)
_BLOB = ("hash", "uri", "size")


@dataclass
class ArtifactChildren:
    """The rows that hang off a new artifact."""

    data: list[dict[str, str]] = field(default_factory=list)
    partitions: list[dict[str, str]] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    blobs: Sequence[BlobRef] = ()


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


def _params(
    row: Mapping[str, Any], children: ArtifactChildren, now: datetime
) -> tuple[TextClause, dict[str, Any]]:
    """The statement for this artifact's shape and its parameters."""
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
    return statement, params


def insert_artifact_pg(
    conn: Connection, *, row: Mapping[str, Any], children: ArtifactChildren, now: datetime
) -> int:
    """Insert the artifact ``row`` (without its version) and its children; returns the version."""
    statement, params = _params(row, children, now)
    return int(conn.execute(statement, params).scalar_one())


def insert_artifacts_pg(
    conn: Connection,
    *,
    rows: Sequence[tuple[Mapping[str, Any], ArtifactChildren]],
    now: datetime,
) -> list[int]:
    """Insert many artifacts, in order, in the caller's transaction; returns their versions.

    Consecutive artifacts of one shape go as one ``executemany`` of the statement above, which
    psycopg pipelines (no wait for each result); the versions are then read back in one query.
    """
    group: list[dict[str, Any]] = []
    current: TextClause | None = None
    for row, children in rows:
        statement, params = _params(row, children, now)
        if statement is not current and group:
            conn.execute(current, group)  # type: ignore[arg-type]
            group = []
        current = statement
        group.append(params)
    if group:
        conn.execute(current, group)  # type: ignore[arg-type]
    ids = [row["id"] for row, _ in rows]
    found: dict[str, int] = dict(
        conn.execute(
            text("SELECT id, version FROM catalog_artifacts WHERE id = ANY(:ids)").bindparams(
                bindparam("ids", type_=ARRAY(String))
            ),
            {"ids": ids},
        ).all()
    )
    return [int(found[i]) for i in ids]
