"""The offline validator: core schema plus each facet against the schema its _schemaURL names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import InputDataset, Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run, parent_run, schema_dataset
from openlineage.client.serde import Serde

from cargohold.core.errors import LineageError
from cargohold.core.lineage.events import RunIdentity, build_run_event, new_run_id
from cargohold.core.lineage.validation import (
    EventValidator,
    InvalidEventError,
    packaged_spec_dir,
    validate_event,
)
from tests.support.services import unavailable

from .conftest import SHARED_SPEC


def _event() -> dict[str, Any]:
    return build_run_event(
        event_type="START", run=RunIdentity(namespace="ns", job_name="j", run_id=new_run_id())
    )


def test_packaged_schemas_are_the_shared_ones() -> None:
    if not SHARED_SPEC.is_dir():
        unavailable(f"the shared OpenLineage schemas are missing at {SHARED_SPEC}")
    packaged = {p.relative_to(packaged_spec_dir()) for p in packaged_spec_dir().rglob("*.json")}
    shared = {p.relative_to(SHARED_SPEC) for p in SHARED_SPEC.rglob("*.json")}
    assert packaged == shared
    for rel in packaged:
        assert (packaged_spec_dir() / rel).read_bytes() == (SHARED_SPEC / rel).read_bytes()
    assert "Apache" in (packaged_spec_dir() / "README.md").read_text()


def test_events_built_by_openlineage_python_validate(validators: list[EventValidator]) -> None:
    """The validator accepts what the reference client produces (sanity check of the validator)."""
    event = RunEvent(
        eventType=RunState.FAIL,
        eventTime="2026-11-02T00:00:00.000Z",
        run=Run(
            runId=new_run_id(),
            facets={
                "errorMessage": error_message_run.ErrorMessageRunFacet(
                    message="boom", programmingLanguage="python"
                ),
                "parent": parent_run.ParentRunFacet(
                    run=parent_run.Run(runId=new_run_id()),
                    job=parent_run.Job(namespace="ns", name="dag"),
                ),
            },
        ),
        job=Job(namespace="ns", name="dag.task"),
        inputs=[
            InputDataset(
                namespace="s3://b",
                name="k",
                facets={
                    "schema": schema_dataset.SchemaDatasetFacet(
                        fields=[schema_dataset.SchemaDatasetFacetFields(name="a", type="int")]
                    )
                },
            )
        ],
        producer="https://example.com/producer",
    )
    as_dict = json.loads(Serde.to_json(event))
    for validator in validators:
        assert validator.errors(as_dict) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda e: e["run"].update(runId="not-a-uuid"), "is not a 'uuid'"),
        (lambda e: e.update(eventTime="yesterday"), "is not a 'date-time'"),
        (lambda e: e.update(eventTime="2026-11-02T00:00:00"), "is not a 'date-time'"),
        (lambda e: e.update(eventType="DONE"), "'DONE' is not one of"),
        (lambda e: e["job"]["facets"]["jobType"].pop("_producer"), "_producer"),
        (lambda e: e["job"]["facets"]["jobType"].pop("integration"), "'integration' is a required"),
        (
            lambda e: e["run"]["facets"].update(
                x={
                    "_producer": "https://p",
                    "_schemaURL": "https://openlineage.io/spec/facets/9-9-9/X.json",
                }
            ),
            "unknown OpenLineage schema",
        ),
    ],
)
def test_violations_are_reported(
    validators: list[EventValidator], mutate: Any, expected: str
) -> None:
    event = _event()
    mutate(event)
    for validator in validators:
        errors = validator.errors(event)
        assert any(expected in error for error in errors), errors
        with pytest.raises(InvalidEventError, match="invalid OpenLineage event"):
            validator.validate(event)


def test_custom_facets_need_only_producer_and_schema_url(validators: list[EventValidator]) -> None:
    event = _event()
    event["run"]["facets"]["myFacet"] = {
        "_producer": "https://example.com",
        "_schemaURL": "https://example.com/schemas/MyFacet.json",
        "anything": [1, 2],
    }
    for validator in validators:
        assert validator.errors(event) == []
    validate_event(event)


def test_a_folder_without_schemas_is_a_lineage_error(tmp_path: Path) -> None:
    with pytest.raises(LineageError, match="no OpenLineage schemas"):
        EventValidator(spec_dir=tmp_path)
