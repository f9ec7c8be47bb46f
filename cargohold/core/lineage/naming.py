"""OpenLineage dataset names: a physical location (a URI) or a catalog entry -> namespace + name.

Physical locations follow the OpenLineage naming conventions
(https://openlineage.io/docs/spec/naming):

| location                                  | namespace                          | name            |
| ----------------------------------------- | ---------------------------------- | --------------- |
| ``s3://bucket/a/b`` (also s3a, s3n) | ``s3://bucket`` | ``a/b`` |
| ``gs://bucket/a/b`` (also gcs) | ``gs://bucket`` | ``a/b`` |
| ``abfss://container@acct.dfs.../a/b`` | ``abfss://container@acct.dfs...`` | ``a/b`` |
| ``hdfs://host:port/a/b`` | ``hdfs://host:port`` | ``/a/b`` |
| ``/a/b``, ``file:///a/b`` | ``file`` | ``/a/b`` |
| ``file://host/a/b`` | ``file://host`` | ``/a/b`` |
| ``memory://a/b`` (fsspec's memory store) | ``memory`` | ``/a/b`` |
| ``postgres://host:port`` + table | ``postgres://host:port`` | ``db.sch.tbl`` |

``memory`` has no OpenLineage convention; cargohold names it like a local file system so
producers and consumers in one process still agree. Any other ``scheme://authority/path`` becomes
``scheme://authority`` + ``path`` (without its leading slash), the generic convention.

Logical (catalog) names: every artifact of the cargohold catalog is the dataset of its catalog
dataset, namespace ``cargohold://{project}/{domain}`` and name = the catalog dataset's name (for
example ``cargohold://default/development`` + ``daily_sales``), stable across runs, versions and
partitions (see :mod:`.datasets`); the physical names above serve explicit locations (tables,
URIs) and the ``locations`` of the storage facet.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

__all__ = [
    "CATALOG_SCHEME",
    "DatasetName",
    "catalog_dataset_name",
    "dataset_name_from_uri",
    "table_dataset_name",
]

CATALOG_SCHEME = "cargohold"

_S3_SCHEMES = frozenset({"s3", "s3a", "s3n"})
_GCS_SCHEMES = frozenset({"gs", "gcs"})
_DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "mysql": 3306}


@dataclass(frozen=True, slots=True)
class DatasetName:
    """An OpenLineage dataset identity: ``namespace`` + ``name``."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}:{self.name}"


def dataset_name_from_uri(uri: str) -> DatasetName:
    """Name the dataset stored at ``uri`` by the OpenLineage naming conventions (table above).

    Raises:
        ValueError: ``uri`` is empty, or an object-store URI lacks its bucket or key.
    """
    if not uri:
        raise ValueError("cannot name a dataset from an empty URI")
    if uri.startswith("/"):
        return DatasetName("file", _clean_path(uri))
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if not scheme or (len(scheme) == 1 and uri[1:3] in (":\\", ":/")):
        # A relative path, or a Windows drive letter: a local file.
        return DatasetName("file", uri)
    path = unquote(parts.path)
    if scheme in _S3_SCHEMES or scheme in _GCS_SCHEMES:
        key = path.lstrip("/")
        if not parts.netloc or not key:
            raise ValueError(f"an object-store URI needs a bucket and a key: {uri!r}")
        return DatasetName(f"{'s3' if scheme in _S3_SCHEMES else 'gs'}://{parts.netloc}", key)
    if scheme in ("file", "local"):
        host = parts.netloc if parts.netloc not in ("", "localhost") else ""
        return DatasetName(f"file://{host}" if host else "file", _clean_path(path))
    if scheme == "memory":
        return DatasetName("memory", _clean_path("/" + parts.netloc + path))
    if scheme == "hdfs":
        return DatasetName(f"hdfs://{parts.netloc}", _clean_path(path))
    if scheme == CATALOG_SCHEME:
        # cargohold://{project}/{domain}/{dataset...}: already a logical name.
        segments = [s for s in path.split("/") if s]
        if len(segments) >= 2:
            return DatasetName(
                f"{CATALOG_SCHEME}://{parts.netloc}/{segments[0]}", "/".join(segments[1:])
            )
    return DatasetName(f"{scheme}://{parts.netloc}", path.lstrip("/") or "/")


def catalog_dataset_name(*, project: str, domain: str, dataset: str) -> DatasetName:
    """The logical name of a catalog dataset: ``cargohold://{project}/{domain}`` + ``dataset``.

    Raises:
        ValueError: one of the parts is empty.
    """
    if not project or not domain or not dataset:
        raise ValueError(
            f"a catalog dataset name needs a project, a domain and a dataset, got "
            f"project={project!r} domain={domain!r} dataset={dataset!r}"
        )
    return DatasetName(f"{CATALOG_SCHEME}://{project}/{domain}", dataset)


def table_dataset_name(
    *,
    scheme: str,
    host: str,
    database: str,
    table: str,
    schema: str | None = None,
    port: int | None = None,
) -> DatasetName:
    """Name a database table: ``{scheme}://{host}:{port}`` + ``{database}.{schema}.{table}``.

    ``postgresql`` is spelled ``postgres`` as the conventions do; the default port of a known
    scheme is filled in. SQLite has no convention: pass ``scheme="sqlite"`` and the file path as
    ``host`` if you need one.

    Raises:
        ValueError: ``host``, ``database`` or ``table`` is empty.
    """
    if not host or not database or not table:
        raise ValueError("a table dataset name needs a host, a database and a table")
    scheme = "postgres" if scheme.lower() == "postgresql" else scheme.lower()
    port = port if port is not None else _DEFAULT_PORTS.get(scheme)
    authority = f"{host}:{port}" if port is not None else host
    parts = [database, schema, table] if schema else [database, table]
    return DatasetName(f"{scheme}://{authority}", ".".join(parts))


def _clean_path(path: str) -> str:
    """Collapse duplicate slashes and drop a trailing one (keeps ``/`` itself)."""
    return "/" + "/".join(segment for segment in path.split("/") if segment)
