"""The data catalog: datasets, versioned partitioned artifacts, tags, reservations, queries.

Start with :class:`Catalog` (``Catalog.from_url("sqlite:///catalog.db")``); the Flyte Artifacts
style of querying, :class:`~cargohold.core.query.ArtifactQuery`, stands a floor up, beside the
``Cargohold`` facade whose store it reads. The ORM rows in ``models`` stay internal; every call
returns the frozen objects defined in ``objects``.

Where things are::

    catalog.py  base.py  operations.py  upkeep.py   the Catalog facade and its mixins
    write.py          how an artifact is written (versions, rows, PostgreSQL's one statement)
    read.py           how an artifact is read (the joined SELECT, decoding, lookups)
    queries.py        how a listing is planned (filters, ranges, keyset pages; pagination.py)
    scan.py           a partitioned table dataset scanned as one table
    datasets.py  reservations.py  lineage.py  retention.py  lifecycle.py  blobrefs.py
                      the other concerns, one module each (SQL on a connection)
    models.py  objects.py  validation.py  partitioning.py  session.py  schema.py
                      rows, domain objects, input checks, partition declarations, transactions,
                      the schema version; migrations/ holds the frozen Alembic revisions
"""

from cargohold.core.catalog.blobrefs import OWNER_ARTIFACT, OWNER_CACHE, OWNER_XCOM, blobs_of
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
from cargohold.core.catalog.partitioning import (
    PartitionSpec,
    normalize_partition_keys,
    partition_by_date,
    partition_by_key,
    partition_specs,
)
from cargohold.core.catalog.queries import OneOf, Range
from cargohold.core.catalog.schema import UPGRADE_COMMAND, upgrade_schema

__all__ = [
    "OWNER_ARTIFACT",
    "OWNER_CACHE",
    "OWNER_XCOM",
    "UPGRADE_COMMAND",
    "Artifact",
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
    "Range",
    "Read",
    "Reservation",
    "Tag",
    "blobs_of",
    "normalize_partition_keys",
    "partition_by_date",
    "partition_by_key",
    "partition_specs",
    "upgrade_schema",
]
