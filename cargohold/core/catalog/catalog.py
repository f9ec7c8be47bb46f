"""The :class:`Catalog` facade: datasets, artifacts, tags, reservations, lineage, lifecycle.

Each method validates its input, runs one transaction through :class:`Database` and returns
frozen domain objects. The work lives in one module per concern (``datasets`` with their tags,
``write`` and ``read`` for artifacts, ``queries``, ``reservations``, ``lineage``, ``lifecycle``
and ``retention``); this class and its mixins (``operations``, ``upkeep``) only compose them.
Nothing connects before the first call, which also checks the schema once
(:func:`~cargohold.core.catalog.schema.ensure_schema`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from cargohold.core.catalog import datasets as _datasets
from cargohold.core.catalog import queries as _queries
from cargohold.core.catalog import read as _read
from cargohold.core.catalog import write as _write
from cargohold.core.catalog.base import CatalogBase, DatasetRef
from cargohold.core.catalog.blobrefs import blobs_of
from cargohold.core.catalog.objects import (
    Artifact,
    ArtifactSource,
    Dataset,
    NewArtifact,
    Page,
    Tag,
)
from cargohold.core.catalog.operations import LineageMixin, ReservationsMixin
from cargohold.core.catalog.queries import SortBy
from cargohold.core.catalog.upkeep import LifecycleMixin
from cargohold.core.catalog.validation import (
    check_data,
    check_limit,
    check_metadata,
    check_name,
    check_partition_keys,
    check_partitions,
)
from cargohold.core.context import RunContext
from cargohold.core.errors import (
    AlreadyExistsError,
    CargoholdError,
    CatalogError,
    InvalidArgumentError,
    NotFoundError,
)
from cargohold.core.types.literals import Literal

__all__ = ["Catalog", "DatasetRef"]


class Catalog(ReservationsMixin, LineageMixin, LifecycleMixin, CatalogBase):
    """The data catalog on one database (``sqlite:///...`` or ``postgresql://...``): datasets
    and artifacts here, reservations, lineage and lifecycle in the mixins; the constructor's
    arguments are :class:`~cargohold.core.catalog.base.CatalogBase`'s."""

    # -- datasets ---------------------------------------------------------------------------
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
        dataset_id = self.dataset_id(dataset=dataset)
        keys = check_partition_keys(partition_keys)
        meta = check_metadata(metadata)
        now = self.now()
        return self.database.write(
            lambda conn: _datasets.insert_dataset(
                conn, dataset_id=dataset_id, metadata=meta, partition_keys=keys, now=now
            ),
            on_integrity=lambda exc: AlreadyExistsError(f"dataset {dataset_id} already exists"),
        )

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
        item = NewArtifact(
            data=data,
            partitions=partitions,
            metadata=metadata,
            tags=tuple(tags),
            source=source,
            artifact_id=artifact_id,
        )
        row = self._new_row(ds, item)
        now = self.now()
        created = self.database.write(
            lambda conn: _write.insert_artifact(conn, dataset=ds, item=row, now=now),
            on_integrity=_integrity_error(ds, [row], f"artifact {row.artifact_id}"),
            single_statement=True,  # on PostgreSQL the insert is one statement (write.py)
        )
        self._release_leases(blob.hash for blob in blobs_of(row.data.values()))
        return created

    def create_artifacts(
        self, *, dataset: DatasetRef, artifacts: Sequence[NewArtifact]
    ) -> list[Artifact]:
        """Record many artifacts of one dataset in one transaction, in order (a backfill of many
        partitions, a multi-output step): all are created or none. Each gets the next version
        of its partitions, as :meth:`create_artifact` gives (two of one partition in the batch
        get consecutive versions, in order). On PostgreSQL the batch is one statement and one
        commit, so it costs about what one create costs plus a fraction of a millisecond per
        artifact: the way to record thousands of artifacts a second (see bench/catalog).

        Raises:
            NotFoundError: the dataset does not exist.
            AlreadyExistsError: an artifact id exists (or repeats), or a tag is taken.
            InvalidArgumentError: partition keys differ from the dataset's, or bad input.
        """
        ds = self.get_dataset(dataset=dataset)
        items: list[_write.NewRow] = []
        for item in artifacts:
            if not isinstance(item, NewArtifact):
                raise InvalidArgumentError(
                    f"create_artifacts takes NewArtifact items, got {type(item).__name__}"
                )
            items.append(self._new_row(ds, item))
        if not items:
            return []
        now = self.now()
        created = self.database.write(
            lambda conn: _write.insert_artifacts(conn, dataset=ds, items=items, now=now),
            on_integrity=_integrity_error(ds, items, "the artifacts"),
        )
        self._release_leases(blob.hash for item in items for blob in blobs_of(item.data.values()))
        return created

    def _new_row(self, ds: Dataset, item: NewArtifact) -> _write.NewRow:
        """``item`` validated against dataset ``ds``, with its id (given or new)."""
        literals = check_data(item.data, allow_empty=False)
        self._check_blobs(literals.values())
        source = item.source
        if isinstance(source, RunContext):
            source = ArtifactSource.from_context(source)
        return _write.NewRow(
            artifact_id=self._artifact_id(item.artifact_id),
            data=literals,
            partitions=check_partitions(
                item.partitions, expected=ds.partition_keys, dataset=str(ds.id)
            ),
            metadata=check_metadata(item.metadata),
            tags=sorted({check_name(tag, what="tag") for tag in item.tags}),
            source=source,
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
            return self.database.read(lambda conn: _read.get_artifact_by_id(conn, artifact_id))
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
            found = _read.find_artifact(
                conn, dataset=ds, tag=tag, partitions=parts, version=version
            )
            if found is None:
                raise NotFoundError(f"dataset {ds.id} has no artifact with {what}")
            return found

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
        listing = _queries.ArtifactListing(
            dataset=ds,
            partitions=_queries.normalize_filters(partitions, dataset=ds),
            tag=tag,
            metadata=check_metadata(metadata),
            created_after=created_after,
            created_before=created_before,
            job=job,
            run_id=run_id,
            task=task,
            sort_by=sort_by,
            descending=descending,
            limit=check_limit(limit),
            page_token=page_token,
        )
        return self.database.read(lambda conn: _queries.list_artifacts(conn, listing))

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
        updated = self.database.write(
            lambda conn: _write.update_artifact(
                conn, artifact_id=artifact_id, metadata=meta, data=literals, now=now
            )
        )
        if literals:
            self._release_leases(blob.hash for blob in blobs_of(literals.values()))
        return updated

    # -- tags -------------------------------------------------------------------------------

    def add_tag(self, *, dataset: DatasetRef, tag: str, artifact_id: str) -> Tag:
        """Tag an artifact. A taken tag is never moved: use :meth:`move_tag` for that.

        Raises:
            AlreadyExistsError: the dataset already has this tag.
            NotFoundError: the dataset or artifact does not exist.
            InvalidArgumentError: a bad tag, or the artifact is of another dataset.
        """
        return self._put_tag(dataset=dataset, tag=tag, artifact_id=artifact_id, move=False)

    def move_tag(self, *, dataset: DatasetRef, tag: str, artifact_id: str) -> Tag:
        """Point a tag (``latest``, ``production``, ...) at an artifact, atomically.

        Raises:
            NotFoundError: the dataset or artifact does not exist.
            InvalidArgumentError: a bad tag, or the artifact is of another dataset.
        """
        return self._put_tag(dataset=dataset, tag=tag, artifact_id=artifact_id, move=True)

    def _put_tag(self, *, dataset: DatasetRef, tag: str, artifact_id: str, move: bool) -> Tag:
        ds = self.get_dataset(dataset=dataset)
        name = check_name(tag, what="tag")
        now = self.now()
        return self.database.write(
            lambda conn: _datasets.put_tag(
                conn, dataset=ds, name=name, artifact_id=artifact_id, now=now, move=move
            ),
            on_integrity=None
            if move
            else lambda exc: AlreadyExistsError(
                f"tag {name!r} of dataset {ds.id} already exists; tags never move silently, "
                f"use move_tag to repoint it"
            ),
        )

    def list_tags(self, *, dataset: DatasetRef) -> list[Tag]:
        """Every tag of a dataset, by name.

        Raises:
            NotFoundError: the dataset does not exist.
        """
        ds = self.get_dataset(dataset=dataset)
        return self.database.read(lambda conn: _datasets.list_tags(conn, dataset=ds))


def _integrity_error(
    ds: Dataset, rows: Sequence[_write.NewRow], what: str
) -> Callable[[IntegrityError], CargoholdError]:
    """Maps a failed insert of ``rows`` into ``ds`` to the error that says which constraint."""

    def translate(exc: IntegrityError) -> CargoholdError:
        text = str(exc.orig)
        if "catalog_tags" in text:
            names = sorted({tag for row in rows for tag in row.tags})
            return AlreadyExistsError(
                f"a tag in {names} of dataset {ds.id} is already taken"
                f"{' (or given twice in the batch)' if len(rows) > 1 else ''}; tags never move "
                f"silently, use move_tag to repoint one"
            )
        if "catalog_artifacts" in text:
            if len(rows) == 1:
                return AlreadyExistsError(f"artifact {rows[0].artifact_id} already exists")
            return AlreadyExistsError(f"an artifact id of the batch already exists: {text}")
        return CatalogError(f"could not create {what}: {text}")

    return translate
