"""Loaded pandas frames that are writable, without copying what the load owns.

``pyarrow.Table.to_pandas`` hands numeric columns out as read-only views of Arrow memory
(zero-copy), so ``frame.loc[0, "x"] = 1`` on a loaded frame would fail where a frame built in
memory works. Memory that only this load holds (a Parquet read's fresh buffers, or the
copy-on-write memory map of an Arrow IPC blob) is handed to pandas as writable views of the
same bytes; anything else read-only is copied, one column at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["Memory", "owned_memory", "writable_frame"]

Memory = list[tuple[int, int, pa.Buffer]]
"""Owned memory regions: ``(address, size, buffer)``."""
_NUMPY_PARTS = ("_ndarray", "_data", "_mask")


def owned_memory(table: pa.Table) -> Memory:
    """The mutable memory behind the columns pandas can share without a copy (fixed-width
    numbers and times without nulls), as ``(address, size, buffer)``: a mutable Arrow buffer,
    or the mutable buffer it is a slice of (a blob read whole). This load owns that memory
    alone, so its frame may write into it. Only those buffers are held, so the others are
    still released as ``to_pandas`` converts them."""
    found: dict[int, tuple[int, int, pa.Buffer]] = {}
    for column in table.columns:
        if column.num_chunks != 1:
            # several chunks (a Parquet read of several row groups): pandas gets a fresh copy,
            # and holding the chunks would keep them from being released as they convert
            continue
        kind = column.type
        if not (
            pa.types.is_integer(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_timestamp(kind)
            or pa.types.is_duration(kind)
        ):
            continue
        for chunk in column.chunks:
            buffer = chunk.buffers()[1] if chunk.null_count == 0 else None
            while buffer is not None and not buffer.is_mutable:
                buffer = buffer.parent
            if buffer is not None:
                found[buffer.address] = (buffer.address, buffer.size, buffer)
    return list(found.values())


def writable_frame(frame: Any, owners: Memory) -> Any:
    """``frame`` with every column writable, as a frame built in memory is.

    pyarrow hands out numeric columns as read-only views of Arrow memory. A view into memory
    this load owns (``owners``) becomes a writable view of the same bytes, without a copy; any
    other read-only column (a remote blob's immutable bytes, a categorical's codes) is copied,
    one column at a time.
    """
    import pandas as pd

    arrays: dict[int, Any] = {}
    claimed: set[int] = set()
    changed = False
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        values = column.array
        fixed = _writable_values(values, column.dtype, owners, claimed)
        changed = changed or fixed is not values
        arrays[position] = fixed
    if not changed:
        return frame
    rebuilt = pd.DataFrame(arrays, index=frame.index, copy=False)
    rebuilt.columns = frame.columns
    rebuilt.attrs = frame.attrs
    return rebuilt


def _writable_values(values: Any, dtype: Any, owners: Memory, claimed: set[int]) -> Any:
    if isinstance(dtype, np.dtype):
        array = np.asarray(values)
        if array.flags.writeable:
            return values
        start = array.__array_interface__["data"][0]
        for address, size, buffer in owners:
            if (
                address <= start
                and start + array.nbytes <= address + size
                and start not in claimed
                and array.flags.c_contiguous
            ):
                claimed.add(start)
                memory = np.frombuffer(buffer, dtype=np.uint8)
                return np.ndarray(array.shape, array.dtype, memory, start - address)
        return array.copy()
    parts = (getattr(values, name, None) for name in _NUMPY_PARTS)
    if any(isinstance(part, np.ndarray) and not part.flags.writeable for part in parts):
        return values.copy()
    return values
