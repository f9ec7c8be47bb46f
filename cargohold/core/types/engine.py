"""The type engine: a registry of transformers and the dispatch from values to literals and back.

Lookup for a Python type goes: exact type, then the classes of its MRO, then structural matches
(typing generics, dataclasses, ...), then lazy plugins (pandas, pyarrow, numpy, polars, pydantic
are registered the first time a value of their package is seen, so importing cargohold imports
none of them). Registering a second transformer for a taken type or kind raises unless
``override=True``: nothing is overwritten silently.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import types
import typing
from typing import Any, ClassVar

from cargohold.core.errors import (
    CargoholdError,
    ConfigurationError,
    SerializationError,
    UnsupportedTypeError,
    UntrustedTypeError,
)
from cargohold.core.types.literals import (
    BLOB_MARKER,
    BlobRef,
    Literal,
    LiteralType,
    canonical_json,
    check_depth,
)
from cargohold.core.types.transformer import TransformContext, TypeTransformer, type_path

__all__ = ["TypeEngine"]

# Top-level package of a value's type -> the cargohold module that registers its transformers.
_LAZY_PLUGINS: dict[str, str] = {
    "pandas": "cargohold.core.types.tables",
    "pyarrow": "cargohold.core.types.tables",
    "polars": "cargohold.core.types.tables",
    "numpy": "cargohold.core.types.arrays",
    "pydantic": "cargohold.core.types.models",
}
_LAZY_KINDS: dict[str, str] = {
    "table": "cargohold.core.types.tables",
    "ndarray": "cargohold.core.types.arrays",
    "pydantic": "cargohold.core.types.models",
}
# Kinds whose values can only be classes of a package: when the package is not imported yet, no
# class of it can be declared or trusted here, so the document cannot make us import it.
_KIND_PACKAGES: dict[str, str] = {"pydantic": "pydantic"}
_BUILTIN_MODULES = (
    "cargohold.core.types.scalars",
    "cargohold.core.types.collections",
    "cargohold.core.types.structured",
    "cargohold.core.types.files",
)


class TypeEngine:
    """A registry of :class:`TypeTransformer` and the encode/decode dispatch over it."""

    _default: ClassVar[TypeEngine | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._by_type: dict[type, TypeTransformer] = {}
        self._by_kind: dict[str, TypeTransformer] = {}
        self._structural: list[TypeTransformer] = []
        self._loaded_plugins: set[str] = set()
        self._trusted: dict[str, type] = {}
        self._lock = threading.RLock()

    @classmethod
    def default(cls) -> TypeEngine:
        """The process-wide engine with every built-in transformer (created on first use)."""
        if cls._default is None:
            with cls._default_lock:
                if cls._default is None:
                    cls._default = cls.with_builtins()
        return cls._default

    @classmethod
    def with_builtins(cls) -> TypeEngine:
        """A fresh engine with the built-in transformers registered."""
        engine = cls()
        for module in _BUILTIN_MODULES:
            importlib.import_module(module).register(engine)
        return engine

    # -- registry -------------------------------------------------------------------------------

    def register(self, transformer: TypeTransformer, *, override: bool = False) -> None:
        """Register ``transformer`` for its ``python_types`` and ``kinds``.

        Raises:
            ConfigurationError: a type or kind already has a transformer and ``override`` is
                false (nothing is registered then).
        """
        with self._lock:
            if not override:
                for python_type in transformer.python_types:
                    taken = self._by_type.get(python_type)
                    if taken is not None and taken is not transformer:
                        raise ConfigurationError(
                            f"{python_type!r} already has transformer {taken.name}; pass "
                            f"override=True to replace it with {transformer.name}"
                        )
                for kind in transformer.kinds:
                    taken = self._by_kind.get(kind)
                    if taken is not None and taken is not transformer:
                        raise ConfigurationError(
                            f"literal kind {kind!r} already has transformer {taken.name}; pass "
                            f"override=True to replace it with {transformer.name}"
                        )
            for python_type in transformer.python_types:
                self._by_type[python_type] = transformer
            for kind in transformer.kinds:
                self._by_kind[kind] = transformer
            if type(transformer).handles is not TypeTransformer.handles:
                self._structural = [t for t in self._structural if type(t) is not type(transformer)]
                self._structural.append(transformer)

    def register_type(self, cls: type) -> None:
        """Trust ``cls`` to be named by documents: a literal naming it (``module:qualname``)
        decodes into it without the reader declaring it and without ``allowed_types``.

        Raises:
            ConfigurationError: ``cls`` is not a class.
        """
        if not isinstance(cls, type):
            raise ConfigurationError(f"register_type needs a class, got {cls!r}")
        with self._lock:
            self._trusted[type_path(cls)] = cls

    def registered_type(self, name: str) -> type | None:
        """The class named ``module:qualname`` if it is registered: given to
        :meth:`register_type`, or one of the Python types of a registered transformer."""
        found = self._trusted.get(name)
        if found is not None:
            return found
        for python_type in list(self._by_type):
            if type_path(python_type) == name:
                return python_type
        return None

    def transformer_for(self, python_type: Any) -> TypeTransformer:
        """The transformer that encodes ``python_type``.

        Raises:
            UnsupportedTypeError: none does (the message names both ways out).
        """
        found = self._lookup(python_type)
        if found is None and self._load_plugin_for(python_type):
            found = self._lookup(python_type)
        if found is None:
            raise UnsupportedTypeError(python_type)
        return found

    def transformer_for_kind(self, kind: str) -> TypeTransformer:
        """The transformer that decodes literals of ``kind``.

        Raises:
            SerializationError: no transformer decodes that kind.
        """
        found = self._by_kind.get(kind)
        if found is None and kind in _LAZY_KINDS:
            self._load_plugin(_LAZY_KINDS[kind])
            found = self._by_kind.get(kind)
        if found is None:
            raise SerializationError(
                f"no transformer decodes literals of kind {kind!r}; register the transformer "
                f"that wrote it (TypeEngine.default().register(...))"
            )
        return found

    def _lookup(self, python_type: Any) -> TypeTransformer | None:
        if isinstance(python_type, type):
            exact = self._by_type.get(python_type)
            if exact is not None:
                return exact
        for transformer in self._structural:
            if transformer.handles(python_type):
                return transformer
        if isinstance(python_type, type):
            for base in python_type.__mro__[1:]:
                found = self._by_type.get(base)
                if found is not None and base is not object:
                    return found
        return None

    def _load_plugin_for(self, python_type: Any) -> bool:
        origin = typing.get_origin(python_type) or python_type
        candidates = getattr(origin, "__mro__", (origin,))
        for cls in candidates:
            package = (getattr(cls, "__module__", "") or "").split(".", 1)[0]
            module = _LAZY_PLUGINS.get(package)
            if module is not None and module not in self._loaded_plugins:
                self._load_plugin(module)
                return True
        return False

    def _load_plugin(self, module: str) -> None:
        with self._lock:
            if module in self._loaded_plugins:
                return
            self._loaded_plugins.add(module)
            importlib.import_module(module).register(self)

    # -- encoding -------------------------------------------------------------------------------

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        """Encode ``value`` as ``python_type`` (the runtime type for ``None``/``Any``/``object``).

        Raises:
            UnsupportedTypeError: no transformer, and the pickle fallback is off.
            TypeMismatchError / SerializationError: the value cannot be encoded.
        """
        python_type = _normalize(python_type)
        if python_type is None or python_type is Any or python_type is object:
            python_type = type(value)
        try:
            transformer = self.transformer_for(python_type)
        except UnsupportedTypeError:
            if not ctx.allow_pickle:
                raise
            transformer = self.transformer_for_kind("pickle")
        return transformer.encode(value, python_type, ctx)

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        """Decode an encoding of ``literal_type`` (into ``python_type`` when given)."""
        python_type = self._narrow(_normalize(python_type), literal_type)
        package = _KIND_PACKAGES.get(literal_type.kind)
        if package is not None and package not in sys.modules:
            raise UntrustedTypeError(
                str(literal_type.name)[:200],
                literal_type.kind,
                f"{package} is not imported in this process, so none of its classes is declared "
                f"or loaded here (cargohold never imports a package for a document)",
            )
        return self.transformer_for_kind(literal_type.kind).decode(
            encoded, literal_type, python_type, ctx
        )

    def to_literal(self, value: Any, ctx: TransformContext, python_type: Any = None) -> Literal:
        """Turn a value into a :class:`Literal`, offloading it when it outgrows the inline limit.

        Raises:
            UnsupportedTypeError, TypeMismatchError, SerializationError, StorageError.
        """
        literal_type, encoded = self.encode(value, python_type, ctx)
        if isinstance(encoded, dict) and len(encoded) == 1 and BLOB_MARKER in encoded:
            return Literal(type=literal_type, blob=BlobRef.from_dict(encoded[BLOB_MARKER]))
        text = json.dumps(encoded, separators=(",", ":"), ensure_ascii=False)
        if len(text) <= ctx.inline_limit:
            return Literal(type=literal_type, value=encoded)
        return Literal(type=literal_type, blob=_offload_json(encoded, literal_type, value, ctx))

    def to_python(self, literal: Literal, ctx: TransformContext, python_type: Any = None) -> Any:
        """Turn a :class:`Literal` back into a value (of ``python_type`` when given).

        Every failure to read the document is a :class:`CargoholdError`: an error a transformer
        lets escape on a malformed encoding (``TypeError``, ``KeyError``, ...) is translated
        into a :class:`SerializationError` with the original as its cause.

        Raises:
            CorruptDataError: an offloaded value fails its hash or size check.
            BlobNotFoundError: an offloaded value is missing from the store.
            UntrustedTypeError: the literal names a class that is not trusted here.
            SerializationError: the literal is malformed or does not fit ``python_type``.
        """
        try:
            blob = literal.blob
            if blob is None:
                encoded = literal.value
            elif blob.format == "json":
                encoded = json.loads(ctx.read_blob(blob))
                check_depth(encoded)
            else:
                encoded = {BLOB_MARKER: blob.to_dict()}
            return self.decode(encoded, literal.type, python_type, ctx)
        except CargoholdError:
            raise
        except (
            TypeError,
            ValueError,
            LookupError,
            AttributeError,
            RecursionError,
            ArithmeticError,
            NotImplementedError,
            EOFError,
        ) as exc:
            raise SerializationError(
                f"cannot read a literal of type {literal.type}: its document is malformed "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    def _narrow(self, python_type: Any, literal_type: LiteralType) -> Any:
        """The variant of a union that a literal was encoded as (``None`` when unknown)."""
        if python_type is Any or not _is_union(python_type):
            return None if python_type is Any else python_type
        variants = [v for v in typing.get_args(python_type) if v is not type(None)]
        if len(variants) == 1:
            return variants[0]
        for variant in variants:
            found = self._lookup(_normalize(variant))
            if found is not None and literal_type.kind in found.kinds:
                return variant
        return None


def _is_union(python_type: Any) -> bool:
    origin = typing.get_origin(python_type)
    return origin is typing.Union or origin is types.UnionType


def _normalize(python_type: Any) -> Any:
    """Strip ``Annotated[...]`` and ``NewType`` down to the type they stand for."""
    while True:
        if typing.get_origin(python_type) is typing.Annotated:
            python_type = typing.get_args(python_type)[0]
        elif hasattr(python_type, "__supertype__"):
            python_type = python_type.__supertype__
        else:
            return python_type


def _offload_json(
    encoded: Any, literal_type: LiteralType, value: Any, ctx: TransformContext
) -> BlobRef:
    """Store an over-limit encoding as canonical JSON, so it hashes as it would inline."""
    data = canonical_json(encoded)
    info = ctx.store.put_bytes(data)
    nested = [ref.to_dict() for ref in Literal(type=literal_type, value=encoded).blobs()]
    extra: dict[str, Any] = {"refs": nested} if nested else {}
    rows = len(value) if isinstance(value, list | tuple | set | frozenset | dict) else None
    return BlobRef(
        uri=info.uri,
        size=info.size,
        hash=info.hash,
        format="json",
        python_type=f"{type(value).__module__}.{type(value).__qualname__}",
        rows=rows,
        extra=extra,
    )
