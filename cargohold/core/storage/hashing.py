"""Content hashing of files and streams (BLAKE3), and a reader that verifies as it goes."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any, BinaryIO

from blake3 import blake3

from cargohold.core.errors import CorruptDataError

__all__ = ["VerifyingReader", "hash_bytes", "hash_file", "verify_bytes"]

_MMAP_MIN = 1 << 20


def hash_bytes(data: bytes | memoryview) -> str:
    """BLAKE3 of ``data``, multithreaded for large buffers."""
    hasher = blake3(max_threads=blake3.AUTO) if len(data) >= _MMAP_MIN else blake3()
    hasher.update(data)
    return hasher.hexdigest()


def verify_bytes(data: Any, *, uri: str, expected_hash: str) -> None:
    """Check that ``data`` (any buffer) hashes to ``expected_hash``.

    Raises:
        CorruptDataError: it does not.
    """
    actual = hash_bytes(data)
    if actual != expected_hash:
        raise CorruptDataError(uri, expected_hash, actual)


_CHUNK = 8 << 20


def hash_file(path: str) -> str:
    """BLAKE3 of a local file, multithreaded, read through one reused 8 MiB buffer (a memory
    map would count the whole file in the process's resident memory)."""
    return hash_ranges(path, [(0, None)])


def hash_ranges(path: str, ranges: Iterable[tuple[int, int | None]]) -> str:
    """BLAKE3 of the byte ranges ``(offset, length)`` of a local file, in order; a length of
    ``None`` means to the end. Bounded memory: one reused buffer."""
    hasher = blake3(max_threads=blake3.AUTO)
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        for offset, length in ranges:
            handle.seek(offset)
            left = length
            while left is None or left > 0:
                want = _CHUNK if left is None else min(_CHUNK, left)
                count = handle.readinto(view[:want])
                if not count:
                    break
                hasher.update(view[:count])
                if left is not None:
                    left -= count
    return hasher.hexdigest()


class VerifyingReader(io.RawIOBase):
    """Wraps a binary stream; raises :class:`CorruptDataError` at end of stream on a mismatch.

    Verification happens when the stream is read to its end, so a reader that stops early (a
    Parquet footer read, a ``head``) pays nothing and is not verified.
    """

    def __init__(self, raw: BinaryIO, *, uri: str, expected_hash: str) -> None:
        super().__init__()
        self._raw = raw
        self._uri = uri
        self._expected = expected_hash
        self._hasher = blake3()
        self._verified = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._raw.read(len(view))
        size = len(chunk)
        if size == 0:
            self._verify()
            return 0
        view[:size] = chunk
        self._hasher.update(chunk)
        return size

    def _verify(self) -> None:
        if self._verified:
            return
        actual = self._hasher.hexdigest()
        if actual != self._expected:
            raise CorruptDataError(self._uri, self._expected, actual)
        self._verified = True

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
