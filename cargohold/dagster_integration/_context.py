"""Reading Dagster's input and output contexts the same way inside and outside a run.

Inside a run every context has its step, job, run id, type and logger. Outside one (what
``Definitions.load_asset_value``, ``AssetValueLoader``, ``build_input_context`` and
``build_output_context`` give) those are absent and Dagster raises when they are read; these
helpers return None (or a stand-in) instead, so the IO manager behaves as Dagster's own do.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dagster import DagsterInvariantViolationError, InputContext, OutputContext
from dagster._check import CheckError

__all__ = [
    "DIRECT_JOB",
    "OutputIdentity",
    "annotation",
    "is_nothing",
    "maybe",
    "output_identity",
    "step_context",
    "warn",
]

T = TypeVar("T")
DIRECT_JOB = "__direct__"
"""The job name recorded for an output stored outside a run (``build_output_context``)."""

log = logging.getLogger("cargohold.dagster")


def maybe(get: Callable[[], T]) -> T | None:
    """``get()``, or None when Dagster says the value was not provided to the context."""
    try:
        return get()
    except (DagsterInvariantViolationError, CheckError):
        return None


def annotation(context: InputContext | OutputContext) -> Any:
    """The Python type the input or output declares (None when the context has no type)."""
    dagster_type = maybe(lambda: context.dagster_type)
    return None if dagster_type is None else dagster_type.typing_type


def is_nothing(context: OutputContext) -> bool:
    """True for a ``Nothing`` output (nothing to store)."""
    dagster_type = maybe(lambda: context.dagster_type)
    return dagster_type is not None and dagster_type.is_nothing


def step_context(context: InputContext | OutputContext) -> Any:
    """The step's execution context, or None outside a run."""
    return maybe(lambda: context.step_context)


def warn(context: InputContext | OutputContext, message: str) -> None:
    """Log a warning through the run's logger (or Python's, outside a run)."""
    logger = maybe(lambda: context.log)
    (logger if logger is not None else log).warning(message)


@dataclass(frozen=True, kw_only=True)
class OutputIdentity:
    """Which job, run and step wrote an output (stand-ins outside a run)."""

    job: str
    run_id: str
    step_key: str


def output_identity(context: OutputContext) -> OutputIdentity:
    """The job, run id and step key of an output; outside a run the job is
    :data:`DIRECT_JOB`, the run id a fresh ``direct-<uuid>`` and the step key the asset key
    path joined with ``__`` (as Dagster names an asset's step) or the output's name."""
    job = maybe(lambda: context.job_name)
    run_id = maybe(lambda: context.run_id)
    step_key = maybe(lambda: context.step_key)
    if step_key is None:
        if context.has_asset_key:
            step_key = "__".join(context.asset_key.path)
        else:
            step_key = maybe(lambda: context.name) or "output"
    return OutputIdentity(
        job=job or DIRECT_JOB,
        run_id=run_id or f"direct-{uuid.uuid4()}",
        step_key=step_key,
    )
