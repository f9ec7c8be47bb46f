"""Round trips of scalars, collections and structures, including property-based ones."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import uuid
from decimal import Decimal
from typing import Any, Optional
from zoneinfo import ZoneInfo

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cargohold import Cargohold, Literal, TypeMismatchError


def round_trip(hold: Cargohold, value: Any, python_type: Any = None) -> Any:
    literal = hold.put(value, python_type=python_type)
    return hold.get(Literal.from_json(literal.to_json()), as_type=python_type)


class Color(enum.Enum):
    RED = "red"
    BLUE = 2


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclasses.dataclass
class Route:
    name: str
    points: list[Point]
    day: dt.date
    note: Optional[str] = None  # noqa: UP045 - the typing spelling must work too
    weights: dict[str, float] = dataclasses.field(default_factory=dict)


class Model(pydantic.BaseModel):
    name: str
    when: dt.datetime
    tags: list[str] = []


SCALARS = [
    None,
    True,
    False,
    0,
    -(2**70),
    3.25,
    "",
    "héllo ✓",
    b"\x00\x01binary",
    bytearray(b"ba"),
    dt.datetime(2026, 11, 1, 12, 30, 15, 123456),
    dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    dt.datetime(2026, 3, 29, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
    dt.date(2026, 11, 1),
    dt.time(23, 59, 59, 999999),
    dt.timedelta(days=-3, seconds=5, microseconds=7),
    Decimal("12345678901234567890.000000001"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Color.RED,
    Color.BLUE,
]


@pytest.mark.parametrize("value", SCALARS, ids=lambda v: type(v).__name__)
def test_scalar_round_trip(hold: Cargohold, value: Any) -> None:
    back = round_trip(hold, value)
    assert back == value
    assert type(back) is type(value)
    if isinstance(value, dt.datetime):
        assert back.tzinfo == value.tzinfo or back.utcoffset() == value.utcoffset()
        assert (back.tzinfo is None) == (value.tzinfo is None)


def test_zoneinfo_keeps_its_zone(hold: Cargohold) -> None:
    value = dt.datetime(2026, 7, 1, 9, tzinfo=ZoneInfo("America/New_York"))
    back = round_trip(hold, value)
    assert back.tzinfo == ZoneInfo("America/New_York")


def test_non_finite_floats(hold: Cargohold) -> None:
    assert math.isnan(round_trip(hold, float("nan")))
    assert round_trip(hold, float("inf")) == float("inf")
    assert round_trip(hold, [float("-inf")]) == [float("-inf")]


@pytest.mark.parametrize(
    ("value", "python_type"),
    [
        ([1, 2, 3], list[int]),
        ([dt.date(2026, 1, 1)], list[dt.date]),
        ((1, "a", 2.5), tuple[int, str, float]),
        ((1, 2, 3), tuple[int, ...]),
        ({3, 1, 2}, set[int]),
        (frozenset({"a"}), frozenset[str]),
        ({"a": [1, 2]}, dict[str, list[int]]),
        ({1: "one", 2: "two"}, dict[int, str]),
        ({dt.date(2026, 1, 1): Decimal("1.5")}, dict[dt.date, Decimal]),
        (None, Optional[int]),  # noqa: UP045
        (5, int | None),
        ("x", int | str),
        ([1, "a", None], list[int | str | None]),
        ([], list[int]),
        ({}, dict[str, int]),
        ([[1, 2], [3]], list[list[int]]),
    ],
)
def test_typed_collection_round_trip(hold: Cargohold, value: Any, python_type: Any) -> None:
    assert round_trip(hold, value, python_type) == value


def test_untyped_values_infer_their_types(hold: Cargohold) -> None:
    value = {"when": dt.date(2026, 1, 1), "n": 1}
    back = round_trip(hold, value)
    assert back == value
    mixed = [1, "a", dt.time(1, 2), (1, 2)]
    assert round_trip(hold, mixed) == mixed
    assert round_trip(hold, {1, 2, 3}) == {1, 2, 3}


def test_plain_json_stays_readable(hold: Cargohold) -> None:
    literal = hold.put({"rows": 3, "names": ["a", "b"]})
    assert literal.type.kind == "json"
    assert literal.to_dict()["value"] == {"rows": 3, "names": ["a", "b"]}


def test_dataclasses_nested(hold: Cargohold) -> None:
    route = Route("r1", [Point(0, 0), Point(1.5, 2)], dt.date(2026, 11, 1), weights={"a": 1.0})
    assert round_trip(hold, route) == route
    assert round_trip(hold, route, Route) == route


def test_pydantic_model(hold: Cargohold) -> None:
    model = Model(name="m", when=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tags=["x"])
    assert round_trip(hold, model) == model
    assert round_trip(hold, [model], list[Model]) == [model]


def test_type_mismatch_is_reported(hold: Cargohold) -> None:
    with pytest.raises(TypeMismatchError, match="expected a list"):
        hold.put("not a list", python_type=list[int])
    with pytest.raises(TypeMismatchError, match="no variant"):
        hold.put(1.5, python_type=int | str)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)

typed_scalars = (
    st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(max_size=64)
    | st.datetimes()
    | st.dates()
    | st.times()
    | st.timedeltas()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.uuids()
)

nested_typed = st.recursive(
    typed_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_property_json_round_trip(hold: Cargohold, value: Any) -> None:
    assert round_trip(hold, value) == value


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=nested_typed)
def test_property_nested_round_trip_and_stable_hash(hold: Cargohold, value: Any) -> None:
    literal = hold.put(value)
    again = hold.put(value)
    assert literal.hash == again.hash
    assert hold.get(Literal.from_json(literal.to_json())) == value


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.dictionaries(st.text(max_size=5), st.integers(), min_size=2, max_size=6))
def test_property_dict_order_does_not_change_the_hash(hold: Cargohold, value: Any) -> None:
    reversed_value = dict(reversed(list(value.items())))
    assert hold.put(value).hash == hold.put(reversed_value).hash
    typed = dict[str, int]
    assert (
        hold.put(value, python_type=typed).hash == hold.put(reversed_value, python_type=typed).hash
    )


@pytest.fixture
def hold(tmp_path: Any) -> Cargohold:
    """A hold that trusts this module's own classes (its Enum, dataclasses and model), named by
    the literals these tests read back without declaring a type."""
    return Cargohold(
        store_url=f"file://{tmp_path}/store",
        catalog_url=f"sqlite:///{tmp_path}/catalog.db",
        allowed_types=(f"{__name__}.*",),
    )
