"""The catalog's upkeep, as a mixin of the facade: who still needs which blob, deleting and
expiring artifacts, retention policies and blob garbage collection (the SQL is in
:mod:`.lifecycle`, :mod:`.retention` and :mod:`.blobrefs`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from cargohold.core.catalog import lifecycle as _lifecycle
from cargohold.core.catalog import retention as _retention
from cargohold.core.catalog.base import CatalogBase, DatasetRef
from cargohold.core.catalog.blobrefs import (
    blobs_of,
    drop_leases,
    lease_blob,
    lock_hashes,
    referenced_hashes,
    register_blobs,
    release_blobs,
)
from cargohold.core.catalog.objects import (
    ArtifactSource,
    ExpiryReport,
    GCReport,
)
from cargohold.core.catalog.validation import (
    check_key,
    check_name,
)
from cargohold.core.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
)
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["LifecycleMixin"]


class LifecycleMixin(CatalogBase):
    """Blob references, artifact expiry and blob garbage collection."""

    def register_blob_owner(
        self, *, owner_kind: str, owner_id: str, blobs: Iterable[BlobRef | Literal]
    ) -> None:
        """Record that an owner (``cache`` entry, ``xcom``, ...) references blobs, so garbage
        collection keeps them. See :mod:`cargohold.core.catalog.blobrefs`.

        Raises:
            InvalidArgumentError: a bad owner kind or id.
        """
        kind = check_name(owner_kind, what="owner_kind")
        owner = check_key(owner_id, what="owner_id")
        items = list(blobs)
        refs = [b for b in items if isinstance(b, BlobRef)]
        refs += blobs_of(b for b in items if isinstance(b, Literal))
        now = self.now()
        self.database.write(
            lambda conn: register_blobs(conn, owner_kind=kind, owner_id=owner, blobs=refs, now=now),
            on_integrity=lambda exc: AlreadyExistsError(
                f"{kind} {owner_id!r} already registered one of these blobs"
            ),
        )
        self._release_leases(ref.hash for ref in refs)

    def release_blob_owner(self, *, owner_kind: str, owner_id: str) -> int:
        """Forget every blob reference of an owner; returns how many were removed."""
        return self.database.write(
            lambda conn: release_blobs(conn, owner_kind=owner_kind, owner_ids=[owner_id])
        )

    def delete_artifacts(
        self,
        *,
        artifact_ids: Sequence[str],
        release: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Delete artifacts with their data, partitions, metadata, tags, reads and blob
        references, and in the same transaction forget the blob references of the owners
        ``release`` names (owner kind -> owner ids). The blobs stay in the store until
        :meth:`collect_garbage` finds them unreferenced.

        Raises:
            CatalogError: the database failed.
        """
        ids = list(artifact_ids)
        owners = {kind: list(owner_ids) for kind, owner_ids in (release or {}).items()}

        def run(conn: Connection) -> None:
            for kind, owner_ids in owners.items():
                release_blobs(conn, owner_kind=kind, owner_ids=owner_ids)
            _lifecycle.delete_artifacts(conn, artifact_ids=ids)

        if ids or any(owners.values()):
            self.database.write(run)

    def metadata_sum(self, *, key: str) -> int:
        """The sum of the integer values of metadata ``key`` over every artifact (the cache's
        size accounting).

        Raises:
            CatalogError: the database failed, or a value is not an integer.
        """
        return self.database.read(lambda conn: _lifecycle.metadata_sum(conn, key=key))

    def ordered_by_metadata(
        self, *, order_key: str, value_key: str, limit: int, exclude: Iterable[str] = ()
    ) -> list[tuple[str, int]]:
        """Up to ``limit`` ``(artifact id, integer value of value_key)`` of the artifacts having
        both metadata keys, in the text order of their ``order_key`` value (the cache's least
        recently used entries, by its fixed-width timestamps).

        Raises:
            CatalogError: the database failed, or a value is not an integer.
        """
        return self.database.read(
            lambda conn: _lifecycle.ordered_by_metadata(
                conn, order_key=order_key, value_key=value_key, limit=limit, exclude=exclude
            )
        )

    def stale_blob_owners(self, *, owner_kind: str, before: datetime) -> list[str]:
        """The owners of ``owner_kind`` (``xcom``, ``cache``, ...) whose newest blob reference
        was registered before ``before``.

        Raises:
            CatalogError: the database failed.
        """
        return self.database.read(
            lambda conn: _lifecycle.stale_owners(conn, owner_kind=owner_kind, before=before)
        )

    def metadata_values(
        self, *, key: str, created_before: datetime
    ) -> list[tuple[str, ArtifactSource | None, str]]:
        """``(artifact id, source, value)`` of every artifact created before
        ``created_before`` whose metadata has ``key`` (no data or tags are read).

        Raises:
            CatalogError: the database failed.
        """
        return self.database.read(
            lambda conn: _lifecycle.metadata_values(conn, key=key, created_before=created_before)
        )

    def expire_artifacts(
        self,
        *,
        dataset: DatasetRef,
        max_age: timedelta,
        dry_run: bool = False,
        keep_tagged: bool = True,
    ) -> ExpiryReport:
        """Delete the dataset's artifacts created more than ``max_age`` ago, with their data,
        tags, reads and blob references (the blobs themselves go in :meth:`collect_garbage`).
        Tagged artifacts are kept unless ``keep_tagged`` is false.

        Raises:
            NotFoundError: the dataset does not exist.
            InvalidArgumentError: ``max_age`` is not a positive timedelta.
        """
        if not isinstance(max_age, timedelta) or max_age <= timedelta(0):
            raise InvalidArgumentError(f"max_age must be a positive timedelta, got {max_age!r}")
        ds = self.get_dataset(dataset=dataset)
        return _lifecycle.expire(
            self.database,
            dataset=ds,
            max_age=max_age,
            now=self.now(),
            dry_run=dry_run,
            keep_tagged=keep_tagged,
        )

    def collect_garbage(
        self,
        *,
        store: _lifecycle.BlobStore,
        grace: timedelta = _lifecycle.DEFAULT_GC_GRACE,
        dry_run: bool = True,
        lease_ttl: timedelta = _lifecycle.DEFAULT_LEASE_TTL,
    ) -> GCReport:
        """Delete blobs of ``store`` that no artifact, cache entry, XCom or live write lease
        references and that are older than ``grace``. A dry run (the default) only reports
        count and bytes. Write leases older than ``lease_ttl`` count as abandoned.

        Raises:
            CatalogError: the database failed.
            StorageError: the store failed.
        """
        if not isinstance(grace, timedelta) or grace < timedelta(0):
            raise InvalidArgumentError(f"grace must be a timedelta >= 0, got {grace!r}")
        if not isinstance(lease_ttl, timedelta) or lease_ttl < timedelta(0):
            raise InvalidArgumentError(f"lease_ttl must be a timedelta >= 0, got {lease_ttl!r}")
        return _lifecycle.collect_garbage(
            self.database,
            store=store,
            now=self.now(),
            grace=grace,
            lease_ttl=lease_ttl,
            dry_run=dry_run,
        )

    def set_retention(
        self,
        *,
        dataset: DatasetRef,
        keep_last: int | None = None,
        max_age: timedelta | None = None,
    ) -> _retention.RetentionPolicy | None:
        """Store the dataset's retention policy (both ``None``: remove it); ``cargohold gc``
        applies it. See :mod:`cargohold.core.catalog.retention`.

        Raises:
            NotFoundError: the dataset does not exist.
            InvalidArgumentError: ``keep_last`` < 1 or ``max_age`` not a positive timedelta.
        """
        if keep_last is not None and (isinstance(keep_last, bool) or keep_last < 1):
            raise InvalidArgumentError(f"keep_last must be an integer >= 1, got {keep_last!r}")
        if max_age is not None and (not isinstance(max_age, timedelta) or max_age <= timedelta(0)):
            raise InvalidArgumentError(f"max_age must be a positive timedelta, got {max_age!r}")
        ds = self.get_dataset(dataset=dataset)
        policy = None
        if keep_last is not None or max_age is not None:
            policy = _retention.RetentionPolicy(keep_last=keep_last, max_age=max_age)
        now = self.now()
        self.database.write(
            lambda conn: _retention.set_policy(conn, dataset=ds, policy=policy, now=now)
        )
        return policy

    def get_retention(self, *, dataset: DatasetRef) -> _retention.RetentionPolicy | None:
        """The dataset's stored retention policy, or ``None``.

        Raises:
            NotFoundError: the dataset does not exist.
        """
        ds = self.get_dataset(dataset=dataset)
        return self.database.read(lambda conn: _retention.get_policy(conn, dataset=ds))

    def apply_retention(self, *, dry_run: bool = True) -> ExpiryReport:
        """Expire every artifact a retention policy (or the XCom default) expires, in one
        transaction; their blobs become collectable. Tagged and pinned artifacts stay.

        Raises:
            CatalogError: the database failed.
        """
        now = self.now()

        def run(conn: Connection) -> list[str]:
            stored = _retention.policies(conn)
            targets: dict[str, _retention.RetentionPolicy | None] = dict(stored)
            for dataset_id in _retention.xcom_dataset_ids(conn):
                targets.setdefault(dataset_id, None)
            ids: list[str] = []
            for dataset_id, policy in targets.items():
                ids += _retention.expired_ids(conn, dataset_id=dataset_id, policy=policy, now=now)
            if not dry_run:
                _lifecycle.delete_artifacts(conn, artifact_ids=ids)
            return ids

        ids = self.database.read(run) if dry_run else self.database.write(run)
        return ExpiryReport(dry_run=dry_run, artifact_ids=tuple(ids))

    def delete_unreferenced_blobs(
        self, *, store: _lifecycle.BlobStore, hashes: Iterable[str]
    ) -> list[str]:
        """Delete those of ``hashes`` that no owner (nor a live write lease) references, deciding
        and deleting in one transaction that holds their write-lease lock (as the collector
        does); returns the hashes deleted.

        Raises:
            CatalogError: the database failed.
            StorageError: the store failed.
        """
        wanted = sorted(set(hashes))
        if not wanted:
            return []
        cutoff = self.now() - _lifecycle.DEFAULT_LEASE_TTL

        def run(conn: Connection) -> list[str]:
            lock_hashes(conn, wanted)
            kept = referenced_hashes(conn, wanted, lease_cutoff=cutoff)
            doomed = [h for h in wanted if h not in kept]
            for content_hash in doomed:
                store.delete_blob(content_hash)
            return doomed

        return self.database.write(run)

    def lease_blob(self, *, content_hash: str) -> None:
        """Record a write lease on a blob about to be written or deduplicated, so garbage
        collection keeps it until this catalog records a real owner of it (which drops the
        lease) or the lease ages past the collector's lease TTL. Call it before asking the
        store whether the blob exists (``Cargohold.store`` does).

        Raises:
            CatalogError: the database failed.
        """
        now = self.now()
        self.database.write(
            lambda conn: lease_blob(
                conn, owner_id=self.lease_owner, blob_hash=content_hash, now=now
            )
        )
        with self._lock:
            self._leased.add(content_hash)

    def _release_leases(self, hashes: Iterable[str]) -> None:
        """Drop this catalog's write leases on ``hashes`` (their real owner is committed)."""
        with self._lock:
            mine = [h for h in hashes if h in self._leased]
            self._leased.difference_update(mine)
        if mine:
            self.database.write(
                lambda conn: drop_leases(conn, owner_id=self.lease_owner, hashes=mine)
            )
