"""Settings: read from the environment, or passed explicitly; nothing is cached at import time.

Variables and the settings they fill:

- ``CARGOHOLD_HOME``: where the embedded defaults live (default ``./.cargohold``)
- ``CARGOHOLD_STORE_URL``: store_url (default ``file://{home}/store``)
- ``CARGOHOLD_STORE_OPTIONS``: store_options, a JSON object of fsspec options (default ``{}``)
- ``CARGOHOLD_CATALOG_URL``: catalog_url (default ``sqlite:///{home}/catalog.db``)
- ``CARGOHOLD_INLINE_LIMIT``: inline_limit in bytes (default ``65536``)
- ``CARGOHOLD_ALLOW_PICKLE``: allow_pickle (default ``false``)
- ``CARGOHOLD_TABLE_FORMAT``: table_format, ``auto`` (default: Arrow IPC, uncompressed, on a
  local store, where a load is a memory map; Parquet zstd, encoded on every core, on object
  stores, where size on the wire counts), ``parquet`` or ``arrow`` (Arrow IPC). Chosen by
  measurement (``bench/roundtrip.py``, figures in the README's performance section)
- ``CARGOHOLD_PROJECT``: project (default ``default``)
- ``CARGOHOLD_DOMAIN``: domain (default ``development``)
- ``OPENLINEAGE_NAMESPACE`` (the standard OpenLineage setting, also read by Airflow's provider),
  else ``CARGOHOLD_LINEAGE_NAMESPACE``: lineage_namespace, the job namespace (default ``default``,
  as the OpenLineage clients), one for both orchestrators
- ``CARGOHOLD_PROXY_SECRET``: proxy_secret (no default: the proxy refuses to sign without one)
- ``CARGOHOLD_PROXY_URL``: proxy_url, where ``cargohold serve`` answers
  (default ``http://127.0.0.1:8787``)
- ``CARGOHOLD_ALLOWED_TYPES``: allowed_types, space- (or comma-) separated glob patterns over
  ``module.qualname`` (Airflow's ``allowed_deserialization_classes`` style) naming the classes a
  document may name without the reader declaring them; only classes already imported are ever
  used, nothing is imported for a document (default ``unusual_prefix_* __main__.*``: the
  modules Airflow loads DAG files as, and a script run directly; see SECURITY.md)
- ``CARGOHOLD_PROXY_MAX_UPLOAD_BYTES``: proxy_max_upload_bytes, the largest body the proxy
  server accepts on an upload location created without an MD5, and the largest
  ``content_length`` such a location may declare (required on S3, where it is signed into the
  presigned PUT) (default 1 GiB)

Bounded waits (seconds; every wait on a server ends in a ``CargoholdError`` naming the server and
the setting to raise):

- ``CARGOHOLD_CATALOG_CONNECT_TIMEOUT``: catalog_connect_timeout, libpq's ``connect_timeout`` on a
  PostgreSQL catalog (default ``10``; libpq counts whole seconds, at least 2)
- ``CARGOHOLD_CATALOG_STATEMENT_TIMEOUT``: catalog_statement_timeout, PostgreSQL's
  ``statement_timeout`` for every catalog statement (default ``300``)
- ``CARGOHOLD_STORE_CONNECT_TIMEOUT``: store_connect_timeout, botocore's ``connect_timeout`` on
  S3 (``timeout`` on ftp/sftp stores) (default ``10``)
- ``CARGOHOLD_STORE_READ_TIMEOUT``: store_read_timeout, botocore's ``read_timeout`` on S3
  (default ``60``)
- ``CARGOHOLD_STORE_RETRIES``: store_retries, botocore's retries after a failed S3 request
  (standard mode; default ``3``): a request that never gets an answer fails after about
  ``(store_retries + 1) x store_read_timeout`` plus a few seconds of backoff
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from cargohold.core.errors import ConfigurationError

__all__ = [
    "DEFAULT_ALLOWED_TYPES",
    "DEFAULT_CATALOG_CONNECT_TIMEOUT",
    "DEFAULT_CATALOG_STATEMENT_TIMEOUT",
    "DEFAULT_INLINE_LIMIT",
    "DEFAULT_MAX_UPLOAD_BYTES",
    "DEFAULT_STORE_CONNECT_TIMEOUT",
    "DEFAULT_STORE_READ_TIMEOUT",
    "DEFAULT_STORE_RETRIES",
    "TABLE_FORMATS",
    "Settings",
    "TableFormat",
    "check_catalog_url",
    "check_store_url",
    "parse_type_patterns",
]

DEFAULT_INLINE_LIMIT = 64 * 1024
DEFAULT_ALLOWED_TYPES: tuple[str, ...] = ("unusual_prefix_*", "__main__.*")
DEFAULT_MAX_UPLOAD_BYTES = 1 << 30
DEFAULT_CATALOG_CONNECT_TIMEOUT = 10.0
DEFAULT_CATALOG_STATEMENT_TIMEOUT = 300.0
DEFAULT_STORE_CONNECT_TIMEOUT = 10.0
DEFAULT_STORE_READ_TIMEOUT = 60.0
DEFAULT_STORE_RETRIES = 3

TableFormat = Literal["parquet", "arrow", "auto"]
TABLE_FORMATS = ("parquet", "arrow", "auto")

_TIMEOUTS = {
    "catalog_connect_timeout": DEFAULT_CATALOG_CONNECT_TIMEOUT,
    "catalog_statement_timeout": DEFAULT_CATALOG_STATEMENT_TIMEOUT,
    "store_connect_timeout": DEFAULT_STORE_CONNECT_TIMEOUT,
    "store_read_timeout": DEFAULT_STORE_READ_TIMEOUT,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every setting cargohold reads. Build with :meth:`from_env` or directly."""

    store_url: str
    catalog_url: str
    store_options: Mapping[str, Any] = field(default_factory=dict)
    inline_limit: int = DEFAULT_INLINE_LIMIT
    allow_pickle: bool = False
    table_format: TableFormat = "auto"
    project: str = "default"
    domain: str = "development"
    lineage_namespace: str = "default"
    proxy_secret: str | None = None
    proxy_url: str = "http://127.0.0.1:8787"
    allowed_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    proxy_max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    catalog_connect_timeout: float = DEFAULT_CATALOG_CONNECT_TIMEOUT
    catalog_statement_timeout: float = DEFAULT_CATALOG_STATEMENT_TIMEOUT
    store_connect_timeout: float = DEFAULT_STORE_CONNECT_TIMEOUT
    store_read_timeout: float = DEFAULT_STORE_READ_TIMEOUT
    store_retries: int = DEFAULT_STORE_RETRIES

    def __post_init__(self) -> None:
        if isinstance(self.allowed_types, str):
            object.__setattr__(self, "allowed_types", parse_type_patterns(self.allowed_types))
        for name in _TIMEOUTS:
            value = getattr(self, name)
            if not value > 0:
                raise ConfigurationError(
                    f"{name} must be > 0 seconds, got {value}; "
                    f"set CARGOHOLD_{name.upper()} to a number of seconds such as 30"
                )
        if self.store_retries < 0:
            raise ConfigurationError(
                f"store_retries must be >= 0, got {self.store_retries}; "
                f"set CARGOHOLD_STORE_RETRIES to a count such as 3"
            )
        if self.proxy_max_upload_bytes < 0:
            raise ConfigurationError(
                f"proxy_max_upload_bytes must be >= 0, got {self.proxy_max_upload_bytes}; set "
                f"CARGOHOLD_PROXY_MAX_UPLOAD_BYTES to a byte count"
            )
        if self.inline_limit < 0:
            raise ConfigurationError(
                f"inline_limit must be >= 0 bytes, got {self.inline_limit}; "
                f"set CARGOHOLD_INLINE_LIMIT to a byte count such as 65536"
            )
        if self.table_format not in TABLE_FORMATS:
            raise ConfigurationError(
                f"table_format (CARGOHOLD_TABLE_FORMAT) must be 'parquet', 'arrow' or 'auto', "
                f"got {self.table_format!r}"
            )
        check_store_url(self.store_url)
        check_catalog_url(self.catalog_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``environ`` (default ``os.environ``); ``overrides`` win.

        Raises:
            ConfigurationError: a variable is malformed (a non-integer limit, bad JSON, ...).
        """
        env = os.environ if environ is None else environ
        home = Path(env.get("CARGOHOLD_HOME") or Path.cwd() / ".cargohold").absolute()
        values: dict[str, Any] = {
            "store_url": env.get("CARGOHOLD_STORE_URL") or (home / "store").as_uri(),
            "catalog_url": env.get("CARGOHOLD_CATALOG_URL") or f"sqlite:///{home / 'catalog.db'}",
            "store_options": _json_object(env, "CARGOHOLD_STORE_OPTIONS"),
            "inline_limit": _integer(env, "CARGOHOLD_INLINE_LIMIT", DEFAULT_INLINE_LIMIT),
            "allow_pickle": _boolean(env, "CARGOHOLD_ALLOW_PICKLE", False),
            "table_format": env.get("CARGOHOLD_TABLE_FORMAT") or "auto",
            "project": env.get("CARGOHOLD_PROJECT") or "default",
            "domain": env.get("CARGOHOLD_DOMAIN") or "development",
            "lineage_namespace": env.get("OPENLINEAGE_NAMESPACE")
            or env.get("CARGOHOLD_LINEAGE_NAMESPACE")
            or "default",
            "proxy_secret": env.get("CARGOHOLD_PROXY_SECRET") or None,
            "proxy_url": env.get("CARGOHOLD_PROXY_URL") or "http://127.0.0.1:8787",
            "allowed_types": _type_patterns(env),
            "proxy_max_upload_bytes": _integer(
                env, "CARGOHOLD_PROXY_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES
            ),
            "store_retries": _integer(env, "CARGOHOLD_STORE_RETRIES", DEFAULT_STORE_RETRIES),
        }
        for name in _TIMEOUTS:
            values[name] = _number(env, f"CARGOHOLD_{name.upper()}", _TIMEOUTS[name])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_changes(self, **changes: Any) -> Settings:
        """Return a copy with ``changes`` applied (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def parse_type_patterns(text: str) -> tuple[str, ...]:
    """The glob patterns of an ``allowed_types`` string (space- or comma-separated)."""
    return tuple(part for part in text.replace(",", " ").split() if part)


def _type_patterns(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("CARGOHOLD_ALLOWED_TYPES")
    if raw is None:
        return DEFAULT_ALLOWED_TYPES
    return parse_type_patterns(raw)


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _json_object(env: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = env.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{name} must be a JSON object: {exc}") from exc
    if not isinstance(value, dict):
        raise ConfigurationError(f"{name} must be a JSON object, got {type(value).__name__}")
    return value


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_STORE_EXAMPLES = "file:///data/store, s3://bucket/prefix, gs://bucket/prefix or memory://name"
_COMMON_SCHEMES = ("file", "s3", "gs", "gcs", "memory", "az", "abfs")


def _known_protocols() -> set[str]:
    from fsspec.registry import known_implementations, registry

    return set(known_implementations) | set(registry)


def check_store_url(url: str) -> None:
    """Check a store URL's form and scheme without opening it (a typo fails when the hold is
    built, not at the first write).

    A bare path (``./data``, ``/data/store``) is a local directory; anything else needs a
    ``scheme://`` fsspec knows (chained URLs such as ``simplecache::s3://...`` included).

    Raises:
        ConfigurationError: the URL is empty, its scheme is unknown (the message lists the known
            ones), or it looks like a URL with a mistyped ``://`` (``file//data``, ``s3:/bucket``).
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigurationError(
            f"store URL (CARGOHOLD_STORE_URL) must be a non-empty string such as "
            f"{_STORE_EXAMPLES}, got {url!r}"
        )
    known = _known_protocols()
    for part in url.split("::"):
        if "://" in part:
            scheme = part.split("://", 1)[0]
            if scheme.lower() not in known:
                rest = sorted(known - set(_COMMON_SCHEMES))
                raise ConfigurationError(
                    f"store URL {url!r} has an unknown scheme {scheme!r}; known schemes: "
                    f"{', '.join(_COMMON_SCHEMES)} (and fsspec's {', '.join(rest)})"
                )
            continue
        match = _SCHEME.match(part)
        head = part.split("//", 1)[0] if "//" in part else None
        if (match and match.group(1).lower() in known) or (head and head.lower() in known):
            raise ConfigurationError(
                f"store URL {url!r} is not a URL (its '://' is mistyped) and would be read as a "
                f"relative path; write it like {_STORE_EXAMPLES}"
            )


def check_catalog_url(url: str) -> None:
    """Check the form of a catalog database URL without connecting.

    Raises:
        ConfigurationError: not a ``scheme://`` URL; a SQLite URL with a host part
            (``sqlite://relative.db``: a file URL has three slashes); a PostgreSQL URL whose host
            is not a valid host name (such as the placeholder ``...``).
    """
    example = "sqlite:///path/to/catalog.db or postgresql://USER:PASSWORD@HOST:5432/DATABASE"
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(
            f"catalog URL (CARGOHOLD_CATALOG_URL) {url!r} is not a database URL; use {example}"
        )
    scheme, rest = url.split("://", 1)
    backend = scheme.split("+", 1)[0].lower()
    if backend == "sqlite":
        if rest and not rest.startswith("/"):
            raise ConfigurationError(
                f"catalog URL {url!r} has a host part; a SQLite file URL has three slashes: "
                f"sqlite:///{rest} (relative to the working directory) or "
                f"sqlite:////absolute/path/{rest.rsplit('/', 1)[-1]}"
            )
        return
    if backend in ("postgresql", "postgres"):
        try:
            host = urlsplit(url).hostname
            if host:
                host.encode("idna")
        except (ValueError, UnicodeError) as exc:
            raise ConfigurationError(
                f"catalog URL {url!r} does not name a valid host ({exc}); write it like "
                f"postgresql://USER:PASSWORD@HOST:5432/DATABASE"
            ) from exc
