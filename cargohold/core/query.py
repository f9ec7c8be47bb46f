"""The query API of Flyte Artifacts: ``ArtifactQuery`` and the ``QueriedArtifact`` it finds.

::

    from cargohold import ArtifactQuery, partition_by_date

    @partition_by_date(key="report_date")
    def generate_daily_report(report_date: datetime) -> pd.DataFrame: ...

    latest = ArtifactQuery.get_latest(
        task_name="generate_daily_report", partition_keys={"report_date": datetime(2026, 11, 1)}
    )
    if latest:
        frame = latest.load(columns=["a", "b"])

A ``task_name`` names the dataset the task writes (adapters name datasets after the task or asset
key). Dates normalise to ISO strings, so ``datetime(2026, 11, 1)`` and ``"2026-11-01"`` find the
same partition. Queries use the catalog of ``Cargohold.from_env()`` unless one is passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from cargohold.core.catalog import (
    Artifact,
    ArtifactSource,
    Catalog,
    DatasetID,
    DatasetRef,
    OneOf,
    PartitionSpec,
    Range,
    normalize_partition_keys,
    partition_specs,
)
from cargohold.core.context import RunContext
from cargohold.core.errors import InvalidArgumentError, NotFoundError
from cargohold.core.hold import Cargohold
from cargohold.core.storage.store import Store
from cargohold.core.types.literals import Literal as CargoLiteral

if TYPE_CHECKING:  # scan needs pyarrow: imported by ArtifactQuery.scan only
    from cargohold.core.catalog.scan import ScannedTable, Version

__all__ = ["ArtifactQuery", "QueriedArtifact"]


@dataclass(frozen=True)
class QueriedArtifact:
    """An artifact found by :class:`ArtifactQuery`, with ways to get at its data.

    ``data_name`` picks the data entry ``uri``/``load``/``open`` use (the only one by default).
    """

    artifact: Artifact
    hold: Cargohold | None = None
    data_name: str | None = None

    @property
    def id(self) -> str:
        """The artifact id."""
        return self.artifact.id

    @property
    def dataset(self) -> DatasetID:
        """The dataset the artifact belongs to."""
        return self.artifact.dataset

    @property
    def version(self) -> int:
        """The version within its partition."""
        return self.artifact.version

    @property
    def partitions(self) -> Mapping[str, str]:
        """The partition values."""
        return self.artifact.partitions

    @property
    def metadata(self) -> Mapping[str, str]:
        """The key/value metadata."""
        return self.artifact.metadata

    @property
    def source(self) -> ArtifactSource | None:
        """The execution that produced it."""
        return self.artifact.source

    @property
    def tags(self) -> tuple[str, ...]:
        """Its tags."""
        return self.artifact.tags

    @property
    def created_at(self) -> datetime | None:
        """When it was recorded."""
        return self.artifact.created_at

    @property
    def literal(self) -> CargoLiteral:
        """The literal of the chosen data entry.

        Raises:
            InvalidArgumentError: several entries and no ``data_name``, or an unknown name.
        """
        data = self.artifact.data
        if self.data_name is not None:
            if self.data_name not in data:
                raise InvalidArgumentError(
                    f"artifact {self.id} has data {sorted(data)}, not {self.data_name!r}"
                )
            return data[self.data_name]
        if len(data) != 1:
            raise InvalidArgumentError(
                f"artifact {self.id} has data {sorted(data)}; pick one with data_name= "
                f"(ArtifactQuery.get_latest(..., data_name=...))"
            )
        return next(iter(data.values()))

    @property
    def uri(self) -> str | None:
        """Where the data is stored; None for a small value kept inline in the catalog."""
        blob = self.literal.blob
        return None if blob is None else blob.uri

    def _hold(self) -> Cargohold:
        if self.hold is not None:
            return self.hold
        return Cargohold.from_env()

    def load(
        self,
        *,
        as_type: Any = None,
        columns: list[str] | None = None,
        context: RunContext | None = None,
        catalog: Catalog | None = None,
    ) -> Any:
        """The value, through the type engine (``columns`` reads only those of a table).

        With ``context``, the read is recorded in the catalog's lineage.

        Raises:
            BlobNotFoundError, CorruptDataError, SerializationError: as ``Cargohold.get``.
        """
        hold = self._hold()
        value = hold.get(self.literal, as_type=as_type, columns=columns)
        if context is not None:
            (catalog or hold.catalog).record_read(artifact_id=self.id, source=context)
        return value

    def download(self, path: str) -> str:
        """Copy the blob to the local ``path`` (verifying its hash); returns the path.

        Raises:
            InvalidArgumentError: the value is inline (use :meth:`load`).
            BlobNotFoundError, CorruptDataError: as the store says.
        """
        blob = self._blob()
        return self._hold().store.download(blob.uri, path, expected_hash=blob.hash)

    def open(self) -> IO[bytes]:
        """A binary stream of the blob; reading it to the end verifies the hash.

        Raises:
            InvalidArgumentError: the value is inline (use :meth:`load`).
            BlobNotFoundError: the blob is missing.
        """
        blob = self._blob()
        return self._hold().store.open_blob(blob.uri, expected_hash=blob.hash)

    def _blob(self) -> Any:
        blob = self.literal.blob
        if blob is None:
            raise InvalidArgumentError(
                f"artifact {self.id} holds a small inline value, not a file; use .load()"
            )
        return blob


class ArtifactQuery:
    """Find artifacts the way Flyte Artifacts does: by dataset or producing task, and partitions.

    Both methods take ``catalog=`` (default: ``Cargohold.from_env().catalog``) and ``hold=`` (the
    Cargohold whose store ``load``/``open``/``download`` read; default: the same from_env one).
    """

    @staticmethod
    def _resolve(
        dataset: DatasetRef | None,
        task_name: str | None,
        producer: object,
        catalog: Catalog | None,
        hold: Cargohold | None,
    ) -> tuple[Catalog, Cargohold | None, DatasetRef, tuple[PartitionSpec, ...]]:
        if (dataset is None) == (task_name is None):
            raise InvalidArgumentError("give exactly one of dataset= or task_name=")
        target: DatasetRef = dataset if dataset is not None else str(task_name)
        if catalog is None:
            if hold is None:
                hold = Cargohold.from_env()
            catalog = hold.catalog
        return catalog, hold, target, partition_specs(producer)

    @classmethod
    def get_latest(
        cls,
        *,
        dataset: DatasetRef | None = None,
        task_name: str | None = None,
        partition_keys: Mapping[str, object] | None = None,
        producer: object = None,
        data_name: str | None = None,
        catalog: Catalog | None = None,
        hold: Cargohold | None = None,
    ) -> QueriedArtifact | None:
        """The newest artifact of a dataset matching ``partition_keys``, or None.

        With every partition key given this is the highest version of that partition;
        with some keys, the most recently created match. ``producer`` (a function decorated
        with ``partition_by_*``) lets date keys accept any date spelling.

        Raises:
            InvalidArgumentError: both or neither of dataset/task_name, or unknown keys.
            NotFoundError: the dataset does not exist.
        """
        catalog, hold, target, specs = cls._resolve(dataset, task_name, producer, catalog, hold)
        keys = normalize_partition_keys(partition_keys, specs=specs)
        found = catalog.get_dataset(dataset=target)
        try:
            if set(keys) == set(found.partition_keys):
                artifact = catalog.get_latest(dataset=found.id, partitions=keys)
            else:
                page = catalog.list_artifacts(dataset=found.id, partitions=keys, limit=1)
                if not page.items:
                    return None
                artifact = page.items[0]
        except NotFoundError:
            return None
        return QueriedArtifact(artifact, hold, data_name)

    @classmethod
    def list_artifacts(
        cls,
        *,
        dataset: DatasetRef | None = None,
        task_name: str | None = None,
        partition_keys: Mapping[str, object] | None = None,
        producer: object = None,
        data_name: str | None = None,
        limit: int | None = None,
        catalog: Catalog | None = None,
        hold: Cargohold | None = None,
        **filters: Any,
    ) -> list[QueriedArtifact]:
        """Every artifact of a dataset matching ``partition_keys`` (newest first), at most
        ``limit``; ``filters`` are those of :meth:`Catalog.list_artifacts` (tag, metadata,
        created_after, ranges via ``Range`` values in ``partition_keys``, ...).

        Raises:
            InvalidArgumentError: both or neither of dataset/task_name, or a bad filter.
            NotFoundError: the dataset does not exist.
        """
        catalog, hold, target, specs = cls._resolve(dataset, task_name, producer, catalog, hold)
        plain = {
            k: v for k, v in (partition_keys or {}).items() if not isinstance(v, Range | OneOf)
        }
        keys: dict[str, object] = dict(normalize_partition_keys(plain, specs=specs))
        keys.update({k: v for k, v in (partition_keys or {}).items() if k not in plain})
        out: list[QueriedArtifact] = []
        page_size = 100 if limit is None else max(1, min(limit, 1000))
        for artifact in catalog.iter_artifacts(
            dataset=target, partitions=keys, limit=page_size, **filters
        ):
            out.append(QueriedArtifact(artifact, hold, data_name))
            if limit is not None and len(out) >= limit:
                break
        return out

    @classmethod
    def scan(
        cls,
        *,
        dataset: DatasetRef | None = None,
        task_name: str | None = None,
        partition_keys: Mapping[str, object] | None = None,
        columns: list[str] | None = None,
        filter: Any = None,
        version: Version = None,
        producer: object = None,
        data_name: str | None = None,
        catalog: Catalog | None = None,
        store: Store | None = None,
        hold: Cargohold | None = None,
    ) -> ScannedTable:
        """Every matching partition of a table dataset as one lazy :class:`ScannedTable`.

        ``partition_keys`` selects partitions as in :meth:`list_artifacts` (values, ``Range``,
        ``OneOf``; no blob is opened for the others); ``version`` picks each partition's
        artifact: the latest (None), an int version, a tag, or a ``datetime`` (the dataset as it
        was then). ``columns`` and ``filter`` are pushed into the read (see
        :mod:`cargohold.core.catalog.scan` for the filter forms and exactly what is verified).
        Give ``catalog`` and ``store`` (or ``hold``; default ``Cargohold.from_env()``).

        Raises:
            InvalidArgumentError: both or neither of dataset/task_name, a bad filter or version.
            NotFoundError: the dataset does not exist, or a pinned version is missing.
            TypeMismatchError: a partition is not a table, or column types cannot be combined.
        """
        from cargohold.core.catalog.scan import ScannedTable, plan_scan

        if store is None and hold is None:
            hold = Cargohold.from_env()
        catalog, hold, target, specs = cls._resolve(dataset, task_name, producer, catalog, hold)
        if store is None:
            assert hold is not None  # made above when neither store nor hold was given
            store = hold.store
        given = dict(partition_keys or {})
        plain = {k: v for k, v in given.items() if not isinstance(v, Range | OneOf)}
        keys: dict[str, object] = {**given, **normalize_partition_keys(plain, specs=specs)}
        parts = plan_scan(
            catalog, dataset=target, partitions=keys, version=version, data_name=data_name
        )
        found = catalog.get_dataset(dataset=target)
        return ScannedTable(
            parts=parts,
            store=store,
            partition_keys=found.partition_keys,
            columns=columns,
            filter=filter,
        )
