"""RunRecorder: one execution's inputs and outputs, and its START / COMPLETE / FAIL events."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from cargohold.core.lineage.datasets import LineageDataset, lineage_dataset
from cargohold.core.lineage.events import RunIdentity
from cargohold.core.lineage.naming import DatasetName
from cargohold.core.lineage.sink import EventSink
from cargohold.core.types.literals import BlobRef, Literal

__all__ = ["RunRecorder"]

log = logging.getLogger("cargohold.lineage")

DatasetLike = Literal | BlobRef | LineageDataset | DatasetName | str


class RunRecorder:
    """One execution's lineage: add inputs and outputs, then complete or fail it.

    Made by :meth:`LineageEmitter.track`. As a context manager it emits START on entry and
    COMPLETE (with all inputs and outputs) on a clean exit, or FAIL with the errorMessage facet
    when an exception escapes; the exception is re-raised. The same steps are available as
    :meth:`start`, :meth:`complete` and :meth:`fail`. Adding datasets and emitting never raise;
    when lineage is off every method returns at once. Thread-safe.
    """

    def __init__(
        self,
        *,
        emitter: EventSink,
        identity: RunIdentity,
        domain: str,
        run_facets: Mapping[str, Mapping[str, Any]] | None = None,
        job_facets: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.emitter = emitter
        self.identity = identity
        self.domain = domain
        self._run_facets: dict[str, Mapping[str, Any]] = dict(run_facets or {})
        self._job_facets = dict(job_facets or {})
        self._inputs: dict[tuple[str, str], LineageDataset] = {}
        self._outputs: dict[tuple[str, str], LineageDataset] = {}
        self._lock = threading.Lock()
        self._finished = False

    @property
    def run_id(self) -> str:
        """The OpenLineage run id of this execution."""
        return self.identity.run_id

    @property
    def inputs(self) -> list[LineageDataset]:
        """The input datasets added so far."""
        return list(self._inputs.values())

    @property
    def outputs(self) -> list[LineageDataset]:
        """The output datasets added so far."""
        return list(self._outputs.values())

    def add_input(
        self,
        value: DatasetLike,
        *,
        dataset_name: str | None = None,
        version: str | None = None,
        partitions: Mapping[str, str] | None = None,
        description: str | None = None,
        domain: str | None = None,
    ) -> LineageDataset | None:
        """Record that this execution read ``value`` (see :func:`lineage_dataset` for naming).

        Returns:
            The dataset recorded, or None when lineage is off or ``value`` could not be named
            (logged; never raises).
        """
        return self._add(
            self._inputs, value, dataset_name, version, partitions, description, domain
        )

    def add_output(
        self,
        value: DatasetLike,
        *,
        dataset_name: str | None = None,
        version: str | None = None,
        partitions: Mapping[str, str] | None = None,
        description: str | None = None,
        domain: str | None = None,
    ) -> LineageDataset | None:
        """Record that this execution wrote ``value`` (see :func:`lineage_dataset` for naming).

        Returns:
            The dataset recorded, or None when lineage is off or ``value`` could not be named.
        """
        return self._add(
            self._outputs, value, dataset_name, version, partitions, description, domain
        )

    def add_run_facet(self, key: str, facet: Mapping[str, Any]) -> None:
        """Add a run facet (with ``_producer`` and ``_schemaURL``) to the events still to come."""
        with self._lock:
            self._run_facets[key] = facet

    def add_job_facet(self, key: str, facet: Mapping[str, Any]) -> None:
        """Add a job facet (with ``_producer`` and ``_schemaURL``) to the events still to come."""
        with self._lock:
            self._job_facets[key] = facet

    @property
    def finished(self) -> bool:
        """True once COMPLETE or FAIL was emitted."""
        return self._finished

    def start(self) -> bool:
        """Emit START with the datasets known so far. Returns True when queued."""
        return self._send("START")

    def running(self) -> bool:
        """Emit RUNNING with the datasets known so far. Returns True when queued."""
        return self._send("RUNNING")

    def complete(self) -> bool:
        """Emit COMPLETE with every input and output; later calls do nothing."""
        return self._finish("COMPLETE", None)

    def fail(self, error: BaseException | str | None = None) -> bool:
        """Emit FAIL with the datasets and the errorMessage facet of ``error``; once only."""
        return self._finish("FAIL", error)

    def __enter__(self) -> RunRecorder:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.complete()
        else:
            self.fail(exc)

    def _finish(self, event_type: str, error: BaseException | str | None) -> bool:
        with self._lock:
            if self._finished:
                return False
            self._finished = True
        return self._send(event_type, error)

    def _send(self, event_type: Any, error: BaseException | str | None = None) -> bool:
        if not self.emitter.enabled:
            return False
        with self._lock:
            inputs = list(self._inputs.values())
            outputs = list(self._outputs.values())
            run_facets = dict(self._run_facets)
            job_facets = dict(self._job_facets)
        return self.emitter.event(
            event_type=event_type,
            run=self.identity,
            inputs=inputs,
            outputs=outputs,
            error=error,
            run_facets=run_facets,
            job_facets=job_facets,
        )

    def _add(
        self,
        target: dict[tuple[str, str], LineageDataset],
        value: DatasetLike,
        dataset_name: str | None,
        version: str | None,
        partitions: Mapping[str, str] | None,
        description: str | None,
        domain: str | None,
    ) -> LineageDataset | None:
        if not self.emitter.enabled:
            return None
        try:
            dataset = (
                value
                if isinstance(value, LineageDataset)
                else lineage_dataset(
                    value,
                    dataset_name=dataset_name,
                    project=self.emitter.project,
                    domain=domain or self.domain,
                    version=version,
                    partitions=partitions,
                    description=description,
                    producer=self.emitter.producer,
                )
            )
        except Exception as exc:
            log.warning("cargohold lineage: cannot name dataset %r: %s", value, exc)
            return None
        with self._lock:
            key = (dataset.namespace, dataset.name)
            known = target.get(key)
            # the same dataset again (another partition, another version): one entry, merged
            target[key] = dataset if known is None else known.merged(dataset)
        return target[key]
