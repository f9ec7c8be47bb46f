"""cargohold: typed, versioned, partitioned data passing with lineage for Airflow and Dagster.

The public names of the core; the adapters live in ``cargohold.airflow_provider`` and
``cargohold.dagster_integration`` and are never imported from here.
"""

import importlib
from typing import TYPE_CHECKING, Any

from cargohold.core.config import Settings
from cargohold.core.context import RunContext
from cargohold.core.errors import (
    AlreadyExistsError,
    BlobNotFoundError,
    CacheError,
    CacheFullError,
    CargoholdError,
    CatalogError,
    ConfigurationError,
    CorruptDataError,
    InvalidArgumentError,
    InvalidEventError,
    LineageError,
    NotFoundError,
    PartitionNotFoundError,
    PathEscapeError,
    PathExistsError,
    ProxyError,
    ReservationConflictError,
    SchemaOutOfDateError,
    SerializationError,
    StorageError,
    TypeMismatchError,
    UnhashableInputError,
    UnsupportedTypeError,
    UntrustedTypeError,
)
from cargohold.core.hold import Cargohold
from cargohold.core.lineage import (
    DatasetName,
    EmitterStats,
    LineageDataset,
    LineageEmitter,
    ParentRun,
    RunIdentity,
    RunRecorder,
    catalog_dataset_name,
    dataset_name_from_uri,
    lineage_dataset,
)
from cargohold.core.proxy import (
    CargoholdURL,
    DataProxy,
    DataResponse,
    DownloadLink,
    UploadLocation,
)
from cargohold.core.storage.store import BlobInfo, Store
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.files import Directory, File
from cargohold.core.types.literals import BlobRef, Literal, LiteralType
from cargohold.core.types.transformer import TransformContext, TypeTransformer

if TYPE_CHECKING:
    from cargohold.core.cache import (
        CacheEntry,
        CacheKey,
        CacheService,
        cached,
        compute_key,
        key_for_call,
    )
    from cargohold.core.catalog import (
        Artifact,
        ArtifactSource,
        Catalog,
        Dataset,
        DatasetID,
        OneOf,
        Page,
        Range,
        Reservation,
        Tag,
        partition_by_date,
        partition_by_key,
    )
    from cargohold.core.query import ArtifactQuery, QueriedArtifact

__version__ = "0.1.0"

# Names whose modules need SQLAlchemy: imported on first use, so `import cargohold` stays light
# (a DAG file that only passes data never loads the catalog).
_LAZY = {
    "ArtifactQuery": "cargohold.core.query",
    "Artifact": "cargohold.core.catalog",
    "ArtifactSource": "cargohold.core.catalog",
    "Dataset": "cargohold.core.catalog",
    "DatasetID": "cargohold.core.catalog",
    "OneOf": "cargohold.core.catalog",
    "Page": "cargohold.core.catalog",
    "QueriedArtifact": "cargohold.core.query",
    "Range": "cargohold.core.catalog",
    "Reservation": "cargohold.core.catalog",
    "Tag": "cargohold.core.catalog",
    "Catalog": "cargohold.core.catalog",
    "partition_by_date": "cargohold.core.catalog",
    "partition_by_key": "cargohold.core.catalog",
    "CacheEntry": "cargohold.core.cache",
    "CacheKey": "cargohold.core.cache",
    "CacheService": "cargohold.core.cache",
    "cached": "cargohold.core.cache",
    "compute_key": "cargohold.core.cache",
    "key_for_call": "cargohold.core.cache",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cargohold' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AlreadyExistsError",
    "Artifact",
    "ArtifactQuery",
    "ArtifactSource",
    "BlobInfo",
    "BlobNotFoundError",
    "BlobRef",
    "CacheEntry",
    "CacheError",
    "CacheFullError",
    "CacheKey",
    "CacheService",
    "Cargohold",
    "CargoholdError",
    "CargoholdURL",
    "Catalog",
    "CatalogError",
    "ConfigurationError",
    "CorruptDataError",
    "DataProxy",
    "DataResponse",
    "Dataset",
    "DatasetID",
    "DatasetName",
    "Directory",
    "DownloadLink",
    "EmitterStats",
    "File",
    "InvalidArgumentError",
    "InvalidEventError",
    "LineageDataset",
    "LineageEmitter",
    "LineageError",
    "Literal",
    "LiteralType",
    "NotFoundError",
    "OneOf",
    "Page",
    "ParentRun",
    "PartitionNotFoundError",
    "PathEscapeError",
    "PathExistsError",
    "ProxyError",
    "QueriedArtifact",
    "Range",
    "Reservation",
    "ReservationConflictError",
    "RunContext",
    "RunIdentity",
    "RunRecorder",
    "SchemaOutOfDateError",
    "SerializationError",
    "Settings",
    "StorageError",
    "Store",
    "Tag",
    "TransformContext",
    "TypeEngine",
    "TypeMismatchError",
    "TypeTransformer",
    "UnhashableInputError",
    "UnsupportedTypeError",
    "UntrustedTypeError",
    "UploadLocation",
    "cached",
    "catalog_dataset_name",
    "compute_key",
    "dataset_name_from_uri",
    "key_for_call",
    "lineage_dataset",
    "partition_by_date",
    "partition_by_key",
]
