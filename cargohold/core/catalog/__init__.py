"""The data catalog: datasets, versioned partitioned artifacts, tags, reservations, queries.

Start with :class:`Catalog` (``Catalog.from_url("sqlite:///catalog.db")``) or, for the Flyte
Artifacts style of querying, :class:`ArtifactQuery`. The ORM rows in ``models`` stay internal;
every call returns the frozen objects defined in ``objects``.
"""

from cargohold.core.catalog.artifact_query import (
    ArtifactQuery,
    PartitionSpec,
    QueriedArtifact,
    partition_by_date,
    partition_by_key,
    partition_specs,
)
from cargohold.core.catalog.blobrefs import OWNER_ARTIFACT, OWNER_CACHE, OWNER_XCOM
from cargohold.core.catalog.catalog import Catalog, DatasetRef
from cargohold.core.catalog.objects import (
    Artifact,
    ArtifactSource,
    Dataset,
    DatasetID,
    ExpiryReport,
    GCReport,
    Neighbours,
    NewArtifact,
    Page,
    Read,
    Reservation,
    Tag,
)
from cargohold.core.catalog.queries import OneOf, Range
from cargohold.core.catalog.schema import UPGRADE_COMMAND, upgrade_schema

__all__ = [
    "OWNER_ARTIFACT",
    "OWNER_CACHE",
    "OWNER_XCOM",
    "UPGRADE_COMMAND",
    "Artifact",
    "ArtifactQuery",
    "ArtifactSource",
    "Catalog",
    "Dataset",
    "DatasetID",
    "DatasetRef",
    "ExpiryReport",
    "GCReport",
    "OneOf",
    "Neighbours",
    "NewArtifact",
    "Page",
    "PartitionSpec",
    "QueriedArtifact",
    "Range",
    "Read",
    "Reservation",
    "Tag",
    "partition_by_date",
    "partition_by_key",
    "partition_specs",
    "upgrade_schema",
]
