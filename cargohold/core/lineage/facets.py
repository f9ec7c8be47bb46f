"""OpenLineage facets as plain JSON dicts, each with its ``_producer`` and ``_schemaURL``.

Every builder returns a ``dict`` ready to put under its facet key; none imports openlineage, so
building facets costs a few microseconds on the caller's thread. The schema URLs name the facet
versions openlineage-python 1.54 uses, all present in the vendored ``spec/`` folder.

| key | facet | built from |
| --- | --- | --- |
| ``schema`` | SchemaDatasetFacet 1-2-0 | a blob's ``schema`` (column, type) |
| ``dataSource`` | DatasourceDatasetFacet 1-0-1 | the dataset namespace |
| ``version`` | DatasetVersionDatasetFacet 1-0-1 | artifact version, else content hash |
| ``storage`` | StorageDatasetFacet 1-0-1 | ``cargohold`` + the blob format |
| ``symlinks`` | SymlinksDatasetFacet 1-0-1 | other names of the dataset (never a blob) |
| ``documentation`` | DocumentationDatasetFacet 1-1-0 | the user's description |
| ``dataQualityMetrics`` | DataQualityMetricsDatasetFacet 1-0-0 | rows, bytes, nulls per column |
| ``dataQualityAssertions`` | DataQualityAssertionsDatasetFacet 1-1-0 | checks (input facet) |
| ``cargohold_partitions`` | cargohold's PartitionsDatasetFacet 1-0-0 | partitions written/read |
| ``outputStatistics`` | OutputStatisticsOutputDatasetFacet 1-0-2 | rows, bytes, files (outputs) |
| ``inputStatistics`` | InputStatisticsInputDatasetFacet 1-0-0 | rows, bytes, files (inputs) |
| ``errorMessage`` | ErrorMessageRunFacet 1-0-1 | the exception of a FAIL event |
| ``parent`` | ParentRunFacet 1-2-0 | the parent (DAG / Dagster) run |
| ``jobType`` | JobTypeJobFacet 2-0-4 | TASK / ASSET, the integration |
| ``jobDocumentation`` | DocumentationJobFacet 1-1-0 | the task's / asset's docstring (key |
| | | ``documentation`` under ``job.facets``) |

OpenLineage has no facet for partitions, so cargohold defines one, ``cargohold_partitions``
(schema ``cargohold/core/lineage/schemas/PartitionsDatasetFacet.json``, published at
:data:`PARTITIONS_SCHEMA_URL`): ``{"partitions": [{"keys": {"date": "2026-11-01"}, "version":
"3", "contentHash": "..."}]}``, one entry per partition the event read or wrote.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "CORE_SCHEMA_URL",
    "PARTITIONS_FACET",
    "PARTITIONS_SCHEMA_URL",
    "PRODUCER",
    "STORAGE_LAYER",
    "data_quality_assertions_facet",
    "data_quality_metrics_facet",
    "data_source_facet",
    "documentation_facet",
    "error_message_facet",
    "facet",
    "input_statistics_facet",
    "job_documentation_facet",
    "job_type_facet",
    "output_statistics_facet",
    "parent_run_facet",
    "partitions_facet",
    "schema_facet",
    "storage_facet",
    "symlinks_facet",
    "version_facet",
]

PRODUCER = "https://github.com/cargohold/cargohold"
"""The ``producer`` / ``_producer`` URI of every event and facet cargohold builds."""

SPEC_BASE = "https://openlineage.io/spec/"
CORE_SCHEMA_URL = f"{SPEC_BASE}2-0-2/OpenLineage.json#/$defs/RunEvent"
STORAGE_LAYER = "cargohold"
"""The ``storageLayer`` of the storage facet: blobs are written by cargohold's store."""

_MAX_STACK = 20_000

_URLS = {
    "schema": "facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "dataSource": "facets/1-0-1/DatasourceDatasetFacet.json#/$defs/DatasourceDatasetFacet",
    "version": "facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet",
    "storage": "facets/1-0-1/StorageDatasetFacet.json#/$defs/StorageDatasetFacet",
    "symlinks": "facets/1-0-1/SymlinksDatasetFacet.json#/$defs/SymlinksDatasetFacet",
    "documentation": (
        "facets/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"
    ),
    "outputStatistics": (
        "facets/1-0-2/OutputStatisticsOutputDatasetFacet.json"
        "#/$defs/OutputStatisticsOutputDatasetFacet"
    ),
    "inputStatistics": (
        "facets/1-0-0/InputStatisticsInputDatasetFacet.json#/$defs/InputStatisticsInputDatasetFacet"
    ),
    "errorMessage": "facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet",
    "parent": "facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet",
    "jobType": "facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
    "jobDocumentation": "facets/1-1-0/DocumentationJobFacet.json#/$defs/DocumentationJobFacet",
    "dataQualityMetrics": (
        "facets/1-0-0/DataQualityMetricsDatasetFacet.json#/$defs/DataQualityMetricsDatasetFacet"
    ),
    "dataQualityAssertions": (
        "facets/1-1-0/DataQualityAssertionsDatasetFacet.json"
        "#/$defs/DataQualityAssertionsDatasetFacet"
    ),
}

PARTITIONS_FACET = "cargohold_partitions"
"""The key of cargohold's partitions dataset facet (OpenLineage has none)."""
PARTITIONS_SCHEMA_URL = (
    "https://raw.githubusercontent.com/cargohold/cargohold/main/cargohold/core/lineage/schemas/"
    "PartitionsDatasetFacet.json#/$defs/PartitionsDatasetFacet"
)
"""The ``_schemaURL`` of that facet; the schema ships in ``cargohold/core/lineage/schemas``."""


def facet(key: str, *, producer: str = PRODUCER, **fields: Any) -> dict[str, Any]:
    """A facet of one of the kinds in the table above, with ``fields`` (``None`` values dropped).

    Raises:
        KeyError: ``key`` is not one of the facet keys cargohold builds.
    """
    url = PARTITIONS_SCHEMA_URL if key == PARTITIONS_FACET else SPEC_BASE + _URLS[key]
    out: dict[str, Any] = {"_producer": producer, "_schemaURL": url}
    out.update((name, value) for name, value in fields.items() if value is not None)
    return out


def schema_facet(columns: Iterable[tuple[str, str]], *, producer: str = PRODUCER) -> dict[str, Any]:
    """The schema facet: one field per ``(column, arrow type)`` pair, in order."""
    fields = [
        {"name": str(name), "type": str(type_), "ordinal_position": position}
        for position, (name, type_) in enumerate(columns, start=1)
    ]
    return facet("schema", producer=producer, fields=fields)


def data_source_facet(namespace: str, *, producer: str = PRODUCER) -> dict[str, Any]:
    """The dataSource facet: ``name`` is the dataset namespace, ``uri`` its URI form.

    A bare ``file`` or ``memory`` namespace becomes ``file://`` / ``memory://`` so that ``uri``
    is a valid URI.
    """
    uri = namespace if "://" in namespace else f"{namespace}://"
    return facet("dataSource", producer=producer, name=namespace, uri=uri)


def version_facet(version: str, *, producer: str = PRODUCER) -> dict[str, Any]:
    """The version facet: the artifact version, or the content hash when there is none."""
    return facet("version", producer=producer, datasetVersion=str(version))


def storage_facet(
    file_format: str | None,
    *,
    locations: Iterable[str] = (),
    producer: str = PRODUCER,
) -> dict[str, Any]:
    """The storage facet: storage layer ``cargohold``, the blob's format (``parquet``...) and,
    as the extra field ``locations``, the URIs of the blobs holding the version's bytes.

    The physical blobs go here and not into ``symlinks``: a lineage server treats a symlink as
    another name of the same dataset (Marquez keys ``dataset_symlinks`` on namespace + name), so
    two datasets holding identical bytes (one content-addressed blob) would be merged.
    """
    found = sorted(set(locations))
    return facet(
        "storage",
        producer=producer,
        storageLayer=STORAGE_LAYER,
        fileFormat=file_format,
        locations=found or None,
    )


def data_quality_metrics_facet(
    *,
    rows: int | None,
    size: int | None,
    files: int | None,
    null_counts: Mapping[str, int],
    producer: str = PRODUCER,
) -> dict[str, Any]:
    """The dataQualityMetrics facet: row count, bytes, files and the null count of each column
    (from the Arrow metadata recorded when the table was written)."""
    return facet(
        "dataQualityMetrics",
        producer=producer,
        rowCount=rows,
        bytes=size,
        fileCount=files,
        columnMetrics={str(name): {"nullCount": int(n)} for name, n in null_counts.items()},
    )


def data_quality_assertions_facet(
    assertions: Iterable[Mapping[str, Any]], *, producer: str = PRODUCER
) -> dict[str, Any]:
    """The dataQualityAssertions input facet: one ``{assertion, success, column?, severity?}``
    entry per check evaluated on the dataset."""
    return facet(
        "dataQualityAssertions",
        producer=producer,
        assertions=[{k: v for k, v in item.items() if v is not None} for item in assertions],
    )


def partitions_facet(
    partitions: Iterable[Mapping[str, Any]], *, producer: str = PRODUCER
) -> dict[str, Any]:
    """cargohold's partitions facet: ``{"keys": {...}, "version": ..., "contentHash": ...}`` per
    partition, sorted by keys (see the module docstring)."""
    items = sorted(
        ({k: v for k, v in item.items() if v is not None} for item in partitions),
        key=lambda item: sorted(item.get("keys", {}).items()),
    )
    return facet(PARTITIONS_FACET, producer=producer, partitions=items)


def job_documentation_facet(description: str, *, producer: str = PRODUCER) -> dict[str, Any]:
    """The documentation facet of a job (key ``documentation`` under ``job.facets``)."""
    return facet("jobDocumentation", producer=producer, description=description)


def symlinks_facet(
    identifiers: Iterable[tuple[str, str, str]], *, producer: str = PRODUCER
) -> dict[str, Any]:
    """The symlinks facet: other names of the dataset as ``(namespace, name, type)`` triples."""
    return facet(
        "symlinks",
        producer=producer,
        identifiers=[
            {"namespace": namespace, "name": name, "type": type_}
            for namespace, name, type_ in identifiers
        ],
    )


def documentation_facet(
    description: str, *, content_type: str | None = None, producer: str = PRODUCER
) -> dict[str, Any]:
    """The documentation facet of a dataset: the user's description (and its MIME type)."""
    return facet(
        "documentation", producer=producer, description=description, contentType=content_type
    )


def output_statistics_facet(
    *, rows: int | None, size: int | None, files: int | None, producer: str = PRODUCER
) -> dict[str, Any]:
    """The outputStatistics facet of an output dataset: rows, bytes and files written."""
    return facet("outputStatistics", producer=producer, rowCount=rows, size=size, fileCount=files)


def input_statistics_facet(
    *, rows: int | None, size: int | None, files: int | None, producer: str = PRODUCER
) -> dict[str, Any]:
    """The inputStatistics facet of an input dataset: rows, bytes and files read."""
    return facet("inputStatistics", producer=producer, rowCount=rows, size=size, fileCount=files)


def error_message_facet(error: BaseException | str, *, producer: str = PRODUCER) -> dict[str, Any]:
    """The errorMessage facet of a FAIL event: message, ``python``, and the stack trace if any."""
    stack: str | None = None
    if isinstance(error, BaseException):
        message = f"{type(error).__name__}: {error}"
        if error.__traceback__ is not None:
            stack = "".join(traceback.format_exception(error))[-_MAX_STACK:]
    else:
        message = str(error)
    return facet(
        "errorMessage",
        producer=producer,
        message=message,
        programmingLanguage="python",
        stackTrace=stack,
    )


def parent_run_facet(
    *,
    run_id: str,
    namespace: str,
    name: str,
    root_run_id: str | None = None,
    root_namespace: str | None = None,
    root_name: str | None = None,
    producer: str = PRODUCER,
) -> dict[str, Any]:
    """The parent run facet, with its root (the parent itself unless given), as Airflow does."""
    return facet(
        "parent",
        producer=producer,
        run={"runId": run_id},
        job={"namespace": namespace, "name": name},
        root={
            "run": {"runId": root_run_id or run_id},
            "job": {"namespace": root_namespace or namespace, "name": root_name or name},
        },
    )


def job_type_facet(*, job_type: str, integration: str, producer: str = PRODUCER) -> dict[str, Any]:
    """The jobType facet: ``BATCH`` processing, the integration (``AIRFLOW``...) and job type."""
    return facet(
        "jobType",
        producer=producer,
        processingType="BATCH",
        integration=integration,
        jobType=job_type,
    )
