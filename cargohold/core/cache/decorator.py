"""``@cached``: memoize a plain Python function's result in the cargohold cache.

::

    @cached(version="1", ignore=["verbose"], serialize=True)
    def features(frame: pd.DataFrame, window: int, verbose: bool = False) -> pd.DataFrame: ...

A call computes the key from the function's identity, interface, version and arguments (raw
values become literals through the type engine; a large frame is written to the store once, and
hashes by content), looks it up, and on a miss runs the function and stores its return value as a
literal (output ``o0``). A hit returns the stored value, loaded as the return annotation.

An argument may be given as a :class:`Literal` (the reference an adapter received from upstream):
the key hashes it without reading its blob, and on a miss the function gets the value, loaded as
the parameter's annotation (unless the parameter is annotated ``Literal``).
"""

from __future__ import annotations

import functools
import inspect
import typing
import uuid
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, Protocol, TypeVar, cast

from cargohold.core.cache.keys import (
    DEFAULT_OUTPUT,
    CacheKey,
    check_version,
    ignore_names,
    key_for_call,
    load_value,
    put_value,
    task_name,
)
from cargohold.core.cache.service import CacheService
from cargohold.core.catalog import ArtifactSource
from cargohold.core.context import RunContext
from cargohold.core.errors import CacheError
from cargohold.core.types.literals import Literal

if TYPE_CHECKING:
    from cargohold.core.cache.reservations import HeartbeatInterval
    from cargohold.core.hold import Cargohold

__all__ = ["CachedFunction", "cached"]

P = ParamSpec("P")
R = TypeVar("R")


class CachedFunction(Protocol[P, R]):
    """A function wrapped by :func:`cached`: call it as before; it also offers its key."""

    __wrapped__: Callable[P, R]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def cache_key(self, *args: P.args, **kwargs: P.kwargs) -> CacheKey:
        """The cache key of a call with these arguments (nothing is computed or looked up)."""
        ...

    def cache_delete(self, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Delete the cached result of a call with these arguments; False if there was none."""
        ...


class _Resolver(Generic[R]):
    """Resolves the hold and the service on first use (never at import or decoration time)."""

    def __init__(
        self, hold: Cargohold | None, cache: CacheService | None, max_age: timedelta | None
    ):
        self._hold, self._cache, self._max_age = hold, cache, max_age

    def hold(self) -> Cargohold:
        if self._hold is None:
            from cargohold.core.hold import Cargohold

            self._hold = Cargohold.from_env()
        return self._hold

    def service(self) -> CacheService:
        if self._cache is None:
            self._cache = CacheService(catalog=self.hold().catalog, max_age=self._max_age)
        return self._cache


def cached(
    *,
    version: str,
    ignore: Collection[str] = (),
    serialize: bool = False,
    hold: Cargohold | None = None,
    max_age: timedelta | None = None,
    cache: CacheService | None = None,
    task: str | None = None,
    heartbeat_interval: HeartbeatInterval = 10.0,
    timeout: float | None = None,
    source: ArtifactSource | RunContext | None = None,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]:
    """Cache a function's results.

    Args:
        version: the cache version; bump it when the function's logic changes.
        ignore: parameters left out of the key (``verbose``, a logger, ...).
        serialize: identical concurrent calls (threads, processes, machines sharing the
            catalog) run the body once; the others wait and read its result.
        hold: where values and the catalog live (default: ``Cargohold.from_env()`` at the
            first call).
        max_age: results older than this are recomputed.
        cache: a configured :class:`CacheService` (storage limit, eviction); excludes
            ``max_age``.
        task: the task identity in keys (default ``module.qualname``).
        heartbeat_interval: seconds (or a timedelta) between reservation heartbeats.
        timeout: with ``serialize``, give up after this many seconds of waiting.
        source: the execution recorded as the producer of new entries (adapters pass their
            ``RunContext``); default: a ``python`` source named by the task with a fresh run id.

    Raises:
        CacheError: an empty version, ``ignore`` naming an unknown parameter, or both ``cache``
            and ``max_age``. Calls raise ``UnhashableInputError`` for an input that cannot be
            made a literal, and whatever the function raises.
    """
    if cache is not None and max_age is not None:
        raise CacheError("give max_age to the CacheService passed as cache=, not to @cached")
    check_version(version)
    ignored = ignore_names(ignore)

    def decorate(fn: Callable[P, R]) -> CachedFunction[P, R]:
        signature = inspect.signature(fn)
        unknown = sorted(ignored - set(signature.parameters))
        if unknown:
            raise CacheError(
                f"ignore names {unknown}, which are not parameters of {task_name(fn)} "
                f"(parameters: {list(signature.parameters)})"
            )
        identity = task or task_name(fn)
        resolver: _Resolver[R] = _Resolver(hold, cache, max_age)

        def key_of(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> CacheKey:
            bound = signature.bind(*args, **kwargs)
            return key_for_call(
                fn, bound, version=version, hold=resolver.hold(), ignore=ignored, task=identity
            )

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            the_hold = resolver.hold()
            key = key_of(args, kwargs)
            produced: list[R] = []
            return_type = _return_type(fn)

            def compute() -> Mapping[str, Literal]:
                bound = _load_literals(signature.bind(*args, **kwargs), fn, the_hold)
                result = fn(*bound.args, **bound.kwargs)
                produced.append(result)
                return {DEFAULT_OUTPUT: put_value(the_hold, result, return_type)}

            producer = source or ArtifactSource(
                orchestrator="python", job=identity, task=identity, run_id=uuid.uuid4().hex
            )
            entry = resolver.service().get_or_compute(
                key,
                compute,
                source=producer,
                serialize=serialize,
                heartbeat_interval=heartbeat_interval,
                timeout=timeout,
            )
            if entry.computed and produced:
                return produced[0]
            return cast(R, load_value(the_hold, entry.outputs[DEFAULT_OUTPUT], return_type))

        def cache_key(*args: P.args, **kwargs: P.kwargs) -> CacheKey:
            return key_of(args, kwargs)

        def cache_delete(*args: P.args, **kwargs: P.kwargs) -> bool:
            return resolver.service().delete(key_of(args, kwargs))

        wrapper.cache_key = cache_key  # type: ignore[attr-defined]
        wrapper.cache_delete = cache_delete  # type: ignore[attr-defined]
        return cast(CachedFunction[P, R], wrapper)

    return decorate


def _return_type(fn: Callable[..., Any]) -> Any:
    try:
        hint = typing.get_type_hints(fn).get("return")
    except Exception:
        return None
    return hint


def _load_literals(
    bound: inspect.BoundArguments, fn: Callable[..., Any], hold: Cargohold
) -> inspect.BoundArguments:
    """Arguments given as literals (references an adapter received) loaded as the declared
    type, unless the parameter is declared as a :class:`Literal` itself."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    for name, value in list(bound.arguments.items()):
        hint = hints.get(name)
        if isinstance(value, Literal) and hint is not Literal:
            bound.arguments[name] = load_value(hold, value, hint)
    return bound
