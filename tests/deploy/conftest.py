"""Fixtures of the deployment tier: moto's S3 server in its own process, service checks.

The tier starts real Airflow and Dagster deployments (see ``tests/support/airflow_deploy.py``
and ``tests/support/dagster_deploy.py``); outside CI it skips when PostgreSQL or Redis is down,
in CI it fails.
"""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.airflow_deploy import AirflowDeployment, airflow_deployment
from tests.support.services import (
    S3Server,
    moto_s3,
    postgres_database,
    require_postgres,
    unavailable,
)

DAGS = Path(__file__).with_name("dags")
XCOM_BACKEND = "cargohold.airflow_provider.xcom.CargoholdXComBackend"


@pytest.fixture(scope="session")
def deploy_s3() -> Iterator[S3Server]:
    """moto's S3 server over HTTP in its own process (the deployments' processes reach it)."""
    with moto_s3(separate_process=True) as server:
        yield server


def require_redis() -> None:
    """Skip (fail in CI) when Redis does not answer at 127.0.0.1:6379."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return
    except OSError as exc:
        unavailable(f"Redis is not reachable at 127.0.0.1:6379 ({exc})")


def cargohold_env(s3: S3Server, *, catalog_url: str, home: Path) -> dict[str, str]:
    """The cargohold settings of a deployment: a fresh bucket, the catalog at ``catalog_url``."""
    bucket = s3.create_bucket()
    return {
        "CARGOHOLD_STORE_URL": f"s3://{bucket}/store",
        "CARGOHOLD_STORE_OPTIONS": json.dumps(s3.options()),
        "CARGOHOLD_CATALOG_URL": catalog_url,
        "CARGOHOLD_HOME": str(home),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@dataclass
class LocalAirflow:
    """A LocalExecutor deployment and the URLs of its metadata database and catalog."""

    airflow: AirflowDeployment
    metadata_url: str  # the ``postgresql+psycopg://`` form (the deployment uses psycopg2)
    catalog_url: str


@contextmanager
def local_airflow(
    root: Path, s3: S3Server, dag_files: Sequence[str], dag_ids: Sequence[str]
) -> Iterator[LocalAirflow]:
    """A LocalExecutor deployment (cargohold's XCom backend, store on ``s3``, catalog and
    metadata on fresh PostgreSQL databases) whose DAGs folder holds only ``dag_files`` (names
    in ``tests/deploy/dags/``); waits until ``dag_ids`` are parsed and unpaused."""
    require_postgres()
    dags = root / "dags"
    dags.mkdir()
    for name in dag_files:
        shutil.copy(DAGS / name, dags / name)
    with postgres_database() as metadata_url, postgres_database() as catalog_url:
        env = cargohold_env(s3, catalog_url=catalog_url, home=root / "cargohold")
        env["AIRFLOW__CORE__XCOM_BACKEND"] = XCOM_BACKEND
        with airflow_deployment(
            root, metadata_url=metadata_url, dags_folder=dags, extra_env=env
        ) as deployment:
            deployment.rest.wait_for_dags(dag_ids, timeout=240)
            yield LocalAirflow(deployment, metadata_url, catalog_url)
