"""Transformers for user-defined structures: dataclasses (nested) and Enums.

A dataclass encodes as a JSON object of its fields, each field through the engine with the
field's annotation; an Enum as its value. Both record their class as ``module:qualname``; a
reader without ``as_type`` gets that class back only when it trusts it (registered, or allowed
and already imported: see :mod:`cargohold.core.types.trust`). Nothing is imported for a document.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from typing import Any

from cargohold.core.errors import SerializationError, TypeMismatchError
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.literals import LiteralType
from cargohold.core.types.transformer import TransformContext, TypeTransformer, type_path
from cargohold.core.types.trust import resolve_type

__all__ = ["register"]


class DataclassTransformer(TypeTransformer):
    """Dataclasses: a JSON object of fields; the field types travel as the type's ``args``."""

    kinds = ("dataclass",)

    def handles(self, python_type: Any) -> bool:
        return isinstance(python_type, type) and dataclasses.is_dataclass(python_type)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        cls = type(value)
        if not dataclasses.is_dataclass(value) or not isinstance(value, python_type):
            raise TypeMismatchError(f"expected a {python_type.__name__}, got {cls.__name__}")
        hints = _hints(cls)
        field_types = []
        encoded = {}
        for field in dataclasses.fields(value):
            lt, encoded[field.name] = ctx.encode(getattr(value, field.name), hints.get(field.name))
            field_types.append(lt)
        return LiteralType("dataclass", name=type_path(cls), args=tuple(field_types)), encoded

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        cls = resolve_type("dataclass", literal_type.name, python_type, ctx)
        hints = _hints(cls, ctx)
        fields = dataclasses.fields(cls)
        if not isinstance(encoded, dict):
            raise SerializationError(
                f"a dataclass literal holds an object of fields, not {type(encoded).__name__}"
            )
        if len(fields) != len(literal_type.args) or set(encoded) != {f.name for f in fields}:
            raise SerializationError(
                f"the stored {literal_type.name} has fields {sorted(encoded)}, the class "
                f"{cls.__name__} has {[f.name for f in fields]}; load it with a matching class"
            )
        values = {
            field.name: ctx.decode(encoded[field.name], lt, hints.get(field.name))
            for field, lt in zip(fields, literal_type.args, strict=True)
        }
        instance = cls(**{f.name: values[f.name] for f in fields if f.init})
        for field in fields:
            if not field.init:
                object.__setattr__(instance, field.name, values[field.name])
        return instance


def _hints(cls: Any, ctx: TransformContext | None = None) -> dict[str, Any]:
    """The field annotations of ``cls``, resolved in the namespace the reader runs the class's
    module as (``ctx.namespaces``) when it gave one, else in the class's module."""
    namespace = (ctx.namespaces or {}).get(getattr(cls, "__module__", "")) if ctx else None
    try:
        if namespace is not None:
            return typing.get_type_hints(cls, globalns=dict(namespace))
        return typing.get_type_hints(cls)
    except (NameError, TypeError) as exc:
        raise SerializationError(
            f"cannot resolve the annotations of {cls.__name__}: {exc}"
        ) from exc


class EnumTransformer(TypeTransformer):
    kinds = ("enum",)
    python_types = (enum.Enum,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, enum.Enum):
            raise TypeMismatchError(f"expected an Enum member, got {type(value).__name__}")
        _, encoded = ctx.encode(value.value)
        return LiteralType("enum", name=type_path(type(value))), encoded

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        cls = resolve_type("enum", literal_type.name, python_type, ctx)
        try:
            return cls(encoded)
        except (ValueError, TypeError) as exc:
            raise SerializationError(f"{encoded!r} is not a member of {cls.__name__}") from exc


def register(engine: TypeEngine) -> None:
    """Register the structure transformers on ``engine``."""
    engine.register(DataclassTransformer())
    engine.register(EnumTransformer())
