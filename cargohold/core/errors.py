"""The one error hierarchy of cargohold.

Every error cargohold raises on purpose derives from :class:`CargoholdError`. Errors of the
libraries underneath (fsspec, botocore, SQLAlchemy, OpenLineage) are translated at the boundary
with ``raise ... from exc``, so the original stays attached as ``__cause__``::

    CargoholdError
    ├── ConfigurationError            a setting is missing, malformed or needs an extra installed
    ├── SerializationError            a value cannot be turned into a literal or back
    │   ├── UnsupportedTypeError      no transformer for a Python type (and pickle is off)
    │   ├── TypeMismatchError         a value does not fit the type it was declared as
    │   ├── UntrustedTypeError        a document names a type that is neither declared, registered
    │   │                             nor allowed (``CARGOHOLD_ALLOWED_TYPES``)
    │   └── CorruptDataError          stored bytes do not match their content hash
    ├── StorageError                  the object store failed
    │   ├── BlobNotFoundError         (also a FileNotFoundError) a blob or path does not exist
    │   ├── PathExistsError           (also a FileExistsError) a copy or rename would overwrite
    │   └── PathEscapeError           a path would leave the store's root
    ├── CatalogError                  the catalog database failed
    │   ├── NotFoundError             a dataset, artifact, tag or reservation does not exist
    │   │   └── PartitionNotFoundError (also a FileNotFoundError) an asset or partition was
    │   │                              never materialized (what Dagster's IO managers raise)
    │   ├── AlreadyExistsError        a dataset, artifact, tag or cache entry already exists
    │   ├── InvalidArgumentError      a name, partition or filter is malformed
    │   ├── ReservationConflictError  another owner holds an unexpired reservation
    │   └── SchemaOutOfDateError      the database needs ``cargohold db upgrade``
    ├── CacheError                    the cache service failed
    │   ├── CacheFullError            a put would exceed the cache's storage limit
    │   └── UnhashableInputError      an input cannot be hashed into a cache key
    ├── LineageError                  lineage could not be configured (emission itself never raises)
    │   └── InvalidEventError         an event violates the OpenLineage schemas (testing tools)
    └── ProxyError                    a signed URL is expired, tampered with or malformed
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "BlobNotFoundError",
    "CacheError",
    "CacheFullError",
    "CargoholdError",
    "CatalogError",
    "ConfigurationError",
    "CorruptDataError",
    "InvalidArgumentError",
    "InvalidEventError",
    "LineageError",
    "NotFoundError",
    "PartitionNotFoundError",
    "PathEscapeError",
    "PathExistsError",
    "ProxyError",
    "ReservationConflictError",
    "SchemaOutOfDateError",
    "SerializationError",
    "StorageError",
    "TypeMismatchError",
    "UnhashableInputError",
    "UnsupportedTypeError",
    "UntrustedTypeError",
]


class CargoholdError(Exception):
    """Root of every error cargohold raises on purpose."""


class ConfigurationError(CargoholdError):
    """A setting is missing or malformed, or a feature needs an extra that is not installed."""


class SerializationError(CargoholdError):
    """A value could not be turned into a literal, or a literal back into a value."""


class UnsupportedTypeError(SerializationError, TypeError):
    """No transformer is registered for a Python type and the pickle fallback is off."""

    def __init__(self, python_type: object) -> None:
        name = _type_name(python_type)
        self.python_type = python_type
        super().__init__(
            f"cargohold has no transformer for {name}. Either register one "
            f"(cargohold.TypeEngine.default().register(MyTransformer()), see TypeTransformer), "
            f"or allow the pickle fallback explicitly (CARGOHOLD_ALLOW_PICKLE=true or "
            f"Cargohold(allow_pickle=True)); pickle is off by default because it is neither "
            f"portable nor safe to load from untrusted stores."
        )


class TypeMismatchError(SerializationError, TypeError):
    """A value does not match the type it was declared as, or a literal the type asked for."""


class UntrustedTypeError(SerializationError):
    """A literal names a type that the reader does not trust to be imported or called.

    A type named in a document resolves only to the type the consumer declares, a type
    registered with the type engine, or an already imported class allowed by the setting
    ``CARGOHOLD_ALLOWED_TYPES``; nothing is imported for a document.
    """

    def __init__(self, name: str, kind: str, reason: str) -> None:
        self.type_name = name
        self.kind = kind
        super().__init__(
            f"the literal names the {kind} type {name!r}, which is not trusted here: {reason}. "
            f"Declare the type where it is read (as_type=..., an annotated input), register it "
            f"(TypeEngine.default().register_type(cls)), or allow it with a glob pattern in "
            f"CARGOHOLD_ALLOWED_TYPES (space-separated, e.g. 'my_project.models.*'); "
            f"see SECURITY.md"
        )


class CorruptDataError(SerializationError):
    """Bytes read from the store do not match the content hash recorded for them."""

    def __init__(self, uri: str, expected: str, actual: str) -> None:
        self.uri = uri
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"corrupt data at {uri}: expected content hash {expected}, read {actual}. "
            f"The blob was modified or truncated after it was written; restore it or "
            f"re-run the task that produced it."
        )


class StorageError(CargoholdError):
    """The object store failed (network, permissions, a missing bucket)."""


class BlobNotFoundError(StorageError, FileNotFoundError):
    """A blob or a path in the store does not exist."""


class PathExistsError(StorageError, FileExistsError):
    """A copy or rename in the store would overwrite an existing path."""


class PathEscapeError(StorageError, ValueError):
    """A path given to the store would leave its root (``..``, an absolute path, a URL)."""


class CatalogError(CargoholdError):
    """The catalog database failed."""


class NotFoundError(CatalogError, LookupError):
    """A dataset, artifact, tag or reservation does not exist (the seed's NOT_FOUND)."""


class PartitionNotFoundError(NotFoundError, FileNotFoundError):
    """An asset (or some of its partitions) has no artifact to load: it was never materialized.

    Also a :class:`FileNotFoundError`, the error Dagster's own IO managers raise for a missing
    asset or partition, so a ``try`` written for them keeps working.
    """


class AlreadyExistsError(CatalogError):
    """A dataset, artifact, tag or cache entry already exists (the seed's ALREADY_EXISTS)."""


class InvalidArgumentError(CatalogError, ValueError):
    """A name, partition, filter or argument is malformed (the seed's INVALID_ARGUMENT)."""


class ReservationConflictError(CatalogError):
    """Another owner holds an unexpired reservation (the seed's RESOURCE_EXHAUSTED)."""


class SchemaOutOfDateError(CatalogError):
    """The catalog database's schema is older than this cargohold; it needs an upgrade."""


class CacheError(CargoholdError):
    """The cache service failed."""


class CacheFullError(CacheError):
    """A cache put would exceed the configured storage limit (the seed's RESOURCE_EXHAUSTED)."""


class UnhashableInputError(CacheError, TypeError):
    """An input to a cached call cannot be hashed into a cache key."""


class LineageError(CargoholdError):
    """Lineage emission could not be configured. Emitting an event never raises."""


class InvalidEventError(LineageError, ValueError):
    """An event does not conform to the OpenLineage schemas; ``errors`` lists why."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("invalid OpenLineage event:\n  " + "\n  ".join(errors))


class ProxyError(CargoholdError):
    """A signed URL or a ``cargohold://`` URL is expired, tampered with or malformed."""


def _type_name(python_type: object) -> str:
    module = getattr(python_type, "__module__", None)
    qualname = getattr(python_type, "__qualname__", None) or repr(python_type)
    return f"{module}.{qualname}" if module and module != "builtins" else str(qualname)
