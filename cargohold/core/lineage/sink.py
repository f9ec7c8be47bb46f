"""What a :class:`~cargohold.core.lineage.recorder.RunRecorder` sends its events to.

The recorder needs only this much of :class:`~cargohold.core.lineage.emitter.LineageEmitter`;
naming it here lets the recorder sit below the emitter that makes recorders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from cargohold.core.lineage.datasets import LineageDataset
from cargohold.core.lineage.events import EventType, RunIdentity

__all__ = ["EventSink"]


class EventSink(Protocol):
    """Builds and queues run events (the emitter); ``enabled`` false means lineage is off."""

    project: str
    producer: str

    @property
    def enabled(self) -> bool:
        """True when events are sent somewhere."""
        ...

    def event(
        self,
        *,
        event_type: EventType,
        run: RunIdentity,
        inputs: Iterable[LineageDataset] = (),
        outputs: Iterable[LineageDataset] = (),
        error: BaseException | str | None = None,
        run_facets: Mapping[str, Mapping[str, Any]] | None = None,
        job_facets: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> bool:
        """Build a run event and queue it; never raises. True when queued."""
        ...
