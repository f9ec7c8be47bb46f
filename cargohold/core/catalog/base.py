"""The base of the :class:`~cargohold.core.catalog.Catalog` facade: configuration, the lazily
connected database, the clock, and resolving dataset references (cached: a dataset's uuid and
partition keys never change)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Self

from cargohold.core.catalog import datasets as _datasets
from cargohold.core.catalog import reservations as _reservations
from cargohold.core.catalog.blobrefs import blobs_of
from cargohold.core.catalog.objects import (
    Dataset,
    DatasetID,
)
from cargohold.core.catalog.schema import ensure_schema
from cargohold.core.catalog.session import Database, make_engine
from cargohold.core.catalog.validation import (
    check_name,
)
from cargohold.core.config import (
    DEFAULT_CATALOG_CONNECT_TIMEOUT,
    DEFAULT_CATALOG_STATEMENT_TIMEOUT,
    Settings,
)
from cargohold.core.errors import (
    InvalidArgumentError,
)
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["CatalogBase", "DatasetRef"]

DatasetRef = DatasetID | str
"""A dataset: its full :class:`DatasetID`, or a name in the catalog's default project and domain
(version ``1``)."""

_ARTIFACT_ID_LENGTH = 36


class CatalogBase:
    """The data catalog on one database (``sqlite:///...`` or ``postgresql://...``).

    Args:
        url: the catalog database URL.
        project: the default project of datasets named by a plain string.
        domain: the default domain (``CARGOHOLD_DOMAIN``'s value, ``development`` by default).
        create_schema: create the schema in a database that has none (never upgrades one).
        grace_multiplier: reservations expire at heartbeat interval x this.
        blob_exists: when given, create/update refuse literals whose blobs it says are missing.
        clock: the source of "now" (UTC); tests pass a fake.
        connect_timeout: seconds to wait for a PostgreSQL connection (libpq ``connect_timeout``).
        statement_timeout: seconds one statement may run on PostgreSQL (``statement_timeout``).
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
        connect_timeout: float = DEFAULT_CATALOG_CONNECT_TIMEOUT,
        statement_timeout: float = DEFAULT_CATALOG_STATEMENT_TIMEOUT,
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
        self._timeouts = {
            "connect_timeout": connect_timeout,
            "statement_timeout": statement_timeout,
        }
        self._database: Database | None = None
        self._lock = threading.Lock()
        self._dataset_cache: dict[DatasetID, Dataset] = {}
        self.lease_owner = uuid.uuid4().hex  # the owner id of this catalog's write leases
        self._leased: set[str] = set()

    @classmethod
    def from_url(
        cls, url: str, *, project: str = "default", domain: str | None = None, **options: Any
    ) -> Self:
        """A catalog on ``url``; ``domain`` defaults to ``CARGOHOLD_DOMAIN`` or ``development``."""
        if domain is None:
            domain = Settings.from_env(catalog_url=url, store_url="memory://").domain
        return cls(url=url, project=project, domain=domain, **options)

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> Self:
        """A catalog on ``settings.catalog_url`` with its project and domain."""
        options.setdefault("connect_timeout", settings.catalog_connect_timeout)
        options.setdefault("statement_timeout", settings.catalog_statement_timeout)
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
                database = Database(make_engine(self.url, **self._timeouts, **self._engine_options))
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The catalog clock's current UTC time."""
        return self._clock()

    def dataset_id(self, *, dataset: DatasetRef) -> DatasetID:
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

    def get_dataset(self, *, dataset: DatasetRef) -> Dataset:
        """The dataset with this id.

        Raises:
            NotFoundError: it does not exist.
            InvalidArgumentError: a malformed id.
        """
        dataset_id = self.dataset_id(dataset=dataset)
        cached = self._dataset_cache.get(dataset_id)
        if cached is not None:
            return cached
        found = self.database.read(lambda conn: _datasets.get_dataset(conn, dataset_id))
        self._dataset_cache[dataset_id] = found
        return found

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
