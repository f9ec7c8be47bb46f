"""The catalog's domain objects: frozen values that callers receive and pass back.

They mirror the seed's datacatalog types: :class:`DatasetID` / :class:`Dataset`,
:class:`Artifact` (with its :class:`ArtifactSource`), :class:`Tag`, :class:`Reservation`, plus
:class:`Page` for keyset-paginated listings and the reports of the lifecycle jobs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from cargohold.core.context import RunContext
from cargohold.core.types.literals import Literal

__all__ = [
    "SOURCE_FIELDS",
    "Artifact",
    "ArtifactSource",
    "Dataset",
    "DatasetID",
    "ExpiryReport",
    "GCReport",
    "LineageEdge",
    "Neighbours",
    "NewArtifact",
    "Page",
    "Read",
    "Reservation",
    "Tag",
]

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True, order=True)
class DatasetID:
    """The identity of a dataset: project, domain, name and version."""

    project: str
    domain: str
    name: str
    version: str = "1"

    def __str__(self) -> str:
        return f"{self.project}/{self.domain}/{self.name}@{self.version}"


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A dataset: its id, a uuid, key/value metadata and the partition keys of its artifacts."""

    id: DatasetID
    uuid: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    partition_keys: tuple[str, ...] = ()
    created_at: datetime | None = None


SOURCE_FIELDS = ("orchestrator", "namespace", "job", "run_id", "task", "map_index", "try_number")
"""The fields of :class:`ArtifactSource` (and of the :class:`RunContext` it is made from)."""


@dataclass(frozen=True, kw_only=True)
class NewArtifact:
    """One artifact for :meth:`Catalog.create_artifacts`: the arguments
    :meth:`Catalog.create_artifact` takes, less the dataset."""

    data: Mapping[str, Literal]
    partitions: Mapping[str, object] | None = None
    metadata: Mapping[str, str] | None = None
    tags: tuple[str, ...] = ()
    source: ArtifactSource | RunContext | None = None
    artifact_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ArtifactSource:
    """The execution that produced (or read) an artifact."""

    orchestrator: str = "python"
    namespace: str = "cargohold"
    job: str = ""
    run_id: str = ""
    task: str = ""
    map_index: int = -1
    try_number: int = 1

    @classmethod
    def from_context(cls, context: RunContext) -> ArtifactSource:
        """The source recorded for an execution described by ``context``."""
        return cls(**{name: getattr(context, name) for name in SOURCE_FIELDS})


@dataclass(frozen=True, kw_only=True)
class Artifact:
    """One version of a dataset's data in one partition.

    ``data`` maps names to literals (blobs are referenced, never read to build this object);
    ``version`` counts from 1 within (dataset, partition values).
    """

    id: str
    dataset: DatasetID
    version: int
    data: Mapping[str, Literal]
    partitions: Mapping[str, str] = field(default_factory=dict)
    metadata: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    source: ArtifactSource | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Tag:
    """A name pointing at one artifact of a dataset."""

    name: str
    artifact_id: str
    dataset: DatasetID


@dataclass(frozen=True, kw_only=True)
class Reservation:
    """An owner's lease on (dataset, tag name), valid until ``expires_at``."""

    dataset: DatasetID
    tag_name: str
    owner_id: str
    heartbeat_interval: timedelta
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    """One page of a listing; pass ``next_token`` back as ``page_token`` for the next one."""

    items: tuple[T, ...]
    next_token: str | None = None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, kw_only=True)
class Read:
    """A recorded read: which execution consumed which artifact, and when."""

    artifact_id: str
    source: ArtifactSource
    read_at: datetime


@dataclass(frozen=True, kw_only=True)
class LineageEdge:
    """An artifact connected to another through a run: ``upstream`` was read by the run that
    produced ``downstream``."""

    upstream: Artifact
    downstream: Artifact
    run_id: str


@dataclass(frozen=True, kw_only=True)
class Neighbours:
    """An artifact's one-hop lineage: what the execution that produced it read (``upstream``)
    and what the executions that read it produced (``downstream``), each oldest first."""

    upstream: tuple[Artifact, ...] = ()
    downstream: tuple[Artifact, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ExpiryReport:
    """What :meth:`Catalog.expire_artifacts` removed (or would remove, in a dry run)."""

    dry_run: bool
    artifact_ids: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many artifacts expired."""
        return len(self.artifact_ids)


@dataclass(frozen=True, kw_only=True)
class GCReport:
    """What the blob garbage collector deleted (or would delete, in a dry run)."""

    dry_run: bool
    blob_hashes: tuple[str, ...]
    bytes: int
    scanned: int
    kept_young: int

    @property
    def count(self) -> int:
        """How many blobs were (or would be) deleted."""
        return len(self.blob_hashes)
