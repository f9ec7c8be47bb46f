"""The file API of ZenML's artifact store, on paths relative to a store's root.

``open``, ``exists``, ``copy``, ``rename``, ``remove``, ``makedirs``, ``listdir``, ``glob``,
``walk`` and ``size``; every path goes through the store's ``_path``, which refuses paths that
escape the root (:class:`~cargohold.core.errors.PathEscapeError`).
"""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import IO, Any

from cargohold.core.errors import PathExistsError
from cargohold.core.storage.filesystems import storage_errors

__all__ = ["FileAPI"]


class FileAPI(ABC):
    """Mixed into :class:`~cargohold.core.storage.store.Store`: files by relative path."""

    fs: Any
    root: str

    @abstractmethod
    def _path(self, path: str) -> str:
        """The filesystem path of ``path``; raises PathEscapeError outside the root."""

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open a file in the store (``"rb"``, ``"wb"``, ``"r"``, ``"w"``, ...).

        Raises:
            PathEscapeError: ``path`` escapes the root.
            BlobNotFoundError: reading a file that does not exist.
        """
        target = self._path(path)
        with storage_errors(f"opening {path}"):
            if "w" in mode or "a" in mode:
                self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
            return self.fs.open(target, mode, **kwargs)  # type: ignore[no-any-return]

    def exists(self, path: str) -> bool:
        """Whether ``path`` exists in the store."""
        with storage_errors(f"checking {path}"):
            return bool(self.fs.exists(self._path(path)))

    def copy(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """Copy a file inside the store.

        Raises:
            PathExistsError: ``dst`` exists and ``overwrite`` is false.
        """
        source, target = self._path(src), self._path(dst)
        with storage_errors(f"copying {src} to {dst}"):
            if not overwrite and self.fs.exists(target):
                raise PathExistsError(f"{dst} exists; pass overwrite=True to replace it")
            self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
            self.fs.copy(source, target)

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """Move a file inside the store.

        Raises:
            PathExistsError: ``dst`` exists and ``overwrite`` is false.
        """
        source, target = self._path(src), self._path(dst)
        with storage_errors(f"renaming {src} to {dst}"):
            if not overwrite and self.fs.exists(target):
                raise PathExistsError(f"{dst} exists; pass overwrite=True to replace it")
            self.fs.makedirs(posixpath.dirname(target), exist_ok=True)
            self.fs.mv(source, target)

    def remove(self, path: str, *, recursive: bool = False) -> None:
        """Remove a file (or a directory tree with ``recursive=True``).

        Raises:
            BlobNotFoundError: ``path`` does not exist.
        """
        target = self._path(path)
        with storage_errors(f"removing {path}"):
            if not self.fs.exists(target):
                raise FileNotFoundError(target)
            self.fs.rm(target, recursive=recursive)

    def makedirs(self, path: str) -> None:
        """Create a directory and its parents (a no-op where directories are implicit)."""
        with storage_errors(f"creating {path}"):
            self.fs.makedirs(self._path(path), exist_ok=True)

    def listdir(self, path: str = "") -> list[str]:
        """The names (not paths) of the entries directly under ``path``, sorted."""
        target = self._path(path)
        with storage_errors(f"listing {path}"):
            entries = self.fs.ls(target, detail=False)
        return sorted(posixpath.basename(str(entry).rstrip("/")) for entry in entries)

    def glob(self, pattern: str) -> list[str]:
        """Paths relative to the root that match ``pattern`` (``data/*.parquet``), sorted."""
        target = self._path(pattern)
        with storage_errors(f"globbing {pattern}"):
            matches = self.fs.glob(target)
        return sorted(self._relative(str(match)) for match in matches)

    def walk(self, path: str = "") -> Iterator[tuple[str, list[str], list[str]]]:
        """Like ``os.walk``: ``(directory relative to the root, subdirectories, files)``."""
        target = self._path(path)
        with storage_errors(f"walking {path}"):
            for directory, dirs, files in self.fs.walk(target):
                yield self._relative(str(directory)), sorted(dirs), sorted(files)

    def size(self, path: str) -> int:
        """The size of a file in bytes.

        Raises:
            BlobNotFoundError: ``path`` does not exist.
        """
        with storage_errors(f"sizing {path}"):
            return int(self.fs.size(self._path(path)))

    def _relative(self, path: str) -> str:
        root = self.root.rstrip("/") + "/"
        normalized = "/" + path.lstrip("/") if self.root.startswith("/") else path
        if normalized.startswith(root):
            return normalized[len(root) :]
        return "" if normalized.rstrip("/") == self.root.rstrip("/") else normalized
