"""XCom values at the trust boundary (issue 12): a DAG file's own types round-trip through
``dag.test()`` with the default settings; a type from an unrelated module is refused until
``CARGOHOLD_ALLOWED_TYPES`` allows it; hostile documents, inside and outside a task, only ever
give a value, the reference view or a ``CargoholdError``."""

from __future__ import annotations

import sys
from types import SimpleNamespace
from typing import Any

import pytest

from cargohold.airflow_provider.xcom import CargoholdXComBackend
from tests.airflow_provider.conftest import DAGS, AirflowEnv
from tests.airflow_provider.xcom_fuzz import fuzz_deserialize

ISSUE_DOCUMENT = '{"cargohold":1,"type":{"kind":"enum","name":"subprocess:getoutput"},"value":"id"}'


@pytest.mark.postgres
@pytest.mark.s3
@pytest.mark.slow
@pytest.mark.timeout(900)  # two dag.test() runs, one with a fuzzer inside a task
def test_dag_types_pass_and_foreign_types_wait_for_the_allowlist(airflow_env: AirflowEnv) -> None:
    run = airflow_env.run(DAGS / "untrusted_types.py", "untrusted_types", timeout=300)
    assert run.state == "success", run.log[-6000:]
    assert run.xcom("check")["value"] == ["Level", "Reading", "Sensor"]
    reading = run.xcom("make_reading")
    assert reading["type"]["name"].startswith("unusual_prefix_")  # the DAG file's module
    refused = run.xcom("pull_foreign")["value"]
    assert refused.startswith("refused: "), refused
    assert "tests.core.types._elsewhere:Spot" in refused
    assert "CARGOHOLD_ALLOWED_TYPES" in refused
    assert run.xcom("fuzz_in_task")["value"] >= 30  # the fuzzer ran inside the task
    assert run.xcom("issue_document_in_task")["value"] == "UntrustedTypeError"
    loaded_by_operator = run.xcom("load_foreign")  # LoadArtifactOperator(as_type=Spot)
    assert loaded_by_operator["type"]["name"] == "tests.core.types._elsewhere:Spot"
    assert loaded_by_operator["value"] == {"x": 7, "label": "elsewhere"}

    allowed = airflow_env.run(
        DAGS / "untrusted_types.py",
        "untrusted_types",
        timeout=300,
        extra_env={"CARGOHOLD_ALLOWED_TYPES": "unusual_prefix_* tests.core.types._elsewhere.*"},
    )
    assert allowed.state == "success", allowed.log[-6000:]
    loaded = allowed.xcom("pull_foreign")["value"]
    assert loaded == "loaded: Spot(x=7, label='elsewhere')", loaded

    # outside a task (API server, scheduler): DAG-file types are not importable there, so the
    # stored documents read as the reference view, never as a crash or an import
    benign = {"cargohold": 1, "type": {"kind": "int"}, "value": 1}
    assert CargoholdXComBackend.deserialize_value(SimpleNamespace(value=benign)) == 1
    before = set(sys.modules)  # cargohold's own modules are loaded now; nothing else may be
    view = CargoholdXComBackend.deserialize_value(SimpleNamespace(value=reading))
    assert view["cargohold_reference"] is True
    assert "not trusted" in view["note"]
    assert set(sys.modules) == before


@pytest.mark.parametrize(
    "stored",
    [
        ISSUE_DOCUMENT,
        {
            "cargohold": 1,
            "type": {"kind": "enum", "name": "os:system"},
            "value": "touch /tmp/cargohold-pwned",
        },
    ],
)
def test_the_issue_document_outside_a_task(stored: Any) -> None:
    view = CargoholdXComBackend.deserialize_value(SimpleNamespace(value=stored))
    assert view["cargohold_reference"] is True
    assert "not trusted" in view["note"]
    assert "uid=" not in str(view)


def test_fuzz_deserialize_outside_a_task() -> None:
    assert fuzz_deserialize(examples=200) >= 100
