"""Serialized execution: N identical concurrent calls compute once, built on catalog reservations.

:func:`get_or_compute` loops until it has an entry:

1. a hit returns at once;
2. otherwise it tries the catalog reservation on (the key's dataset, the key digest) with an owner
   id unique to this call (``host:pid:uuid``). The winner looks once more (another owner may have
   finished in between), then runs ``compute`` while a heartbeat thread extends the reservation
   every ``heartbeat_interval``; it puts the outputs and releases the reservation (also when
   ``compute`` raises, so a waiter takes over at once);
3. a loser (``ReservationConflictError``) sleeps with jittered exponential backoff (capped at the
   heartbeat interval and at one second) and loops.

If the computing process dies, its heartbeats stop and the reservation expires after heartbeat x
the catalog's grace multiplier (3 by default); the next waiter then takes it over and computes.
A holder that stalls past its expiry may find its put beaten by the one that took over: it then
returns that entry.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta

from cargohold.core.cache.entry import CacheEntry, EntryStore, HeartbeatInterval
from cargohold.core.cache.keys import CacheKey
from cargohold.core.catalog import ArtifactSource
from cargohold.core.context import RunContext
from cargohold.core.errors import (
    AlreadyExistsError,
    CacheError,
    CargoholdError,
    NotFoundError,
    ReservationConflictError,
)
from cargohold.core.types.literals import Literal

__all__ = ["HeartbeatInterval", "Heartbeat", "get_or_compute", "new_owner_id"]

_log = logging.getLogger(__name__)
_FIRST_POLL = 0.05
_MAX_POLL = 1.0


def new_owner_id() -> str:
    """An owner id unique to this call: ``host:pid:uuid``."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex}"


def _seconds(interval: HeartbeatInterval) -> float:
    seconds = interval.total_seconds() if isinstance(interval, timedelta) else float(interval)
    if seconds <= 0:
        raise CacheError(f"heartbeat_interval must be positive, got {interval!r}")
    return seconds


class Heartbeat:
    """A daemon thread that extends a reservation every interval until stopped."""

    def __init__(self, service: EntryStore, key: CacheKey, owner_id: str, interval: float):
        self._service, self._key, self._owner, self._interval = service, key, owner_id, interval
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(
            target=self._run, name=f"cargohold-cache-heartbeat-{key.digest[:8]}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._service.catalog.get_or_extend_reservation(
                    dataset=self._service.dataset_id(self._key),
                    tag_name=self._key.digest,
                    owner_id=self._owner,
                    heartbeat_interval=timedelta(seconds=self._interval),
                )
            except ReservationConflictError:
                self.lost = True
                _log.warning("cache reservation of %s was taken over by another owner", self._key)
            except CargoholdError as exc:  # a hiccup: the next beat retries
                _log.warning("cache heartbeat of %s failed: %s", self._key, exc)


def get_or_compute(
    service: EntryStore,
    key: CacheKey,
    compute: Callable[[], Mapping[str, Literal]],
    *,
    source: ArtifactSource | RunContext | None = None,
    heartbeat_interval: HeartbeatInterval = 10.0,
    timeout: float | None = None,
) -> CacheEntry:
    """The entry of ``key``, computing it at most once among concurrent callers.

    Raises:
        CacheError: ``timeout`` seconds passed without an entry or the reservation.
        CacheFullError: the outputs do not fit the storage limit.
        Exception: whatever ``compute`` raises (after releasing the reservation).
    """
    interval = _seconds(heartbeat_interval)
    deadline = None if timeout is None else time.monotonic() + timeout
    owner = new_owner_id()
    dataset = None
    poll = _FIRST_POLL
    while True:
        entry = service.get(key)
        if entry is not None:
            return entry
        if dataset is None:
            dataset = service.ensure_dataset(key)
        try:
            service.catalog.get_or_extend_reservation(
                dataset=dataset,
                tag_name=key.digest,
                owner_id=owner,
                heartbeat_interval=timedelta(seconds=interval),
            )
        except ReservationConflictError:
            if deadline is not None and time.monotonic() >= deadline:
                raise CacheError(
                    f"gave up after {timeout} s waiting for another owner to compute {key}"
                ) from None
            time.sleep(poll * random.uniform(0.5, 1.0))
            poll = min(poll * 2, interval, _MAX_POLL)
            continue
        try:
            return _compute_as_owner(service, key, compute, source, owner, interval)
        finally:
            # NotFoundError: taken over after we stalled, nothing of ours to release
            with contextlib.suppress(NotFoundError):
                service.catalog.release_reservation(
                    dataset=dataset, tag_name=key.digest, owner_id=owner
                )


def _compute_as_owner(
    service: EntryStore,
    key: CacheKey,
    compute: Callable[[], Mapping[str, Literal]],
    source: ArtifactSource | RunContext | None,
    owner: str,
    interval: float,
) -> CacheEntry:
    entry = service.get(key)  # another owner may have finished before we got the reservation
    if entry is not None:
        return entry
    with Heartbeat(service, key, owner, interval):
        outputs = compute()
    try:
        return replace(service.put(key, outputs, source=source), computed=True)
    except AlreadyExistsError:  # we stalled, another owner took over and finished first
        found = service.get(key)
        if found is None:
            raise
        return found
