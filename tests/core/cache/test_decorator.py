"""``@cached`` on plain Python functions, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import pytest

from cargohold.core.cache import CacheService, cached
from cargohold.core.catalog import ArtifactSource, Catalog
from cargohold.core.context import RunContext
from cargohold.core.errors import CacheError, UnhashableInputError
from cargohold.core.hold import Cargohold

from .conftest import FakeClock


def test_hit_miss_and_ignored_input(hold: Cargohold) -> None:
    calls: list[tuple[int, int]] = []

    @cached(version="1", ignore=["verbose"], hold=hold)
    def add(a: int, b: int, verbose: bool = False) -> int:
        calls.append((a, b))
        return a + b

    assert add(1, 2) == 3
    assert add(1, 2, verbose=True) == 3  # ignored input: a hit
    assert add(a=1, b=2) == 3  # keyword or positional: the same call
    assert calls == [(1, 2)]
    assert add(2, 2) == 4
    assert calls == [(1, 2), (2, 2)]
    assert add.cache_key(1, 2) == add.cache_key(1, 2, verbose=True)
    assert add.__name__ == "add"
    assert add.__wrapped__ is not None


def test_version_bump_and_interface_change_recompute(hold: Cargohold) -> None:
    calls: list[str] = []

    def make(version: str) -> Callable[[int], int]:
        @cached(version=version, hold=hold, task="tests.double")
        def double(x: int) -> int:
            calls.append(version)
            return 2 * x

        return double

    assert make("1")(4) == 8
    assert make("1")(4) == 8
    assert make("2")(4) == 8
    assert calls == ["1", "2"]

    @cached(version="2", hold=hold, task="tests.double")
    def double(x: int, scale: int = 1) -> int:  # a new parameter: a new interface
        calls.append("iface")
        return 2 * x * scale

    assert double(4) == 8
    assert calls == ["1", "2", "iface"]


def test_frames_round_trip_and_hash_by_content(hold: Cargohold) -> None:
    calls: list[int] = []

    @cached(version="1", hold=hold)
    def summarize(frame: pd.DataFrame) -> pd.DataFrame:
        calls.append(len(frame))
        return frame.groupby("k", as_index=False)["v"].sum()

    frame = pd.DataFrame({"k": list("abcab") * 50, "v": range(250)})
    first = summarize(frame)
    second = summarize(frame.copy())
    assert calls == [250]
    pd.testing.assert_frame_equal(first.reset_index(drop=True), second.reset_index(drop=True))
    summarize(frame.assign(v=frame.v + 1))
    assert calls == [250, 250]


def test_broad_declared_types_use_the_runtime_type(hold: Cargohold) -> None:
    calls: list[int] = []

    @cached(version="1", hold=hold)
    def f(x: object, window: int) -> dict[str, object]:
        calls.append(window)
        return {"window": window, "mean": 1.5}

    assert f(3, 2) == {"window": 2, "mean": 1.5}
    assert f(3, 2) == {"window": 2, "mean": 1.5}
    assert calls == [2]


def test_source_is_recorded(hold: Cargohold) -> None:
    context = RunContext(orchestrator="airflow", job="dag", run_id="r1", task="t")

    @cached(version="1", hold=hold, source=context, task="dag.t")
    def f(x: int) -> int:
        return x

    f(1)
    entry = CacheService(catalog=hold.catalog).get(f.cache_key(1))
    assert entry is not None
    assert entry.source == ArtifactSource.from_context(context)


def test_max_age_recomputes(
    make_catalog: Callable[..., Catalog], hold: Cargohold, clock: FakeClock
) -> None:
    service = CacheService(catalog=make_catalog(clock=clock), max_age=timedelta(minutes=5))
    calls: list[int] = []

    @cached(version="1", hold=hold, cache=service)
    def f(x: int) -> int:
        calls.append(x)
        return x

    f(1)
    clock.advance(minutes=4)
    f(1)
    clock.advance(minutes=2)
    f(1)
    assert calls == [1, 1]


def test_delete_and_serialize_in_process(hold: Cargohold) -> None:
    calls: list[int] = []

    @cached(version="1", hold=hold, serialize=True, heartbeat_interval=0.5)
    def f(x: int) -> list[int]:
        calls.append(x)
        return [x] * 3

    assert f(3) == [3, 3, 3]
    assert f(3) == [3, 3, 3]
    assert f.cache_delete(3) is True
    assert f(3) == [3, 3, 3]
    assert calls == [3, 3]


def test_bad_use_is_refused(hold: Cargohold) -> None:
    with pytest.raises(CacheError, match="max_age"):
        cached(version="1", cache=CacheService(catalog=hold.catalog), max_age=timedelta(1))

    @cached(version="1", hold=hold)
    def f(x: object) -> int:
        return 1

    with pytest.raises(UnhashableInputError, match="input 'x' of type"):
        f(object())
