"""Literals: the typed, versioned JSON documents that travel between tasks.

A :class:`Literal` is either *inline* (a JSON value, passed by value) or a *reference* to a blob
in the store (:class:`BlobRef`: uri, size, content hash, format, Python type, and for tables the
row count and schema). Every literal has a canonical content hash (:attr:`Literal.hash`):

* inline values hash by the canonical JSON of their encoding (sorted keys, no whitespace), so
  equal values give equal hashes whatever the order of a dict's keys;
* references hash by the blob's content hash, without reading the blob;
* a value offloaded because it outgrew the inline limit is stored as its canonical JSON, so it
  hashes the same as it would inline.

The document, ``Literal.to_json()``::

    {"cargohold": 1, "type": {"kind": "int"}, "value": 3}
    {"cargohold": 1, "type": {"kind": "dataframe", "name": "pandas.DataFrame"},
     "blob": {"uri": "s3://bucket/cas/ab/ab12...", "size": 1024, "hash": "ab12...",
              "format": "parquet", "python_type": "pandas.DataFrame", "rows": 10,
              "schema": [["a", "int64"]]}}
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from blake3 import blake3

from cargohold.core.errors import SerializationError

__all__ = [
    "LITERAL_VERSION",
    "BlobRef",
    "Literal",
    "LiteralType",
    "canonical_json",
    "content_hash",
]

LITERAL_VERSION = 1
BLOB_MARKER = "$blob"


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON: sorted keys, no whitespace, UTF-8.

    Raises:
        SerializationError: ``value`` holds something JSON cannot encode (NaN, a set, ...).
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"value is not canonical JSON: {exc}") from exc


def content_hash(data: bytes | memoryview) -> str:
    """The content hash cargohold uses everywhere: BLAKE3, 64 hex digits."""
    return blake3(data).hexdigest()


@dataclass(frozen=True, slots=True)
class LiteralType:
    """The type of a literal.

    ``kind`` names the transformer family (``int``, ``list``, ``dataframe``, ...); ``name`` is the
    Python type for kinds that need one to decode (an Enum, a dataclass, a pydantic model) as
    ``module.qualname``; ``args`` are the element types of collections and the variants of unions.
    """

    kind: str
    name: str | None = None
    args: tuple[LiteralType, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this type."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.name is not None:
            out["name"] = self.name
        if self.args:
            out["args"] = [arg.to_dict() for arg in self.args]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LiteralType:
        """Build a type from its JSON form.

        Raises:
            SerializationError: ``data`` is not a type document.
        """
        try:
            return cls(
                kind=str(data["kind"]),
                name=data.get("name"),
                args=tuple(cls.from_dict(arg) for arg in data.get("args", ())),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise SerializationError(f"not a literal type document: {data!r}") from exc

    def __str__(self) -> str:
        inner = ", ".join(str(arg) for arg in self.args)
        base = self.name or self.kind
        return f"{base}[{inner}]" if inner else base


@dataclass(frozen=True, slots=True)
class BlobRef:
    """A reference to bytes in the store: enough to find, verify and describe them."""

    uri: str
    size: int
    hash: str
    format: str
    python_type: str
    rows: int | None = None
    schema: tuple[tuple[str, str], ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this reference."""
        out: dict[str, Any] = {
            "uri": self.uri,
            "size": self.size,
            "hash": self.hash,
            "format": self.format,
            "python_type": self.python_type,
        }
        if self.rows is not None:
            out["rows"] = self.rows
        if self.schema is not None:
            out["schema"] = [list(column) for column in self.schema]
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BlobRef:
        """Build a reference from its JSON form.

        Raises:
            SerializationError: ``data`` lacks a field a reference needs.
        """
        try:
            schema = data.get("schema")
            return cls(
                uri=str(data["uri"]),
                size=int(data["size"]),
                hash=str(data["hash"]),
                format=str(data["format"]),
                python_type=str(data["python_type"]),
                rows=None if data.get("rows") is None else int(data["rows"]),
                schema=None if schema is None else tuple((str(c), str(t)) for c, t in schema),
                extra=dict(data.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(f"not a blob reference document: {data!r}") from exc


@dataclass(frozen=True, slots=True)
class Literal:
    """A typed value: inline JSON (``value``) or a reference to a blob (``blob``)."""

    type: LiteralType
    value: Any = None
    blob: BlobRef | None = None
    _hash: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def is_inline(self) -> bool:
        """True when the value travels inside the document rather than in the store."""
        return self.blob is None

    @property
    def hash(self) -> str:
        """Canonical content hash: equal values hash equal; references never read their blob."""
        if not self._hash:
            if self.blob is not None:
                content = self.blob.hash
            else:
                content = content_hash(canonical_json(self.value))
            type_part = canonical_json(self.type.to_dict())
            self._hash.append(content_hash(type_part + b"\x00" + content.encode()))
        return self._hash[0]

    def blobs(self) -> Iterator[BlobRef]:
        """Every blob this literal references, its own and those nested in its value."""
        if self.blob is not None:
            yield self.blob
            for nested in self.blob.extra.get("refs", ()):
                yield BlobRef.from_dict(nested)
        else:
            yield from _nested_blobs(self.value)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this literal (a plain dict)."""
        out: dict[str, Any] = {"cargohold": LITERAL_VERSION, "type": self.type.to_dict()}
        if self.blob is not None:
            out["blob"] = self.blob.to_dict()
        else:
            out["value"] = self.value
        return out

    def to_json(self) -> str:
        """The literal as a JSON document; :meth:`from_json` reads it back."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Literal:
        """Read a literal from its dict form.

        Raises:
            SerializationError: not a literal document, or one of a newer version.
        """
        if not isinstance(data, Mapping) or "type" not in data:
            raise SerializationError(f"not a cargohold literal document: {data!r:.200}")
        version = data.get("cargohold")
        if version != LITERAL_VERSION:
            raise SerializationError(
                f"literal document version {version!r} is not supported by this cargohold "
                f"(it reads version {LITERAL_VERSION}); upgrade cargohold to read it"
            )
        blob = data.get("blob")
        return cls(
            type=LiteralType.from_dict(data["type"]),
            value=data.get("value"),
            blob=None if blob is None else BlobRef.from_dict(blob),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Literal:
        """Read a literal from the JSON document :meth:`to_json` wrote.

        Raises:
            SerializationError: the text is not JSON or not a literal document.
        """
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SerializationError(f"not a JSON literal document: {exc}") from exc
        return cls.from_dict(data)


def _nested_blobs(value: Any) -> Iterator[BlobRef]:
    if isinstance(value, dict):
        if BLOB_MARKER in value and len(value) == 1:
            yield BlobRef.from_dict(value[BLOB_MARKER])
            return
        for item in value.values():
            yield from _nested_blobs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nested_blobs(item)
