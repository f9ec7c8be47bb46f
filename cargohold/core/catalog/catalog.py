"""The :class:`Catalog` facade: datasets, artifacts, tags, reservations, lineage, lifecycle.

Each method validates its input, runs one transaction through :class:`Database` and returns
frozen domain objects. The work lives in one module per concern (``datasets``, ``artifacts``,
``tags``, ``reservations``, ``queries``, ``lineage``, ``lifecycle``); this class only composes
them. Nothing connects before the first call, which also checks the schema once
(:func:`~cargohold.core.catalog.schema.ensure_schema`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cargohold.core.catalog import artifacts as _artifacts
from cargohold.core.catalog import datasets as _datasets
from cargohold.core.catalog import lifecycle as _lifecycle
from cargohold.core.catalog import lineage as _lineage
from cargohold.core.catalog import queries as _queries
from cargohold.core.catalog import reservations as _reservations
from cargohold.core.catalog import tags as _tags
from cargohold.core.catalog.blobrefs import blobs_of, register_blobs, release_blobs
from cargohold.core.catalog.objects import (
    Artifact,
    ArtifactSource,
    Dataset,
    DatasetID,
    ExpiryReport,
    GCReport,
    Page,
    Read,
    Reservation,
    Tag,
)
from cargohold.core.catalog.queries import SortBy
from cargohold.core.catalog.schema import ensure_schema
from cargohold.core.catalog.session import Database, make_engine
from cargohold.core.catalog.validation import (
    check_data,
    check_heartbeat,
    check_key,
    check_limit,
    check_metadata,
    check_name,
    check_partition_keys,
    check_partitions,
)
from cargohold.core.config import Settings
from cargohold.core.context import RunContext
from cargohold.core.errors import (
    AlreadyExistsError,
    CargoholdError,
    CatalogError,
    InvalidArgumentError,
    NotFoundError,
)
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["Catalog", "DatasetRef"]

DatasetRef = DatasetID | str
T = TypeVar("T")
_ARTIFACT_ID_LENGTH = 36


class Catalog:
    """The data catalog on one database (``sqlite:///...`` or ``postgresql://...``).

    Args:
        url: the catalog database URL.
        project: the default project of datasets named by a plain string.
        domain: the default domain (``CARGOHOLD_DOMAIN``'s value, ``development`` by default).
        create_schema: create the schema in a database that has none (never upgrades one).
        grace_multiplier: reservations expire at heartbeat interval x this.
        blob_exists: when given, create/update refuse literals whose blobs it says are missing.
        clock: the source of "now" (UTC); tests pass a fake.
        engine_options: passed to ``sqlalchemy.create_engine``.
    """

    def __init__(
        self,
        *,
        url: str,
        project: str = "default",
        domain: str = "development",
        create_schema: bool = True,
        grace_multiplier: float = _reservations.DEFAULT_GRACE_MULTIPLIER,
        blob_exists: Callable[[BlobRef], bool] | None = None,
        clock: Callable[[], datetime] | None = None,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.project = check_name(project, what="project")
        self.domain = check_name(domain, what="domain")
        if grace_multiplier <= 0:
            raise InvalidArgumentError(f"grace_multiplier must be > 0, got {grace_multiplier}")
        self.grace_multiplier = grace_multiplier
        self._create_schema = create_schema
        self._blob_exists = blob_exists
        self._clock = clock or (lambda: datetime.now(UTC))
        self._engine_options = dict(engine_options or {})
        self._database: Database | None = None
        self._lock = threading.Lock()
        self._dataset_cache: dict[DatasetID, Dataset] = {}

    @classmethod
    def from_url(
        cls, url: str, *, project: str = "default", domain: str | None = None, **options: Any
    ) -> Catalog:
        """A catalog on ``url``; ``domain`` defaults to ``CARGOHOLD_DOMAIN`` or ``development``."""
        if domain is None:
            domain = Settings.from_env(catalog_url=url, store_url="memory://").domain
        return cls(url=url, project=project, domain=domain, **options)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Catalog:
        """A catalog on ``settings.catalog_url`` with its project and domain."""
        return cls(
            url=settings.catalog_url, project=settings.project, domain=settings.domain, **options
        )

    def __repr__(self) -> str:
        return f"Catalog(url={self.url!r})"

    @property
    def database(self) -> Database:
        """The database, connected and schema-checked on first use.

        Raises:
            SchemaOutOfDateError: the database needs ``cargohold db upgrade``.
        """
        with self._lock:
            if self._database is None:
                database = Database(make_engine(self.url, **self._engine_options))
                try:
                    ensure_schema(database, create=self._create_schema)
                except BaseException:
                    database.dispose()
                    raise
                self._database = database
            return self._database

    def close(self) -> None:
        """Close the pooled connections (the catalog reconnects if used again)."""
        with self._lock:
            if self._database is not None:
                self._database.dispose()
                self._database = None

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The catalog clock's current UTC time."""
        return self._clock()

    # -- datasets ---------------------------------------------------------------------------

    def dataset_id(self, dataset: DatasetRef) -> DatasetID:
        """The full id of ``dataset``: a plain name gets the default project, domain and ``1``.

        Raises:
            InvalidArgumentError: a field is not a valid name.
        """
        if isinstance(dataset, str):
            dataset = DatasetID(project=self.project, domain=self.domain, name=dataset)
        if not isinstance(dataset, DatasetID):
            raise InvalidArgumentError(
                f"dataset must be a name or a DatasetID, got {type(dataset).__name__}"
            )
        for field in ("project", "domain", "name", "version"):
            check_name(getattr(dataset, field), what=f"dataset {field}")
        return dataset

    def create_dataset(
        self,
        *,
        dataset: DatasetRef,
        partition_keys: Sequence[str] = (),
        metadata: Mapping[str, str] | None = None,
    ) -> Dataset:
        """Create a dataset.

        Raises:
            AlreadyExistsError: a dataset with this id exists.
            InvalidArgumentError: a malformed name, partition key or metadata.
        """
        dataset_id = self.dataset_id(dataset)
        keys = check_partition_keys(partition_keys)
        meta = check_metadata(metadata)
        now = self.now()
        return self.database.write(
            lambda conn: _datasets.insert_dataset(
                conn, dataset_id=dataset_id, metadata=meta, partition_keys=keys, now=now
            ),
            on_integrity=lambda exc: AlreadyExistsError(f"dataset {dataset_id} already exists"),
        )

    def get_dataset(self, *, dataset: DatasetRef) -> Dataset:
        """The dataset with this id.

        Raises:
            NotFoundError: it does not exist.
            InvalidArgumentError: a malformed id.
        """
        dataset_id = self.dataset_id(dataset)
        cached = self._dataset_cache.get(dataset_id)
        if cached is not None:
            return cached
        found = self.database.read(lambda conn: _datasets.get_dataset(conn, dataset_id))
        self._dataset_cache[dataset_id] = found
        return found

    def list_datasets(
        self,
        *,
        project: str | None = None,
        domain: str | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        version: str | None = None,
        metadata: Mapping[str, str] | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Dataset]:
        """One page of datasets matching every given filter (all optional).

        Raises:
            InvalidArgumentError: a malformed filter, limit or page token.
        """
        meta = check_metadata(metadata)
        limit = check_limit(limit)
        return self.database.read(
            lambda conn: _datasets.list_datasets(
                conn,
                project=project,
                domain=domain,
                name=name,
                name_prefix=name_prefix,
                version=version,
                metadata=meta,
                limit=limit,
                page_token=page_token,
            )
        )

    # -- artifacts --------------------------------------------------------------------------

    def create_artifact(
        self,
        *,
        dataset: DatasetRef,
        data: Mapping[str, Literal],
        partitions: Mapping[str, object] | None = None,
        metadata: Mapping[str, str] | None = None,
        tags: Iterable[str] = (),
        source: ArtifactSource | RunContext | None = None,
        artifact_id: str | None = None,
    ) -> Artifact:
        """Record a new artifact; it gets the next version of its (dataset, partitions).

        The artifact, its data, partitions, metadata, tags and blob references are written in
        one transaction. Blobs must already be in the store (``Cargohold.put`` writes them).

        Raises:
            NotFoundError: the dataset does not exist.
            AlreadyExistsError: the artifact id exists, or one of ``tags`` is taken.
            InvalidArgumentError: partition keys differ from the dataset's, or bad input.
        """
        ds = self.get_dataset(dataset=dataset)
        literals = check_data(data, allow_empty=False)
        parts = check_partitions(partitions, expected=ds.partition_keys, dataset=str(ds.id))
        meta = check_metadata(metadata)
        tag_names = sorted({check_name(tag, what="tag") for tag in tags})
        new_id = self._artifact_id(artifact_id)
        self._check_blobs(literals.values())
        if isinstance(source, RunContext):
            source = ArtifactSource.from_context(source)
        now = self.now()

        def on_integrity(exc: IntegrityError) -> CargoholdError:
            text = str(exc.orig)
            if "catalog_tags" in text:
                return AlreadyExistsError(
                    f"a tag in {tag_names} of dataset {ds.id} is already taken; tags never "
                    f"move silently, use move_tag to repoint one"
                )
            if "catalog_artifacts" in text:
                return AlreadyExistsError(f"artifact {new_id} already exists")
            return CatalogError(f"could not create artifact {new_id}: {text}")

        return self.database.write(
            lambda conn: _artifacts.insert_artifact(
                conn,
                dataset=ds,
                artifact_id=new_id,
                data=literals,
                partitions=parts,
                metadata=meta,
                tags=tag_names,
                source=source,
                now=now,
            ),
            on_integrity=on_integrity,
        )

    def get_artifact(
        self,
        *,
        artifact_id: str | None = None,
        dataset: DatasetRef | None = None,
        tag: str | None = None,
        partitions: Mapping[str, object] | None = None,
        version: int | None = None,
    ) -> Artifact:
        """One artifact: by ``artifact_id``; by ``dataset`` + ``tag``; or by ``dataset`` +
        ``partitions`` + ``version`` (the latest version when ``version`` is None).

        Raises:
            NotFoundError: no such artifact (or dataset).
            InvalidArgumentError: an impossible combination of arguments, or bad input.
        """
        if artifact_id is not None:
            if dataset is not None or tag is not None or partitions or version is not None:
                raise InvalidArgumentError("give artifact_id alone, or a dataset with filters")
            return self.database.read(lambda conn: _artifacts.get_artifact_by_id(conn, artifact_id))
        if dataset is None:
            raise InvalidArgumentError("get_artifact needs artifact_id, or dataset (and filters)")
        ds = self.get_dataset(dataset=dataset)
        if tag is not None:
            if partitions or version is not None:
                raise InvalidArgumentError("give a tag, or partitions and version, not both")
            check_name(tag, what="tag")
            what = f"tag {tag!r}"
            parts: dict[str, str] = {}
        else:
            parts = check_partitions(partitions, expected=ds.partition_keys, dataset=str(ds.id))
            if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
                raise InvalidArgumentError(f"version must be an int, got {version!r}")
            what = f"partitions {parts}" + ("" if version is None else f" version {version}")

        def _get(conn: Connection) -> Artifact:
            found = _artifacts.find_artifact_id(
                conn, dataset=ds, tag=tag, partitions=parts, version=version
            )
            if found is None:
                raise NotFoundError(f"dataset {ds.id} has no artifact with {what}")
            return _artifacts.get_artifact_by_id(conn, found)

        return self.database.read(_get)

    def get_latest(
        self, *, dataset: DatasetRef, partitions: Mapping[str, object] | None = None
    ) -> Artifact:
        """The newest version of a dataset's artifact in one partition.

        Raises:
            NotFoundError: the dataset or partition has no artifact.
            InvalidArgumentError: partition keys differ from the dataset's.
        """
        return self.get_artifact(dataset=dataset, partitions=partitions)

    def list_artifacts(
        self,
        *,
        dataset: DatasetRef | None = None,
        partitions: Mapping[str, object] | None = None,
        tag: str | None = None,
        metadata: Mapping[str, str] | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        job: str | None = None,
        run_id: str | None = None,
        task: str | None = None,
        sort_by: SortBy = "created_at",
        descending: bool = True,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Artifact]:
        """One page of artifacts matching every filter; pass ``next_token`` as ``page_token``.

        ``partitions`` maps keys to a value (equality), a :class:`Range` or a :class:`OneOf`.
        Listing reads no blob.

        Raises:
            NotFoundError: the dataset does not exist.
            InvalidArgumentError: an unknown partition key, bad sort, limit or page token.
        """
        ds = None if dataset is None else self.get_dataset(dataset=dataset)
        filters = _queries.normalize_filters(partitions, dataset=ds)
        meta = check_metadata(metadata)
        limit = check_limit(limit)
        return self.database.read(
            lambda conn: _queries.list_artifacts(
                conn,
                dataset=ds,
                partitions=filters,
                tag=tag,
                metadata=meta,
                created_after=created_after,
                created_before=created_before,
                job=job,
                run_id=run_id,
                task=task,
                sort_by=sort_by,
                descending=descending,
                limit=limit,
                page_token=page_token,
            )
        )

    def iter_artifacts(self, **filters: Any) -> Iterator[Artifact]:
        """Every artifact :meth:`list_artifacts` would return with ``filters``, page by page."""
        token: str | None = None
        while True:
            page = self.list_artifacts(**filters, page_token=token)
            yield from page.items
            token = page.next_token
            if token is None:
                return

    def update_artifact(
        self,
        *,
        artifact_id: str,
        metadata: Mapping[str, str] | None = None,
        data: Mapping[str, Literal] | None = None,
    ) -> Artifact:
        """Replace an artifact's metadata and/or overwrite (or add) named data entries.

        Partitions, version and tags stay unchanged.

        Raises:
            NotFoundError: the artifact does not exist.
            InvalidArgumentError: malformed metadata or data.
        """
        meta = None if metadata is None else check_metadata(metadata)
        literals = None if data is None else check_data(data, allow_empty=True)
        if literals:
            self._check_blobs(literals.values())
        now = self.now()
        return self.database.write(
            lambda conn: _artifacts.update_artifact(
                conn, artifact_id=artifact_id, metadata=meta, data=literals, now=now
            )
        )

    # -- tags -------------------------------------------------------------------------------

    def add_tag(self, *, dataset: DatasetRef, tag: str, artifact_id: str) -> Tag:
        """Tag an artifact. A taken tag is never moved: use :meth:`move_tag` for that.

        Raises:
            AlreadyExistsError: the dataset already has this tag.
            NotFoundError: the dataset or artifact does not exist.
            InvalidArgumentError: a bad tag, or the artifact is of another dataset.
        """
        ds = self.get_dataset(dataset=dataset)
        name = check_name(tag, what="tag")
        now = self.now()
        return self.database.write(
            lambda conn: _tags.add_tag(
                conn, dataset=ds, name=name, artifact_id=artifact_id, now=now
            ),
            on_integrity=lambda exc: AlreadyExistsError(
                f"tag {name!r} of dataset {ds.id} already exists; tags never move silently, "
                f"use move_tag to repoint it"
            ),
        )

    def move_tag(self, *, dataset: DatasetRef, tag: str, artifact_id: str) -> Tag:
        """Point a tag (``latest``, ``production``, ...) at an artifact, atomically.

        Raises:
            NotFoundError: the dataset or artifact does not exist.
            InvalidArgumentError: a bad tag, or the artifact is of another dataset.
        """
        ds = self.get_dataset(dataset=dataset)
        name = check_name(tag, what="tag")
        now = self.now()
        return self.database.write(
            lambda conn: _tags.move_tag(
                conn, dataset=ds, name=name, artifact_id=artifact_id, now=now
            )
        )

    def list_tags(self, *, dataset: DatasetRef) -> list[Tag]:
        """Every tag of a dataset, by name.

        Raises:
            NotFoundError: the dataset does not exist.
        """
        ds = self.get_dataset(dataset=dataset)
        return self.database.read(lambda conn: _tags.list_tags(conn, dataset=ds))

    # -- reservations -----------------------------------------------------------------------

    def get_or_extend_reservation(
        self,
        *,
        dataset: DatasetRef,
        tag_name: str,
        owner_id: str,
        heartbeat_interval: timedelta | float,
    ) -> Reservation:
        """Acquire or extend a reservation; it expires at now + heartbeat x grace multiplier.

        An expired reservation of another owner is taken over.

        Raises:
            ReservationConflictError: another owner holds it unexpired (names holder, expiry).
            NotFoundError: the dataset does not exist.
            InvalidArgumentError: a bad tag, owner or heartbeat.
        """
        ds = self.get_dataset(dataset=dataset)
        name = check_name(tag_name, what="tag_name")
        owner = check_key(owner_id, what="owner_id")
        heartbeat = check_heartbeat(heartbeat_interval)
        now = self.now()
        return self.database.write(
            lambda conn: _reservations.get_or_extend(
                conn,
                dataset=ds,
                tag_name=name,
                owner_id=owner,
                heartbeat_interval=heartbeat,
                grace_multiplier=self.grace_multiplier,
                now=now,
            )
        )

    def get_reservation(self, *, dataset: DatasetRef, tag_name: str) -> Reservation:
        """The current reservation of (dataset, tag name), possibly expired.

        Raises:
            NotFoundError: there is none.
        """
        ds = self.get_dataset(dataset=dataset)
        return self.database.read(
            lambda conn: _reservations.get_reservation(conn, dataset=ds, tag_name=tag_name)
        )

    def release_reservation(self, *, dataset: DatasetRef, tag_name: str, owner_id: str) -> None:
        """Release the owner's reservation.

        Raises:
            NotFoundError: ``owner_id`` holds no reservation on (dataset, tag name).
        """
        ds = self.get_dataset(dataset=dataset)
        self.database.write(
            lambda conn: _reservations.release(
                conn, dataset=ds, tag_name=tag_name, owner_id=owner_id
            )
        )

    # -- lineage ----------------------------------------------------------------------------

    def record_read(self, *, artifact_id: str, source: ArtifactSource | RunContext) -> Read:
        """Record that an execution read an artifact.

        Raises:
            NotFoundError: the artifact does not exist.
        """
        if isinstance(source, RunContext):
            source = ArtifactSource.from_context(source)
        now, src = self.now(), source
        return self.database.write(
            lambda conn: _lineage.record_read(conn, artifact_id=artifact_id, source=src, now=now)
        )

    def reads_of(self, *, artifact_id: str) -> list[Read]:
        """Every recorded read of an artifact, oldest first."""
        return self.database.read(lambda conn: _lineage.reads_of(conn, artifact_id=artifact_id))

    def upstream(self, *, artifact_id: str) -> list[Artifact]:
        """The artifacts the producing run of this artifact read.

        Raises:
            NotFoundError: the artifact does not exist.
        """
        return self.database.read(lambda conn: _lineage.upstream(conn, artifact_id=artifact_id))

    def downstream(self, *, artifact_id: str) -> list[Artifact]:
        """The artifacts produced by runs that read this artifact.

        Raises:
            NotFoundError: the artifact does not exist.
        """
        return self.database.read(lambda conn: _lineage.downstream(conn, artifact_id=artifact_id))

    def run_inputs(self, *, job: str, run_id: str) -> list[Artifact]:
        """The artifacts the run ``(job, run_id)`` read."""
        return self.database.read(lambda conn: _lineage.run_inputs(conn, job=job, run_id=run_id))

    def run_outputs(self, *, job: str, run_id: str) -> list[Artifact]:
        """The artifacts the run ``(job, run_id)`` produced."""
        return self.database.read(lambda conn: _lineage.run_outputs(conn, job=job, run_id=run_id))

    # -- blob references and lifecycle ----------------------------------------------------

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

    def release_blob_owner(self, *, owner_kind: str, owner_id: str) -> int:
        """Forget every blob reference of an owner; returns how many were removed."""
        return self.database.write(
            lambda conn: release_blobs(conn, owner_kind=owner_kind, owner_ids=[owner_id])
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
    ) -> GCReport:
        """Delete blobs of ``store`` that no artifact, cache entry or XCom references and that
        are older than ``grace``. A dry run (the default) only reports count and bytes.

        Raises:
            CatalogError: the database failed.
            StorageError: the store failed.
        """
        if not isinstance(grace, timedelta) or grace < timedelta(0):
            raise InvalidArgumentError(f"grace must be a timedelta >= 0, got {grace!r}")
        return _lifecycle.collect_garbage(
            self.database, store=store, now=self.now(), grace=grace, dry_run=dry_run
        )

    # -- helpers ----------------------------------------------------------------------------

    def _artifact_id(self, artifact_id: str | None) -> str:
        if artifact_id is None:
            return str(uuid.uuid4())
        check_name(artifact_id, what="artifact_id")
        if len(artifact_id) > _ARTIFACT_ID_LENGTH:
            raise InvalidArgumentError(
                f"artifact_id must be at most {_ARTIFACT_ID_LENGTH} characters (a uuid), "
                f"got {len(artifact_id)}"
            )
        return artifact_id

    def _check_blobs(self, literals: Iterable[Literal]) -> None:
        if self._blob_exists is None:
            return
        for blob in blobs_of(literals):
            if not self._blob_exists(blob):
                raise InvalidArgumentError(
                    f"blob {blob.uri} is not in the store; write the data (Cargohold.put) "
                    f"before recording the artifact"
                )
