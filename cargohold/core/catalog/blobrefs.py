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

* ``write`` - a write lease (see below), ``owner_id`` = the writing catalog's lease id.

Write leases close the race between a writer's deduplication and garbage collection without
relying on object modification times (which object stores cannot refresh). Before a writer asks
the store whether a blob already exists, it records a ``write`` row for the hash
(:func:`lease_blob`); it drops the row once the real owner's row is committed. The collector,
in one write transaction per batch, locks the batch's hashes, keeps every hash some row names
(a write lease counts while younger than the lease TTL), deletes the others from the store and
only then commits. The lease insert takes the same lock (PostgreSQL: a transaction-level
advisory lock per hash; SQLite: the database's single write lock), so either the lease commits
first and the collector keeps the blob, or the collector's deletes finish first and the writer's
existence check then finds the blob gone and writes it again.

Other services use :func:`register_blobs` / :func:`release_blobs` on their own connection, or
:meth:`Catalog.register_blob_owner` / :meth:`Catalog.release_blob_owner`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.types.literals import BlobRef, Literal

__all__ = [
    "OWNER_ARTIFACT",
    "OWNER_CACHE",
    "OWNER_WRITE",
    "OWNER_XCOM",
    "blobs_of",
    "drop_leases",
    "lease_blob",
    "lock_hashes",
    "referenced_hashes",
    "register_blobs",
    "release_blobs",
]

OWNER_ARTIFACT = "artifact"
OWNER_CACHE = "cache"
OWNER_XCOM = "xcom"
OWNER_WRITE = "write"
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


def referenced_hashes(
    conn: Connection, hashes: Sequence[str], *, lease_cutoff: datetime | None = None
) -> set[str]:
    """Which of ``hashes`` some owner still references (a write lease created before
    ``lease_cutoff`` no longer counts)."""
    t = m.blob_refs
    found: set[str] = set()
    for start in range(0, len(hashes), _BATCH):
        chunk = list(hashes[start : start + _BATCH])
        stmt = select(t.c.blob_hash).where(t.c.blob_hash.in_(chunk))
        if lease_cutoff is not None:
            stmt = stmt.where(or_(t.c.owner_kind != OWNER_WRITE, t.c.created_at >= lease_cutoff))
        rows = conn.execute(stmt.distinct())
        found.update(row.blob_hash for row in rows)
    return found


def lock_hashes(conn: Connection, hashes: Sequence[str]) -> None:
    """Hold, until the transaction ends, the lock a write lease of any of ``hashes`` takes.

    On PostgreSQL a transaction-level advisory lock per hash (taken in sorted order); on SQLite
    the transaction's write lock (``BEGIN IMMEDIATE``) already excludes every lease insert.
    """
    if conn.dialect.name != "postgresql" or not hashes:
        return
    keys = sorted({_lock_key(h) for h in hashes})
    conn.execute(
        text(
            "SELECT count(pg_advisory_xact_lock(k)) FROM "
            "(SELECT unnest(:keys) AS k ORDER BY 1) AS ordered"
        ).bindparams(bindparam("keys", type_=ARRAY(BIGINT))),
        {"keys": keys},
    )


def lease_blob(conn: Connection, *, owner_id: str, blob_hash: str, now: datetime) -> None:
    """Record (or refresh) the write lease of ``owner_id`` on ``blob_hash``; see the module
    docstring. Run it in its own write transaction, before the store's existence check."""
    lock_hashes(conn, [blob_hash])
    t = m.blob_refs
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = make(t).values(
        owner_kind=OWNER_WRITE,
        owner_id=owner_id,
        blob_hash=blob_hash,
        uri="",
        size=0,
        created_at=now,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[t.c.owner_kind, t.c.owner_id, t.c.blob_hash],
            set_={"created_at": stmt.excluded.created_at},
        )
    )


def drop_leases(
    conn: Connection,
    *,
    owner_id: str | None,
    hashes: Sequence[str] = (),
    older_than: datetime | None = None,
) -> int:
    """Delete write leases: ``owner_id``'s on ``hashes``, or (``owner_id`` None) every lease
    created before ``older_than`` (a writer that died). Returns how many were removed."""
    t = m.blob_refs
    if owner_id is None:
        if older_than is None:
            return 0
        result = conn.execute(
            delete(t).where(t.c.owner_kind == OWNER_WRITE, t.c.created_at < older_than)
        )
        return int(result.rowcount)
    removed = 0
    for start in range(0, len(hashes), _BATCH):
        chunk = list(hashes[start : start + _BATCH])
        result = conn.execute(
            delete(t).where(
                and_(t.c.owner_kind == OWNER_WRITE, t.c.owner_id == owner_id),
                t.c.blob_hash.in_(chunk),
            )
        )
        removed += int(result.rowcount)
    return removed


def _lock_key(blob_hash: str) -> int:
    """A signed 64-bit advisory lock key from a hex content hash (60 bits of it)."""
    try:
        return int(blob_hash[:15], 16)
    except ValueError:
        return int(hashlib.sha256(blob_hash.encode()).hexdigest()[:15], 16)
