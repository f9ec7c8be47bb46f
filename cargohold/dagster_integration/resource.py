"""``CargoholdResource``: the catalog and the store inside ops and assets.

::

    @asset
    def report(cargohold: CargoholdResource) -> None:
        latest = cargohold.get_latest(dataset="daily_sales", partition_keys={"date": "2026-11-02"})
        frame = cargohold.load(latest, columns=["region", "amount"])

It takes the same configuration as :class:`~cargohold.dagster_integration.CargoholdIOManager`
and builds its :class:`~cargohold.core.hold.Cargohold` on first use in each process. Configure
both once, so they read and write the same store and catalog::

    io_manager = CargoholdIOManager(store_url="s3://bucket/data", catalog_url="postgresql://...")
    resources = {"io_manager": io_manager, "cargohold": CargoholdResource.of(io_manager)}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cargohold.core.catalog import Catalog
from cargohold.core.hold import Cargohold
from cargohold.core.query import ArtifactQuery, QueriedArtifact
from cargohold.core.types.literals import Literal
from cargohold.dagster_integration._base import CargoholdBase
from cargohold.dagster_integration.io_manager import CargoholdIOManager

__all__ = ["CargoholdResource"]


class CargoholdResource(CargoholdBase):
    """Query the catalog (latest artifact, listings) and load or store values."""

    @classmethod
    def of(cls, io_manager: CargoholdIOManager) -> CargoholdResource:
        """The resource reading the store and catalog ``io_manager`` writes (every setting the
        two share is copied: store, its options, catalog, table format, inline limit, lineage
        namespace)."""
        shared = {name: getattr(io_manager, name) for name in CargoholdBase.model_fields}
        return cls(**shared)

    @property
    def cargohold(self) -> Cargohold:
        """This process's :class:`Cargohold` (store, catalog, type engine)."""
        return self.hold()

    @property
    def catalog(self) -> Catalog:
        """The catalog."""
        return self.hold().catalog

    def get_latest(
        self,
        *,
        dataset: str,
        partition_keys: Mapping[str, object] | None = None,
        data_name: str | None = None,
    ) -> QueriedArtifact | None:
        """The newest artifact of ``dataset`` in ``partition_keys``, or None when there is none.

        Raises:
            NotFoundError: the dataset does not exist.
            InvalidArgumentError: unknown partition keys.
        """
        hold = self.hold()
        return ArtifactQuery.get_latest(
            dataset=dataset,
            partition_keys=partition_keys,
            data_name=data_name,
            catalog=hold.catalog,
            hold=hold,
        )

    def list_artifacts(
        self,
        *,
        dataset: str,
        partition_keys: Mapping[str, object] | None = None,
        limit: int | None = None,
        **filters: Any,
    ) -> list[QueriedArtifact]:
        """Artifacts of ``dataset`` matching ``partition_keys`` (values, ``Range`` or ``OneOf``)
        and ``filters`` (those of ``Catalog.list_artifacts``), newest first, at most ``limit``.

        Raises:
            NotFoundError: the dataset does not exist.
            InvalidArgumentError: a bad filter.
        """
        hold = self.hold()
        return ArtifactQuery.list_artifacts(
            dataset=dataset,
            partition_keys=partition_keys,
            limit=limit,
            catalog=hold.catalog,
            hold=hold,
            **filters,
        )

    def load(
        self,
        artifact: QueriedArtifact | Literal | str,
        *,
        as_type: Any = None,
        columns: Sequence[str] | None = None,
    ) -> Any:
        """The value of an artifact found by :meth:`get_latest` (or of a literal / its JSON).

        Raises:
            BlobNotFoundError, CorruptDataError, SerializationError: as ``Cargohold.get``.
        """
        literal = artifact.literal if isinstance(artifact, QueriedArtifact) else artifact
        return self.hold().get(literal, as_type=as_type, columns=columns)

    def put(self, value: Any, *, python_type: Any = None) -> Literal:
        """Store ``value`` through the type engine and return its literal.

        Raises:
            SerializationError, StorageError: as ``Cargohold.put``.
        """
        return self.hold().put(value, python_type=python_type)
