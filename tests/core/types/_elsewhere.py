"""Classes of an 'unrelated module': imported by the tests, never allowed by default."""

from __future__ import annotations

import dataclasses
import enum

import pydantic


class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


@dataclasses.dataclass(frozen=True)
class Spot:
    x: int
    label: str


class Badge(pydantic.BaseModel):
    name: str
    level: int = 1


class NotAModel:
    """Named as a dataclass, an enum or a model by a hostile document: never called."""

    calls = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        NotAModel.calls += 1
