"""Caching for Airflow ``@task`` functions, on the core result cache.

::

    @task
    @cached_task(version="1", ignore=["verbose"])
    def features(frame: pd.DataFrame, window: int, verbose: bool = False) -> pd.DataFrame: ...

Put it *below* ``@task``, on the plain function. The key is the task's identity
(``{dag_id}.{task_id}``, so the same function in two tasks caches separately, and every map
index of a mapped task shares one cache), the function's interface, ``version`` and the
arguments' content hashes (a frame an upstream task offloaded hashes by its content). A hit
returns the stored value without running the function; with ``serialize`` (the default)
identical concurrent task instances compute once while the others wait, the computing one
heartbeating its reservation. Do not take Airflow's ``**context`` in a cached function (it is
not hashable): read it with ``get_current_context()`` instead, or ``ignore`` the parameter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from cargohold.airflow_provider._runtime import current_task, runtime
from cargohold.core.cache import cached
from cargohold.core.cache.keys import check_version

__all__ = ["cached_task"]

P = ParamSpec("P")
R = TypeVar("R")


def cached_task(
    *,
    version: str,
    ignore: Collection[str] = (),
    serialize: bool = True,
    max_age: timedelta | None = None,
    heartbeat_interval: float = 10.0,
    timeout: float | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache an Airflow task function's result (see the module docstring).

    Raises:
        CacheError: an empty version (at decoration time); calls raise
            ``UnhashableInputError`` for an argument that cannot be hashed, ``CacheError`` when a
            serialized wait times out, and whatever the function raises.
    """
    check_version(version)
    ignored = tuple(ignore)

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            info = current_task()
            task = f"{info.dag_id}.{info.task_id}" if info is not None else None
            wrapped: Any = cached(
                version=version,
                ignore=ignored,
                serialize=serialize,
                hold=runtime().hold,
                max_age=max_age,
                task=task,
                heartbeat_interval=heartbeat_interval,
                timeout=timeout,
            )(fn)
            result: R = wrapped(*args, **kwargs)
            return result

        return run

    return decorate
