"""Internal SQLAlchemy rows of the catalog. Nothing here leaves the package.

Callers get the frozen domain objects of :mod:`cargohold.core.catalog.objects`; the service
modules convert rows with ``to_*`` helpers. The schema is created and changed only by the Alembic
migrations shipped in ``migrations/versions``; these classes must match the newest migration
(a test compares them).

Tables and the queries each index serves::

    catalog_datasets            uq (project, domain, name, version): get_dataset
    catalog_dataset_metadata    pk (dataset_id, key); ix (key, value): list_datasets(metadata=)
    catalog_version_counters    pk (dataset_id, partition_key): atomic next version
    catalog_artifacts           uq (dataset_id, partition_key, version): get_latest, by version
                                ix (dataset_id, created_at, id), (dataset_id, version, id): pages
                                ix (source_run_id), (source_job, source_task), (created_at, id)
    catalog_artifact_data       pk (artifact_id, name)
    catalog_artifact_partitions pk (artifact_id, key); ix (dataset_id, key, value, created_at,
                                artifact_id): ranges; ix (dataset_id, key, created_at,
                                artifact_id, value): pages of a recent range newest first
    catalog_artifact_metadata   pk (artifact_id, key); ix (key, value)
    catalog_tags                pk (dataset_id, name); ix (artifact_id)
    catalog_reservations        pk (dataset_id, tag_name)
    catalog_reads               ix (artifact_id), (run_id): lineage
    cargohold_blob_refs         pk (owner_kind, owner_id, blob_hash); ix (blob_hash): GC
    catalog_retention           pk (dataset_id): per-dataset retention policy (keep_last, max age)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

__all__ = [
    "artifact_data",
    "artifact_metadata",
    "artifact_partitions",
    "artifacts",
    "blob_refs",
    "dataset_metadata",
    "datasets",
    "reads",
    "reservations",
    "retention",
    "tags",
    "version_counters",
    "ArtifactDataRow",
    "ArtifactMetadataRow",
    "ArtifactPartitionRow",
    "ArtifactRow",
    "Base",
    "BlobRefRow",
    "DatasetMetadataRow",
    "DatasetRow",
    "ReadRow",
    "ReservationRow",
    "TagRow",
    "UTCDateTime",
    "VersionCounterRow",
]

NAME_LENGTH = 255
ID_LENGTH = 36


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no time zone, so values are converted to UTC before they are bound and get
    ``tzinfo=UTC`` back when read; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of the catalog's rows."""

    metadata = MetaData(naming_convention=_NAMING)


def _table(row: type[Base]) -> Table:
    """The Core table of a row class (the queries use tables, the models declare rows)."""
    return cast(Table, row.__table__)


class DatasetRow(Base):
    __tablename__ = "catalog_datasets"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "version"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    project: Mapped[str] = mapped_column(String(NAME_LENGTH))
    domain: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    version: Mapped[str] = mapped_column(String(NAME_LENGTH))
    partition_keys: Mapped[str] = mapped_column(Text)  # JSON list, in declared order
    metadata_json: Mapped[str] = mapped_column(Text)  # JSON object str -> str
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


datasets = _table(DatasetRow)


def _parent(table: str) -> Mapped[str]:
    """The id of the ``table`` row a child row hangs off: the first column of its primary key."""
    return mapped_column(String(ID_LENGTH), ForeignKey(f"{table}.id"), primary_key=True)


def _name_key() -> Mapped[str]:
    """A name that completes a child row's primary key."""
    return mapped_column(String(NAME_LENGTH), primary_key=True)


class _KeyValue:
    """Key/value metadata of the row a child row hangs off, indexed on ``(key, value)`` for
    metadata filters; the subclass names the parent column first."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index]:
        return (Index(None, "key", "value"),)

    key: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True, sort_order=1)
    value: Mapped[str] = mapped_column(Text, sort_order=2)


class DatasetMetadataRow(_KeyValue, Base):
    __tablename__ = "catalog_dataset_metadata"

    dataset_id: Mapped[str] = _parent("catalog_datasets")


dataset_metadata = _table(DatasetMetadataRow)


class VersionCounterRow(Base):
    __tablename__ = "catalog_version_counters"

    dataset_id: Mapped[str] = _parent("catalog_datasets")
    partition_key: Mapped[str] = mapped_column(Text, primary_key=True)
    last_version: Mapped[int] = mapped_column(Integer)


version_counters = _table(VersionCounterRow)


class ArtifactRow(Base):
    __tablename__ = "catalog_artifacts"
    __table_args__ = (
        UniqueConstraint("dataset_id", "partition_key", "version"),
        Index(None, "dataset_id", "created_at", "id"),
        Index(None, "dataset_id", "version", "id"),
        Index(None, "source_run_id"),
        Index(None, "source_job", "source_task"),
        Index(None, "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("catalog_datasets.id"))
    partition_key: Mapped[str] = mapped_column(Text)  # canonical JSON of sorted (key, value)
    partitions_json: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    metadata_json: Mapped[str] = mapped_column(Text)
    source_orchestrator: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    source_namespace: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    source_job: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    source_run_id: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    source_task: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)
    source_map_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source_try_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


artifacts = _table(ArtifactRow)


class ArtifactDataRow(Base):
    __tablename__ = "catalog_artifact_data"

    artifact_id: Mapped[str] = _parent("catalog_artifacts")
    name: Mapped[str] = _name_key()
    literal_json: Mapped[str] = mapped_column(Text)


artifact_data = _table(ArtifactDataRow)


class ArtifactPartitionRow(Base):
    __tablename__ = "catalog_artifact_partitions"
    __table_args__ = (
        Index(
            "ix_catalog_artifact_partitions_range",
            "dataset_id",
            "key",
            "value",
            "created_at",
            "artifact_id",
        ),
        Index(
            "ix_catalog_artifact_partitions_recent",
            "dataset_id",
            "key",
            "created_at",
            "artifact_id",
            "value",
        ),
    )

    artifact_id: Mapped[str] = _parent("catalog_artifacts")
    key: Mapped[str] = _name_key()
    dataset_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    value: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the artifact's, for paging


artifact_partitions = _table(ArtifactPartitionRow)


class ArtifactMetadataRow(_KeyValue, Base):
    __tablename__ = "catalog_artifact_metadata"

    artifact_id: Mapped[str] = _parent("catalog_artifacts")


artifact_metadata = _table(ArtifactMetadataRow)


class TagRow(Base):
    __tablename__ = "catalog_tags"
    __table_args__ = (Index(None, "artifact_id"),)

    dataset_id: Mapped[str] = _parent("catalog_datasets")
    name: Mapped[str] = _name_key()
    artifact_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("catalog_artifacts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


tags = _table(TagRow)


class ReservationRow(Base):
    __tablename__ = "catalog_reservations"

    dataset_id: Mapped[str] = _parent("catalog_datasets")
    tag_name: Mapped[str] = _name_key()
    owner_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    heartbeat_seconds: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


reservations = _table(ReservationRow)


class ReadRow(Base):
    __tablename__ = "catalog_reads"
    __table_args__ = (Index(None, "artifact_id"), Index(None, "run_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    artifact_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("catalog_artifacts.id"))
    orchestrator: Mapped[str] = mapped_column(String(NAME_LENGTH))
    namespace: Mapped[str] = mapped_column(String(NAME_LENGTH))
    job: Mapped[str] = mapped_column(String(NAME_LENGTH))
    run_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    task: Mapped[str] = mapped_column(String(NAME_LENGTH))
    map_index: Mapped[int] = mapped_column(Integer)
    try_number: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


reads = _table(ReadRow)


class BlobRefRow(Base):
    """One owner's reference to one blob. See :mod:`cargohold.core.catalog.blobrefs`."""

    __tablename__ = "cargohold_blob_refs"
    __table_args__ = (Index(None, "blob_hash"),)

    owner_kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    blob_hash: Mapped[str] = mapped_column(String(128), primary_key=True)
    uri: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


blob_refs = _table(BlobRefRow)


class RetentionRow(Base):
    """A dataset's retention policy. See :mod:`cargohold.core.catalog.retention`."""

    __tablename__ = "catalog_retention"

    dataset_id: Mapped[str] = _parent("catalog_datasets")
    keep_last: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_age_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


retention = _table(RetentionRow)
