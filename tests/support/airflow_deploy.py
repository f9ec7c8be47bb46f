"""A real Airflow 3 deployment for tests: api-server, scheduler, dag-processor, triggerer and,
with the Celery executor, Celery workers, on a PostgreSQL metadata database.

:func:`airflow_deployment` migrates the database, starts every component in a temporary
``AIRFLOW_HOME`` on free ports, waits until each is healthy and yields an
:class:`AirflowDeployment` (its REST client, its environment, a way to run ``airflow`` CLI
commands). Leaving the ``with`` block stops every process by its process group.

Settings worth knowing (all through ``AIRFLOW__*`` variables, so nothing is written to a config
file): the SimpleAuthManager with ``simple_auth_manager_all_admins`` (the REST client gets its
JWT from ``GET /auth/token``), one shared JWT secret for every component, short scheduler and
dag-processor intervals, every log server on its own free port, and (Celery) a broker on a
dedicated Redis database with queues named for this deployment alone, so two deployments (or
two test sessions) never take each other's tasks. ``extra_env`` is added to every component's
environment: the cargohold settings (XCom backend, store, catalog) go there.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.airflow_rest import AirflowRest
from tests.support.deploy import Deployment
from tests.support.services import free_port

__all__ = ["REDIS_DB", "AirflowDeployment", "airflow_deployment", "psycopg2_url"]

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
REDIS_DB = 11  # the Redis database the deployment tests' Celery broker uses
_DROP = ("CARGOHOLD_", "OPENLINEAGE", "AIRFLOW__", "AIRFLOW_HOME", "DAGSTER_")


def psycopg2_url(url: str) -> str:
    """``url`` with the psycopg2 driver (what Airflow's and Dagster's PostgreSQL code expects)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}+psycopg2://{rest}"


@dataclass
class AirflowDeployment:
    """A running deployment: its REST client, environment, home and processes."""

    rest: AirflowRest
    env: dict[str, str]
    home: Path
    deployment: Deployment
    executor: str
    queue_prefix: str

    def cli(self, name: str, *args: str, timeout: float = 180.0) -> str:
        """Run ``airflow *args`` with the deployment's environment; its output.

        Raises:
            ComponentFailed: the command failed or timed out (its output is shown).
        """
        return self.deployment.run(
            name, [str(BIN / "airflow"), *args], env=self.env, timeout=timeout
        )

    def succeed(self, dag_id: str, run_id: str, *, timeout: float = 420.0) -> dict[str, Any]:
        """Wait for the run to finish and fail unless it succeeded; the run.

        Raises:
            AssertionError: the run failed (the message lists its task instances and the errors
                in the logs of those that failed) or did not finish in time.
        """
        run = self.rest.wait_for_run(dag_id, run_id, timeout=timeout)
        if run["state"] != "success":
            raise AssertionError(
                f"run {dag_id}/{run_id} ended {run['state']}\n"
                f"{self.rest.explain(dag_id, run_id)}\n{self.task_errors(dag_id, run_id)}"
            )
        return run

    def task_errors(self, dag_id: str, run_id: str, *, chars: int = 4000) -> str:
        """The error events in the task logs of the run's failed task instances."""
        out = []
        for ti in self.rest.task_instances(dag_id, run_id):
            if ti["state"] not in ("failed", "up_for_retry", "upstream_failed"):
                continue
            folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
            for log in sorted((folder / f"task_id={ti['task_id']}").glob("**/attempt=*.log")):
                lines = log.read_text(errors="replace").splitlines()
                errors = [_error_line(line) for line in lines if '"level":"error"' in line]
                out.append(f"--- {log.relative_to(self.home)} ---\n" + "\n".join(errors)[-chars:])
        return "\n".join(out)


def _error_line(line: str) -> str:
    """An error event of a task log (JSON lines): its message, exception and innermost frame."""
    try:
        event = json.loads(line)
    except ValueError:
        return line
    text = str(event.get("event", ""))
    for detail in event.get("error_detail") or []:
        frames = detail.get("frames") or [{}]
        where = f"{frames[-1].get('filename')}:{frames[-1].get('lineno')}"
        text += f"\n  {detail.get('exc_type')}: {detail.get('exc_value')} (at {where})"
    return text


@contextmanager
def airflow_deployment(
    root: Path,
    *,
    metadata_url: str,
    dags_folder: Path,
    executor: str = "LocalExecutor",
    celery_workers: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    start_timeout: float = 240.0,
    triggerer: bool = True,
) -> Iterator[AirflowDeployment]:
    """Start an Airflow deployment rooted at ``root`` (see the module docstring).

    ``celery_workers`` names the workers (CeleryExecutor only); worker ``w`` serves the
    deployment's default queue and the queue ``<queue_prefix><w>``, so a task can be sent to one
    worker with ``queue=f"{prefix}{w}"`` (``DEPLOY_QUEUE_PREFIX`` in the environment).
    ``triggerer=False`` starts no triggerer (for DAGs that never defer: one process less).

    Raises:
        ComponentFailed: a component failed to migrate, start or become healthy.
    """
    home = root / "airflow-home"
    home.mkdir(parents=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    prefix = f"deploy-{uuid.uuid4().hex[:8]}-"
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(
        AIRFLOW_HOME=str(home),
        PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        DEPLOY_QUEUE_PREFIX=prefix,
        AIRFLOW__CORE__EXECUTOR=executor,
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__CORE__PARALLELISM="8",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{base_url}/execution/",
        AIRFLOW__CORE__AUTH_MANAGER=(
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=psycopg2_url(metadata_url),
        AIRFLOW__API__BASE_URL=base_url,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(16),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(32),
        AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="0.5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC="2",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="30",
        AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="2",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )
    if executor == "CeleryExecutor":
        env.update(
            AIRFLOW__CELERY__BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
            AIRFLOW__CELERY__RESULT_BACKEND="db+" + psycopg2_url(metadata_url),
            AIRFLOW__OPERATORS__DEFAULT_QUEUE=f"{prefix}default",
            AIRFLOW__CELERY__WORKER_CONCURRENCY="4",
        )
    env.update(extra_env or {})
    airflow = str(BIN / "airflow")
    with Deployment(root) as dep:
        dep.run("db-migrate", [airflow, "db", "migrate"], env=env, timeout=300)
        dep.start("api-server", [airflow, "api-server", "--port", str(port)], env=env)
        dep.start("scheduler", [airflow, "scheduler"], env=env)
        dep.start("dag-processor", [airflow, "dag-processor"], env=env)
        if triggerer:
            dep.start("triggerer", [airflow, "triggerer"], env=env)
        for worker in celery_workers:
            worker_env = dict(env, AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
            queues = f"{prefix}default,{prefix}{worker}"
            cmd = [airflow, "celery", "worker", "-q", queues, "-H", f"{worker}@%h"]
            dep.start(f"celery-{worker}", [*cmd, "--without-gossip"], env=worker_env)
        dep.wait_http("api-server", f"{base_url}/api/v2/monitor/health", timeout=start_timeout)
        rest = AirflowRest(base_url, deployment=dep)
        try:
            _wait_healthy(dep, rest, timeout=start_timeout, triggerer=triggerer)
            for worker in celery_workers:
                _wait_celery_worker(dep, worker, timeout=start_timeout)
            yield AirflowDeployment(
                rest=rest,
                env=env,
                home=home,
                deployment=dep,
                executor=executor,
                queue_prefix=prefix,
            )
        finally:
            rest.close()
            if celery_workers:
                dep.stop()
                _forget_queues(prefix)


def _forget_queues(prefix: str) -> None:
    """Delete this deployment's keys (queues, bindings) from the broker's Redis database."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _wait_healthy(
    dep: Deployment, rest: AirflowRest, *, timeout: float, triggerer: bool = True
) -> None:
    """Wait until the health endpoint reports scheduler, dag-processor and (when started)
    triggerer healthy."""
    parts = {"scheduler": "scheduler", "dag_processor": "dag-processor"}
    if triggerer:
        parts["triggerer"] = "triggerer"
    for key, component in parts.items():

        def healthy(key: str = key) -> bool | None:
            health = rest._client.get("/api/v2/monitor/health").json()
            return True if (health.get(key) or {}).get("status") == "healthy" else None

        dep.wait_for(component, healthy, timeout=timeout, what=f"{key} reported healthy")


def _wait_celery_worker(dep: Deployment, worker: str, *, timeout: float) -> None:
    """Wait until the worker's log says it is ready (Celery prints ``... ready.``)."""
    name = f"celery-{worker}"

    def ready() -> bool | None:
        return True if " ready." in dep.log(name) else None

    dep.wait_for(name, ready, timeout=timeout, what="celery worker ready")
