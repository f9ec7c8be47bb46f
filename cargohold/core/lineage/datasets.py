"""Input and output datasets of an event, built from what cargohold read or wrote.

**Identity.** A value recorded in the catalog is the OpenLineage dataset of its *catalog dataset*:
namespace ``cargohold://{project}/{domain}``, name = the catalog dataset's name (for example
``cargohold://default/development`` + ``daily_sales``). That name is stable: every version, every
partition, every run that writes or reads the dataset names the same dataset, and two datasets
that happen to hold identical bytes (one content-addressed blob) stay two datasets. This is how
Marquez (which keys datasets on namespace + name) shows the pipeline and its history.

* **the physical bytes** go into the ``storage`` facet: storage layer ``cargohold``, the format,
  and ``locations`` (the blob URIs of this version). Not into ``symlinks``: a lineage server
  treats a symlink as another name of the same dataset and would merge datasets sharing a blob.
* **the version** goes into the ``version`` (DatasetVersion) facet: ``{artifact version}:{content
  hash}`` (the content hash alone without a catalog version);
* **the partition** goes into cargohold's ``cargohold_partitions`` facet (OpenLineage has none):
  one entry per partition with its keys, artifact version and content hash. A run writing three
  partitions of one dataset has one output dataset whose facet lists the three; its
  ``datasetVersion`` then joins the partitions' versions.

An explicit location (a URI string or a :class:`DatasetName`, e.g. a database table) is named by
the OpenLineage conventions of :mod:`.naming`, its catalog name (if any) a ``symlinks`` entry of
type ``DATASET``. A literal without a catalog name is named by its blob's location (several blobs
or none: ``inline/{content hash}`` in the catalog namespace); cargohold's adapters always pass one.

Other facets: schema (tables and frames), dataSource, documentation (the user's description),
dataQualityMetrics (rows, bytes, files, and the null count of each column when the table's Arrow
metadata recorded it), and ``outputStatistics`` / ``inputStatistics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cargohold.core.lineage import facets as _f
from cargohold.core.lineage.naming import (
    DatasetName,
    catalog_dataset_name,
    dataset_name_from_uri,
)
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["LineageDataset", "PartitionVersion", "lineage_dataset"]

NULL_COUNTS = "null_counts"
"""The key of a table blob's ``extra`` holding ``{column: null count}``."""


@dataclass(frozen=True, kw_only=True)
class PartitionVersion:
    """One version of a dataset in one partition (``keys`` empty when unpartitioned)."""

    keys: Mapping[str, str] = field(default_factory=dict)
    version: str | None = None
    content_hash: str | None = None

    @property
    def dataset_version(self) -> str:
        """``{version}:{content hash}``, or whichever of the two is known."""
        return ":".join(part for part in (self.version, self.content_hash) if part)

    @property
    def partition(self) -> str:
        """The partition as ``key=value`` pairs joined with ``,`` (empty when unpartitioned)."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.keys.items()))

    def as_json(self) -> dict[str, Any]:
        """The entry of the partitions facet."""
        return {"keys": dict(self.keys), "version": self.version, "contentHash": self.content_hash}


@dataclass(frozen=True, kw_only=True)
class LineageDataset:
    """One dataset of an event: its name, its dataset facets, its versions and statistics.

    Build it with :func:`lineage_dataset`; the same object serves as an input or an output.
    ``versions`` become the ``version`` and ``cargohold_partitions`` facets when serialized;
    ``input_facets`` (e.g. dataQualityAssertions) are added to the ``inputFacets`` of an input;
    ``null_counts`` (per column) and the statistics make the dataQualityMetrics facet;
    :meth:`merged` combines two records of the same dataset in one run (several partitions).
    """

    namespace: str
    name: str
    facets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    versions: tuple[PartitionVersion, ...] = ()
    input_facets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    null_counts: Mapping[str, int] | None = None
    rows: int | None = None
    size: int | None = None
    files: int | None = None
    producer: str = _f.PRODUCER

    @property
    def key(self) -> DatasetName:
        """The dataset's identity (namespace + name)."""
        return DatasetName(self.namespace, self.name)

    def merged(self, other: LineageDataset) -> LineageDataset:
        """This dataset and ``other`` (the same dataset, e.g. another partition) as one record:
        versions united (by partition), statistics summed, ``other``'s facets winning."""
        by_partition = {v.partition: v for v in self.versions}
        by_partition.update((v.partition, v) for v in other.versions)
        if other.versions == self.versions:
            return replace(other)
        facets = {**self.facets, **other.facets}
        locations = sorted(
            set(self.facets.get("storage", {}).get("locations", []))
            | set(other.facets.get("storage", {}).get("locations", []))
        )
        if "storage" in facets and locations:
            facets["storage"] = {**facets["storage"], "locations": locations}
        return replace(
            other,
            facets=facets,
            versions=tuple(by_partition[key] for key in sorted(by_partition)),
            null_counts=(
                None
                if self.null_counts is None or other.null_counts is None
                else {
                    k: self.null_counts.get(k, 0) + other.null_counts.get(k, 0)
                    for k in {**self.null_counts, **other.null_counts}
                }
            ),
            rows=_add(self.rows, other.rows),
            size=_add(self.size, other.size),
            files=_add(self.files, other.files),
        )

    def as_input(self) -> dict[str, Any]:
        """The ``inputs`` entry of an event (with ``inputStatistics`` when known)."""
        out = self._base()
        extra: dict[str, Any] = {key: dict(value) for key, value in self.input_facets.items()}
        if self._has_statistics():
            extra["inputStatistics"] = _f.input_statistics_facet(
                rows=self.rows, size=self.size, files=self.files, producer=self.producer
            )
        if extra:
            out["inputFacets"] = extra
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
        facets = {key: dict(value) for key, value in self.facets.items()}
        versions = [v for v in self.versions if v.dataset_version]
        if versions:
            version = (
                versions[0].dataset_version
                if len(versions) == 1
                else ";".join(f"{v.partition}@{v.dataset_version}" for v in versions)
            )
            facets["version"] = _f.version_facet(version, producer=self.producer)
        if self.null_counts is not None:
            facets["dataQualityMetrics"] = _f.data_quality_metrics_facet(
                rows=self.rows,
                size=self.size,
                files=self.files,
                null_counts=self.null_counts,
                producer=self.producer,
            )
        if any(v.keys for v in self.versions):
            facets[_f.PARTITIONS_FACET] = _f.partitions_facet(
                [v.as_json() for v in self.versions], producer=self.producer
            )
        if facets:
            out["facets"] = facets
        return out


def lineage_dataset(
    value: Literal | BlobRef | DatasetName | str,
    *,
    dataset_name: str | None = None,
    project: str = "default",
    domain: str = "development",
    version: str | None = None,
    partitions: Mapping[str, str] | None = None,
    description: str | None = None,
    producer: str = _f.PRODUCER,
) -> LineageDataset:
    """Describe ``value`` as an OpenLineage dataset (see the module docstring for the rules).

    Args:
        value: the literal read or written, a single blob reference, an explicit
            :class:`DatasetName`, or a URI string (a physical location).
        dataset_name: the catalog dataset's name: the dataset is then named
            ``cargohold://{project}/{domain}`` + ``dataset_name``, whatever ``value`` is.
        project, domain: the catalog project and domain of that name.
        version: the catalog artifact version (the DatasetVersion facet adds the content hash).
        partitions: the artifact's partition (``{"date": "2026-11-01"}``).
        description: the user's documentation of the dataset.
        producer: the ``_producer`` of every facet.

    Raises:
        ValueError: a URI cannot be named (an object-store URI without bucket or key), or the
            catalog name has an empty part.
    """
    logical = (
        catalog_dataset_name(project=project, domain=domain, dataset=dataset_name)
        if dataset_name
        else None
    )
    facets: dict[str, Mapping[str, Any]] = {}
    if description:
        facets["documentation"] = _f.documentation_facet(description, producer=producer)
    if isinstance(value, str | DatasetName):
        name = value if isinstance(value, DatasetName) else dataset_name_from_uri(value)
        if logical is not None and logical != name:
            facets["symlinks"] = _f.symlinks_facet(
                [(logical.namespace, logical.name, "DATASET")], producer=producer
            )
        facets["dataSource"] = _f.data_source_facet(name.namespace, producer=producer)
        versions = (
            (PartitionVersion(keys=dict(partitions or {}), version=version),)
            if version or partitions
            else ()
        )
        return LineageDataset(
            namespace=name.namespace,
            name=name.name,
            facets=facets,
            versions=versions,
            producer=producer,
        )
    blobs: list[BlobRef] = [value] if isinstance(value, BlobRef) else list(value.blobs())
    content = value.hash
    if logical is None:
        logical = (
            dataset_name_from_uri(blobs[0].uri)
            if len(blobs) == 1
            else catalog_dataset_name(project=project, domain=domain, dataset=f"inline/{content}")
        )
    facets["dataSource"] = _f.data_source_facet(logical.namespace, producer=producer)
    formats = {blob.format for blob in blobs}
    facets["storage"] = _f.storage_facet(
        (formats.pop() if len(formats) == 1 else None) if blobs else "json",
        locations=[blob.uri for blob in blobs],
        producer=producer,
    )
    if len(blobs) == 1 and blobs[0].schema:
        facets["schema"] = _f.schema_facet(blobs[0].schema, producer=producer)
    rows_known = [blob.rows for blob in blobs if blob.rows is not None]
    rows = sum(rows_known) if rows_known else None
    size = sum(blob.size for blob in blobs) if blobs else None
    files = len(blobs) if blobs else None
    return LineageDataset(
        namespace=logical.namespace,
        name=logical.name,
        facets=facets,
        versions=(
            PartitionVersion(keys=dict(partitions or {}), version=version, content_hash=content),
        ),
        null_counts=_null_counts(blobs),
        rows=rows,
        size=size,
        files=files,
        producer=producer,
    )


def _null_counts(blobs: list[BlobRef]) -> dict[str, int] | None:
    """Null counts per column summed over ``blobs``, when every blob recorded them."""
    total: dict[str, int] = {}
    for blob in blobs:
        counts = blob.extra.get(NULL_COUNTS) if blob.extra else None
        if not isinstance(counts, Mapping):
            return None
        for column, count in counts.items():
            if isinstance(count, int):
                total[str(column)] = total.get(str(column), 0) + count
    return total if blobs else None


def _add(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b
