"""Process entry points for the cross-process cache tests (imported by spawned children)."""

from __future__ import annotations

import os
import time
from typing import Any

from cargohold.core.cache import CacheService, cached, compute_key
from cargohold.core.hold import Cargohold
from cargohold.core.types.literals import Literal, LiteralType

TASK = "tests.cache.slow_square"


def golden_key() -> str:
    """The digest of a fixed key (the same in every process)."""
    inputs = {
        "a": Literal(type=LiteralType(kind="int"), value=3),
        "b": Literal(type=LiteralType(kind="dict"), value={"y": [1, 2], "x": "z"}),
    }
    return compute_key(task="tests.golden", version="1", inputs=inputs).digest


def key_of_call(store_url: str, catalog_url: str, results: Any) -> None:
    """Put the key of ``slow_square(7, ...)`` on ``results``."""
    hold = Cargohold(store_url=store_url, catalog_url=catalog_url)
    results.put((golden_key(), _square(hold, 0.3).cache_key(7, "/tmp/unused", 0.0).digest))
    hold.catalog.close()


def slow_square(x: int, log: str, sleep: float) -> int:
    """Append a start line to ``log``, sleep, append a done line, return ``x * x``."""
    with open(log, "a") as fh:
        fh.write(f"start {os.getpid()}\n")
    time.sleep(sleep)
    with open(log, "a") as fh:
        fh.write(f"done {os.getpid()}\n")
    return x * x


def _square(hold: Cargohold, heartbeat: float) -> Any:
    return cached(
        version="1",
        ignore=["log", "sleep"],
        serialize=True,
        hold=hold,
        task=TASK,
        heartbeat_interval=heartbeat,
        timeout=60,
    )(slow_square)


def call_square(
    store_url: str,
    catalog_url: str,
    log: str,
    sleep: float,
    heartbeat: float,
    start: Any,
    results: Any,
) -> None:
    """Wait for ``start``, call the cached ``slow_square(7)`` and put the result on ``results``."""
    hold = Cargohold(store_url=store_url, catalog_url=catalog_url)
    fn = _square(hold, heartbeat)
    CacheService(catalog=hold.catalog).total_size()  # connect before the start signal
    if start is not None:
        start.wait(60)
    results.put((os.getpid(), fn(7, log, sleep)))
    hold.catalog.close()


ROUNDS_TASK = "tests.cache.rounds"


def logged_square(x: int, log: str) -> int:
    """Append ``ran {x}`` to ``log``, pause briefly (so callers overlap), return ``x * x``."""
    with open(log, "a") as fh:
        fh.write(f"ran-{x}\n")
    time.sleep(0.02)
    return x * x


def call_rounds(
    store_url: str, catalog_url: str, log: str, rounds: int, start: Any, results: Any
) -> None:
    """Wait for ``start``, call the serialized cached ``logged_square(x)`` for x in
    ``range(rounds)``; put ``(values, errors)`` on ``results`` (errors as their repr)."""
    hold = Cargohold(store_url=store_url, catalog_url=catalog_url)
    fn = cached(
        version="1",
        ignore=["log"],
        serialize=True,
        hold=hold,
        task=ROUNDS_TASK,
        heartbeat_interval=1.0,
        timeout=120,
    )(logged_square)
    CacheService(catalog=hold.catalog).total_size()  # connect before the start signal
    start.wait(60)
    values: list[int] = []
    errors: list[str] = []
    for x in range(rounds):
        try:
            values.append(fn(x, log))
        except Exception as exc:
            errors.append(f"{x}: {type(exc).__name__}: {exc}")
    results.put((values, errors))
    hold.catalog.close()
