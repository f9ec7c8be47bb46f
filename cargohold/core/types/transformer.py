"""TypeTransformer, the interface every type family implements, and the context it works in.

A transformer turns values of its Python types into an *encoding* (JSON, possibly holding blob
references written to the store) with a :class:`LiteralType`, and back. Collections call back
into the engine through the context for their elements, so nesting works for every type.

To support a type of your own::

    class PointTransformer(TypeTransformer):
        kinds = ("myproject.point",)
        python_types = (Point,)

        def encode(self, value, python_type, ctx):
            return LiteralType(kind="myproject.point"), [value.x, value.y]

        def decode(self, encoded, literal_type, python_type, ctx):
            return Point(*encoded)

    TypeEngine.default().register(PointTransformer())
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from cargohold.core.config import DEFAULT_ALLOWED_TYPES
from cargohold.core.errors import CorruptDataError, SerializationError
from cargohold.core.types.literals import BLOB_MARKER, BlobRef, LiteralType

if TYPE_CHECKING:
    from cargohold.core.storage.store import BlobInfo, Store

__all__ = ["Codec", "TransformContext", "TypeTransformer", "type_path"]


class TypeTransformer(ABC):
    """Encodes values of some Python types into literals and decodes them back.

    Attributes:
        kinds: the literal kinds this transformer decodes (each kind has one transformer).
        python_types: the Python types it encodes; subclasses match through their MRO.
    """

    kinds: ClassVar[tuple[str, ...]] = ()
    python_types: ClassVar[tuple[type, ...]] = ()

    @property
    def name(self) -> str:
        """A readable name for messages."""
        return type(self).__name__

    def handles(self, python_type: Any) -> bool:
        """Structural match, for types no registry key names (generics, dataclasses, ...)."""
        return False

    @abstractmethod
    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        """Return the literal type and the JSON encoding of ``value``.

        Raises:
            TypeMismatchError: ``value`` does not fit ``python_type``.
            SerializationError: the value cannot be encoded.
        """

    @abstractmethod
    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        """Turn an encoding back into a value (of ``python_type`` when it is given).

        Raises:
            SerializationError: the encoding does not fit ``literal_type``.
        """


class Codec(Protocol):
    """What a transformer may ask of the engine it runs in (the
    :class:`~cargohold.core.types.engine.TypeEngine` is one): nested values, trusted classes."""

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        """Encode a nested value as ``python_type``."""
        ...

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        """Decode a nested encoding of ``literal_type``."""
        ...

    def registered_type(self, name: str) -> type | None:
        """The class named ``module:qualname`` if it is registered, else None."""
        ...


@dataclass(frozen=True, kw_only=True)
class TransformContext:
    """What a transformer may use: the engine, the store and the settings of this call."""

    engine: Codec
    store: Store
    inline_limit: int
    table_format: str = "auto"
    allow_pickle: bool = False
    columns: Sequence[str] | None = None
    allowed_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    namespaces: Mapping[str, Mapping[str, Any]] | None = None
    """Module namespaces to look allowed classes up in before ``sys.modules``, by module name:
    an adapter passes the globals of the code being run (Airflow's ``dag.test()`` re-parses a
    DAG file, so ``sys.modules`` may hold a second copy of the module the task runs from)."""

    def encode(self, value: Any, python_type: Any = None) -> tuple[LiteralType, Any]:
        """Encode a nested value through the engine."""
        return self.engine.encode(value, python_type, self)

    def decode(self, encoded: Any, literal_type: LiteralType, python_type: Any = None) -> Any:
        """Decode a nested encoding through the engine."""
        return self.engine.decode(encoded, literal_type, python_type, self)

    def blob_marker(
        self,
        info: BlobInfo,
        *,
        fmt: str,
        python_type: str,
        rows: int | None = None,
        schema: tuple[tuple[str, str], ...] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The encoding that stands for a blob just written to the store."""
        ref = BlobRef(
            uri=info.uri,
            size=info.size,
            hash=info.hash,
            format=fmt,
            python_type=python_type,
            rows=rows,
            schema=schema,
            extra=extra or {},
        )
        return {BLOB_MARKER: ref.to_dict()}

    def read_blob(self, ref: BlobRef) -> bytes:
        """A blob's bytes, checked against the size and the hash its reference claims.

        Raises:
            BlobNotFoundError: the blob is missing.
            CorruptDataError: the bytes read differ from the reference's size or hash.
            StorageError: the store failed.
        """
        data = self.store.read_bytes(ref.uri, expected_hash=ref.hash)
        if len(data) != ref.size:
            raise CorruptDataError(ref.uri, f"{ref.hash} of {ref.size} bytes", f"{len(data)} bytes")
        return data

    @staticmethod
    def blob_ref(encoded: Any) -> BlobRef:
        """The :class:`BlobRef` inside a blob encoding.

        Raises:
            SerializationError: ``encoded`` is not a blob encoding.
        """
        if isinstance(encoded, dict) and BLOB_MARKER in encoded:
            return BlobRef.from_dict(encoded[BLOB_MARKER])
        raise SerializationError(f"expected a blob reference, got {encoded!r:.200}")


def type_path(python_type: Any) -> str:
    """``module:qualname`` of a class, the name a literal records (and a reader resolves only
    through :func:`cargohold.core.types.trust.resolve_type`, never by importing it)."""
    return f"{python_type.__module__}:{python_type.__qualname__}"
