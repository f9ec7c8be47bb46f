"""OpenLineage events of Dagster materializations, emitted in-process by the IO manager.

OpenLineage has no maintained Dagster integration (removed in July 2025), so these events are
what a Dagster user has; they stand alone. Each asset materialization is one OpenLineage run: job
``{dagster job}.{asset key path with .}`` (the asset key alone for an ad-hoc materialization) in
the one lineage namespace (``OPENLINEAGE_NAMESPACE``, as Airflow's), its parent the Dagster run
(see :func:`cargohold.core.lineage.dagster_job_name` and
:class:`~cargohold.core.lineage.RunIdentity`); the job carries the jobType facet (DAGSTER, BATCH,
ASSET) and the asset's description (its docstring) as documentation.

* ``load_input`` records the artifacts a step reads (catalog names, versions, partitions) and
  emits the step's START with them.
* ``handle_output`` emits START (unless sent) then COMPLETE for the asset, with every input the
  step read and the artifacts it wrote: one output dataset per catalog dataset, the partitions
  written listed in its partitions facet. A step with several asset outputs gives one run per
  asset.
* When the IO manager is torn down (after the run in one process, after each step under the
  multiprocess executor) it looks in the run's event log for assets that failed to materialize
  in this process and emits START (if not yet sent) and FAIL, with the step's error message;
  reports the asset checks evaluated in this process as dataQualityAssertions on the checked
  asset's dataset (in the ``@asset_check`` step's run, or in a run ``{asset job}.{check name}``
  for a check evaluated in the asset's step); and completes the runs of the steps that read
  through the IO manager but wrote elsewhere.

No daemon, no sensor, and no wait on the network: events go on the core's non-blocking emitter,
which sends them while the process goes on (the exit flush is bounded, 1 s by default).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cargohold.core.context import RunContext
from cargohold.core.lineage import LineageEmitter, RunRecorder, catalog_dataset_name
from cargohold.core.lineage import facets as _f
from cargohold.core.types.literals import Literal

__all__ = ["LineageRead", "StepLineage", "op_description", "run_context"]

log = logging.getLogger("cargohold.dagster")


def run_context(
    *,
    namespace: str,
    job: str,
    run_id: str,
    asset_path: Sequence[str] | None,
    step_key: str,
    try_number: int = 1,
    partitions: Mapping[str, str] | None = None,
    domain: str | None = None,
) -> RunContext:
    """The core's :class:`RunContext` of one Dagster step writing or reading one asset."""
    # An asset step's key is its asset key path joined with "__": read it back as the path, so
    # a step's reads and writes name the same execution in the catalog.
    task = ".".join(asset_path) if asset_path else step_key.replace("__", ".")
    return RunContext(
        orchestrator="dagster",
        namespace=namespace,
        job=job,
        run_id=run_id,
        task=task,
        try_number=try_number,
        partitions=dict(partitions or {}),
        domain=domain,
        extra={"step_key": step_key},
    )


@dataclass(frozen=True, kw_only=True)
class LineageRead:
    """One artifact a step read: its literal, catalog dataset, version and partition."""

    literal: Literal
    dataset: str
    version: str
    partitions: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Step:
    reads: list[LineageRead] = field(default_factory=list)
    started: dict[str, RunRecorder] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)


class StepLineage:
    """What the steps of this process read and wrote, for their lineage events.

    Keyed by (Dagster run id, step key); entries are dropped when the run's IO manager is torn
    down. Every method never raises: lineage must not fail a materialization.
    """

    def __init__(self) -> None:
        self._steps: dict[tuple[str, str], _Step] = {}
        self._lock = threading.Lock()

    def _step(self, run_id: str, step_key: str) -> _Step:
        with self._lock:
            return self._steps.setdefault((run_id, step_key), _Step())

    def record_reads(
        self,
        *,
        run_id: str,
        step_key: str,
        reads: Sequence[LineageRead],
        emitter: LineageEmitter | None = None,
        context: RunContext | None = None,
        description: str | None = None,
    ) -> None:
        """Remember that the step read ``reads``; with ``emitter`` and the reader's ``context``,
        emit the step's START (once) with the reads known so far."""
        step = self._step(run_id, step_key)
        with self._lock:
            step.reads.extend(reads)
            open_runs = list(step.started.values())
        for recorder in open_runs:
            for read in reads:
                _add_read(recorder, read)
        if emitter is None or context is None or not emitter.enabled:
            return
        try:
            recorder, new = self._recorder(emitter, context, step, description)
            if new:
                recorder.start()
        except Exception as exc:  # lineage never fails the step
            log.warning("cargohold: could not emit lineage for %s: %s", context.task, exc)

    def _recorder(
        self,
        emitter: LineageEmitter,
        context: RunContext,
        step: _Step,
        description: str | None = None,
    ) -> tuple[RunRecorder, bool]:
        with self._lock:
            recorder = step.started.get(context.task)
            if recorder is not None:
                return recorder, False
            recorder = emitter.track(context)
            step.started[context.task] = recorder
            reads = list(step.reads)
        if description:
            recorder.add_job_facet(
                "documentation", _f.job_documentation_facet(description, producer=emitter.producer)
            )
        for read in reads:
            _add_read(recorder, read)
        return recorder, True

    def complete(
        self,
        *,
        emitter: LineageEmitter,
        context: RunContext,
        step_key: str,
        outputs: Sequence[tuple[Literal, str, str] | tuple[Literal, str, str, Mapping[str, str]]],
        description: str | None = None,
    ) -> None:
        """Emit START (unless sent) and COMPLETE for the asset ``context.task``.

        ``outputs`` are (literal, catalog dataset, version[, partitions]) of each artifact
        written; ``description`` is the asset's (its docstring), the job's documentation.
        """
        if not emitter.enabled:
            return
        try:
            step = self._step(context.run_id, step_key)
            recorder, new = self._recorder(emitter, context, step, description)
            if new:
                recorder.start()
            for literal, dataset, version, *rest in outputs:
                recorder.add_output(
                    literal,
                    dataset_name=dataset,
                    version=version,
                    partitions=dict(rest[0]) if rest else None,
                )
            recorder.complete()
            with self._lock:
                step.finished.add(context.task)
        except Exception as exc:  # lineage never fails the step
            log.warning("cargohold: could not emit lineage for %s: %s", context.task, exc)

    def fail_unfinished(
        self, *, emitter: LineageEmitter, instance: Any, run_id: str, namespace: str
    ) -> int:
        """Emit FAIL for every asset of ``run_id`` that failed to materialize in this process.

        Reads the run's ``ASSET_FAILED_TO_MATERIALIZE`` and ``STEP_FAILURE`` events from the
        Dagster instance. Returns how many FAIL events were queued; forgets the run's steps.
        """
        count = 0
        try:
            if emitter.enabled and instance is not None:
                count = self._fail(emitter, instance, run_id, namespace)
        except Exception as exc:
            log.warning("cargohold: could not emit FAIL lineage for run %s: %s", run_id, exc)
        with self._lock:
            for key in [key for key in self._steps if key[0] == run_id]:
                del self._steps[key]
        return count

    def _fail(self, emitter: LineageEmitter, instance: Any, run_id: str, namespace: str) -> int:
        from dagster import DagsterEventType

        run = instance.get_run_by_id(run_id)
        job = run.job_name if run is not None else ""
        pid = os.getpid()
        errors: dict[str, str] = {}
        planned: list[Sequence[str]] = []
        failed: list[tuple[str, Sequence[str], str | None]] = []
        checks: list[tuple[str, Any]] = []
        for entry in instance.all_logs(
            run_id,
            of_type={
                DagsterEventType.STEP_FAILURE,
                DagsterEventType.ASSET_FAILED_TO_MATERIALIZE,
                DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                DagsterEventType.ASSET_CHECK_EVALUATION,
            },
        ):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
                planned.append(event.asset_key.path)
                continue
            if event.pid != pid or event.step_key is None:
                continue
            if event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
                checks.append((event.step_key, event.asset_check_evaluation_data))
            elif event.event_type == DagsterEventType.STEP_FAILURE:
                error = event.step_failure_data.error
                errors[event.step_key] = _root_message(error)
            else:
                data = event.asset_failed_to_materialize_data
                failed.append((event.step_key, data.asset_key.path, data.partition))
        reported = {step for step, _path, _partition in failed}
        for step_key in errors:
            if step_key not in reported:
                failed.extend((step_key, path, None) for path in _assets_of_step(step_key, planned))
        count = 0
        seen: set[tuple[str, str]] = set()
        for step_key, path, _partition in failed:
            task = ".".join(path)
            step = self._step(run_id, step_key)
            if task in step.finished or (step_key, task) in seen:
                continue
            seen.add((step_key, task))
            context = run_context(
                namespace=namespace, job=job, run_id=run_id, asset_path=path, step_key=step_key
            )
            recorder, new = self._recorder(emitter, context, step)
            if new:
                recorder.start()
            message = errors.get(step_key) or f"step {step_key} failed"
            count += int(recorder.fail(message))
        count += self._checks(emitter, checks, job=job, run_id=run_id, namespace=namespace)
        # steps that read through us but wrote elsewhere (an op, a check) and did not fail
        with self._lock:
            steps = [step for key, step in self._steps.items() if key[0] == run_id]
        for step in steps:
            for recorder in list(step.started.values()):
                if not recorder.finished:
                    count += int(recorder.complete())
        return count

    def _checks(
        self,
        emitter: LineageEmitter,
        checks: Sequence[tuple[str, Any]],
        *,
        job: str,
        run_id: str,
        namespace: str,
    ) -> int:
        """Report each asset check evaluated here as a dataQualityAssertions input facet on the
        checked asset's catalog dataset: in the check step's own run when it read its input
        through us (an ``@asset_check``: job ``{job}.{step}``), else in a run of its own, job
        ``{asset job}.{check}`` (a check evaluated in the asset's step)."""
        count = 0
        for step_key, check in checks:
            path = list(check.asset_key.path)
            name = str(check.check_name)
            step = self._step(run_id, step_key)
            marker = f"check:{'.'.join(path)}:{name}"
            if marker in step.finished:
                continue
            step.finished.add(marker)
            context = run_context(
                namespace=namespace,
                job=job,
                run_id=run_id,
                asset_path=[*path, name],
                step_key=step_key,
            )
            severity = getattr(check.severity, "value", check.severity)
            assertion = {
                "assertion": name,
                "success": bool(check.passed),
                "severity": str(severity).lower() if severity else None,
            }
            logical = catalog_dataset_name(
                project=emitter.project, domain=emitter.domain, dataset=".".join(path)
            )
            dataset = replace(
                emitter.dataset(logical),
                input_facets={
                    "dataQualityAssertions": _f.data_quality_assertions_facet(
                        [assertion], producer=emitter.producer
                    )
                },
            )
            open_runs = [r for r in step.started.values() if not r.finished]
            recorder = open_runs[0] if open_runs else emitter.track(context)
            if check.description:
                recorder.add_job_facet(
                    "documentation",
                    _f.job_documentation_facet(str(check.description), producer=emitter.producer),
                )
            recorder.add_input(dataset)
            if not open_runs:
                recorder.start()
                count += int(recorder.complete())
        return count


def _add_read(recorder: RunRecorder, read: LineageRead) -> None:
    recorder.add_input(
        read.literal,
        dataset_name=read.dataset,
        version=read.version,
        partitions=dict(read.partitions) or None,
    )


def op_description(context: Any) -> str | None:
    """The description of the op (an asset's docstring) behind a Dagster IO context, if any."""
    try:
        op_def = context.op_def
    except Exception:  # no op behind this context (built outside a run)
        return None
    text = getattr(op_def, "description", None)
    return text.strip() if isinstance(text, str) and text.strip() else None


def _assets_of_step(step_key: str, planned: Sequence[Sequence[str]]) -> list[Sequence[str]]:
    """The asset keys a failed step was to materialize: a single-asset step is keyed by the
    asset key path joined with ``__``; otherwise (a multi-asset's op) the step key stands in."""
    matches = [path for path in planned if "__".join(path) == step_key]
    return matches or [step_key.split("__")]


def _root_message(error: Any) -> str:
    """The message of the user's exception under Dagster's wrapping errors."""
    if error is None:
        return ""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return str(error.message).strip()
