"""The private Airflow internals ``cargohold.airflow_provider._runtime`` reads, pinned.

The runtime reads them defensively (``getattr(..., None)``) so that a task never fails because
of them; these tests are what notices when an Airflow release moves one, before source, try
number, logical date and partition attribution silently disappear. Each assertion names the
internal and the code that reads it.
"""

from __future__ import annotations

import inspect

import pytest

from cargohold.airflow_provider import _runtime

task_runner = pytest.importorskip("airflow.sdk.execution_time.task_runner")


def test_runtime_task_instance_class_is_where_runtime_looks() -> None:
    found = _runtime._runtime_ti_class()
    assert found is task_runner.RuntimeTaskInstance, (
        "airflow.sdk.execution_time.task_runner.RuntimeTaskInstance moved: "
        "_runtime._runtime_ti_class() no longer finds the running task"
    )


def test_current_context_stack_is_a_list_of_contexts() -> None:
    from airflow.sdk.definitions._internal import contextmanager

    stack = contextmanager._CURRENT_CONTEXT
    assert isinstance(stack, list), (
        "airflow.sdk.definitions._internal.contextmanager._CURRENT_CONTEXT is no longer a list: "
        "_runtime._from_context() cannot find the task instance"
    )


def test_server_context_carries_the_dag_run_fields_we_record() -> None:
    cls = task_runner.RuntimeTaskInstance
    private = getattr(cls, "__private_attributes__", {})
    assert "_ti_context_from_server" in private, (
        "RuntimeTaskInstance._ti_context_from_server is gone: _runtime._task_info() loses the "
        "logical date, clear number and partition key"
    )
    # The annotation is a string (postponed evaluation): "Annotated[TIRunContext | None, ...]".
    annotation = str(cls.__annotations__["_ti_context_from_server"])
    assert "TIRunContext" in annotation, annotation
    context_cls = task_runner.TIRunContext
    assert "dag_run" in context_cls.model_fields
    dag_run_cls = context_cls.model_fields["dag_run"].annotation
    for name in ("logical_date", "run_after", "clear_number", "partition_key"):
        assert name in dag_run_cls.model_fields, f"DagRun.{name} is gone (read by _task_info)"
    for name in ("dag_id", "task_id", "run_id", "map_index", "try_number", "task"):
        assert name in cls.model_fields, f"RuntimeTaskInstance.{name} is gone"


@pytest.mark.parametrize("function", ["_push_xcom_if_needed", "run", "_execute_task"])
def test_task_runner_frames_hold_the_task_instance_as_ti(function: str) -> None:
    # _runtime._from_frames() finds the task instance in a frame local named ti, self or
    # task_instance while Airflow pushes the return value (after leaving the task context).
    target = getattr(task_runner, function, None)
    assert target is not None, f"task_runner.{function} is gone: _from_frames() may miss the task"
    names = set(inspect.signature(target).parameters)
    assert names & {"ti", "self", "task_instance"}, (
        f"task_runner.{function}({', '.join(sorted(names))}) no longer takes ti"
    )
