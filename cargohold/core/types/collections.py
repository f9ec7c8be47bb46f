"""Transformers for collections: plain JSON, lists, tuples, sets, dicts and unions.

* Untyped dicts and lists made only of JSON values (str keys, str/int/float/bool/None) are kept as
  they are (kind ``json``): the fast path, and what the Airflow UI shows readably.
* Typed collections (``list[int]``, ``dict[str, date]``, ``tuple[int, ...]``) encode each element
  with the element's transformer; untyped ones infer element types from the values, and mixed
  elements carry their own type (kind ``any``).
* Sets and non-string-keyed dicts are sorted by their encoding, so their hash does not depend on
  iteration order.
* ``Optional[X]`` and ``Union[A, B]`` encode as the variant the value is.
"""

from __future__ import annotations

import collections.abc as cabc
import math
import types
import typing
from typing import Any

from cargohold.core.errors import SerializationError, TypeMismatchError
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.literals import BLOB_MARKER, LiteralType, canonical_json
from cargohold.core.types.transformer import TransformContext, TypeTransformer

__all__ = ["is_plain_json", "register"]

_ANY = LiteralType("any")


def is_plain_json(value: Any) -> bool:
    """True when ``value`` is JSON as it stands: dicts with str keys, lists and JSON scalars."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is list:
        return all(is_plain_json(item) for item in value)
    if kind is dict:
        if len(value) == 1 and BLOB_MARKER in value:
            return False
        return all(type(key) is str and is_plain_json(item) for key, item in value.items())
    return False


def _element_args(python_type: Any) -> tuple[Any, ...]:
    return typing.get_args(python_type)


def _encode_items(
    items: list[Any], element_type: Any, ctx: TransformContext
) -> tuple[LiteralType, list[Any]]:
    """Encode items of one declared type, or infer: one shared type, else ``any`` per item."""
    if element_type is not None and element_type is not Any:
        encoded = [ctx.encode(item, element_type) for item in items]
        element_lt = encoded[0][0] if encoded else _declared_placeholder(element_type)
        if all(lt == element_lt for lt, _ in encoded):
            return element_lt, [value for _, value in encoded]
        return _ANY, [{"type": lt.to_dict(), "value": value} for lt, value in encoded]
    encoded = [ctx.encode(item) for item in items]
    kinds = {lt for lt, _ in encoded}
    if len(kinds) == 1:
        return kinds.pop(), [value for _, value in encoded]
    if not encoded:
        return _ANY, []
    return _ANY, [{"type": lt.to_dict(), "value": value} for lt, value in encoded]


def _declared_placeholder(element_type: Any) -> LiteralType:
    name = getattr(element_type, "__name__", None) or str(element_type)
    return LiteralType("declared", name=name)


def _arity(literal_type: LiteralType, count: int) -> tuple[LiteralType, ...]:
    """The element types of a collection literal, which must number ``count``.

    Raises:
        SerializationError: the type has another number of element types.
    """
    if len(literal_type.args) != count:
        raise SerializationError(
            f"a {literal_type.kind} literal type needs {count} element type(s), this one has "
            f"{len(literal_type.args)}: {literal_type}"
        )
    return literal_type.args


def _decode_items(
    encoded: list[Any], element_lt: LiteralType, element_type: Any, ctx: TransformContext
) -> list[Any]:
    if not isinstance(encoded, list):
        raise SerializationError(f"a collection literal holds a list, not {encoded!r:.100}")
    if element_lt.kind == "declared":
        return []
    return [ctx.decode(item, element_lt, element_type) for item in encoded]


class JsonTransformer(TypeTransformer):
    """Plain JSON values, kept exactly as they are."""

    kinds = ("json",)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not is_plain_json(value):
            raise TypeMismatchError(f"not plain JSON: {type(value).__name__}")
        return LiteralType("json"), value

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        return encoded


class AnyTransformer(TypeTransformer):
    """An element of a mixed collection: it carries its own literal type."""

    kinds = ("any",)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        lt, encoded = ctx.encode(value)
        return _ANY, {"type": lt.to_dict(), "value": encoded}

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        try:
            inner = LiteralType.from_dict(encoded["type"])
            return ctx.decode(encoded["value"], inner, python_type)
        except (KeyError, TypeError) as exc:
            raise SerializationError(f"not a typed element: {encoded!r:.100}") from exc


class ListTransformer(TypeTransformer):
    kinds = ("list",)
    python_types = (list,)

    def handles(self, python_type: Any) -> bool:
        return typing.get_origin(python_type) in (list, cabc.Sequence, cabc.MutableSequence)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, list):
            raise TypeMismatchError(f"expected a list, got {type(value).__name__}")
        args = _element_args(python_type)
        if not args and is_plain_json(value):
            return LiteralType("json"), value
        element_lt, items = _encode_items(value, args[0] if args else None, ctx)
        return LiteralType("list", args=(element_lt,)), items

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        args = _element_args(python_type)
        (element_lt,) = _arity(literal_type, 1)
        return _decode_items(encoded, element_lt, args[0] if args else None, ctx)


class SetTransformer(TypeTransformer):
    kinds = ("set", "frozenset")
    python_types = (set, frozenset)

    def handles(self, python_type: Any) -> bool:
        return typing.get_origin(python_type) in (set, frozenset, cabc.Set, cabc.MutableSet)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, set | frozenset):
            raise TypeMismatchError(f"expected a set, got {type(value).__name__}")
        args = _element_args(python_type)
        element_lt, items = _encode_items(list(value), args[0] if args else None, ctx)
        items.sort(key=canonical_json)
        kind = "frozenset" if isinstance(value, frozenset) else "set"
        return LiteralType(kind, args=(element_lt,)), items

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        args = _element_args(python_type)
        (element_lt,) = _arity(literal_type, 1)
        items = _decode_items(encoded, element_lt, args[0] if args else None, ctx)
        origin = typing.get_origin(python_type) or python_type
        if origin is frozenset or (origin is None and literal_type.kind == "frozenset"):
            return frozenset(items)
        return set(items)


class TupleTransformer(TypeTransformer):
    kinds = ("tuple",)
    python_types = (tuple,)

    def handles(self, python_type: Any) -> bool:
        return typing.get_origin(python_type) is tuple

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, tuple):
            raise TypeMismatchError(f"expected a tuple, got {type(value).__name__}")
        args = _element_args(python_type)
        if len(args) == 2 and args[1] is Ellipsis:
            element_lt, items = _encode_items(list(value), args[0], ctx)
            return LiteralType("tuple", name="...", args=(element_lt,)), items
        if args and len(args) != len(value):
            raise TypeMismatchError(
                f"expected a tuple of {len(args)} items ({python_type}), got {len(value)}"
            )
        pairs = [ctx.encode(item, args[i] if args else None) for i, item in enumerate(value)]
        return LiteralType("tuple", args=tuple(lt for lt, _ in pairs)), [v for _, v in pairs]

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        args = _element_args(python_type)
        if literal_type.name == "...":
            element = args[0] if args else None
            return tuple(_decode_items(encoded, literal_type.args[0], element, ctx))
        if len(encoded) != len(literal_type.args):
            raise SerializationError(
                f"tuple literal has {len(encoded)} items, its type {len(literal_type.args)}"
            )
        return tuple(
            ctx.decode(item, lt, args[i] if i < len(args) and args[-1] is not Ellipsis else None)
            for i, (item, lt) in enumerate(zip(encoded, literal_type.args, strict=True))
        )


class DictTransformer(TypeTransformer):
    """Dicts: str keys as a JSON object; other keys as ``[key, value]`` pairs sorted by key."""

    kinds = ("dict",)
    python_types = (dict,)

    def handles(self, python_type: Any) -> bool:
        return typing.get_origin(python_type) in (dict, cabc.Mapping, cabc.MutableMapping)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, dict):
            raise TypeMismatchError(f"expected a dict, got {type(value).__name__}")
        args = _element_args(python_type)
        if not args and is_plain_json(value):
            return LiteralType("json"), value
        key_type, value_type = args if len(args) == 2 else (None, None)
        key_lt, keys = _encode_items(list(value.keys()), key_type, ctx)
        value_lt, values = _encode_items(list(value.values()), value_type, ctx)
        literal_type = LiteralType("dict", args=(key_lt, value_lt))
        if key_lt.kind == "str":
            return literal_type, dict(zip(keys, values, strict=True))
        pairs = sorted(
            ([k, v] for k, v in zip(keys, values, strict=True)),
            key=lambda pair: canonical_json(pair[0]),
        )
        return literal_type, pairs

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        args = _element_args(python_type)
        key_type, value_type = args if len(args) == 2 else (None, None)
        key_lt, value_lt = _arity(literal_type, 2)
        pairs = encoded.items() if isinstance(encoded, dict) else encoded
        if key_lt.kind == "declared" or value_lt.kind == "declared":
            return {}
        return {
            ctx.decode(k, key_lt, key_type): ctx.decode(v, value_lt, value_type) for k, v in pairs
        }


class UnionTransformer(TypeTransformer):
    """``Optional[X]`` and ``Union[...]``: encoded as the variant the value is an instance of."""

    def handles(self, python_type: Any) -> bool:
        origin = typing.get_origin(python_type)
        return origin is typing.Union or origin is types.UnionType

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        variants = typing.get_args(python_type)
        for variant in variants:
            if _is_instance(value, variant):
                return ctx.encode(value, variant)
        raise TypeMismatchError(
            f"value of type {type(value).__name__} matches no variant of {python_type}"
        )

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        raise SerializationError("unions have no literal kind of their own")  # pragma: no cover


def _is_instance(value: Any, variant: Any) -> bool:
    if variant is Any:
        return True
    if variant is type(None):
        return value is None
    origin = typing.get_origin(variant) or variant
    if origin is typing.Annotated:
        return _is_instance(value, typing.get_args(variant)[0])
    if not isinstance(origin, type):
        return False
    if origin is float and type(value) is int:
        return True
    if origin is int and isinstance(value, bool):
        return False
    return isinstance(value, origin)


def register(engine: TypeEngine) -> None:
    """Register the collection transformers on ``engine``."""
    for transformer in (
        JsonTransformer(),
        AnyTransformer(),
        ListTransformer(),
        SetTransformer(),
        TupleTransformer(),
        DictTransformer(),
        UnionTransformer(),
    ):
        engine.register(transformer)
