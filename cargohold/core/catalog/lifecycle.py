"""Lifecycle: expire old artifacts, and collect blobs nothing references any more.

Garbage collection is a SQL question: a blob in the store is garbage when no row of
``cargohold_blob_refs`` (artifacts, cache entries, XComs, and the write leases of writers in
flight; see :mod:`.blobrefs`) names its hash. A writer leases a hash before its deduplication
check, and the collector decides and deletes each batch inside one write transaction that holds
the lock a lease takes, so a blob a writer is about to reference is never deleted, whatever the
store's modification times say. Blobs younger than the grace period (default one hour) are also
spared (a second line of defence, and a way to keep recent unreferenced blobs around); blobs
whose age the store cannot tell are kept. The collector is a dry run unless asked otherwise,
and reports count and bytes either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import BigInteger, Connection, and_, cast, delete, exists, func, select

from cargohold.core.catalog import models as m
from cargohold.core.catalog.blobrefs import (
    OWNER_ARTIFACT,
    drop_leases,
    lock_hashes,
    referenced_hashes,
    release_blobs,
)
from cargohold.core.catalog.objects import ArtifactSource, Dataset, ExpiryReport, GCReport
from cargohold.core.catalog.read import SOURCE_COLUMNS, source_of
from cargohold.core.catalog.session import Database

__all__ = [
    "DEFAULT_GC_GRACE",
    "DEFAULT_LEASE_TTL",
    "BlobListing",
    "BlobStore",
    "collect_garbage",
    "delete_artifacts",
    "expired_artifact_ids",
]

DEFAULT_GC_GRACE = timedelta(hours=1)
DEFAULT_LEASE_TTL = timedelta(hours=6)
_BATCH = 200


class BlobListing(Protocol):
    """What the collector needs to know of a stored blob (the store's ``BlobInfo``)."""

    @property
    def hash(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def modified(self) -> datetime | None: ...


class BlobStore(Protocol):
    """The part of :class:`cargohold.core.storage.store.Store` the collector uses."""

    def iter_blobs(self) -> Iterator[BlobListing]: ...
    def delete_blob(self, content_hash: str) -> None: ...


def expired_artifact_ids(
    conn: Connection, *, dataset: Dataset, cutoff: datetime, keep_tagged: bool
) -> list[str]:
    """Ids of the dataset's artifacts created before ``cutoff`` (untagged ones if keep_tagged)."""
    a, t = m.artifacts, m.tags
    stmt = select(a.c.id).where(a.c.dataset_id == dataset.uuid, a.c.created_at < cutoff)
    if keep_tagged:
        stmt = stmt.where(~exists().where(t.c.artifact_id == a.c.id))
    return list(conn.execute(stmt.order_by(a.c.created_at)).scalars())


def delete_artifacts(conn: Connection, *, artifact_ids: list[str]) -> None:
    """Delete artifacts with their data, partitions, metadata, tags, reads and blob references."""
    for start in range(0, len(artifact_ids), _BATCH):
        chunk = artifact_ids[start : start + _BATCH]
        for table in (
            m.artifact_data,
            m.artifact_partitions,
            m.artifact_metadata,
            m.tags,
            m.reads,
        ):
            conn.execute(delete(table).where(table.c.artifact_id.in_(chunk)))
        release_blobs(conn, owner_kind=OWNER_ARTIFACT, owner_ids=chunk)
        conn.execute(delete(m.artifacts).where(m.artifacts.c.id.in_(chunk)))


def metadata_sum(conn: Connection, *, key: str) -> int:
    """The sum of the integer values of metadata ``key`` over every artifact (one aggregate
    over the ``(key, value)`` index)."""
    am = m.artifact_metadata
    stmt = select(func.coalesce(func.sum(cast(am.c.value, BigInteger)), 0)).where(am.c.key == key)
    return int(conn.execute(stmt).scalar_one())


def ordered_by_metadata(
    conn: Connection, *, order_key: str, value_key: str, limit: int, exclude: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Up to ``limit`` ``(artifact id, integer value of value_key)`` of the artifacts that have
    both keys, in the text order of their ``order_key`` value, then id (an index range scan)."""
    order = m.artifact_metadata.alias("ordered")
    value = m.artifact_metadata.alias("value")
    stmt = (
        select(order.c.artifact_id, cast(value.c.value, BigInteger).label("value"))
        .join(value, and_(value.c.artifact_id == order.c.artifact_id, value.c.key == value_key))
        .where(order.c.key == order_key)
        .order_by(order.c.value, order.c.artifact_id)
        .limit(limit)
    )
    excluded = list(exclude)
    if excluded:
        stmt = stmt.where(order.c.artifact_id.not_in(excluded))
    return [(row.artifact_id, int(row.value)) for row in conn.execute(stmt)]


def stale_owners(conn: Connection, *, owner_kind: str, before: datetime) -> list[str]:
    """The owners of ``owner_kind`` whose newest blob reference is older than ``before``."""
    t = m.blob_refs
    stmt = (
        select(t.c.owner_id)
        .where(t.c.owner_kind == owner_kind)
        .group_by(t.c.owner_id)
        .having(func.max(t.c.created_at) < before)
    )
    return list(conn.execute(stmt).scalars())


def metadata_values(
    conn: Connection, *, key: str, created_before: datetime
) -> list[tuple[str, ArtifactSource | None, str]]:
    """``(artifact id, source, value)`` of every artifact created before ``created_before``
    whose metadata has ``key``."""
    a, md = m.artifacts, m.artifact_metadata
    stmt = (
        select(a.c.id, *(a.c[column] for column in SOURCE_COLUMNS), md.c.value)
        .join(md, md.c.artifact_id == a.c.id)
        .where(md.c.key == key, a.c.created_at < created_before)
    )
    return [(row[0], source_of(row[1:-1]), row[-1]) for row in conn.execute(stmt)]


def expire(
    database: Database,
    *,
    dataset: Dataset,
    max_age: timedelta,
    now: datetime,
    dry_run: bool,
    keep_tagged: bool,
) -> ExpiryReport:
    """Delete (or, in a dry run, list) the dataset's artifacts older than ``max_age``."""
    cutoff = now - max_age

    def _run(conn: Connection) -> list[str]:
        ids = expired_artifact_ids(conn, dataset=dataset, cutoff=cutoff, keep_tagged=keep_tagged)
        if not dry_run:
            delete_artifacts(conn, artifact_ids=ids)
        return ids

    ids = database.read(_run) if dry_run else database.write(_run)
    return ExpiryReport(dry_run=dry_run, artifact_ids=tuple(ids))


@dataclass
class _Tally:
    scanned: int = 0
    young: int = 0
    size: int = 0


def collect_garbage(
    database: Database,
    *,
    store: BlobStore,
    now: datetime,
    grace: timedelta = DEFAULT_GC_GRACE,
    lease_ttl: timedelta = DEFAULT_LEASE_TTL,
    dry_run: bool = True,
) -> GCReport:
    """Delete (or list, in a dry run) store blobs no owner references and older than ``grace``.

    Each batch is decided and deleted in one write transaction holding the write-lease lock of
    its hashes (see :mod:`.blobrefs`); write leases older than ``lease_ttl`` (their writer died)
    no longer count, and are removed.

    Raises:
        CatalogError: the database failed.
        StorageError: the store failed.
    """
    cutoff = now - grace
    lease_cutoff = now - lease_ttl
    tally = _Tally()
    garbage: list[str] = []
    batch: dict[str, int] = {}

    def decide(conn: Connection, hashes: list[str]) -> list[str]:
        if not dry_run:
            lock_hashes(conn, hashes)
        kept = referenced_hashes(conn, hashes, lease_cutoff=lease_cutoff)
        doomed = [blob_hash for blob_hash in hashes if blob_hash not in kept]
        if not dry_run:
            for blob_hash in doomed:
                store.delete_blob(blob_hash)
        return doomed

    def flush() -> None:
        hashes = list(batch)
        if dry_run:
            doomed = database.read(lambda conn: decide(conn, hashes))
        else:
            doomed = database.write(lambda conn: decide(conn, hashes))
        for blob_hash in doomed:
            garbage.append(blob_hash)
            tally.size += batch[blob_hash]
        batch.clear()

    for info in store.iter_blobs():
        tally.scanned += 1
        modified = info.modified
        if modified is not None and modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        if modified is None or modified > cutoff:
            tally.young += 1
            continue
        batch[info.hash] = info.size
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
    if not dry_run:
        database.write(lambda conn: drop_leases(conn, owner_id=None, older_than=lease_cutoff))
    return GCReport(
        dry_run=dry_run,
        blob_hashes=tuple(garbage),
        bytes=tally.size,
        scanned=tally.scanned,
        kept_young=tally.young,
    )
