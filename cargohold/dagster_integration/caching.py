"""Caching Dagster assets: skip the body when its version and its inputs' contents are unchanged.

Turn it on per asset, under ``@asset``::

    @asset
    @cached_asset(version="1")
    def features(raw_orders: pd.DataFrame) -> pd.DataFrame:
        ...

On a run, the key is the asset's name, interface and version plus the content hash of each input.
Inputs the :class:`~cargohold.dagster_integration.CargoholdIOManager` loaded hash by the literal
they came from (a 10 GB frame is never re-read or re-serialized to hash it); other inputs go
through the type engine. A hit returns the cached output without running the body, and the IO
manager records it as a new artifact version pointing at the same blob (nothing is copied). With
``serialize=True`` (the default) concurrent runs with the same key compute once: the others wait
for the result (cache reservations). Bump ``version`` when the code changes.

Limits: a dict of several partitions hashes by value (each frame through the type engine), and
the Dagster context parameter is never part of the key.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any, TypeVar

from cargohold.core.cache import CacheService, key_for_call
from cargohold.core.hold import Cargohold
from cargohold.core.types.literals import Literal

__all__ = ["cached_asset", "cached_output_literal", "remember_input", "use_hold"]

F = TypeVar("F", bound=Callable[..., Any])
OUTPUT = "result"

_lock = threading.Lock()
_inputs: dict[int, tuple[weakref.ref[Any], Literal]] = {}
_outputs: dict[int, tuple[weakref.ref[Any], Literal]] = {}
_hold: list[Cargohold] = []


def _remember(table: dict[int, tuple[weakref.ref[Any], Literal]], value: Any, lit: Literal) -> None:
    key = id(value)
    try:
        ref = weakref.ref(value, lambda _: _forget(table, key))
    except TypeError:  # ints, strs, tuples: cheap to hash by value anyway
        return
    with _lock:
        table[key] = (ref, lit)


def _forget(table: dict[int, tuple[weakref.ref[Any], Literal]], key: int) -> None:
    with _lock:
        table.pop(key, None)


def _lookup(table: dict[int, tuple[weakref.ref[Any], Literal]], value: Any) -> Literal | None:
    with _lock:
        found = table.get(id(value))
    if found is None or found[0]() is not value:
        return None
    return found[1]


def remember_input(value: Any, literal: Literal) -> None:
    """Record that ``value`` was loaded from ``literal`` (the IO manager calls this)."""
    _remember(_inputs, value, literal)


def cached_output_literal(value: Any) -> Literal | None:
    """The literal a cached asset already stored for ``value``, if it produced it."""
    return _lookup(_outputs, value)


def use_hold(hold: Cargohold) -> None:
    """Make ``hold`` the one cached assets of this process use (the IO manager calls this)."""
    with _lock:
        _hold[:] = [hold]


def _current_hold() -> Cargohold:
    with _lock:
        if _hold:
            return _hold[0]
    return Cargohold.from_env()


def cached_asset(
    *,
    version: str,
    ignore: Collection[str] = (),
    serialize: bool = True,
    max_age: timedelta | None = None,
    heartbeat_interval: float = 10.0,
) -> Callable[[F], F]:
    """Cache an asset's body by its version and the content of its inputs (module doc).

    Raises:
        InvalidArgumentError / CacheError: an empty version (when the asset runs).
        UnhashableInputError: an input cannot be made a literal.
    """

    def wrap(fn: F) -> F:
        signature = inspect.signature(fn)
        context_names = {name for name in signature.parameters if name in ("context", "ctx")}
        skipped = set(ignore) | context_names
        task = f"dagster.{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            hold = _current_hold()
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = {
                name: value if name in skipped else (_lookup(_inputs, value) or value)
                for name, value in bound.arguments.items()
            }
            key = key_for_call(
                fn, arguments, version=version, hold=hold, ignore=sorted(skipped), task=task
            )
            computed: list[Any] = []

            def compute() -> dict[str, Literal]:
                value = fn(*args, **kwargs)
                computed.append(value)
                return {OUTPUT: hold.put(value)}

            service = CacheService(catalog=hold.catalog, max_age=max_age)
            entry = service.get_or_compute(
                key, compute, serialize=serialize, heartbeat_interval=heartbeat_interval
            )
            literal = entry.outputs[OUTPUT]
            value = computed[0] if computed else hold.get(literal)
            _remember(_outputs, value, literal)
            return value

        # Dagster reads the parameters' types: give it the user's, evaluated where fn lives.
        evaluated = inspect.signature(fn, eval_str=True)
        wrapper.__signature__ = evaluated  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            name: p.annotation
            for name, p in evaluated.parameters.items()
            if p.annotation is not inspect.Parameter.empty
        }
        if evaluated.return_annotation is not inspect.Signature.empty:
            wrapper.__annotations__["return"] = evaluated.return_annotation
        return wrapper  # type: ignore[return-value]

    return wrap
