"""File and Directory: references to files that move through the store lazily.

Returning ``File("report.csv")`` from a task uploads the file (content-addressed, streamed in
parts); the reader gets a ``File`` whose bytes are not downloaded until ``.path`` (or
``os.fspath``) is used, and ``.open()`` streams it without downloading at all. A ``Directory``
stores each file as its own blob plus a manifest, so unchanged files are never stored twice.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from typing import IO, Any

from cargohold.core.errors import BlobNotFoundError, SerializationError, TypeMismatchError
from cargohold.core.storage.store import Store
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.literals import BLOB_MARKER, BlobRef, LiteralType
from cargohold.core.types.transformer import TransformContext, TypeTransformer, type_path

__all__ = ["Directory", "File", "check_file_name", "check_relpath", "register"]

_MAX_NAME = 255
_MAX_RELPATH = 4096


def check_file_name(name: object) -> str:
    """A file name a document gives (a ``file`` literal's name), checked like PEP 706's ``data``
    filter: one path component, not empty, not ``.`` or ``..``, no ``/`` or ``\\``, no drive
    letter, no NUL or other control character.

    Raises:
        SerializationError: the name is not a safe single file name.
    """
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
        raise SerializationError(f"file name {name!r:.100} refused: not a short, non-empty string")
    if name in (".", "..") or "/" in name or "\\" in name or ":" in name[1:2]:
        raise SerializationError(
            f"file name {name!r:.100} refused: a stored file's name is one path component "
            f"(no '/', '\\', '..', drive letter or absolute path)"
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise SerializationError(f"file name {name!r:.100} refused: it holds control characters")
    return name


def check_relpath(relpath: object) -> str:
    """A path inside a directory that a document gives (a ``directory`` literal's entry): ``/``
    separated safe names (see :func:`check_file_name`), so it stays inside its folder.

    Raises:
        SerializationError: the path is absolute, holds ``..``, a drive letter, NUL, ...
    """
    if not isinstance(relpath, str) or not relpath or len(relpath) > _MAX_RELPATH:
        raise SerializationError(f"directory entry {relpath!r:.100} refused: not a path")
    if relpath.startswith(("/", "\\")):
        raise SerializationError(f"directory entry {relpath!r:.100} refused: it is absolute")
    for part in relpath.split("/"):
        check_file_name(part)
    return relpath


def _inside(root: str, relpath: str) -> str:
    """The local path of ``relpath`` under ``root``, refused when it resolves (links followed)
    anywhere outside ``root``.

    Raises:
        SerializationError: the path would leave ``root``.
    """
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, *check_relpath(relpath).split("/")))
    if os.path.commonpath([base, target]) != base or target == base:
        raise SerializationError(f"directory entry {relpath!r:.100} refused: it leaves {root}")
    return target


class File(os.PathLike[str]):
    """A file: local, or in the store and fetched only when its path is used."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._local: str | None = os.fspath(path)
        self._ref: BlobRef | None = None
        self._store: Store | None = None
        self.name = os.path.basename(self._local)

    @classmethod
    def _remote(cls, ref: BlobRef, store: Store, name: str) -> File:
        file = cls.__new__(cls)
        file._local, file._ref, file._store, file.name = None, ref, store, name
        return file

    @property
    def uri(self) -> str:
        """Where the file lives: its store URI, or its local ``file://`` URI."""
        if self._ref is not None:
            return self._ref.uri
        return "file://" + os.path.abspath(str(self._local))

    @property
    def is_downloaded(self) -> bool:
        """Whether the bytes are on local disk (always true for a local file)."""
        return self._local is not None

    @property
    def path(self) -> str:
        """The local path, downloading (and verifying) the file on first use."""
        if self._local is None:
            self.download()
        assert self._local is not None
        return self._local

    def download(self, path: str | None = None) -> str:
        """Copy the file to ``path`` (a temporary directory by default) and return the path.

        Raises:
            BlobNotFoundError: the file is gone from the store.
            CorruptDataError: the downloaded bytes fail their hash check.
        """
        if self._ref is None or self._store is None:
            return str(self._local)
        if path is None:
            folder = tempfile.mkdtemp(prefix="cargohold-")
            target = _inside(folder, check_file_name(self.name))
        else:
            target = path
        self._store.download(self._ref.uri, target, expected_hash=self._ref.hash)
        if path is None:
            self._local = target
        return target

    def open(self, mode: str = "rb") -> IO[Any]:
        """Open for reading; a file in the store is streamed, not downloaded (binary only).

        Raises:
            BlobNotFoundError: the file does not exist.
            CorruptDataError: streamed to its end, the bytes fail their hash check.
        """
        if self._local is not None:
            return open(self._local, mode)
        if self._ref is None or self._store is None:
            raise BlobNotFoundError(f"{self.name} has neither a local path nor a stored copy")
        if "b" not in mode:
            raise ValueError("a file in the store streams in binary mode; open it with 'rb'")
        return self._store.open_blob(self._ref.uri, expected_hash=self._ref.hash)

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"File({self.uri!r})"


class Directory(os.PathLike[str]):
    """A directory of files: local, or in the store and fetched only when its path is used."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._local: str | None = os.fspath(path)
        self._entries: dict[str, File] = {}
        self.name = os.path.basename(os.path.normpath(self._local))

    @classmethod
    def _remote(cls, name: str, entries: dict[str, File]) -> Directory:
        directory = cls.__new__(cls)
        directory._local, directory._entries, directory.name = None, entries, name
        return directory

    def files(self) -> list[str]:
        """The relative paths of the files inside, sorted."""
        if self._local is None:
            return sorted(self._entries)
        found = []
        for root, _, names in os.walk(self._local):
            for name in names:
                found.append(os.path.relpath(os.path.join(root, name), self._local))
        return sorted(path.replace(os.sep, "/") for path in found)

    def file(self, relpath: str) -> File:
        """One file inside, as a lazy :class:`File`.

        Raises:
            BlobNotFoundError: no such file in the directory.
        """
        if self._local is not None:
            path = os.path.join(self._local, *relpath.split("/"))
            if not os.path.isfile(path):
                raise BlobNotFoundError(f"{relpath} is not in directory {self.name}")
            return File(path)
        try:
            return self._entries[relpath]
        except KeyError:
            raise BlobNotFoundError(f"{relpath} is not in directory {self.name}") from None

    def open(self, relpath: str, mode: str = "rb") -> IO[Any]:
        """Open one file inside (streamed when it is in the store)."""
        return self.file(relpath).open(mode)

    @property
    def path(self) -> str:
        """The local path, downloading every file on first use."""
        if self._local is None:
            folder = tempfile.mkdtemp(prefix="cargohold-")
            target = _inside(folder, check_file_name(self.name))
            os.makedirs(target, exist_ok=True)
            for relpath, file in sorted(self._entries.items()):
                file.download(_inside(target, relpath))
            self._local = target
        return self._local

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"Directory({self.name!r}, {len(self.files())} files)"


def _file_marker(file: File, ctx: TransformContext) -> dict[str, Any]:
    if file._ref is not None and file._store is not None and file._store.url == ctx.store.url:
        return {BLOB_MARKER: file._ref.to_dict()}
    info = ctx.store.put_file(file.path)
    return ctx.blob_marker(info, fmt="file", python_type=type_path(File), extra={"name": file.name})


class FileTransformer(TypeTransformer):
    kinds = ("file",)
    python_types = (File,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, File):
            raise TypeMismatchError(f"expected a cargohold File, got {type(value).__name__}")
        return LiteralType("file"), _file_marker(value, ctx)

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        ref = ctx.blob_ref(encoded)
        name = ref.extra.get("name")
        return File._remote(ref, ctx.store, ref.hash if name is None else check_file_name(name))


class DirectoryTransformer(TypeTransformer):
    kinds = ("directory",)
    python_types = (Directory,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, Directory):
            raise TypeMismatchError(f"expected a cargohold Directory, got {type(value).__name__}")
        entries = [[relpath, _file_marker(value.file(relpath), ctx)] for relpath in value.files()]
        return LiteralType("directory"), {"name": value.name, "entries": entries}

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        if not isinstance(encoded, dict) or not isinstance(encoded.get("entries"), list):
            raise SerializationError(f"not a directory literal: {encoded!r:.100}")
        entries: dict[str, File] = {}
        for entry in encoded["entries"]:
            if not isinstance(entry, list) or len(entry) != 2:
                raise SerializationError(f"not a directory entry: {entry!r:.100}")
            relpath, marker = check_relpath(entry[0]), entry[1]
            ref = ctx.blob_ref(marker)
            entries[relpath] = File._remote(ref, ctx.store, relpath.rsplit("/", 1)[-1])
        _refuse_overlaps(entries)
        return Directory._remote(check_file_name(encoded.get("name")), entries)


def _refuse_overlaps(entries: dict[str, File]) -> None:
    """Refuse entries where one file's path is another's folder (``a`` and ``a/b``).

    Raises:
        SerializationError: two entries overlap.
    """
    folders = {relpath.rsplit("/", 1)[0] for relpath in entries if "/" in relpath}
    for relpath in list(folders):
        parts = relpath.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    clash = sorted(folders & set(entries))
    if clash:
        raise SerializationError(f"directory entry {clash[0]!r} is both a file and a folder")


class PickleTransformer(TypeTransformer):
    """The explicit, opt-in fallback for types without a transformer (never used silently)."""

    kinds = ("pickle",)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        info = ctx.store.put_bytes(data)
        name = type_path(type(value))
        return LiteralType("pickle", name=name), ctx.blob_marker(
            info, fmt="pickle", python_type=name
        )

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        if not ctx.allow_pickle:
            raise TypeMismatchError(
                f"this literal holds a pickled {literal_type.name}; loading it runs code from "
                f"the store, so allow it explicitly (CARGOHOLD_ALLOW_PICKLE=true)"
            )
        data = ctx.read_blob(ctx.blob_ref(encoded))
        try:
            return pickle.loads(data)
        except Exception as exc:  # unpickling runs arbitrary code: anything can fail
            raise SerializationError(f"cannot unpickle {literal_type.name}: {exc}") from exc


def register(engine: TypeEngine) -> None:
    """Register the file, directory and pickle-fallback transformers on ``engine``."""
    engine.register(FileTransformer())
    engine.register(DirectoryTransformer())
    engine.register(PickleTransformer())
