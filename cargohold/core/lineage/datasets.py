"""Input and output datasets of an event, built from what cargohold read or wrote.

One literal (or one blob reference) becomes one OpenLineage dataset:

* **one blob** (a frame, an array, a file): the dataset is named after the blob's location by the
  OpenLineage conventions (``s3://bucket`` + key, ``file`` + path, see :mod:`.naming`), and when
  a catalog dataset name is given, its symlinks facet carries the logical catalog name
  (``cargohold://{project}/{domain}`` + dataset, type ``DATASET``). The writer and every reader
  of an artifact see the same blob URI, so they name the dataset identically.
* **no blob** (an inline value) or **several blobs** (a dict of frames, a directory): there is no
  single physical location, so the dataset is named by its logical catalog name, and the blobs'
  physical names go into the symlinks facet (type ``FILE``).

Facets: schema (tables and frames), dataSource, version (the artifact version when given, else
the content hash), storage (format), documentation (the user's description), and statistics
(rows, bytes, files) as ``outputStatistics`` on outputs and ``inputStatistics`` on inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cargohold.core.lineage import facets as _f
from cargohold.core.lineage.naming import (
    DatasetName,
    catalog_dataset_name,
    dataset_name_from_uri,
)
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["LineageDataset", "lineage_dataset"]


@dataclass(frozen=True, kw_only=True)
class LineageDataset:
    """One dataset of an event: its name, its dataset facets and its statistics.

    Build it with :func:`lineage_dataset`; the same object serves as an input or an output.
    """

    namespace: str
    name: str
    facets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rows: int | None = None
    size: int | None = None
    files: int | None = None
    producer: str = _f.PRODUCER

    @property
    def key(self) -> DatasetName:
        """The dataset's identity (namespace + name)."""
        return DatasetName(self.namespace, self.name)

    def as_input(self) -> dict[str, Any]:
        """The ``inputs`` entry of an event (with ``inputStatistics`` when known)."""
        out = self._base()
        if self._has_statistics():
            out["inputFacets"] = {
                "inputStatistics": _f.input_statistics_facet(
                    rows=self.rows, size=self.size, files=self.files, producer=self.producer
                )
            }
        return out

    def as_output(self) -> dict[str, Any]:
        """The ``outputs`` entry of an event (with ``outputStatistics`` when known)."""
        out = self._base()
        if self._has_statistics():
            out["outputFacets"] = {
                "outputStatistics": _f.output_statistics_facet(
                    rows=self.rows, size=self.size, files=self.files, producer=self.producer
                )
            }
        return out

    def _has_statistics(self) -> bool:
        return self.rows is not None or self.size is not None or self.files is not None

    def _base(self) -> dict[str, Any]:
        out: dict[str, Any] = {"namespace": self.namespace, "name": self.name}
        if self.facets:
            out["facets"] = {key: dict(value) for key, value in self.facets.items()}
        return out


def lineage_dataset(
    value: Literal | BlobRef | DatasetName | str,
    *,
    dataset_name: str | None = None,
    project: str = "default",
    domain: str = "development",
    version: str | None = None,
    description: str | None = None,
    producer: str = _f.PRODUCER,
) -> LineageDataset:
    """Describe ``value`` as an OpenLineage dataset (see the module docstring for the rules).

    Args:
        value: the literal read or written, a single blob reference, an explicit
            :class:`DatasetName`, or a URI string (a physical location).
        dataset_name: the catalog dataset's name (the logical name's ``name``); needed for inline
            and multi-blob literals, which have no physical name (``inline/{hash}`` otherwise).
        project, domain: the catalog project and domain of the logical name.
        version: the artifact version; the content hash is used when omitted.
        description: the user's documentation of the dataset.
        producer: the ``_producer`` of every facet.

    Raises:
        ValueError: a blob's URI cannot be named (an object-store URI without bucket or key).
    """
    logical = (
        catalog_dataset_name(project=project, domain=domain, dataset=dataset_name)
        if dataset_name
        else None
    )
    facets: dict[str, Mapping[str, Any]] = {}
    if isinstance(value, str | DatasetName):
        physical = value if isinstance(value, DatasetName) else dataset_name_from_uri(value)
        return _single(physical, logical, facets, version, description, producer)
    blobs: list[BlobRef] = [value] if isinstance(value, BlobRef) else list(value.blobs())
    if len(blobs) == 1:
        blob = blobs[0]
        physical = dataset_name_from_uri(blob.uri)
        if blob.schema:
            facets["schema"] = _f.schema_facet(blob.schema, producer=producer)
        facets["storage"] = _f.storage_facet(blob.format, producer=producer)
        dataset = _single(physical, logical, facets, version or blob.hash, description, producer)
        return LineageDataset(
            namespace=dataset.namespace,
            name=dataset.name,
            facets=dataset.facets,
            rows=blob.rows,
            size=blob.size,
            files=1,
            producer=producer,
        )
    assert isinstance(value, Literal)  # a BlobRef always has exactly one blob
    content = value.hash
    primary = logical or catalog_dataset_name(
        project=project, domain=domain, dataset=f"inline/{content[:32]}"
    )
    facets["dataSource"] = _f.data_source_facet(primary.namespace, producer=producer)
    facets["version"] = _f.version_facet(version or content, producer=producer)
    if blobs:
        formats = {blob.format for blob in blobs}
        facets["storage"] = _f.storage_facet(
            formats.pop() if len(formats) == 1 else None, producer=producer
        )
        links = [dataset_name_from_uri(blob.uri) for blob in blobs]
        facets["symlinks"] = _f.symlinks_facet(
            [(link.namespace, link.name, "FILE") for link in links], producer=producer
        )
    else:
        facets["storage"] = _f.storage_facet("json", producer=producer)
    if description:
        facets["documentation"] = _f.documentation_facet(description, producer=producer)
    rows = [blob.rows for blob in blobs if blob.rows is not None]
    return LineageDataset(
        namespace=primary.namespace,
        name=primary.name,
        facets=facets,
        rows=sum(rows) if rows else None,
        size=sum(blob.size for blob in blobs) if blobs else None,
        files=len(blobs) if blobs else None,
        producer=producer,
    )


def _single(
    physical: DatasetName,
    logical: DatasetName | None,
    facets: dict[str, Mapping[str, Any]],
    version: str | None,
    description: str | None,
    producer: str,
) -> LineageDataset:
    facets["dataSource"] = _f.data_source_facet(physical.namespace, producer=producer)
    if version:
        facets["version"] = _f.version_facet(version, producer=producer)
    if logical is not None and logical != physical:
        facets["symlinks"] = _f.symlinks_facet(
            [(logical.namespace, logical.name, "DATASET")], producer=producer
        )
    if description:
        facets["documentation"] = _f.documentation_facet(description, producer=producer)
    return LineageDataset(
        namespace=physical.namespace, name=physical.name, facets=facets, producer=producer
    )
