"""A small codec for Thrift's compact protocol, enough to edit a Parquet footer.

A Parquet footer is a Thrift ``FileMetaData`` struct in the compact protocol. The parallel writer
(:mod:`cargohold.core.types.parquet_writer`) joins row groups encoded apart into one file, which
means shifting the byte offsets the footer records; pyarrow offers no API to do that and no
Thrift library is a dependency, so this module decodes a struct into a plain tree, lets the
caller edit it, and encodes it back. Unknown fields are kept as they were, so the codec does not
depend on the Parquet format version. Encoding a decoded struct gives back the same bytes
(Thrift writers use the short field-header form whenever they can, and so does this one).

The tree: a struct is a list of ``Field`` (id, compact type, value); a list or set is a
``ThriftList`` (element type, values); integers are ``int``, booleans ``bool``, doubles ``bytes``
(the 8 raw bytes), binaries and strings ``bytes``, maps a ``ThriftMap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cargohold.core.errors import SerializationError

__all__ = [
    "I16",
    "I32",
    "I64",
    "LIST",
    "STRUCT",
    "Field",
    "ThriftList",
    "ThriftMap",
    "decode_struct",
    "encode_struct",
]

TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(1, 13)


@dataclass
class Field:
    """One field of a struct: its id, compact type code and value."""

    id: int
    type: int
    value: Any


@dataclass
class ThriftList:
    """A list or set: its element type code and values."""

    elem_type: int
    values: list[Any]


@dataclass
class ThriftMap:
    """A map: key and value type codes and the pairs in order."""

    key_type: int
    value_type: int
    items: list[tuple[Any, Any]]


class _Reader:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data = memoryview(data).cast("B")  # pyarrow buffers export signed bytes
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise SerializationError("a Thrift struct (a Parquet footer) is truncated")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        value = self.varint()
        return (value >> 1) ^ -(value & 1)

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise SerializationError("a Thrift struct (a Parquet footer) is truncated")
        out = bytes(self.data[self.pos : self.pos + count])
        self.pos += count
        return out

    def value(self, kind: int) -> Any:
        if kind in (TRUE, FALSE):  # a list element: one byte
            return self.byte() == TRUE
        if kind == BYTE:
            return self.byte()
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == DOUBLE:
            return self.take(8)
        if kind == BINARY:
            return self.take(self.varint())
        if kind in (LIST, SET):
            header = self.byte()
            size = header >> 4
            if size == 15:
                size = self.varint()
            elem = header & 0x0F
            return ThriftList(elem, [self.value(elem) for _ in range(size)])
        if kind == MAP:
            size = self.varint()
            if size == 0:
                return ThriftMap(0, 0, [])
            types = self.byte()
            key, val = types >> 4, types & 0x0F
            return ThriftMap(key, val, [(self.value(key), self.value(val)) for _ in range(size)])
        if kind == STRUCT:
            return self.struct()
        raise SerializationError(f"a Thrift struct (a Parquet footer) has an unknown type {kind}")

    def struct(self) -> list[Field]:
        fields: list[Field] = []
        last = 0
        while True:
            header = self.byte()
            if header == 0:
                return fields
            kind, delta = header & 0x0F, header >> 4
            field_id = last + delta if delta else self.zigzag()
            if kind in (TRUE, FALSE):
                fields.append(Field(field_id, kind, kind == TRUE))
            else:
                fields.append(Field(field_id, kind, self.value(kind)))
            last = field_id


def decode_struct(data: bytes | memoryview) -> list[Field]:
    """Decode one compact-protocol struct (the whole of ``data``).

    Raises:
        SerializationError: ``data`` is not one complete struct.
    """
    reader = _Reader(data)
    fields = reader.struct()
    if reader.pos != len(reader.data):
        raise SerializationError("a Thrift struct (a Parquet footer) has trailing bytes")
    return fields


def _varint(value: int, out: bytearray) -> None:
    while True:
        if value < 0x80:
            out.append(value)
            return
        out.append((value & 0x7F) | 0x80)
        value >>= 7


def _zigzag(value: int, out: bytearray) -> None:
    _varint((value << 1) ^ (value >> 63), out)


def _write_value(kind: int, value: Any, out: bytearray) -> None:
    if kind in (TRUE, FALSE):
        out.append(TRUE if value else FALSE)
    elif kind == BYTE:
        out.append(value & 0xFF)
    elif kind in (I16, I32, I64):
        _zigzag(value, out)
    elif kind == DOUBLE:
        out += value
    elif kind == BINARY:
        _varint(len(value), out)
        out += value
    elif kind in (LIST, SET):
        size = len(value.values)
        if size < 15:
            out.append((size << 4) | value.elem_type)
        else:
            out.append(0xF0 | value.elem_type)
            _varint(size, out)
        for item in value.values:
            _write_value(value.elem_type, item, out)
    elif kind == MAP:
        _varint(len(value.items), out)
        if value.items:
            out.append((value.key_type << 4) | value.value_type)
            for key, val in value.items:
                _write_value(value.key_type, key, out)
                _write_value(value.value_type, val, out)
    elif kind == STRUCT:
        _write_struct(value, out)
    else:
        raise ValueError(f"unknown Thrift compact type {kind}")


def _write_struct(fields: list[Field], out: bytearray) -> None:
    last = 0
    for field in fields:
        kind = field.type
        if kind in (TRUE, FALSE):
            kind = TRUE if field.value else FALSE
        delta = field.id - last
        if 0 < delta <= 15:
            out.append((delta << 4) | kind)
        else:
            out.append(kind)
            _zigzag(field.id, out)
        if field.type not in (TRUE, FALSE):
            _write_value(field.type, field.value, out)
        last = field.id
    out.append(0)


def encode_struct(fields: list[Field]) -> bytes:
    """Encode a struct tree (as :func:`decode_struct` returns it) in the compact protocol."""
    out = bytearray()
    _write_struct(fields, out)
    return bytes(out)
