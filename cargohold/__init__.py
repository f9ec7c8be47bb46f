"""cargohold: typed, versioned, partitioned data passing with lineage for Airflow and Dagster.

The public names of the core; the adapters live in ``cargohold.airflow_provider`` and
``cargohold.dagster_integration`` and are never imported from here.
"""

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
    ProxyServer,
    UploadLocation,
)
from cargohold.core.storage.store import BlobInfo, Store
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.files import Directory, File
from cargohold.core.types.literals import BlobRef, Literal, LiteralType
from cargohold.core.types.transformer import TransformContext, TypeTransformer

__version__ = "0.1.0"

__all__ = [
    "AlreadyExistsError",
    "BlobInfo",
    "BlobNotFoundError",
    "BlobRef",
    "CacheError",
    "CacheFullError",
    "Cargohold",
    "CargoholdError",
    "CargoholdURL",
    "CatalogError",
    "ConfigurationError",
    "CorruptDataError",
    "DataProxy",
    "DataResponse",
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
    "ParentRun",
    "PathEscapeError",
    "PathExistsError",
    "ProxyError",
    "ProxyServer",
    "ReservationConflictError",
    "RunContext",
    "RunIdentity",
    "RunRecorder",
    "SchemaOutOfDateError",
    "SerializationError",
    "Settings",
    "StorageError",
    "Store",
    "TransformContext",
    "TypeEngine",
    "TypeMismatchError",
    "TypeTransformer",
    "UnhashableInputError",
    "UnsupportedTypeError",
    "UploadLocation",
    "catalog_dataset_name",
    "dataset_name_from_uri",
    "lineage_dataset",
]
