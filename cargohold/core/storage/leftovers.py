"""What crashed writers leave behind, and removing it: temporary files in a store's ``.tmp/``,
incomplete S3 multipart uploads under the store's prefix, and local ``cargohold-spool-*`` files
(the local copy a write to an object store is serialized into before its upload).

Nothing live is touched: a leftover must be older than the grace period, and a temporary or
spool file whose name carries the id of a process still running on this machine is kept at any
age (a slow upload reads its spool without refreshing its modified time). A multipart upload
counts from its initiation time, which S3 records itself.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from cargohold.core.storage.filesystems import TMP_DIR, modified_time, storage_errors

__all__ = ["SPOOL_PREFIX", "LeftoverReport", "clean_leftovers", "owned_name", "spool_prefix"]

SPOOL_PREFIX = "cargohold-spool-"
_PID = re.compile(r"^(?:cargohold-spool-)?(\d+)-")


class Store(Protocol):
    """The part of :class:`~cargohold.core.storage.store.Store` this module reads."""

    fs: Any
    protocol: str
    root: str
    url: str
    is_local: bool


def spool_prefix() -> str:
    """The name prefix of this process's spool files: ``cargohold-spool-{pid}-``."""
    return f"{SPOOL_PREFIX}{os.getpid()}-"


def owned_name(unique: str) -> str:
    """A temporary file name that carries this process's id: ``{pid}-{unique}``."""
    return f"{os.getpid()}-{unique}"


@dataclass(frozen=True)
class LeftoverReport:
    """What :func:`clean_leftovers` removed (or would remove, in a dry run)."""

    dry_run: bool
    temporary_files: tuple[str, ...] = ()
    multipart_uploads: tuple[str, ...] = ()
    spool_files: tuple[str, ...] = ()
    bytes: int = 0
    kept_live: int = field(default=0)

    @property
    def count(self) -> int:
        """How many leftovers were (or would be) removed."""
        return len(self.temporary_files) + len(self.multipart_uploads) + len(self.spool_files)


def clean_leftovers(
    store: Store,
    *,
    older_than: timedelta,
    dry_run: bool = True,
    spool_dir: str | None = None,
    now: datetime | None = None,
) -> LeftoverReport:
    """Remove what writers that died left in ``store`` and in ``spool_dir`` (default: the
    system's temporary directory), when older than ``older_than`` and not owned by a live
    process of this machine.

    Raises:
        StorageError: the store failed.
    """
    cutoff = (now or datetime.now(UTC)) - older_than
    temporary: list[str] = []
    spools: list[str] = []
    uploads: list[str] = []
    size = 0
    live = 0
    for path, modified, nbytes in _temporary_files(store):
        if _owned_by_live_process(posixpath.basename(path), local=store.is_local):
            live += 1
        elif modified is not None and modified < cutoff:
            temporary.append(path)
            size += nbytes
            if not dry_run:
                with storage_errors(f"removing temporary file {path}"):
                    store.fs.rm_file(path)
    for path, modified, nbytes in _spool_files(spool_dir or tempfile.gettempdir()):
        if _owned_by_live_process(os.path.basename(path), local=True):
            live += 1
        elif modified < cutoff:
            spools.append(path)
            size += nbytes
            if not dry_run:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
    if store.protocol in {"s3", "s3a"}:
        for key, upload_id, initiated in _multipart_uploads(store):
            if initiated is not None and initiated < cutoff:
                uploads.append(f"{key} ({upload_id})")
                if not dry_run:
                    _abort(store, key, upload_id)
    return LeftoverReport(
        dry_run=dry_run,
        temporary_files=tuple(temporary),
        multipart_uploads=tuple(uploads),
        spool_files=tuple(spools),
        bytes=size,
        kept_live=live,
    )


def _temporary_files(store: Store) -> Iterator[tuple[str, datetime | None, int]]:
    base = posixpath.join(store.root, TMP_DIR)
    with storage_errors(f"listing {base}"):
        if not store.fs.exists(base):
            return
        entries = store.fs.find(base, detail=True)
    for path, detail in entries.items():
        yield path, modified_time(detail), int(detail.get("size") or 0)


def _spool_files(directory: str) -> Iterator[tuple[str, datetime, int]]:
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not name.startswith(SPOOL_PREFIX):
            continue
        path = os.path.join(directory, name)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            continue
        yield path, datetime.fromtimestamp(stat.st_mtime, tz=UTC), stat.st_size


def _owned_by_live_process(name: str, *, local: bool) -> bool:
    match = _PID.match(name)
    if match is None or not local:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _bucket_and_prefix(store: Store) -> tuple[str, str]:
    bucket, _, prefix = store.root.lstrip("/").partition("/")
    return bucket, (prefix.rstrip("/") + "/") if prefix else ""


def _multipart_uploads(store: Store) -> Iterator[tuple[str, str, datetime | None]]:
    bucket, prefix = _bucket_and_prefix(store)
    markers: dict[str, Any] = {}
    while True:
        with storage_errors(f"listing incomplete multipart uploads of {store.url}"):
            page = store.fs.call_s3(
                "list_multipart_uploads", Bucket=bucket, Prefix=prefix, **markers
            )
        for upload in page.get("Uploads", []):
            initiated = upload.get("Initiated")
            if isinstance(initiated, datetime) and initiated.tzinfo is None:
                initiated = initiated.replace(tzinfo=UTC)
            yield upload["Key"], upload["UploadId"], initiated
        if not page.get("IsTruncated"):
            return
        markers = {
            "KeyMarker": page.get("NextKeyMarker", ""),
            "UploadIdMarker": page.get("NextUploadIdMarker", ""),
        }


def _abort(store: Store, key: str, upload_id: str) -> None:
    bucket, _ = _bucket_and_prefix(store)
    with storage_errors(f"aborting multipart upload {upload_id} of {key}"):
        store.fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
