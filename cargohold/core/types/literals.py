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
    "MAX_DEPTH",
    "BlobRef",
    "Literal",
    "LiteralType",
    "canonical_json",
    "check_depth",
    "content_hash",
]

LITERAL_VERSION = 1
BLOB_MARKER = "$blob"
MAX_DEPTH = 64
"""The deepest nesting of lists and objects a literal document may have (its value and its type
together count separately); deeper documents are refused before anything decodes them."""


def check_depth(document: Any, *, limit: int = MAX_DEPTH) -> None:
    """Refuse a JSON value nested deeper than ``limit`` lists and objects (iteratively, so the
    check itself cannot overflow the stack).

    Raises:
        SerializationError: the value is nested too deeply.
    """
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, Mapping):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth > limit:
            raise SerializationError(
                f"literal document nested deeper than {limit} levels; refused (cargohold "
                f"literals nest at most {limit} lists and objects)"
            )
        stack.extend((child, depth + 1) for child in children)


# Built once: json.dumps with any non-default option builds a new JSONEncoder on every call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_DOCUMENT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON: sorted keys, no whitespace, UTF-8.

    Raises:
        SerializationError: ``value`` holds something JSON cannot encode (NaN, a set, ...).
    """
    try:
        return _CANONICAL.encode(value).encode()
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
        if not isinstance(data, Mapping):
            raise SerializationError(f"not a literal type document: {data!r:.200}")
        kind, name, args = data.get("kind"), data.get("name"), data.get("args", ())
        if not isinstance(kind, str) or not (name is None or isinstance(name, str)):
            raise SerializationError(
                f"a literal type needs a string kind and an optional string name: {data!r:.200}"
            )
        if not isinstance(args, list | tuple):
            raise SerializationError(f"a literal type's args must be a list: {data!r:.200}")
        return cls(kind=kind, name=name, args=tuple(cls.from_dict(arg) for arg in args))

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
            SerializationError: ``data`` lacks a field a reference needs, or a size or row
                count is not a non-negative integer.
        """
        if not isinstance(data, Mapping):
            raise SerializationError(f"not a blob reference document: {data!r:.200}")
        try:
            schema = data.get("schema")
            extra = data.get("extra") or {}
            if not isinstance(extra, Mapping):
                raise TypeError("extra must be an object")
            ref = cls(
                uri=_text(data["uri"]),
                size=_count(data["size"]),
                hash=_text(data["hash"]),
                format=_text(data["format"]),
                python_type=_text(data["python_type"]),
                rows=None if data.get("rows") is None else _count(data["rows"]),
                schema=None if schema is None else tuple((_text(c), _text(t)) for c, t in schema),
                extra=dict(extra),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(
                f"not a blob reference document ({exc}): {data!r:.200}"
            ) from exc
        return ref


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
            refs = self.blob.extra.get("refs", ())
            if not isinstance(refs, list | tuple):
                raise SerializationError(f"a blob's refs must be a list: {refs!r:.100}")
            for nested in refs:
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
        return _DOCUMENT.encode(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Literal:
        """Read a literal from its dict form.

        Raises:
            SerializationError: not a literal document, or one of a newer version.
        """
        return cls._read(data, shallow=False)

    @classmethod
    def _read(cls, data: Any, *, shallow: bool) -> Literal:
        """:meth:`from_dict`; ``shallow`` says the document is known to nest at most
        :data:`MAX_DEPTH` levels, so the depth walks are skipped."""
        if not isinstance(data, Mapping) or "type" not in data:
            raise SerializationError(f"not a cargohold literal document: {data!r:.200}")
        version = data.get("cargohold")
        if version != LITERAL_VERSION:
            raise SerializationError(
                f"literal document version {version!r} is not supported by this cargohold "
                f"(it reads version {LITERAL_VERSION}); upgrade cargohold to read it"
            )
        blob = data.get("blob")
        if not shallow:
            check_depth(data.get("type"))
            check_depth(data.get("value"))
            check_depth(blob)
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
        except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError too
            raise SerializationError(f"not a JSON literal document: {exc}") from exc
        except RecursionError as exc:
            raise SerializationError(
                f"literal document nested deeper than {MAX_DEPTH} levels; refused"
            ) from exc
        # Every level of nesting opens with a bracket, so a text with at most MAX_DEPTH of them
        # nests at most that deep (brackets inside strings only make the count larger): such a
        # document (most are) skips the walks; any other is walked, as from_dict does.
        if isinstance(text, str):
            brackets = text.count("[") + text.count("{")
        else:
            brackets = text.count(b"[") + text.count(b"{")
        return cls._read(data, shallow=brackets <= MAX_DEPTH)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a non-negative integer, got {value!r:.40}")
    return value


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
