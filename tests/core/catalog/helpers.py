"""Literals for catalog tests (no store needed: the catalog never reads blobs)."""

from __future__ import annotations

from typing import Any

from cargohold.core.types.literals import BlobRef, Literal, LiteralType


def inline(value: Any = 1) -> Literal:
    """An inline int/str literal."""
    kind = "int" if isinstance(value, int) else "str"
    return Literal(type=LiteralType(kind=kind), value=value)


def blob(content_hash: str, *, size: int = 100, uri: str | None = None) -> Literal:
    """A literal referencing a (possibly imaginary) blob."""
    return Literal(
        type=LiteralType(kind="dataframe", name="pandas.DataFrame"),
        blob=BlobRef(
            uri=uri or f"file:///store/cas/{content_hash[:2]}/{content_hash}",
            size=size,
            hash=content_hash,
            format="parquet",
            python_type="pandas.DataFrame",
        ),
    )


def nested(*hashes: str) -> Literal:
    """A list literal whose items reference blobs (exercises nested blob discovery)."""
    return Literal(
        type=LiteralType(kind="list"),
        value=[{"$blob": blob(h).blob.to_dict()} for h in hashes],  # type: ignore[union-attr]
    )
