"""Transformers for scalars: None, bool, int, float, str, bytes, temporal types, Decimal, UUID.

Encodings stay readable JSON: datetimes as ISO 8601 (naive stays naive; a ``zoneinfo`` zone
keeps its name, wall time and fold; a fixed offset its offset), Decimals and UUIDs as strings,
timedeltas as exact ``[days, seconds, microseconds]``, non-finite floats as ``"nan"``, ``"inf"``
or ``"-inf"``. Bytes are base64 inline, and offloaded as raw bytes once they outgrow the inline
limit.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cargohold.core.errors import SerializationError, TypeMismatchError
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.literals import LiteralType
from cargohold.core.types.transformer import TransformContext, TypeTransformer

__all__ = ["register"]


def _expect(value: Any, python_type: type, kinds: tuple[type, ...]) -> None:
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise TypeMismatchError(
            f"expected a {python_type.__name__}, got {type(value).__name__}: {value!r:.100}"
        )


class _SimpleTransformer(TypeTransformer):
    """A scalar whose kind is fixed and whose encoding needs no context."""

    kind: ClassVar[str]

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        _expect(value, self.python_types[0], self.python_types)
        return LiteralType(self.kind), self.to_json(value)

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        try:
            return self.from_json(encoded)
        except (TypeError, ValueError, KeyError, InvalidOperation) as exc:
            raise SerializationError(
                f"cannot decode {encoded!r:.100} as {self.kind}: {exc}"
            ) from exc

    def to_json(self, value: Any) -> Any:
        return value

    def from_json(self, encoded: Any) -> Any:
        return encoded


class NoneTransformer(_SimpleTransformer):
    kind = "none"
    kinds = ("none",)
    python_types = (type(None),)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if value is not None:
            raise TypeMismatchError(f"expected None, got {type(value).__name__}")
        return LiteralType("none"), None


class BoolTransformer(_SimpleTransformer):
    kind = "bool"
    kinds = ("bool",)
    python_types = (bool,)


class IntTransformer(_SimpleTransformer):
    kind = "int"
    kinds = ("int",)
    python_types = (int,)

    def to_json(self, value: Any) -> Any:
        return int(value)

    def from_json(self, encoded: Any) -> Any:
        if isinstance(encoded, bool) or not isinstance(encoded, int):
            raise TypeError("not an integer")
        return encoded


class FloatTransformer(_SimpleTransformer):
    """Floats; an ``int`` declared as ``float`` is accepted and stored as a float."""

    kind = "float"
    kinds = ("float",)
    python_types = (float,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        _expect(value, float, (float, int))
        return LiteralType("float"), self.to_json(value)

    def to_json(self, value: Any) -> Any:
        number = float(value)
        if math.isfinite(number):
            return number
        return "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")

    def from_json(self, encoded: Any) -> Any:
        return float(encoded)


class StrTransformer(_SimpleTransformer):
    kind = "str"
    kinds = ("str",)
    python_types = (str,)


class BytesTransformer(TypeTransformer):
    kinds = ("bytes",)
    python_types = (bytes, bytearray, memoryview)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        _expect(value, bytes, self.python_types)
        data = bytes(value)
        literal_type = LiteralType("bytes", name="bytearray" if type(value) is bytearray else None)
        if len(data) * 4 // 3 > ctx.inline_limit:
            info = ctx.store.put_bytes(data)
            return literal_type, ctx.blob_marker(info, fmt="bytes", python_type="bytes")
        return literal_type, base64.b64encode(data).decode("ascii")

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        if isinstance(encoded, str):
            try:
                data = base64.b64decode(encoded, validate=True)
            except binascii.Error as exc:
                raise SerializationError(f"bytes literal is not valid base64: {exc}") from exc
        else:
            data = ctx.read_blob(ctx.blob_ref(encoded))
        if python_type is bytearray or (python_type is None and literal_type.name == "bytearray"):
            return bytearray(data)
        return data


class DatetimeTransformer(_SimpleTransformer):
    kind = "datetime"
    kinds = ("datetime",)
    python_types = (dt.datetime,)

    def to_json(self, value: dt.datetime) -> Any:
        zone = getattr(value.tzinfo, "key", None)
        if not zone:
            return value.isoformat()
        # The wall time, the zone's name and the fold: exactly what the value was.
        wall = value.replace(tzinfo=None).isoformat()
        return {"wall": wall, "zone": zone, "fold": value.fold}

    def from_json(self, encoded: Any) -> Any:
        if isinstance(encoded, dict):
            try:
                zone = ZoneInfo(encoded["zone"])
            except ZoneInfoNotFoundError as exc:
                raise ValueError(f"unknown time zone {encoded['zone']!r}") from exc
            wall = dt.datetime.fromisoformat(encoded["wall"])
            return wall.replace(tzinfo=zone, fold=int(encoded.get("fold", 0)))
        return dt.datetime.fromisoformat(encoded)


class DateTransformer(_SimpleTransformer):
    kind = "date"
    kinds = ("date",)
    python_types = (dt.date,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        if isinstance(value, dt.datetime):
            raise TypeMismatchError("expected a date, got a datetime; declare it as datetime")
        return super().encode(value, python_type, ctx)

    def to_json(self, value: dt.date) -> Any:
        return value.isoformat()

    def from_json(self, encoded: Any) -> Any:
        return dt.date.fromisoformat(encoded)


class TimeTransformer(_SimpleTransformer):
    kind = "time"
    kinds = ("time",)
    python_types = (dt.time,)

    def to_json(self, value: dt.time) -> Any:
        return value.isoformat()

    def from_json(self, encoded: Any) -> Any:
        return dt.time.fromisoformat(encoded)


class TimedeltaTransformer(_SimpleTransformer):
    kind = "timedelta"
    kinds = ("timedelta",)
    python_types = (dt.timedelta,)

    def to_json(self, value: dt.timedelta) -> Any:
        return [value.days, value.seconds, value.microseconds]

    def from_json(self, encoded: Any) -> Any:
        days, seconds, microseconds = encoded
        return dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)


class DecimalTransformer(_SimpleTransformer):
    kind = "decimal"
    kinds = ("decimal",)
    python_types = (Decimal,)

    def to_json(self, value: Decimal) -> Any:
        return str(value)

    def from_json(self, encoded: Any) -> Any:
        return Decimal(encoded)


class UUIDTransformer(_SimpleTransformer):
    kind = "uuid"
    kinds = ("uuid",)
    python_types = (uuid.UUID,)

    def to_json(self, value: uuid.UUID) -> Any:
        return str(value)

    def from_json(self, encoded: Any) -> Any:
        return uuid.UUID(encoded)


def register(engine: TypeEngine) -> None:
    """Register the scalar transformers on ``engine``."""
    for transformer in (
        NoneTransformer(),
        BoolTransformer(),
        IntTransformer(),
        FloatTransformer(),
        StrTransformer(),
        BytesTransformer(),
        DatetimeTransformer(),
        DateTransformer(),
        TimeTransformer(),
        TimedeltaTransformer(),
        DecimalTransformer(),
        UUIDTransformer(),
    ):
        engine.register(transformer)
