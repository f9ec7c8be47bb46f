"""The result cache: keys from task identity + inputs, entries in the catalog, serialized fills.

Plain Python::

    from cargohold.core.cache import cached

    @cached(version="1", ignore=["verbose"], serialize=True)
    def features(frame: pd.DataFrame, window: int, verbose: bool = False) -> pd.DataFrame: ...

The pieces, for adapters (Airflow ``@task``, Dagster assets) that own their calling convention:

* :func:`key_for_call` ``(fn, arguments, *, version, hold, ignore=(), task=None)`` -> a
  :class:`CacheKey` from a function and its (bound) arguments. Adapters pass ``task`` (e.g.
  ``dag_id.task_id`` or the asset key) so keys do not depend on module paths.
* :func:`compute_key` ``(*, task, version, inputs, interface=None, ignore=())`` -> a key from
  input literals you already hold (an upstream XCom's or asset's literal); no blob is read,
  a reference hashes by its content hash. :func:`input_literals` turns raw values into literals
  (the type engine writes a large value to the store once; identical bytes are deduplicated).
* :class:`CacheService` ``(catalog=, max_age=, max_size_bytes=, eviction=)``: ``get(key)`` ->
  :class:`CacheEntry` or None; ``put(key, outputs, source=, overwrite=)``; ``delete(key)``;
  ``get_or_compute(key, compute, source=, serialize=True, heartbeat_interval=)`` runs
  ``compute`` (returning ``{"o0": literal}``) at most once among concurrent identical calls.
* Outputs are literals: ``hold.put(value)`` to store one, ``hold.get(entry.outputs["o0"])`` to
  load it.

An Airflow task::

    @task
    def train(frame: pd.DataFrame, alpha: float) -> dict:
        key = key_for_call(_train, {"frame": frame, "alpha": alpha}, version="1", hold=hold,
                           task="dag.train")
        entry = CacheService(catalog=hold.catalog).get_or_compute(
            key, lambda: {"o0": hold.put(_train(frame, alpha))})
        return hold.get(entry.outputs["o0"])

Errors: :class:`~cargohold.core.errors.UnhashableInputError` (an input cannot be made a literal;
names it and its type), :class:`~cargohold.core.errors.CacheFullError` (storage limit),
:class:`~cargohold.core.errors.AlreadyExistsError` (a put over a live entry),
:class:`~cargohold.core.errors.CacheError` (an empty version, a wait that timed out).
"""

from cargohold.core.cache.decorator import CachedFunction, cached
from cargohold.core.cache.keys import (
    CacheKey,
    Interface,
    compute_key,
    function_interface,
    input_literals,
    key_for_call,
    task_name,
)
from cargohold.core.cache.reservations import get_or_compute, new_owner_id
from cargohold.core.cache.service import CacheEntry, CacheService, Eviction

__all__ = [
    "CacheEntry",
    "CacheKey",
    "CacheService",
    "CachedFunction",
    "Eviction",
    "Interface",
    "cached",
    "compute_key",
    "function_interface",
    "get_or_compute",
    "input_literals",
    "key_for_call",
    "new_owner_id",
    "task_name",
]
