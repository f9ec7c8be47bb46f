"""Transformer for numpy arrays: stored as ``.npy`` blobs, dtype and shape preserved.

Object arrays are refused (``.npy`` would need pickle for them); convert them, or allow the
pickle fallback and wrap them in a type that has no transformer.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from cargohold.core.errors import CargoholdError, SerializationError, TypeMismatchError
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.literals import LiteralType
from cargohold.core.types.transformer import TransformContext, TypeTransformer

__all__ = ["register"]


class NdarrayTransformer(TypeTransformer):
    kinds = ("ndarray",)
    python_types = (np.ndarray,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, np.ndarray):
            raise TypeMismatchError(f"expected a numpy array, got {type(value).__name__}")
        if value.dtype.hasobject:
            raise TypeMismatchError(
                "numpy arrays of dtype object cannot be stored without pickle; convert the "
                "array to a concrete dtype (e.g. arr.astype(str)) or store it as a list"
            )
        with ctx.store.new_blob() as sink, open(sink.path, "wb") as handle:
            np.save(handle, value, allow_pickle=False)
        extra = {"dtype": value.dtype.str, "shape": list(value.shape)}
        rows = int(value.shape[0]) if value.ndim else None
        marker = ctx.blob_marker(
            sink.result, fmt="npy", python_type="numpy.ndarray", rows=rows, extra=extra
        )
        return LiteralType("ndarray"), marker

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        ref = ctx.blob_ref(encoded)
        try:
            if ctx.store.is_local:
                return np.load(ctx.store.local_blob_path(ref.uri, expected_hash=ref.hash))
            data = ctx.store.read_bytes(ref.uri, expected_hash=ref.hash)
            return np.load(io.BytesIO(data), allow_pickle=False)
        except CargoholdError:
            raise
        except (ValueError, EOFError, OSError) as exc:
            raise SerializationError(f"cannot read the array at {ref.uri}: {exc}") from exc


def register(engine: TypeEngine) -> None:
    """Register the numpy transformer on ``engine``."""
    engine.register(NdarrayTransformer())
