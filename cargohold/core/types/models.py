"""Transformer for pydantic models (v2): ``model_dump(mode="json")`` and ``model_validate``.

Registered lazily, the first time a pydantic model is seen, so cargohold never imports pydantic
on its own.
"""

from __future__ import annotations

from typing import Any

import pydantic

from cargohold.core.errors import SerializationError, TypeMismatchError
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.literals import LiteralType
from cargohold.core.types.transformer import TransformContext, TypeTransformer, type_path
from cargohold.core.types.trust import resolve_type

__all__ = ["register"]


class PydanticTransformer(TypeTransformer):
    kinds = ("pydantic",)
    python_types = (pydantic.BaseModel,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if not isinstance(value, pydantic.BaseModel):
            raise TypeMismatchError(f"expected a pydantic model, got {type(value).__name__}")
        return LiteralType("pydantic", name=type_path(type(value))), value.model_dump(mode="json")

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        cls = resolve_type("pydantic", literal_type.name, python_type, ctx)
        try:
            return cls.model_validate(encoded)
        except pydantic.ValidationError as exc:
            raise SerializationError(
                f"stored value does not validate as {cls.__name__}: {exc}"
            ) from exc


def register(engine: TypeEngine) -> None:
    """Register the pydantic transformer on ``engine``."""
    engine.register(PydanticTransformer())
