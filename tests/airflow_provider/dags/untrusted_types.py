"""A DAG whose own Enum, dataclass and pydantic model pass between tasks with the default
settings, while a dataclass from an unrelated module is refused until allowed; one task fuzzes
the XCom backend's ``deserialize_value`` from inside a running task (issue 12)."""

from __future__ import annotations

import dataclasses
import enum

import pendulum
import pydantic
from airflow.sdk import dag, task


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


@dataclasses.dataclass(frozen=True)
class Reading:
    sensor: str
    value: float
    level: Level


class Sensor(pydantic.BaseModel):
    name: str
    threshold: float = 0.5


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def untrusted_types() -> None:
    @task
    def make_level() -> Level:
        return Level.HIGH

    @task
    def make_reading() -> Reading:
        return Reading(sensor="s1", value=0.75, level=Level.LOW)

    @task
    def make_sensor() -> Sensor:
        return Sensor(name="s1", threshold=0.6)

    @task
    def check(level: Level, reading: Reading, sensor: Sensor) -> list[str]:
        assert level is Level.HIGH, repr(level)
        assert reading == Reading(sensor="s1", value=0.75, level=Level.LOW), repr(reading)
        assert isinstance(sensor, Sensor), repr(sensor)
        assert sensor.threshold == 0.6, repr(sensor)
        return [type(level).__name__, type(reading).__name__, type(sensor).__name__]

    @task
    def foreign() -> object:
        from tests.core.types._elsewhere import Spot

        return Spot(x=7, label="elsewhere")

    @task
    def pull_foreign(**context: object) -> str:
        from cargohold.core.errors import UntrustedTypeError

        ti = context["ti"]
        try:
            value = ti.xcom_pull(task_ids="foreign")  # type: ignore[attr-defined]
        except UntrustedTypeError as exc:
            return f"refused: {exc}"
        return f"loaded: {value!r}"

    @task
    def fuzz_in_task() -> int:
        from tests.airflow_provider.xcom_fuzz import fuzz_deserialize

        return fuzz_deserialize(examples=60)

    @task
    def issue_document_in_task() -> str:
        from types import SimpleNamespace

        from cargohold.airflow_provider.xcom import CargoholdXComBackend
        from cargohold.core.errors import UntrustedTypeError

        document = (
            '{"cargohold":1,"type":{"kind":"enum","name":"subprocess:getoutput"},"value":"id"}'
        )
        try:
            value = CargoholdXComBackend.deserialize_value(SimpleNamespace(value=document))
        except UntrustedTypeError as exc:
            return type(exc).__name__
        return f"decoded: {value!r}"

    from cargohold.airflow_provider.operators import LoadArtifactOperator
    from tests.core.types._elsewhere import Spot

    # an operator's argument is a declared type: no allowlist needed
    load_foreign = LoadArtifactOperator(
        task_id="load_foreign", dataset="untrusted_types.foreign.return_value", as_type=Spot
    )

    check(make_level(), make_reading(), make_sensor())
    issue_document_in_task()
    foreign() >> [pull_foreign(), load_foreign]
    fuzz_in_task()


untrusted_types()
