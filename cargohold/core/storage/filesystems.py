"""Resolve a store URL to an fsspec filesystem, and translate fsspec's errors.

Any fsspec protocol works; a protocol whose package is missing gives an install hint naming the
cargohold extra (``pip install 'cargohold[s3]'`` for ``s3://``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from cargohold.core.errors import (
    BlobNotFoundError,
    CargoholdError,
    ConfigurationError,
    StorageError,
)

__all__ = ["ATOMIC_PUT_PROTOCOLS", "resolve", "storage_errors"]

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


def resolve(url: str, options: Mapping[str, Any] | None = None) -> tuple[Any, str, str]:
    """Return ``(filesystem, protocol, root path)`` for a store URL.

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
        fs, root = fsspec.core.url_to_fs(url, **dict(options or {}))
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
    if isinstance(fs, LocalFileSystem):
        protocol = "file"
    return fs, protocol, str(root).rstrip("/") or "/"


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
        if isinstance(exc, OSError | ValueError | RuntimeError) or _is_backend_error(exc):
            raise StorageError(f"{what} failed: {exc}") from exc
        raise


def _is_backend_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.split(".", 1)[0] in {
        "botocore",
        "aiobotocore",
        "s3fs",
        "gcsfs",
        "adlfs",
        "fsspec",
    }
