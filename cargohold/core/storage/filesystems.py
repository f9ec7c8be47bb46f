"""Resolve a store URL to an fsspec filesystem, and translate fsspec's errors.

Any fsspec protocol works; a protocol whose package is missing gives an install hint naming the
cargohold extra (``pip install 'cargohold[s3]'`` for ``s3://``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from cargohold.core.config import (
    DEFAULT_STORE_CONNECT_TIMEOUT,
    DEFAULT_STORE_READ_TIMEOUT,
    DEFAULT_STORE_RETRIES,
)
from cargohold.core.errors import (
    BlobNotFoundError,
    CargoholdError,
    ConfigurationError,
    StorageError,
)

__all__ = [
    "ATOMIC_PUT_PROTOCOLS",
    "TMP_DIR",
    "bounded_options",
    "modified_time",
    "resolve",
    "storage_errors",
]

TMP_DIR = ".tmp"
"""The folder under a store's root that holds temporary files until their commit."""

_S3 = frozenset({"s3", "s3a"})

_EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
}

# Object stores where a single put (or a completed multipart upload) becomes visible at once:
# writing straight to the final key is atomic there, no temporary name is needed.
ATOMIC_PUT_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "memory"})


def resolve(
    url: str,
    options: Mapping[str, Any] | None = None,
    *,
    connect_timeout: float = DEFAULT_STORE_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_STORE_READ_TIMEOUT,
    retries: int = DEFAULT_STORE_RETRIES,
) -> tuple[Any, str, str]:
    """Return ``(filesystem, protocol, root path)`` for a store URL.

    Every wait on the store's server is bounded: on S3, botocore's ``connect_timeout``,
    ``read_timeout`` and ``retries`` (standard mode, ``retries`` after the first attempt) come
    from the arguments and s3fs's own retry loop is reduced to one pass, so a request that never
    gets an answer fails after about ``(retries + 1) x read_timeout``; ftp and sftp stores get
    ``timeout=connect_timeout``. Values the caller's ``options`` set themselves win.

    Raises:
        ConfigurationError: the URL is empty or malformed, or its protocol needs a package that
            is not installed (the message names the extra to install).
    """
    if not url or not isinstance(url, str):
        raise ConfigurationError(
            f"store URL must be a non-empty string such as file:///data/store or "
            f"s3://bucket/prefix, got {url!r}"
        )
    protocol = url.split("://", 1)[0] if "://" in url else "file"
    try:
        fs, root = fsspec.core.url_to_fs(
            url, **bounded_options(protocol, options, connect_timeout, read_timeout, retries)
        )
    except ImportError as exc:
        extra = _EXTRAS.get(protocol)
        hint = (
            f"pip install 'cargohold[{extra}]'"
            if extra
            else f"install the fsspec {protocol} backend"
        )
        raise ConfigurationError(f"the store URL {url} needs a package: {hint} ({exc})") from exc
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"cannot open store URL {url}: {exc}") from exc
    except OSError as exc:  # a filesystem that connects when opened (ftp, sftp, ...)
        raise StorageError(
            f"cannot open store URL {url}: {exc}; check the URL and that its server is up"
        ) from exc
    if isinstance(fs, LocalFileSystem):
        protocol = "file"
    if protocol in _S3 and hasattr(fs, "retries"):
        # botocore retries (with backoff) already; s3fs's loop on top would multiply the bound.
        fs.retries = 1
    return fs, protocol, str(root).rstrip("/") or "/"


def bounded_options(
    protocol: str,
    options: Mapping[str, Any] | None,
    connect_timeout: float,
    read_timeout: float,
    retries: int,
) -> dict[str, Any]:
    """``options`` with the timeout settings filled in where ``protocol``'s filesystem takes
    them and the caller did not set them."""
    merged = dict(options or {})
    if protocol in _S3:
        config = dict(merged.get("config_kwargs") or {})
        config.setdefault("connect_timeout", connect_timeout)
        config.setdefault("read_timeout", read_timeout)
        config.setdefault("retries", {"total_max_attempts": retries + 1, "mode": "standard"})
        merged["config_kwargs"] = config
    elif protocol in {"ftp", "sftp", "ssh"}:
        merged.setdefault("timeout", connect_timeout)
    return merged


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Translate errors raised by fsspec and its backends into cargohold's storage errors."""
    try:
        yield
    except CargoholdError:
        raise
    except FileNotFoundError as exc:
        raise BlobNotFoundError(f"{what}: not found ({exc})") from exc
    except Exception as exc:
        if _is_timeout(exc):
            raise StorageError(
                f"{what} timed out: the store's server did not answer ({exc}); the wait is "
                f"bounded by store_connect_timeout, store_read_timeout and store_retries "
                f"(CARGOHOLD_STORE_CONNECT_TIMEOUT, CARGOHOLD_STORE_READ_TIMEOUT, "
                f"CARGOHOLD_STORE_RETRIES); check the endpoint, or raise them"
            ) from exc
        if isinstance(exc, ConnectionError):
            raise StorageError(
                f"{what} failed: cannot connect to the store's server ({exc}); check the store "
                f"URL and that its server is up"
            ) from exc
        if isinstance(exc, OSError | ValueError | RuntimeError) or _is_backend_error(exc):
            raise StorageError(f"{what} failed: {exc}") from exc
        raise


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError):
        return True
    return _is_backend_error(exc) and "Timeout" in type(exc).__name__


def _is_backend_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.split(".", 1)[0] in {
        "aiohttp",
        "botocore",
        "aiobotocore",
        "s3fs",
        "gcsfs",
        "adlfs",
        "fsspec",
    }


def modified_time(detail: Mapping[str, Any]) -> datetime | None:
    """The modified time in an fsspec ``info``/``find`` entry (UTC), if it has one."""
    for key in ("mtime", "LastModified", "last_modified", "created"):
        value = detail.get(key)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
    return None
