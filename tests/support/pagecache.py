"""What of a file the page cache holds (Linux)."""

from __future__ import annotations

import os


def resident_pages(path: str) -> int:
    """How many of a file's pages are in the page cache (mincore over an untouched mapping)."""
    import ctypes
    import mmap

    import numpy as np

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    size = os.path.getsize(path)
    vector = (ctypes.c_ubyte * -(-size // mmap.PAGESIZE))()
    with open(path, "rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, prot=mmap.PROT_READ)
    try:
        view = np.frombuffer(mapped, dtype=np.uint8)
        status = libc.mincore(view.ctypes.data, size, vector)
        del view
    finally:
        mapped.close()
    if status != 0:
        raise OSError(ctypes.get_errno(), "mincore failed")
    return sum(byte & 1 for byte in vector)
