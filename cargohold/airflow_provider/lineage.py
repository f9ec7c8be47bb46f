"""Complete OpenLineage runs of Airflow tasks, with or without Airflow's OpenLineage provider.

cargohold's XCom backend and operators know which datasets a task read and wrote; who opens and
closes the task's run depends on the provider (``apache-airflow-providers-openlineage``):

* **provider listening** (installed, and not disabled by ``[openlineage] disabled`` /
  ``OPENLINEAGE_DISABLED`` or a missing transport): the provider emits START and COMPLETE / FAIL;
  cargohold sends its datasets as RUNNING events of the same run (same job name, same run id),
  which a lineage server merges into the provider's run.
* **no provider listening**: :class:`TaskRunListener` (an Airflow listener, registered by
  :class:`CargoholdLineagePlugin` through the ``airflow.plugins`` entry point) emits START when
  the task starts and COMPLETE (success, skip) or FAIL (with the error) when it ends, carrying every
  dataset the task read and wrote, under the provider's job name ``{dag_id}.{task_id}`` and run id
  (see :class:`cargohold.core.lineage.RunIdentity`), so switching the provider on or off never
  changes a run's identity.

Internal XComs (Airflow's ``skipmixin_key``, ``trigger_run_id``, keys starting with ``_``) are
never datasets (the XCom backend skips them). Nothing here waits for the network: events go on the
emitter's queue. Nothing runs at import time but the class definitions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowPlugin, hookimpl

from cargohold.airflow_provider._runtime import _runtime_ti_class, _task_info, runtime, task_context

if TYPE_CHECKING:
    from cargohold.core.context import RunContext
    from cargohold.core.lineage import LineageEmitter, RunRecorder
    from cargohold.core.types.literals import Literal

__all__ = [
    "CargoholdLineagePlugin",
    "TaskRunListener",
    "active_run",
    "provider_listening",
    "record_dataset",
]

log = logging.getLogger("cargohold.lineage")

_RunKey = tuple[str, str, str, int]
_runs: dict[_RunKey, RunRecorder] = {}
# datasets seen before the task's run opened (Airflow renders templates, and so resolves the
# XComArgs it reads, before it calls the listener): handed to the run when it opens
_early: dict[_RunKey, list[tuple[bool, Literal, dict[str, Any]]]] = {}
_MAX_EARLY = 1000
_listener_loaded = threading.Event()
_lock = threading.Lock()


def provider_listening() -> bool:
    """True when Airflow's OpenLineage provider is installed and its listener enabled."""
    try:
        from airflow.providers.openlineage import conf
    except ImportError:
        return False
    try:
        return not conf.is_disabled()
    except Exception:  # a broken provider configuration: the provider will not emit either
        return False


def active_run(context: RunContext) -> RunRecorder | None:
    """The run :class:`TaskRunListener` opened for the task instance ``context`` names, if any."""
    with _lock:
        return _runs.get(_key_of(context))


def record_dataset(
    emitter: LineageEmitter,
    *,
    context: RunContext,
    literal: Literal,
    dataset: str,
    version: int | str | None,
    partitions: Mapping[str, str] | None,
    output: bool,
) -> None:
    """Attach a dataset the task read or wrote to its run; never raises.

    Added to the run the listener opened (sent with COMPLETE / FAIL); without one (the provider
    owns the run, or the listener is not installed) sent at once as a RUNNING event of the run.
    """
    if not emitter.enabled:
        return
    try:
        recorder = active_run(context)
        kwargs: dict[str, Any] = {
            "dataset_name": dataset,
            "version": None if version is None else str(version),
            "partitions": dict(partitions or {}),
            "domain": context.domain,
        }
        if recorder is not None:
            (recorder.add_output if output else recorder.add_input)(literal, **kwargs)
            return
        if _listener_loaded.is_set() and not provider_listening():
            with _lock:  # the listener will open this task's run: hand the dataset to it
                early = _early.setdefault(_key_of(context), [])
                if len(early) < _MAX_EARLY:
                    early.append((output, literal, kwargs))
                    return
        identity = emitter.identity(context)
        item = emitter.dataset(literal, **kwargs)
    except Exception as exc:  # lineage never fails a task
        log.warning("cargohold lineage: cannot describe dataset %r: %s", dataset, exc)
        return
    emitter.running(run=identity, **({"outputs": [item]} if output else {"inputs": [item]}))


class TaskRunListener:
    """Airflow listener: START / COMPLETE / FAIL of each task when no provider does it."""

    @hookimpl
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        """Open the task's run and emit START (unless the provider listens)."""
        _guarded(_start, task_instance)

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        """Emit COMPLETE with every dataset the task read and wrote."""
        _guarded(_finish, task_instance, None)

    @hookimpl
    def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
        """A skipped task ran to completion (as the provider reports it): COMPLETE."""
        _guarded(_finish, task_instance, None)

    @hookimpl
    def on_task_instance_failed(
        self, previous_state: Any, task_instance: Any, error: BaseException | str | None = None
    ) -> None:
        """Emit FAIL with the error and the datasets seen so far."""
        _guarded(_finish, task_instance, error if error is not None else "the task failed")


class CargoholdLineagePlugin(AirflowPlugin):
    """Registers :class:`TaskRunListener` (entry point ``airflow.plugins``: ``cargohold``)."""

    name = "cargohold_lineage"
    listeners = [TaskRunListener()]  # noqa: RUF012 (the AirflowPlugin attribute)

    @classmethod
    def on_load(cls, *args: Any, **kwargs: Any) -> None:
        """Airflow loaded the plugin: datasets seen before a task's START wait for its run."""
        _listener_loaded.set()


def _guarded(func: Any, *args: Any) -> None:
    try:
        func(*args)
    except Exception as exc:  # a listener must never fail the task
        log.warning("cargohold lineage: listener failed: %s", exc)


def _start(ti: Any) -> None:
    ti_class = _runtime_ti_class()
    if ti_class is None or not isinstance(ti, ti_class):
        return  # not a task being executed here (the scheduler, the API server)
    emitter = runtime().emitter
    if not emitter.enabled or provider_listening():
        return
    info = _task_info(ti)
    context = task_context(
        info,
        dag_id=info.dag_id,
        task_id=info.task_id,
        run_id=info.run_id,
        map_index=info.map_index,
        domain=runtime().hold.settings.domain,
    )
    recorder = emitter.track(context)
    doc = _documentation(info.task)
    if doc:
        from cargohold.core.lineage.facets import job_documentation_facet

        recorder.add_job_facet("documentation", job_documentation_facet(doc))
    with _lock:
        _runs[_key_of(context)] = recorder
        early = _early.pop(_key_of(context), [])
    for output, literal, kwargs in early:
        (recorder.add_output if output else recorder.add_input)(literal, **kwargs)
    recorder.start()


def _finish(ti: Any, error: BaseException | str | None) -> None:
    key = (
        str(getattr(ti, "dag_id", "")),
        str(getattr(ti, "task_id", "")),
        str(getattr(ti, "run_id", "")),
        int(ti.map_index if getattr(ti, "map_index", None) is not None else -1),
    )
    with _lock:
        recorder = _runs.pop(key, None)
    if recorder is None:
        return
    if error is None:
        recorder.complete()
    else:
        recorder.fail(error)


def _key_of(context: RunContext) -> _RunKey:
    return (context.job, context.task, context.run_id, context.map_index)


def _documentation(task: Any) -> str | None:
    """The task's documentation: ``doc_md`` (or ``doc``...), else its callable's docstring."""
    for attr in ("doc_md", "doc", "doc_rst", "doc_yaml", "doc_json"):
        value = getattr(task, attr, None)
        if isinstance(value, str) and value.strip():
            return value.strip()
    doc = getattr(getattr(task, "python_callable", None), "__doc__", None)
    return doc.strip() if isinstance(doc, str) and doc.strip() else None
