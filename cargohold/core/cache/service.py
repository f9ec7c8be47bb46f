"""The cache service: get, put and delete cached outputs, with max age and a storage limit.

Entries live in the catalog, the way Flyte's cache lives on its datacatalog:

* one **dataset** per task, cache version and interface: name ``cache.<task>``, version
  ``<cache version>-<interface hash 8>`` (created on the first put);
* one **artifact** per entry: the outputs are its named data literals (so a cached blob is never
  copied, only referenced), the producing execution is its source, and its metadata holds the
  key, the size and the last use;
* the **tag** named by the key digest points at the entry: a get is one indexed tag lookup.

Cached blobs are also registered with the catalog's blob reference table under the ``cache``
owner kind (owner id = the entry's artifact id), so garbage collection keeps them; deleting or
evicting an entry releases them.

A max age makes older entries misses (and lets a put replace them). A storage limit bounds the
summed entry sizes: a put beyond it raises :class:`CacheFullError`, or, with ``eviction="lru"``,
first evicts the least recently used entries. The last use is written at most once per
``touch_interval`` (a minute by default), so a hit stays one read. Under concurrent puts the limit
is approximate (each put checks, then writes). Serialized execution lives in
:mod:`cargohold.core.cache.reservations` (:meth:`CacheService.get_or_compute`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from cargohold.core.cache import accounting as acc
from cargohold.core.cache import reservations
from cargohold.core.cache.entry import CacheEntry, HeartbeatInterval
from cargohold.core.cache.keys import CacheKey
from cargohold.core.catalog import OWNER_CACHE, Artifact, ArtifactSource, Catalog, DatasetID
from cargohold.core.context import RunContext
from cargohold.core.errors import AlreadyExistsError, CacheError, CacheFullError, NotFoundError
from cargohold.core.types.literals import Literal as CargoLiteral

__all__ = ["CacheEntry", "CacheService", "Eviction"]

Eviction = Literal["none", "lru"]
_EVICTION_BATCH = 100


class CacheService:
    """Cached outputs in a catalog.

    Args:
        catalog: the catalog the entries live in.
        max_age: entries older than this are misses (and a put may replace them).
        max_size_bytes: the storage limit over all cache entries of the catalog (None: none).
        eviction: ``"none"`` (a put beyond the limit raises) or ``"lru"``.
        touch_interval: the last use of an entry is recorded at most this often.
        project: the project of the cache datasets (default: the catalog's).
        domain: the domain of the cache datasets (default: the catalog's).

    Raises:
        CacheError: a negative limit, a non-positive max age or an unknown eviction policy.
    """

    def __init__(
        self,
        *,
        catalog: Catalog,
        max_age: timedelta | None = None,
        max_size_bytes: int | None = None,
        eviction: Eviction = "none",
        touch_interval: timedelta = timedelta(minutes=1),
        project: str | None = None,
        domain: str | None = None,
    ) -> None:
        if max_age is not None and max_age <= timedelta(0):
            raise CacheError(f"max_age must be a positive timedelta, got {max_age!r}")
        if max_size_bytes is not None and max_size_bytes < 0:
            raise CacheError(f"max_size_bytes must be >= 0, got {max_size_bytes}")
        if eviction not in ("none", "lru"):
            raise CacheError(f"eviction must be 'none' or 'lru', got {eviction!r}")
        self.catalog = catalog
        self.max_age = max_age
        self.max_size_bytes = max_size_bytes
        self.eviction: Eviction = eviction
        self.touch_interval = touch_interval
        self.project = project or catalog.project
        self.domain = domain or catalog.domain

    def __repr__(self) -> str:
        return (
            f"CacheService(catalog={self.catalog!r}, max_age={self.max_age!r}, "
            f"max_size_bytes={self.max_size_bytes!r}, eviction={self.eviction!r})"
        )

    def dataset_id(self, key: CacheKey) -> DatasetID:
        """The catalog dataset holding the entries of ``key``'s task, version and interface."""
        return DatasetID(
            project=self.project,
            domain=self.domain,
            name=key.dataset_name,
            version=key.dataset_version,
        )

    # -- get / put / delete ---------------------------------------------------------------

    def get(self, key: CacheKey) -> CacheEntry | None:
        """The entry of ``key``, or None on a miss (none, or older than the max age).

        A hit records its use (at most once per ``touch_interval``). No blob is read.

        Raises:
            CatalogError: the catalog failed.
        """
        artifact = self._find(key)
        if artifact is None:
            return None
        now = self.catalog.now()
        if self._expired(artifact, now):
            return None
        entry = self._entry(key, artifact)
        if now - entry.last_used >= self.touch_interval:
            metadata = {**artifact.metadata, acc.LAST_USED_KEY: acc.format_time(now)}
            # NotFoundError: evicted or deleted meanwhile, still a hit for this call
            with contextlib.suppress(NotFoundError):
                self.catalog.update_artifact(artifact_id=artifact.id, metadata=metadata)
        return entry

    def put(
        self,
        key: CacheKey,
        outputs: Mapping[str, CargoLiteral],
        *,
        source: ArtifactSource | RunContext | None = None,
        overwrite: bool = False,
    ) -> CacheEntry:
        """Store ``outputs`` (literals whose blobs are already in the store) under ``key``.

        Raises:
            AlreadyExistsError: an entry exists, is younger than the max age and ``overwrite``
                is false.
            CacheFullError: the entry does not fit the storage limit (with ``eviction="lru"``,
                only when it is larger than the whole limit).
            InvalidArgumentError: an output is not a Literal or is badly named.
            CatalogError: the catalog failed.
        """
        size = acc.entry_size(outputs)
        self._make_room(key, size)
        dataset = self.ensure_dataset(key)
        now = self.catalog.now()
        metadata = {
            acc.ENTRY_KEY: key.digest,
            acc.SIZE_KEY: str(size),
            acc.LAST_USED_KEY: acc.format_time(now),
        }
        if isinstance(source, RunContext):
            source = ArtifactSource.from_context(source)
        try:
            artifact = self.catalog.create_artifact(
                dataset=dataset, data=outputs, metadata=metadata, tags=[key.digest], source=source
            )
        except AlreadyExistsError:
            existing = self._find(key)
            if existing is not None and not overwrite and not self._expired(existing, now):
                raise AlreadyExistsError(
                    f"cache entry {key} already exists (created {existing.created_at}); pass "
                    f"overwrite=True to replace it"
                ) from None
            artifact = self.catalog.create_artifact(
                dataset=dataset, data=outputs, metadata=metadata, source=source
            )
            self.catalog.move_tag(dataset=dataset, tag=key.digest, artifact_id=artifact.id)
            if existing is not None:
                self._delete_artifacts([existing.id])
        self.catalog.register_blob_owner(
            owner_kind=OWNER_CACHE, owner_id=artifact.id, blobs=outputs.values()
        )
        return self._entry(key, artifact)

    def delete(self, key: CacheKey) -> bool:
        """Delete the entry of ``key`` and release its blobs; False when there was none.

        Raises:
            CatalogError: the catalog failed.
        """
        artifact = self._find(key)
        if artifact is None:
            return False
        self._delete_artifacts([artifact.id])
        return True

    def total_size(self) -> int:
        """The summed size of every cache entry in the catalog, in bytes."""
        return self.catalog.metadata_sum(key=acc.SIZE_KEY)

    def get_or_compute(
        self,
        key: CacheKey,
        compute: Callable[[], Mapping[str, CargoLiteral]],
        *,
        source: ArtifactSource | RunContext | None = None,
        serialize: bool = True,
        heartbeat_interval: HeartbeatInterval = 10.0,
        timeout: float | None = None,
    ) -> CacheEntry:
        """The entry of ``key``; on a miss, run ``compute`` and put its outputs.

        With ``serialize`` (the default), identical concurrent calls compute once: see
        :func:`cargohold.core.cache.reservations.get_or_compute`.

        Raises:
            CacheError: ``timeout`` seconds passed waiting for another owner.
            CacheFullError: the outputs do not fit the storage limit.
            Exception: whatever ``compute`` raises (the reservation is released first).
        """
        if not serialize:
            entry = self.get(key)
            if entry is not None:
                return entry
            outputs = compute()
            try:
                return replace(self.put(key, outputs, source=source), computed=True)
            except AlreadyExistsError:
                found = self.get(key)
                if found is None:
                    raise
                return found
        return reservations.get_or_compute(
            self,
            key,
            compute,
            source=source,
            heartbeat_interval=heartbeat_interval,
            timeout=timeout,
        )

    # -- helpers ----------------------------------------------------------------------------

    def _find(self, key: CacheKey) -> Artifact | None:
        try:
            return self.catalog.get_artifact(dataset=self.dataset_id(key), tag=key.digest)
        except NotFoundError:
            return None

    def _expired(self, artifact: Artifact, now: datetime) -> bool:
        if self.max_age is None or artifact.created_at is None:
            return False
        return now - artifact.created_at > self.max_age

    def _entry(self, key: CacheKey, artifact: Artifact) -> CacheEntry:
        created = artifact.created_at or self.catalog.now()
        used = artifact.metadata.get(acc.LAST_USED_KEY)
        return CacheEntry(
            key=key,
            artifact_id=artifact.id,
            outputs=artifact.data,
            source=artifact.source,
            created_at=created,
            last_used=acc.parse_time(used) if used else created,
            size=int(artifact.metadata.get(acc.SIZE_KEY, "0")),
        )

    def ensure_dataset(self, key: CacheKey) -> DatasetID:
        """The dataset of ``key``, created if it does not exist yet (safe under races).

        Raises:
            CatalogError: the catalog failed.
        """
        dataset = self.dataset_id(key)
        try:
            self.catalog.get_dataset(dataset=dataset)
        except NotFoundError:
            metadata = {
                "cache_task": key.task[:1000],
                "cache_version": key.version,
                "cache_interface": key.interface_hash,
            }
            with contextlib.suppress(AlreadyExistsError):  # created by a concurrent put
                self.catalog.create_dataset(dataset=dataset, metadata=metadata)
        return dataset

    def entries(self, *, task: str | None = None) -> list[tuple[str, Artifact]]:
        """Every cache entry (only ``task``'s, when given) as ``(task name, entry artifact)``,
        read from the catalog's ``cache.<task>`` datasets of this service's project and domain."""
        prefix = f"cache.{task}" if task else "cache."
        found: list[tuple[str, Artifact]] = []
        token: str | None = None
        while True:
            page = self.catalog.list_datasets(
                project=self.project,
                domain=self.domain,
                name_prefix=prefix,
                limit=500,
                page_token=token,
            )
            for dataset in page:
                if task and dataset.id.name != prefix:
                    continue
                name = dataset.metadata.get("cache_task") or dataset.id.name.removeprefix("cache.")
                entries = self.catalog.iter_artifacts(dataset=dataset.id, limit=500)
                found += [(name, artifact) for artifact in entries]
            token = page.next_token
            if token is None:
                return found

    def delete_entries(self, *, entry_ids: Sequence[str]) -> None:
        """Delete cache entries by artifact id, with their blob references (the blobs stay in
        the store until garbage collection finds them unreferenced).

        Raises:
            NotFoundError: an id is not an artifact.
            CacheError: an id is an artifact that is not a cache entry (nothing is deleted).
        """
        ids = list(entry_ids)
        for entry_id in ids:
            artifact = self.catalog.get_artifact(artifact_id=entry_id)
            if acc.ENTRY_KEY not in artifact.metadata:
                raise CacheError(
                    f"{entry_id} is an artifact of {artifact.dataset}, not a cache entry; "
                    f"`cargohold cache ls` lists the entries"
                )
        self._delete_artifacts(ids)

    def _delete_artifacts(self, artifact_ids: list[str]) -> None:
        self.catalog.delete_artifacts(
            artifact_ids=artifact_ids, release={OWNER_CACHE: artifact_ids}
        )

    def _make_room(self, key: CacheKey, size: int) -> None:
        limit = self.max_size_bytes
        if limit is None:
            return
        if size > limit:
            raise CacheFullError(
                f"cache entry {key} needs {size} bytes, more than the whole cache limit of "
                f"{limit} bytes; raise max_size_bytes or do not cache this call"
            )
        total = self.total_size()
        if total + size <= limit:
            return
        if self.eviction == "none":
            raise CacheFullError(
                f"cache entry {key} needs {size} bytes but the cache holds {total} of its "
                f"{limit} bytes; delete entries, raise max_size_bytes, or set eviction='lru'"
            )
        while total + size > limit:
            victims: list[str] = []
            freed = 0
            candidates = self.catalog.ordered_by_metadata(
                order_key=acc.LAST_USED_KEY, value_key=acc.SIZE_KEY, limit=_EVICTION_BATCH
            )
            if not candidates:
                raise CacheFullError(
                    f"cache entry {key} needs {size} bytes; the cache holds {total} of {limit} "
                    f"bytes and has nothing left to evict"
                )
            for artifact_id, entry_size in candidates:
                victims.append(artifact_id)
                freed += entry_size
                if total - freed + size <= limit:
                    break
            self._delete_artifacts(victims)
            total = self.total_size()
