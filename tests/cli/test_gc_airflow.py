"""Airflow's own clean-up reaches the store (real Airflow, ``dag.test()``, a fresh AIRFLOW_HOME
with a SQLite metadata database): after one DAG run is deleted through Airflow's ``DagRun``
model and ``airflow db clean --tables xcom`` removes another run's XComs, ``cargohold gc --apply
--airflow-db URL`` frees exactly those runs' blobs; a later run's blob stays and loads.

The same check against a deployment (scheduler + LocalExecutor on PostgreSQL, the run deleted
through the REST API) belongs to tests/deploy/: it only needs ``cargohold gc --apply
--airflow-db <the deployment's sql_alchemy_conn>``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cargohold import Cargohold

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).with_name("airflow")

DAG = textwrap.dedent(
    """
    import numpy as np
    import pandas as pd
    import pendulum
    from airflow.sdk import dag, task

    @dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
    def blobs():
        @task
        def produce() -> pd.DataFrame:
            return pd.DataFrame({"v": np.random.default_rng().random(20_000)})

        produce()

    blobs()
    """
)

RUNNER = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime
    action, arg, dag_file = sys.argv[1], sys.argv[2], sys.argv[3]
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    if action == "run":
        from airflow.dag_processing.dagbag import DagBag
        run = DagBag(dag_folder=dag_file).get_dag("blobs").test(
            logical_date=datetime.fromisoformat(arg)
        )
        print(json.dumps({"run_id": run.run_id, "state": str(run.state)}))
    elif action == "delete":
        with create_session() as session:
            session.delete(session.query(DagRun).filter(DagRun.run_id == arg).one())
    elif action == "xcoms":
        with create_session() as session:
            rows = session.query(XComModel).filter(XComModel.dag_id == "blobs").all()
            print(json.dumps([{"run_id": r.run_id, "value": r.value} for r in rows], default=str))
    """
)


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("airflow-gc")
    home, dags = root / "home", root / "dags"
    dags.mkdir()
    (dags / "blobs.py").write_text(DAG)
    (root / "runner.py").write_text(RUNNER)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CARGOHOLD_", "AIRFLOW", "OPENLINEAGE"))
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        AIRFLOW__CORE__XCOM_BACKEND="cargohold.airflow_provider.xcom.CargoholdXComBackend",
        CARGOHOLD_STORE_URL=(root / "store").as_uri(),
        CARGOHOLD_CATALOG_URL=f"sqlite:///{root / 'catalog.db'}",
        PYTHONPATH=str(REPO),
    )
    done = subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {"root": root, "env": env, "db": f"sqlite:///{home / 'airflow.db'}"}


def _runner(ctx: dict[str, Any], action: str, arg: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ctx["root"] / "runner.py"), action, arg, str(ctx["root"] / "dags")],
        env=ctx["env"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(ctx["root"]),
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _blob_hash(ctx: dict[str, Any], run_id: str) -> str:
    rows = json.loads(_runner(ctx, "xcoms", "-"))
    for row in rows:
        if row["run_id"] == run_id:
            value = row["value"]
            document = json.loads(value) if isinstance(value, str) else value
            return str(document["blob"]["hash"])
    raise AssertionError(f"no XCom of run {run_id}")


def _gc(ctx: dict[str, Any], *extra: str) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cargohold.cli",
            "gc",
            "--apply",
            "--grace-hours",
            "0",
            "--json",
            *extra,
        ],
        env=ctx["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _blobs(ctx: dict[str, Any]) -> set[str]:
    return {p.name for p in (ctx["root"] / "store" / "cas").rglob("*") if p.is_file()}


@pytest.mark.timeout(900)  # three dag.test() runs, each a few subprocesses of Airflow
def test_deleted_run_and_db_clean_free_exactly_their_blobs(airflow_home: dict[str, Any]) -> None:
    ctx = airflow_home
    first = json.loads(_runner(ctx, "run", "2026-11-01T00:00:00+00:00"))["run_id"]
    second = json.loads(_runner(ctx, "run", "2026-11-02T00:00:00+00:00"))["run_id"]
    time.sleep(1)
    between = datetime.now(UTC).isoformat()  # after the second run's XComs, before the third's
    time.sleep(1)
    third = json.loads(_runner(ctx, "run", "2026-11-03T00:00:00+00:00"))["run_id"]
    first_hash, second_hash = _blob_hash(ctx, first), _blob_hash(ctx, second)
    third_hash = _blob_hash(ctx, third)

    _runner(ctx, "delete", first)  # through Airflow's own DagRun model
    clean = subprocess.run(
        [
            str(AIRFLOW), "db", "clean", "--tables", "xcom", "--clean-before-timestamp",
            between, "--yes", "--skip-archive",
        ],
        env=ctx["env"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert clean.returncode == 0, clean.stderr[-3000:]
    left = json.loads(_runner(ctx, "xcoms", "-"))
    assert [row["run_id"] for row in left] == [third]  # Airflow forgot the first two runs' XComs
    assert {first_hash, second_hash, third_hash} <= _blobs(ctx)

    without = _gc(ctx)  # without Airflow's metadata, every reference looks alive
    assert without["count"] == 0

    report = _gc(ctx, "--airflow-db", ctx["db"])
    assert sorted(report["released_xcom_owners"]) == sorted(
        [f"blobs/{first}/produce/-1/return_value", f"blobs/{second}/produce/-1/return_value"]
    )
    assert len(report["expired_artifacts"]) == 2
    assert sorted(report["blob_hashes"]) == sorted([first_hash, second_hash])
    assert _blobs(ctx) == {third_hash}

    env = ctx["env"]
    hold = Cargohold(store_url=env["CARGOHOLD_STORE_URL"], catalog_url=env["CARGOHOLD_CATALOG_URL"])
    (artifact,) = hold.catalog.list_artifacts(dataset="blobs.produce.return_value").items
    assert artifact.source is not None
    assert artifact.source.run_id == third
    assert len(hold.get(artifact.data["value"])) == 20_000
    hold.catalog.close()
