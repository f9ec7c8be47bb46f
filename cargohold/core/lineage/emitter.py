"""The non-blocking lineage emitter.

:class:`LineageEmitter` puts each event on a bounded queue and returns; a daemon thread drains the
queue and sends events one by one through the transport, each send bounded by ``send_timeout``.
The caller's thread never waits for the network:

* a full queue drops the event and counts it (:attr:`LineageEmitter.dropped`);
* a failed send is counted and logged once per kind of failure (``ConnectionError``,
  ``ReadTimeout``, ``HTTPError 422``...), not once per event;
* nothing waits for the network when a run or step ends: events stay queued and the worker sends
  them while the process goes on;
* at process exit (``atexit``) the emitters flush for at most ``flush_timeout`` seconds in all
  (1 s unless ``CARGOHOLD_LINEAGE_EXIT_TIMEOUT`` says otherwise; one bound for the process, not
  one per emitter), then count what is left as dropped, the event being sent at that moment
  included, and log a one-line summary;
* a stalled endpoint is not waited for at all: when a send to it (by any emitter of the process)
  has taken longer than a quarter of that bound (0.25 s by default: a lineage server answers one
  event in milliseconds), or the last one did, :meth:`LineageEmitter.close` and the exit flush
  drop what is queued for it at once (a server that answers resets this). So a process whose
  sends hang waits at most that quarter at exit, and not at all once its send in flight is older;
* after ``os.fork`` the child starts its own queue and thread on its first event.

Nothing happens at construction: the thread starts with the first event. When lineage is off
(nothing configured, ``OPENLINEAGE_DISABLED``) every call returns at once and openlineage is never
imported.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cargohold.core.config import Settings
from cargohold.core.context import RunContext
from cargohold.core.lineage import facets as _f
from cargohold.core.lineage.datasets import LineageDataset, lineage_dataset
from cargohold.core.lineage.events import EventType, RunIdentity, build_run_event
from cargohold.core.lineage.naming import DatasetName
from cargohold.core.lineage.recorder import RunRecorder
from cargohold.core.lineage.transport import (
    LineageTransport,
    as_lineage_transport,
    lineage_configured,
    transport_from_env,
)
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["EmitterStats", "LineageEmitter"]

log = logging.getLogger("cargohold.lineage")

_STOP = object()
_LIVE: weakref.WeakSet[LineageEmitter] = weakref.WeakSet()
_ATEXIT = threading.Lock()
_atexit_registered = False

EXIT_TIMEOUT_ENV = "CARGOHOLD_LINEAGE_EXIT_TIMEOUT"
"""Seconds the exit flush may wait for queued events (default 1)."""
DEFAULT_EXIT_TIMEOUT = 1.0
_STALL_CHECK = 0.02  # seconds between checks for a stalled endpoint while flushing at close
_STALL_FRACTION = 0.25  # a send longer than this part of ``flush_timeout`` means a stalled endpoint


@dataclass(frozen=True, slots=True)
class EmitterStats:
    """Counters of one emitter: events ``sent``, ``failed``, ``dropped``, still ``pending``."""

    sent: int
    failed: int
    dropped: int
    pending: int


class LineageEmitter:
    """Sends OpenLineage run events without ever blocking or failing the caller.

    Build it with :meth:`from_env` (the standard OpenLineage configuration) or pass a transport:
    an openlineage-python ``Transport`` or any object with ``send(event, *, timeout)`` (such as
    :class:`cargohold.core.lineage.testing.CapturingTransport`).

    Args:
        transport: where events go; ``None`` makes a disabled emitter.
        project, domain: the catalog project and default domain of logical dataset names.
        namespace: when set, the job namespace of every run (overrides ``RunContext.namespace``).
        producer: the ``producer`` URI of events and facets.
        queue_size: how many events may wait; more are dropped and counted.
        send_timeout: the longest one send may take, in seconds (for transports that honour it;
            :meth:`from_env` caps HTTP transports' timeouts to it).
        flush_timeout: the longest the exit flush (and :meth:`close` by default) waits.
    """

    def __init__(
        self,
        *,
        transport: object | None = None,
        project: str = "default",
        domain: str = "development",
        namespace: str | None = None,
        producer: str = _f.PRODUCER,
        queue_size: int = 10_000,
        send_timeout: float = 5.0,
        flush_timeout: float = DEFAULT_EXIT_TIMEOUT,
    ) -> None:
        self._transport: LineageTransport | None = (
            None if transport is None else as_lineage_transport(transport)
        )
        self.project = project
        self.domain = domain
        self.namespace = namespace
        self.producer = producer
        self.queue_size = queue_size
        self.send_timeout = send_timeout
        self.flush_timeout = flush_timeout
        self._lock = threading.Lock()
        self._queue: queue.Queue[object] | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._closed = False
        self._sent = 0
        self._failed = 0
        self._dropped = 0
        self._failure_kinds: set[str] = set()
        self._stop_queued = 0
        self._sending = False
        self._abandoned = False
        self._target = _target_of(self._transport)
        self._send_began: float | None = None  # monotonic start of the send in flight
        self._last_send_slow = False  # the last send took longer than _stall_after

    @classmethod
    def from_env(
        cls,
        *,
        settings: Settings | None = None,
        namespace: str | None = None,
        transport: object | None = None,
        queue_size: int = 10_000,
        send_timeout: float = 5.0,
        flush_timeout: float | None = None,
    ) -> LineageEmitter:
        """An emitter configured by the standard OpenLineage configuration.

        Off (a no-op emitter that never imports openlineage) when ``OPENLINEAGE_DISABLED`` is
        true or nothing is configured; see :mod:`.transport` for what counts. An explicit
        ``transport`` is used instead of the configured one (still off when disabled).
        ``settings`` (default ``Settings.from_env()``) gives the catalog project and domain;
        ``flush_timeout`` defaults to ``CARGOHOLD_LINEAGE_EXIT_TIMEOUT`` (seconds), else 1.

        Raises:
            LineageError: lineage is configured but openlineage-python is missing
                (``pip install cargohold[openlineage]``) or its configuration is invalid.
            ConfigurationError: a ``CARGOHOLD_*`` setting is malformed.
        """
        settings = settings or Settings.from_env()
        if flush_timeout is None:
            flush_timeout = _exit_timeout()
        options: dict[str, Any] = {
            "project": settings.project,
            "domain": settings.domain,
            "namespace": namespace,
            "queue_size": queue_size,
            "send_timeout": send_timeout,
            "flush_timeout": flush_timeout,
        }
        disabled = os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() in {"1", "true"}
        if disabled or (transport is None and not lineage_configured()):
            return cls(**options)
        if transport is None:
            transport = transport_from_env(send_timeout=send_timeout)
        return cls(transport=transport, **options)

    @property
    def enabled(self) -> bool:
        """True when events are sent somewhere."""
        return self._transport is not None

    @property
    def dropped(self) -> int:
        """Events dropped: the queue was full, the emitter closed, or the exit flush timed out
        (the events still queued and the one being sent)."""
        return self._dropped

    @property
    def stats(self) -> EmitterStats:
        """A snapshot of the counters."""
        pending = self._queue.unfinished_tasks if self._queue is not None else 0
        pending -= self._stop_queued  # the stop marker is not an event
        return EmitterStats(self._sent, self._failed, self._dropped, pending)

    # -- building and sending ------------------------------------------------------------------

    def identity(
        self,
        context: RunContext,
        *,
        logical_date: datetime | str | None = None,
        clear_number: int | None = None,
    ) -> RunIdentity:
        """The OpenLineage identity (job, run id, parent) of ``context``; see :class:`RunIdentity`.

        Raises:
            ValueError: ``logical_date`` is a malformed ISO string.
        """
        return RunIdentity.for_context(
            context, namespace=self.namespace, logical_date=logical_date, clear_number=clear_number
        )

    def dataset(
        self,
        value: Literal | BlobRef | DatasetName | str,
        *,
        dataset_name: str | None = None,
        version: str | None = None,
        partitions: Mapping[str, str] | None = None,
        description: str | None = None,
        domain: str | None = None,
    ) -> LineageDataset:
        """Describe ``value`` as a dataset with this emitter's project, domain and producer.

        See :func:`cargohold.core.lineage.datasets.lineage_dataset` for the naming rules.

        Raises:
            ValueError: a blob URI cannot be named.
        """
        return lineage_dataset(
            value,
            dataset_name=dataset_name,
            project=self.project,
            domain=domain or self.domain,
            version=version,
            partitions=partitions,
            description=description,
            producer=self.producer,
        )

    def track(
        self,
        context: RunContext | RunIdentity,
        *,
        logical_date: datetime | str | None = None,
        clear_number: int | None = None,
        run_facets: Mapping[str, Mapping[str, Any]] | None = None,
        job_facets: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> RunRecorder:
        """A recorder for one execution: use it as ``with emitter.track(ctx) as run: ...``.

        Entering emits START; leaving emits COMPLETE with every input and output added, or FAIL
        with the errorMessage facet when an exception escapes (the exception propagates). Its
        :meth:`RunRecorder.start` / ``complete`` / ``fail`` also work without ``with``.

        Raises:
            ValueError: ``logical_date`` is a malformed ISO string.
        """
        identity = (
            context
            if isinstance(context, RunIdentity)
            else self.identity(context, logical_date=logical_date, clear_number=clear_number)
        )
        domain = context.domain if isinstance(context, RunContext) else None
        return RunRecorder(
            emitter=self,
            identity=identity,
            domain=domain or self.domain,
            run_facets=run_facets,
            job_facets=job_facets,
        )

    def start(self, *, run: RunIdentity, **kwargs: Any) -> bool:
        """Emit a START event for ``run``; keyword arguments as in :meth:`event`."""
        return self.event(event_type="START", run=run, **kwargs)

    def running(self, *, run: RunIdentity, **kwargs: Any) -> bool:
        """Emit a RUNNING event (datasets seen mid-run, e.g. by an XCom backend)."""
        return self.event(event_type="RUNNING", run=run, **kwargs)

    def complete(self, *, run: RunIdentity, **kwargs: Any) -> bool:
        """Emit a COMPLETE event for ``run``; keyword arguments as in :meth:`event`."""
        return self.event(event_type="COMPLETE", run=run, **kwargs)

    def fail(self, *, run: RunIdentity, error: BaseException | str | None, **kwargs: Any) -> bool:
        """Emit a FAIL event for ``run`` with the errorMessage facet of ``error``."""
        return self.event(event_type="FAIL", run=run, error=error, **kwargs)

    def event(
        self,
        *,
        event_type: EventType,
        run: RunIdentity,
        inputs: Iterable[LineageDataset] = (),
        outputs: Iterable[LineageDataset] = (),
        error: BaseException | str | None = None,
        event_time: datetime | None = None,
        run_facets: Mapping[str, Mapping[str, Any]] | None = None,
        job_facets: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> bool:
        """Build a run event (see :func:`build_run_event`) and queue it; never raises.

        Returns:
            True when queued, False when lineage is off, the event was dropped, or it could not
            be built (logged).
        """
        if self._transport is None:
            return False
        try:
            event = build_run_event(
                event_type=event_type,
                run=run,
                inputs=inputs,
                outputs=outputs,
                error=error,
                event_time=event_time,
                run_facets=run_facets,
                job_facets=job_facets,
                producer=self.producer,
            )
        except Exception as exc:
            self._note_failure(exc, "could not build a lineage event")
            return False
        return self.emit(event)

    def emit(self, event: Mapping[str, Any]) -> bool:
        """Queue an already built event dict; never blocks, never raises.

        Returns:
            True when queued; False when lineage is off or the event was dropped (counted).
        """
        if self._transport is None:
            return False
        events = None if self._closed else self._ensure_worker()
        if events is None:
            self._count_drop()
            return False
        try:
            events.put_nowait(event)
        except queue.Full:
            self._count_drop()
            return False
        return True

    # -- flushing and closing -----------------------------------------------------------------

    def flush(self, *, timeout: float | None = None) -> bool:
        """Wait until every queued event was sent or failed, at most ``timeout`` seconds.

        Returns:
            True when the queue is empty.
        """
        events = self._queue
        if events is None or self._pid != os.getpid():
            return True
        deadline = time.monotonic() + (self.flush_timeout if timeout is None else timeout)
        with events.all_tasks_done:
            while events.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                events.all_tasks_done.wait(remaining)
        return True

    def close(self, *, timeout: float | None = None) -> EmitterStats:
        """Flush for at most ``timeout`` seconds (default ``flush_timeout``), then stop.

        Does not wait at all once the endpoint has stalled (a send to it took, or is taking,
        longer than a quarter of ``flush_timeout``): waiting would only delay the exit. Events
        still queued are dropped and counted, the one in flight included; later events are
        dropped too. Logs a summary when events were dropped or failed. Never raises.
        """
        with self._lock:
            if self._closed:
                return self.stats
            self._closed = True
        self._flush_unless_stalled(self.flush_timeout if timeout is None else timeout)
        events = self._queue
        if events is not None and self._pid == os.getpid():
            while True:
                try:
                    item = events.get_nowait()
                except queue.Empty:
                    break
                events.task_done()
                if item is not _STOP:
                    self._count_drop()
            with self._lock:
                if self._sending:  # the send in flight will not be waited for
                    self._abandoned = True
                    self._dropped += 1
            self._stop_queued = 1
            events.put_nowait(_STOP)
        if self._dropped or self._failed:
            log.warning(
                "cargohold lineage: %d events sent, %d failed, %d dropped",
                self._sent,
                self._failed,
                self._dropped,
            )
        return self.stats

    # -- internals -----------------------------------------------------------------------------

    def _flush_unless_stalled(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds for the queue to empty, and not while the endpoint
        is stalled (checked every few milliseconds: a send in flight may cross the bound)."""
        deadline = time.monotonic() + timeout
        while not _endpoint_stalled(self._target):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.flush(timeout=min(remaining, _STALL_CHECK)):
                return

    def _stalled(self, now: float) -> bool:
        """The last send, or the one in flight, took longer than :attr:`_stall_after` (in this
        process: after a fork the parent's sends say nothing)."""
        if self._pid != os.getpid():
            return False
        began = self._send_began
        return self._last_send_slow or (began is not None and now - began > self._stall_after)

    @property
    def _stall_after(self) -> float:
        """Seconds after which a send counts as stalled: a quarter of ``flush_timeout``."""
        return self.flush_timeout * _STALL_FRACTION

    def _ensure_worker(self) -> queue.Queue[object] | None:
        if self._queue is not None and self._pid == os.getpid():
            return self._queue
        with self._lock:
            if self._closed:
                return None
            if self._queue is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._send_began, self._last_send_slow = None, False  # the parent's sends
                self._queue = queue.Queue(maxsize=self.queue_size)
                self._thread = threading.Thread(
                    target=self._drain,
                    args=(self._queue,),
                    name="cargohold-lineage",
                    daemon=True,
                )
                self._thread.start()
                _register_for_exit(self)
            return self._queue

    def _drain(self, events: queue.Queue[object]) -> None:
        transport = self._transport
        assert transport is not None
        while True:
            item = events.get()
            try:
                if item is _STOP:
                    self._stop_queued = 0
                    return
                assert isinstance(item, Mapping)
                self._sending = True
                self._send_began = time.monotonic()
                transport.send(item, timeout=self.send_timeout)
                self._sent += 1
            except Exception as exc:
                self._failed += 1
                self._note_failure(exc, "could not send a lineage event")
            finally:
                with self._lock:
                    began, self._send_began = self._send_began, None
                    if began is not None:
                        self._last_send_slow = time.monotonic() - began > self._stall_after
                    self._sending = False
                    if self._abandoned:  # close() counted it as dropped; it ended after all
                        self._abandoned = False
                        self._dropped -= 1
                events.task_done()

    def _count_drop(self) -> None:
        with self._lock:
            self._dropped += 1
            first = self._dropped == 1
        if first:
            log.warning(
                "cargohold lineage: dropping events (queue of %d full or emitter closed); "
                "the count is in LineageEmitter.dropped",
                self.queue_size,
            )

    def _note_failure(self, exc: BaseException, what: str) -> None:
        kind = _failure_kind(exc)
        if kind in self._failure_kinds:
            log.debug("%s: %s", what, exc)
            return
        self._failure_kinds.add(kind)
        log.warning(
            "%s (%s): %s; further failures of this kind are logged at debug level", what, kind, exc
        )


def _exit_timeout() -> float:
    """``CARGOHOLD_LINEAGE_EXIT_TIMEOUT`` in seconds (default 1).

    Raises:
        ConfigurationError: the value is not a number >= 0.
    """
    from cargohold.core.errors import ConfigurationError

    raw = os.environ.get(EXIT_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_EXIT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ConfigurationError(
            f"{EXIT_TIMEOUT_ENV}={raw!r} is not a number of seconds >= 0 (e.g. 1 or 0.5)"
        )
    return value


def _failure_kind(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "status", None)
    name = type(exc).__name__
    return f"{name} {status}" if isinstance(status, int) else name


def _target_of(transport: LineageTransport | None) -> str:
    """Which endpoint ``transport`` sends to (its ``target``), else a name of its own."""
    target = getattr(transport, "target", None)
    return target if isinstance(target, str) and target else f"transport@{id(transport):x}"


def _endpoint_stalled(target: str) -> bool:
    """True when a live emitter sending to ``target`` saw a send take longer than its bound."""
    now = time.monotonic()
    return any(e._target == target and e._stalled(now) for e in list(_LIVE))


def _register_for_exit(emitter: LineageEmitter) -> None:
    global _atexit_registered
    _LIVE.add(emitter)
    with _ATEXIT:
        if not _atexit_registered:
            atexit.register(_close_all)
            _atexit_registered = True


def _close_all() -> None:
    """At exit: close every live emitter, all within one ``flush_timeout`` (each emitter's own,
    counted from the start of the exit flush, not from its turn).

    By then a handler's stream may already be closed (a test runner's capture, a daemon's
    redirected stderr); the summary is best effort, so logging's own error report is muted.
    """
    raising, logging.raiseExceptions = logging.raiseExceptions, False
    try:
        began = time.monotonic()
        for emitter in list(_LIVE):
            emitter.close(timeout=max(0.0, began + emitter.flush_timeout - time.monotonic()))
    finally:
        logging.raiseExceptions = raising
