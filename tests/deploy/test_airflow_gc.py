"""Airflow's clean-up reaches the store in a real deployment (scheduler + LocalExecutor on
PostgreSQL, store on S3, catalog on PostgreSQL): one run deleted through the REST API, another's
XComs removed by ``airflow db clean``; ``cargohold gc --apply --airflow-db <metadata URL>`` then
frees exactly those two runs' blobs, and the third run's blob still loads. Without
``--airflow-db`` gc frees nothing (every XCom-owned reference still looks alive).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cargohold import Cargohold
from tests.deploy.conftest import LocalAirflow, local_airflow
from tests.deploy.dags.deploy_gc import ROWS
from tests.support.services import S3Server

pytestmark = [pytest.mark.deploy, pytest.mark.postgres, pytest.mark.s3, pytest.mark.timeout(900)]

DAG_ID = "deploy_gc"


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, deploy_s3: S3Server
) -> Iterator[LocalAirflow]:
    with local_airflow(tmp_path_factory.mktemp("gc"), deploy_s3, ["deploy_gc.py"], [DAG_ID]) as d:
        yield d


def blob_hash(deployed: LocalAirflow, run_id: str) -> str:
    value = deployed.airflow.rest.xcom(DAG_ID, run_id, "produce")
    document = json.loads(value) if isinstance(value, str) else value
    assert document["blob"]["uri"].startswith("s3://"), document  # offloaded, not inline
    return str(document["blob"]["hash"])


def gc(deployed: LocalAirflow, *extra: str) -> dict[str, Any]:
    """``cargohold gc --apply --grace-hours 0 --json`` with the deployment's cargohold settings."""
    cmd = [sys.executable, "-m", "cargohold.cli", "gc", "--apply", "--grace-hours", "0", "--json"]
    env = deployed.airflow.env
    done = subprocess.run(
        [*cmd, *extra], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_a_deleted_run_and_db_clean_free_exactly_their_blobs(deployed: LocalAirflow) -> None:
    airflow, rest = deployed.airflow, deployed.airflow.rest
    runs = []
    for _ in range(3):
        runs.append(rest.trigger(DAG_ID))
        airflow.succeed(DAG_ID, runs[-1])
        if len(runs) == 2:  # after the second run's XCom was written, before the third's
            time.sleep(1)
            between = datetime.now(UTC).isoformat()
            time.sleep(1)
    first, second, third = runs
    hashes = {run_id: blob_hash(deployed, run_id) for run_id in runs}
    hold = Cargohold.from_env(airflow.env)
    stored = {blob.hash for blob in hold.store.iter_blobs()}
    assert set(hashes.values()) <= stored

    rest.request("DELETE", f"/dags/{DAG_ID}/dagRuns/{first}")
    airflow.cli(
        "db-clean", "db", "clean", "--tables", "xcom", "--clean-before-timestamp", between,
        "--yes", "--skip-archive",
    )  # fmt: skip
    left = rest.get(f"/dags/{DAG_ID}/dagRuns/~/taskInstances/~/xcomEntries")
    assert {e["run_id"] for e in left["xcom_entries"]} == {third}

    assert gc(deployed)["count"] == 0  # without Airflow's metadata nothing looks collectable
    assert {blob.hash for blob in hold.store.iter_blobs()} == stored

    report = gc(deployed, "--airflow-db", deployed.metadata_url)
    assert sorted(report["released_xcom_owners"]) == sorted(
        f"{DAG_ID}/{run_id}/produce/-1/return_value" for run_id in (first, second)
    )
    assert len(report["expired_artifacts"]) == 2
    assert sorted(report["blob_hashes"]) == sorted([hashes[first], hashes[second]])
    assert {blob.hash for blob in hold.store.iter_blobs()} == stored - {
        hashes[first],
        hashes[second],
    }
    (artifact,) = hold.catalog.list_artifacts(dataset=f"{DAG_ID}.produce.return_value").items
    assert artifact.source is not None
    assert artifact.source.run_id == third
    assert len(hold.get(artifact.data["value"])) == ROWS
    hold.catalog.close()
