"""The registry, offloading, canonical hashes, pickle policy and literal documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cargohold import (
    Cargohold,
    ConfigurationError,
    Literal,
    LiteralType,
    SerializationError,
    TransformContext,
    TypeEngine,
    TypeTransformer,
    UnsupportedTypeError,
)
from cargohold.core.types.literals import MAX_DEPTH


class Opaque:
    def __init__(self, value: int) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.value == self.value

    __hash__ = None  # type: ignore[assignment]


class OpaqueTransformer(TypeTransformer):
    kinds = ("tests.opaque",)
    python_types = (Opaque,)

    def encode(
        self, value: Any, python_type: Any, ctx: TransformContext
    ) -> tuple[LiteralType, Any]:
        return LiteralType("tests.opaque"), value.value

    def decode(
        self, encoded: Any, literal_type: LiteralType, python_type: Any, ctx: TransformContext
    ) -> Any:
        return Opaque(encoded)


class SubOpaque(Opaque):
    pass


def test_unsupported_type_names_both_ways_out(hold: Cargohold) -> None:
    with pytest.raises(UnsupportedTypeError) as caught:
        hold.put(Opaque(1))
    message = str(caught.value)
    assert "test_engine_and_literals.Opaque" in message
    assert "register" in message
    assert "CARGOHOLD_ALLOW_PICKLE" in message


def test_pickle_fallback_is_explicit(tmp_path: Path) -> None:
    allowed = Cargohold(store_url=f"file://{tmp_path}/s", allow_pickle=True)
    literal = allowed.put(Opaque(7))
    assert literal.type.kind == "pickle"
    assert allowed.get(literal) == Opaque(7)
    refused = Cargohold(store_url=f"file://{tmp_path}/s", allow_pickle=False)
    with pytest.raises(SerializationError, match="CARGOHOLD_ALLOW_PICKLE"):
        refused.get(literal)


def test_third_party_registration_and_mro(tmp_path: Path) -> None:
    engine = TypeEngine.with_builtins()
    engine.register(OpaqueTransformer())
    hold = Cargohold(store_url=f"file://{tmp_path}/s", engine=engine)
    assert hold.get(hold.put(Opaque(3))) == Opaque(3)
    assert hold.get(hold.put(SubOpaque(4))) == Opaque(4)  # found through the MRO
    assert hold.get(hold.put([Opaque(1)], python_type=list[Opaque])) == [Opaque(1)]


def test_no_silent_overwrite() -> None:
    engine = TypeEngine.with_builtins()
    engine.register(OpaqueTransformer())
    with pytest.raises(ConfigurationError, match="override=True"):
        engine.register(OpaqueTransformer())
    engine.register(OpaqueTransformer(), override=True)


def test_large_values_are_offloaded_and_hash_as_inline(tmp_path: Path) -> None:
    value = {"rows": list(range(20_000))}
    small_limit = Cargohold(store_url=f"file://{tmp_path}/s", inline_limit=1024)
    big_limit = Cargohold(store_url=f"file://{tmp_path}/s", inline_limit=10_000_000)
    offloaded = small_limit.put(value)
    inline = big_limit.put(value)
    assert not offloaded.is_inline
    assert offloaded.blob is not None
    assert offloaded.blob.format == "json"
    assert inline.is_inline
    assert offloaded.hash == inline.hash
    assert small_limit.get(offloaded) == value
    big_bytes = small_limit.put(b"\x01" * 100_000)
    assert big_bytes.blob is not None
    assert big_bytes.blob.format == "bytes"
    assert small_limit.get(big_bytes) == b"\x01" * 100_000


def test_offloaded_collections_keep_nested_blob_references(tmp_path: Path) -> None:
    import pandas as pd

    hold = Cargohold(store_url=f"file://{tmp_path}/s", inline_limit=200)
    frames = [pd.DataFrame({"a": [i]}) for i in range(5)]
    literal = hold.put(frames)
    assert not literal.is_inline
    assert len({ref.hash for ref in literal.blobs()}) == 6  # the JSON blob and five tables
    assert [f["a"][0] for f in hold.get(literal)] == list(range(5))


HASH_SCRIPT = """
import datetime as dt, decimal, json, sys, uuid
from cargohold import Cargohold
hold = Cargohold(store_url=sys.argv[1])
values = [
    {"b": 1, "a": [1, 2, {"z": None, "y": 1.5}]},
    {3, 1, 2},
    {dt.date(2026, 11, 1): decimal.Decimal("1.5"), dt.date(2025, 1, 1): decimal.Decimal("2")},
    (1, "x", b"bytes", uuid.UUID(int=5)),
    dt.datetime(2026, 11, 1, 12, tzinfo=dt.timezone.utc),
]
print(json.dumps([hold.put(v).hash for v in values]))
"""


def test_hashes_are_stable_across_processes(tmp_path: Path) -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        result = subprocess.run(
            [sys.executable, "-c", HASH_SCRIPT, f"file://{tmp_path}/s"],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
        )
        outputs.add(result.stdout.strip())
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())) == 5


def test_literal_document_round_trip_and_errors(hold: Cargohold) -> None:
    literal = hold.put({"a": 1})
    text = literal.to_json()
    assert json.loads(text)["cargohold"] == 1
    assert Literal.from_json(text) == literal
    with pytest.raises(SerializationError, match="not a JSON literal"):
        Literal.from_json("{not json")
    with pytest.raises(SerializationError, match="version 99"):
        Literal.from_json(json.dumps({"cargohold": 99, "type": {"kind": "int"}, "value": 1}))
    with pytest.raises(SerializationError, match="not a cargohold literal"):
        Literal.from_json("[1, 2]")


def test_reference_hash_does_not_read_the_blob(hold: Cargohold) -> None:
    import pandas as pd

    literal = hold.put(pd.DataFrame({"a": [1, 2]}))
    assert literal.blob is not None
    hold.store.delete_blob(literal.blob.hash)
    reread = Literal.from_json(literal.to_json())
    assert reread.hash == literal.hash  # computed from the reference alone


@pytest.mark.parametrize("as_bytes", [False, True])
def test_from_json_depth_limit_is_exact(as_bytes: bool) -> None:
    """A document's value may nest MAX_DEPTH levels, not one more, whether the text is short
    (few brackets: the depth walk is skipped) or has many brackets (the walk runs)."""

    def document(depth: int, *, wide: int = 0) -> str | bytes:
        value = "[" * depth + "1" + "]" * depth
        if wide:  # many shallow brackets beside the deep value
            value = "[" + ",".join(["[]"] * wide + [value]) + "]"
        text = '{"cargohold":1,"type":{"kind":"json"},"value":' + value + "}"
        return text.encode() if as_bytes else text

    assert Literal.from_json(document(MAX_DEPTH - 3)).value is not None
    assert Literal.from_json(document(MAX_DEPTH)).value is not None
    assert len(Literal.from_json(document(3, wide=200)).value) == 201
    assert Literal.from_json(document(MAX_DEPTH - 1, wide=5)).value is not None
    for text in (document(MAX_DEPTH + 1), document(MAX_DEPTH, wide=5)):
        with pytest.raises(SerializationError, match="deeper than"):
            Literal.from_json(text)
    bracket_strings = '{"cargohold":1,"type":{"kind":"str"},"value":"' + "[{" * 100 + '"}'
    assert Literal.from_json(bracket_strings).value == "[{" * 100
