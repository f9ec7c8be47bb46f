"""The object store: content-addressed, atomic blobs on any fsspec filesystem.

Blobs live at ``{root}/cas/{hash[:2]}/{hash}``: identical bytes are stored once and a second write
is skipped. A blob is written under a temporary name and committed by a rename (local and other
filesystems) or written straight to its final key on object stores, where an object (or a
multipart upload) becomes visible only when complete; either way no partial blob is ever visible,
also when the writer dies mid-write. A local blob is flushed to disk before its rename, so a
crash of the machine cannot leave a committed name over missing bytes either. Reads verify the
content hash.

Besides blobs, the store offers the file API of ZenML's artifact store (``open``, ``exists``,
``copy``, ``rename``, ``remove``, ``makedirs``, ``listdir``, ``glob``, ``walk``, ``size``) on paths
relative to its root; a path that escapes the root is refused with :class:`PathEscapeError`.
"""

from __future__ import annotations

import errno
import os
import posixpath
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from fsspec.asyn import sync

from cargohold.core.config import (
    DEFAULT_STORE_CONNECT_TIMEOUT,
    DEFAULT_STORE_READ_TIMEOUT,
    DEFAULT_STORE_RETRIES,
)
from cargohold.core.errors import (
    BlobNotFoundError,
    ConfigurationError,
    CorruptDataError,
    PathEscapeError,
    StorageError,
)
from cargohold.core.storage import downloads, transfers
from cargohold.core.storage.file_api import FileAPI
from cargohold.core.storage.filesystems import (
    ATOMIC_PUT_PROTOCOLS,
    TMP_DIR,
    modified_time,
    resolve,
    storage_errors,
)
from cargohold.core.storage.hashing import VerifyingReader, hash_bytes, hash_file, verify_bytes
from cargohold.core.storage.leftovers import (
    LeftoverReport,
    clean_leftovers,
    owned_name,
    spool_prefix,
)

__all__ = ["TMP_DIR", "BlobInfo", "BlobSink", "Store", "modified_time"]

_CAS = "cas"
_TMP = TMP_DIR


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """A committed blob: where it is, how big, its content hash."""

    uri: str
    size: int
    hash: str
    modified: datetime | None = None


class BlobSink:
    """A local file to serialize into; committed to the store when the ``with`` block ends."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.info: BlobInfo | None = None
        self.content_hash: str | None = None
        """The BLAKE3 of the bytes written, for a writer that hashed them as it wrote them (the
        commit then does not read the file again to hash it)."""

    @property
    def result(self) -> BlobInfo:
        """The committed blob (available after the ``with`` block)."""
        if self.info is None:
            raise RuntimeError("the blob is committed when its `with store.new_blob()` block ends")
        return self.info


class Store(FileAPI):
    """An fsspec-backed, content-addressed object store rooted at one URL."""

    def __init__(
        self,
        url: str,
        *,
        options: Mapping[str, Any] | None = None,
        connect_timeout: float = DEFAULT_STORE_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_STORE_READ_TIMEOUT,
        retries: int = DEFAULT_STORE_RETRIES,
        part_size: int = transfers.DEFAULT_PART_SIZE,
        concurrency: int = transfers.DEFAULT_CONCURRENCY,
        min_throughput: float = transfers.MIN_THROUGHPUT,
    ) -> None:
        """Open the store at ``url`` (``file://``, ``s3://``, ``memory://``, any fsspec URL).

        ``connect_timeout``, ``read_timeout`` (seconds) and ``retries`` bound every wait on the
        store's server where its filesystem takes them (see :func:`resolve`). On S3, a blob
        larger than ``part_size`` bytes moves as parts, ``concurrency`` at a time, each request
        under a deadline that also gives its bytes ``min_throughput`` (bytes per second, shared
        by the parts in flight; see :mod:`cargohold.core.storage.transfers`).

        Raises:
            ConfigurationError: the URL is malformed or its protocol's package is missing.
        """
        self.fs, self.protocol, self.root = resolve(
            url,
            options,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
        )
        self.options = dict(options or {})
        try:
            transfers.check(part_size, concurrency, min_throughput)
        except ValueError as exc:
            raise ConfigurationError(
                f"{exc}; got part_size={part_size}, concurrency={concurrency}, "
                f"min_throughput={min_throughput}"
            ) from exc
        self.part_size = part_size
        self.concurrency = concurrency
        self.min_throughput = min_throughput
        self.parallel = self.protocol in {"s3", "s3a"}
        """Whether large blobs move as concurrent parts (S3)."""
        self.lease: Callable[[str], None] | None = None
        """Called with a blob's hash before the store checks whether it already holds it (the
        catalog's write lease, which keeps garbage collection off a blob about to be
        referenced); ``Cargohold.store`` sets it."""
        self.is_local = self.protocol == "file"
        self.url = self._to_uri(self.root)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- naming ---------------------------------------------------------------------------------

    def _to_uri(self, path: str) -> str:
        if self.is_local:
            return "file://" + path
        return f"{self.protocol}://{path.lstrip('/')}"

    def uri(self, relpath: str) -> str:
        """The full URI of ``relpath`` inside this store.

        Raises:
            PathEscapeError: ``relpath`` escapes the store's root.
        """
        return self._to_uri(self._path(relpath))

    def _path(self, path: str) -> str:
        """The filesystem path of a relative path or a URI inside this store."""
        if "://" in path:
            prefix = self.url.rstrip("/") + "/"
            if path.rstrip("/") == self.url.rstrip("/"):
                return self.root
            if not path.startswith(prefix):
                raise PathEscapeError(
                    f"{path} is not inside this store ({self.url}); give a path relative to "
                    f"the store's root or a URI under it"
                )
            path = path[len(prefix) :]
        elif path.startswith(("/", "\\")):
            raise PathEscapeError(
                f"absolute path {path!r} refused: give a path relative to the store's root "
                f"({self.url})"
            )
        parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".")]
        if ".." in parts:
            raise PathEscapeError(
                f"path {path!r} refused: '..' would leave the store's root ({self.url})"
            )
        return posixpath.join(self.root, *parts) if parts else self.root

    # -- blobs ----------------------------------------------------------------------------------

    def blob_uri(self, content_hash: str) -> str:
        """The URI at which the blob with ``content_hash`` lives."""
        return self._to_uri(self._blob_path(content_hash))

    def _blob_path(self, content_hash: str) -> str:
        if len(content_hash) < 8 or not all(c in "0123456789abcdef" for c in content_hash):
            raise PathEscapeError(f"not a content hash: {content_hash!r}")
        return posixpath.join(self.root, _CAS, content_hash[:2], content_hash)

    @contextmanager
    def new_blob(self) -> Iterator[BlobSink]:
        """Yield a :class:`BlobSink` whose local ``path`` the caller writes; commit on exit.

        On a local store the file is written inside the store and renamed into place; elsewhere
        it is spooled locally and uploaded in parts. If the block raises, nothing is committed
        and the temporary file is removed.

        Raises:
            StorageError: the commit failed (nothing is visible then).
        """
        with storage_errors(f"creating a blob in {self.url}"):
            if self.is_local:
                tmp_dir = posixpath.join(self.root, _TMP)
                os.makedirs(tmp_dir, exist_ok=True)
                path = posixpath.join(tmp_dir, owned_name(uuid.uuid4().hex))
            else:
                fd, path = tempfile.mkstemp(prefix=spool_prefix())
                os.close(fd)
        sink = BlobSink(path)
        try:
            try:
                yield sink
            except OSError as exc:
                # the writer's own I/O on the sink (pyarrow on a full or read-only disk, ...)
                raise StorageError(
                    f"writing a blob for {self.url} into {path} failed: {exc}; check the free "
                    f"space and permissions there"
                ) from exc
            sink.info = self._commit_file(path, consume=True, known_hash=sink.content_hash)
        finally:
            if os.path.exists(path):
                os.unlink(path)

    def put_bytes(self, data: bytes | memoryview) -> BlobInfo:
        """Store ``data`` as a blob (skipped when identical bytes are already stored).

        Raises:
            StorageError: the store failed; nothing partial is visible.
        """
        digest = hash_bytes(data)
        final = self._blob_path(digest)
        info = BlobInfo(uri=self._to_uri(final), size=len(data), hash=digest)
        if self.lease is not None:
            self.lease(digest)
        with storage_errors(f"writing blob {info.uri}"):
            if self._exists_and_touch(final):
                return info
            if self.parallel and len(data) > self.part_size:
                view = memoryview(data).cast("B")
                self._upload(final, size=len(data), read=lambda at, n: view[at : at + n])
                return info
            if self.protocol in ATOMIC_PUT_PROTOCOLS:
                self.fs.pipe_file(final, bytes(data))
                return info
            with self.new_blob() as sink, open(sink.path, "wb") as handle:
                handle.write(data)
            return info

    def put_file(self, local_path: str) -> BlobInfo:
        """Store a local file as a blob, streaming it in parts (bounded memory).

        Raises:
            BlobNotFoundError: ``local_path`` does not exist.
            StorageError: the store failed; nothing partial is visible.
        """
        if not os.path.isfile(local_path):
            raise BlobNotFoundError(f"no such local file to store: {local_path}")
        return self._commit_file(local_path, consume=False)

    def _commit_file(
        self, local_path: str, *, consume: bool, known_hash: str | None = None
    ) -> BlobInfo:
        before = os.stat(local_path)
        size = before.st_size
        digest = known_hash or (hash_file(local_path) if size else hash_bytes(b""))
        final = self._blob_path(digest)
        info = BlobInfo(uri=self._to_uri(final), size=size, hash=digest)
        if self.lease is not None:
            self.lease(digest)
        with storage_errors(f"writing blob {info.uri}"):
            if self._exists_and_touch(final):
                return info
            if self.is_local:
                os.makedirs(posixpath.dirname(final), exist_ok=True)
                if consume:
                    _sync_file(local_path)
                    os.replace(local_path, final)
                else:
                    self._copy_in(local_path, final)
                _sync_directory(posixpath.dirname(final))
            elif self.parallel and size > self.part_size:
                self._upload(
                    final,
                    size=size,
                    read=transfers.file_reader(local_path),
                    unchanged=lambda: _same_file(before, os.stat(local_path)),
                )
            elif self.protocol in ATOMIC_PUT_PROTOCOLS:
                self.fs.put_file(local_path, final)
            else:
                tmp = posixpath.join(self.root, _TMP, owned_name(uuid.uuid4().hex))
                self.fs.put_file(local_path, tmp)
                self.fs.mv(tmp, final)
        return info

    def _upload(
        self,
        final: str,
        *,
        size: int,
        read: Callable[[int, int], bytes | memoryview],
        unchanged: Callable[[], bool] = lambda: True,
    ) -> None:
        transfers.upload(
            self.fs,
            final,
            size=size,
            read=read,
            unchanged=unchanged,
            part_size=self.part_size,
            concurrency=self.concurrency,
            min_throughput=self.min_throughput,
        )

    def _download(self, path: str, sink: Callable[[int], downloads.Sink]) -> downloads.Download:
        return downloads.download(
            self.fs,
            path,
            sink=sink,
            part_size=self.part_size,
            concurrency=self.concurrency,
            min_throughput=self.min_throughput,
        )

    def _exists_and_touch(self, final: str) -> bool:
        """Whether a blob is already stored; on a local store, a hit refreshes its modified
        time (the collector's grace period counts from it). What keeps the collector off a blob
        a write just deduplicated against, on every store, is the write lease taken before
        this check (see ``lease``)."""
        if not self._blob_exists(final):
            return False
        if self.is_local:
            os.utime(final)
        return True

    def _blob_exists(self, final: str) -> bool:
        """Whether the blob object ``final`` exists. On S3 one HEAD: s3fs's ``exists`` follows
        a miss with a LIST of the key as a prefix (a blob is never a directory), a second round
        trip and a request S3 bills as a LIST. Elsewhere the filesystem's ``exists``."""
        if not self.parallel:
            return bool(self.fs.exists(final))
        bucket, key, _ = self.fs.split_path(final)
        try:
            sync(self.fs.loop, self.fs._call_s3, "head_object", Bucket=bucket, Key=key)
        except FileNotFoundError:
            return False
        return True

    def _copy_in(self, local_path: str, final: str) -> None:
        tmp_dir = posixpath.join(self.root, _TMP)
        os.makedirs(tmp_dir, exist_ok=True)
        tmp = posixpath.join(tmp_dir, owned_name(uuid.uuid4().hex))
        try:
            _copy_local(local_path, tmp)
            _sync_file(tmp)
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def local_path(self, uri: str) -> str:
        """For a local store: the path of a file or blob, unverified (for partial reads).

        Raises:
            BlobNotFoundError: it does not exist.
        """
        path = self._path(uri)
        if not os.path.isfile(path):
            raise BlobNotFoundError(f"{uri} does not exist in {self.url}")
        return path

    def local_blob_path(self, uri: str, *, expected_hash: str) -> str:
        """For a local store: the verified path of a blob, to read natively without a copy.

        Raises:
            BlobNotFoundError: the blob does not exist.
            CorruptDataError: its bytes do not match ``expected_hash``.
        """
        path = self._path(uri)
        if not os.path.isfile(path):
            raise BlobNotFoundError(f"blob {uri} does not exist in {self.url}")
        actual = hash_file(path) if os.path.getsize(path) else hash_bytes(b"")
        if actual != expected_hash:
            raise CorruptDataError(uri, expected_hash, actual)
        return path

    def release_cache(self, uri: str) -> None:
        """Tell the OS that a local blob's cached pages are not needed soon (the bytes stay
        on disk; a later read fetches them again). Elsewhere, and for a URI outside this store
        or a blob already gone, nothing happens: it is a hint."""
        if not self.is_local or not hasattr(os, "posix_fadvise"):
            return
        try:
            path = self._path(uri)
            fd = os.open(path, os.O_RDONLY)
        except (PathEscapeError, FileNotFoundError):
            return
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)

    def read_bytes(self, uri: str, *, expected_hash: str | None = None) -> bytes:
        """Read a whole blob into memory, verifying its hash when ``expected_hash`` is given.

        Raises:
            BlobNotFoundError: the blob does not exist.
            CorruptDataError: its bytes do not match ``expected_hash``.
            StorageError: the store failed.
        """
        path = self._path(uri)
        if self.parallel:
            buffers: list[downloads.MemorySink] = []

            def into_memory(size: int) -> downloads.MemorySink:
                buffers.append(downloads.MemorySink(size))
                return buffers[0]

            with storage_errors(f"reading {uri}"):
                got = self._download(path, into_memory)
            if expected_hash is not None and got.hash != expected_hash:
                raise CorruptDataError(uri, expected_hash, got.hash)
            return bytes(buffers[0].buffer)
        with storage_errors(f"reading {uri}"):
            data: bytes = self.fs.cat_file(path)
        if expected_hash is not None:
            verify_bytes(data, uri=uri, expected_hash=expected_hash)
        return data

    def read_range(self, uri: str, *, offset: int, length: int) -> bytes:
        """Read ``length`` bytes of a blob from ``offset`` (one ranged request on object
        stores), unverified: the caller checks them against a hash of that range.

        Raises:
            BlobNotFoundError: the blob does not exist.
            StorageError: the store failed.
        """
        path = self._path(uri)
        with storage_errors(f"reading {uri}"):
            data: bytes = self.fs.cat_file(path, start=offset, end=offset + length)
        return data

    def open_blob(self, uri: str, *, expected_hash: str | None = None) -> BinaryIO:
        """Open a blob as a stream; reading it to the end verifies ``expected_hash``.

        Raises:
            BlobNotFoundError: the blob does not exist.
        """
        path = self._path(uri)
        with storage_errors(f"opening {uri}"):
            raw: BinaryIO = self.fs.open(path, "rb")
        if expected_hash is None:
            return raw
        return VerifyingReader(raw, uri=uri, expected_hash=expected_hash)  # type: ignore[return-value]

    def download(self, uri: str, local_path: str, *, expected_hash: str | None = None) -> str:
        """Copy a blob or file to ``local_path`` in bounded memory, then verify it.

        Raises:
            BlobNotFoundError: the source does not exist.
            CorruptDataError: the copy does not match ``expected_hash`` (the copy is removed).
        """
        path = self._path(uri)
        parent = os.path.dirname(os.path.abspath(local_path))
        os.makedirs(parent, exist_ok=True)
        actual: str | None = None  # the parallel download hashes as it writes
        if self.parallel:
            try:
                with storage_errors(f"downloading {uri}"), open(local_path, "w+b") as handle:
                    sink = downloads.FileSink(handle.fileno())
                    actual = self._download(path, lambda size: sink).hash
            except BaseException:
                if os.path.exists(local_path):
                    os.unlink(local_path)
                raise
        else:
            with storage_errors(f"downloading {uri}"):
                self.fs.get_file(path, local_path)
        if expected_hash is not None:
            if actual is None:
                actual = hash_file(local_path) if os.path.getsize(local_path) else hash_bytes(b"")
            if actual != expected_hash:
                os.unlink(local_path)
                raise CorruptDataError(uri, expected_hash, actual)
        return local_path

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every committed blob in the store (for garbage collection)."""
        base = posixpath.join(self.root, _CAS)
        with storage_errors(f"listing blobs of {self.url}"):
            if not self.fs.exists(base):
                return
            entries = self.fs.find(base, detail=True)
        for path, detail in entries.items():
            name = posixpath.basename(path)
            yield BlobInfo(
                uri=self._to_uri(path),
                size=int(detail.get("size") or 0),
                hash=name,
                modified=modified_time(detail),
            )

    def delete_blob(self, content_hash: str) -> None:
        """Delete the blob with ``content_hash``; deleting a missing blob is not an error."""
        path = self._blob_path(content_hash)
        with storage_errors(f"deleting blob {content_hash}"):
            if self.fs.exists(path):
                self.fs.rm_file(path)

    def clean_leftovers(
        self, *, older_than: timedelta, dry_run: bool = True, spool_dir: str | None = None
    ) -> LeftoverReport:
        """Remove what crashed writers left: temporary files in ``.tmp/``, incomplete S3
        multipart uploads and local spool files older than ``older_than`` (never those of a
        live process); see :mod:`cargohold.core.storage.leftovers`.

        Raises:
            StorageError: the store failed.
        """
        return clean_leftovers(self, older_than=older_than, dry_run=dry_run, spool_dir=spool_dir)


def _same_file(before: os.stat_result, after: os.stat_result) -> bool:
    """Whether a local file is unchanged: same inode, size and modified time."""
    return (before.st_ino, before.st_size, before.st_mtime_ns) == (
        after.st_ino,
        after.st_size,
        after.st_mtime_ns,
    )


def _sync_file(path: str) -> None:
    """Flush a file's data to disk before it is renamed into place: without it, a crash soon
    after the rename can leave a committed name (and a catalog row, committed durably) over an
    empty or partial file, as ext4 and XFS allocate lazily."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_directory(path: str) -> None:
    """Make a rename into ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _copy_local(source: str, target: str) -> None:
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(8 << 20):
            dst.write(chunk)
