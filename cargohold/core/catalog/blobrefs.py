"""The blob reference table: who still needs which blob.

``cargohold_blob_refs`` holds one row per (owner kind, owner id, blob hash), with the blob's uri
and size. It is the single source of truth for garbage collection: a blob in the store is
garbage when no row names its hash (and it is older than the grace period), which is one indexed
SQL lookup per batch of hashes; no literal JSON is parsed.

Owner kinds (a short string; add new ones freely, they need no migration):

* ``artifact`` - a catalog artifact's data; written in the same transaction as the artifact's
  rows, replaced by ``update_artifact`` and removed when the artifact expires.
* ``cache`` - a cache entry (issue 4): the cache service registers the blobs of an entry's
  output literals with ``owner_id`` = its entry key, and releases them when it evicts the entry.
* ``xcom`` - an XCom value the Airflow backend still holds (``owner_id`` such as
  ``dag/run/task/map_index/key``), released by its ``purge``.

Other services use :func:`register_blobs` / :func:`release_blobs` on their own connection, or
:meth:`Catalog.register_blob_owner` / :meth:`Catalog.release_blob_owner`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from cargohold.core.catalog import models as m
from cargohold.core.types.literals import BlobRef, Literal

__all__ = [
    "OWNER_ARTIFACT",
    "OWNER_CACHE",
    "OWNER_XCOM",
    "blobs_of",
    "referenced_hashes",
    "register_blobs",
    "release_blobs",
]

OWNER_ARTIFACT = "artifact"
OWNER_CACHE = "cache"
OWNER_XCOM = "xcom"
_BATCH = 500


def blobs_of(literals: Iterable[Literal]) -> list[BlobRef]:
    """Every distinct blob (by hash) the literals reference, nested ones included."""
    seen: dict[str, BlobRef] = {}
    for literal in literals:
        for blob in literal.blobs():
            seen.setdefault(blob.hash, blob)
    return list(seen.values())


def register_blobs(
    conn: Connection,
    *,
    owner_kind: str,
    owner_id: str,
    blobs: Sequence[BlobRef],
    now: datetime,
) -> None:
    """Record that ``(owner_kind, owner_id)`` references ``blobs`` (replacing nothing)."""
    distinct = {blob.hash: blob for blob in blobs}
    if not distinct:
        return
    conn.execute(
        insert(m.blob_refs),
        [
            {
                "owner_kind": owner_kind,
                "owner_id": owner_id,
                "blob_hash": blob.hash,
                "uri": blob.uri,
                "size": blob.size,
                "created_at": now,
            }
            for blob in distinct.values()
        ],
    )


def release_blobs(conn: Connection, *, owner_kind: str, owner_ids: Sequence[str]) -> int:
    """Forget every reference of these owners; returns how many rows were removed."""
    removed = 0
    t = m.blob_refs
    for start in range(0, len(owner_ids), _BATCH):
        chunk = list(owner_ids[start : start + _BATCH])
        result = conn.execute(
            delete(t).where(t.c.owner_kind == owner_kind, t.c.owner_id.in_(chunk))
        )
        removed += result.rowcount
    return removed


def referenced_hashes(conn: Connection, hashes: Sequence[str]) -> set[str]:
    """Which of ``hashes`` some owner still references."""
    t = m.blob_refs
    found: set[str] = set()
    for start in range(0, len(hashes), _BATCH):
        chunk = list(hashes[start : start + _BATCH])
        rows = conn.execute(select(t.c.blob_hash).where(t.c.blob_hash.in_(chunk)).distinct())
        found.update(row.blob_hash for row in rows)
    return found
