"""Run DAGs for real: ``dag.test()`` in a subprocess, with a fresh AIRFLOW_HOME per run.

The Airflow metadata database (SQLite) is migrated once per session and copied for each run.
Each run's environment enables our XCom backend, puts the store on S3 (moto's server over HTTP)
and the catalog on a fresh PostgreSQL database, and sends lineage to a validating Marquez-like
receiver. Every event received is validated against the packaged schemas and
``../shared/openlineage-spec`` when the test ends.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cargohold.core.lineage.testing import LineageReceiver
from cargohold.core.lineage.validation import EventValidator, packaged_spec_dir
from tests.support.services import S3Server, in_ci

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("_dag_runner.py")
SHARED_SPEC = REPO.parent / "shared" / "openlineage-spec"
EXAMPLES = REPO / "example_dags" / "airflow"
DAGS = Path(__file__).with_name("dags")
BACKEND = "cargohold.airflow_provider.xcom.CargoholdXComBackend"
_DROP = ("CARGOHOLD_", "OPENLINEAGE", "AIRFLOW__", "AIRFLOW_HOME")


def base_env(home: Path, dags: Path) -> dict[str, str]:
    """A clean environment for an Airflow subprocess rooted at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    return env


@pytest.fixture(scope="session")
def airflow_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow metadata database migrated once, copied by every run."""
    home = tmp_path_factory.mktemp("airflow-template")
    env = base_env(home, home / "dags")
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run(
        [str(airflow), "db", "migrate"], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return home / "airflow.db"


@dataclass
class DagRun:
    """What ``_dag_runner.py`` reported about one run."""

    data: dict[str, Any]
    log: str

    @property
    def state(self) -> str:
        return str(self.data["state"])

    def tis(self, task_id: str) -> list[dict[str, Any]]:
        return sorted(
            (t for t in self.data["task_instances"] if t["task_id"] == task_id),
            key=lambda t: t["map_index"],
        )

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        for row in self.data["xcoms"]:
            if (row["task_id"], row["key"], row["map_index"]) == (task_id, key, map_index):
                value = row["value"]
                return json.loads(value) if isinstance(value, str) else value
        raise KeyError(f"no xcom {task_id}/{key}/{map_index}")


@dataclass
class AirflowEnv:
    """Runs DAG files with ``dag.test()``; ``env`` is added to every run's environment."""

    root: Path
    template: Path
    env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    def run(
        self,
        dag_file: Path,
        dag_id: str,
        *,
        partition_key: str | None = None,
        logical_date: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> DagRun:
        self.runs += 1
        home = self.root / f"home{self.runs}"
        dags = home / "dags"
        dags.mkdir(parents=True)
        shutil.copy(self.template, home / "airflow.db")
        shutil.copy(dag_file, dags / dag_file.name)
        env = base_env(home, dags)
        env.update(self.env)
        env.update(extra_env or {})
        out = home / "result.json"
        cmd = [sys.executable, str(RUNNER), str(dags / dag_file.name), dag_id, str(out)]
        if partition_key:
            cmd += ["--partition-key", partition_key]
        if logical_date:
            cmd += ["--logical-date", logical_date]
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=str(home)
        )
        log = done.stdout + done.stderr
        assert done.returncode == 0, f"dag.test failed:\n{log[-6000:]}"
        assert out.exists(), f"dag.test wrote no result:\n{log[-6000:]}"
        return DagRun(json.loads(out.read_text()), log)


@pytest.fixture
def catalog_url(fresh_postgres_url: str) -> str:
    """A fresh PostgreSQL database (fails in CI when the server is down)."""
    return fresh_postgres_url


@pytest.fixture
def receiver() -> Iterator[LineageReceiver]:
    """A validating Marquez-like receiver; its events are re-validated at the end."""
    validators = [EventValidator(spec_dir=packaged_spec_dir())]
    if (SHARED_SPEC / "2-0-2" / "OpenLineage.json").is_file():
        validators.append(EventValidator(spec_dir=SHARED_SPEC))
    elif in_ci():
        pytest.fail(f"CI=true but the shared OpenLineage schemas are missing at {SHARED_SPEC}")
    with LineageReceiver() as server:
        yield server
        for event in server.events:
            for validator in validators:
                errors = validator.errors(event)
                assert not errors, f"invalid event ({validator.spec_dir}): {errors}\n{event}"


@pytest.fixture
def airflow_env(
    tmp_path: Path,
    airflow_db_template: Path,
    s3_server: S3Server,
    catalog_url: str,
    receiver: LineageReceiver,
) -> AirflowEnv:
    """Our XCom backend, the store on S3, the catalog on PostgreSQL, lineage to ``receiver``."""
    bucket = s3_server.create_bucket()
    env = {
        "AIRFLOW__CORE__XCOM_BACKEND": BACKEND,
        "CARGOHOLD_STORE_URL": f"s3://{bucket}/store",
        "CARGOHOLD_STORE_OPTIONS": json.dumps(s3_server.options()),
        "CARGOHOLD_CATALOG_URL": catalog_url,
        "CARGOHOLD_HOME": str(tmp_path / "cargohold"),
        "OPENLINEAGE_URL": receiver.url,
        "OPENLINEAGE_NAMESPACE": "airflow-test",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return AirflowEnv(root=tmp_path, template=airflow_db_template, env=env)
