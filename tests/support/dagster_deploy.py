"""A persistent Dagster instance on PostgreSQL, its CLI and its webserver's GraphQL API, for tests.

:func:`dagster_home` writes a ``DAGSTER_HOME`` whose ``dagster.yaml`` keeps runs, events and
schedules in PostgreSQL (dagster-postgres). The URL names ``postgresql+psycopg2://``: with
SQLAlchemy 2.1 and psycopg 3 installed, a plain ``postgresql://`` URL makes dagster-postgres fail
on ``NOTIFY run_events, $1``. :class:`DagsterDeployment` runs ``dagster`` commands against that
home (bounded, failing with their output), starts ``dagster-webserver`` on a free port and
queries its GraphQL API.

Use::

    with Deployment(tmp_path) as dep:
        dagster = DagsterDeployment(dep, home=dagster_home(tmp_path, url), defs=DEFS, env=env)
        dagster.materialize("upstream", partition_range="2026-01-01...2026-01-04")
        dagster.start_webserver()
        data = dagster.graphql(QUERY, {"path": ["upstream"]})
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from tests.support.airflow_deploy import REPO, psycopg2_url
from tests.support.deploy import Deployment
from tests.support.services import free_port

__all__ = ["DagsterDeployment", "dagster_home"]

BIN = Path(sys.executable).parent
_DROP = ("CARGOHOLD_", "OPENLINEAGE", "AIRFLOW__", "AIRFLOW_HOME", "DAGSTER_")


def dagster_home(root: Path, postgres_url: str) -> Path:
    """A fresh DAGSTER_HOME under ``root`` whose instance lives in the database at
    ``postgres_url`` (any driver in the URL: psycopg2 is what dagster-postgres needs)."""
    home = root / "dagster-home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(
        "storage:\n"
        "  postgres:\n"
        f"    postgres_url: {psycopg2_url(postgres_url)}\n"
        "telemetry:\n"
        "  enabled: false\n"
    )
    return home


class DagsterDeployment:
    """The ``dagster`` CLI and webserver on one persistent instance (``home``)."""

    def __init__(
        self,
        deployment: Deployment,
        *,
        home: Path,
        defs: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.deployment = deployment
        self.home = home
        self.defs = defs
        base = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
        base.update(
            DAGSTER_HOME=str(home),
            PYTHONPATH=os.pathsep.join([str(REPO), base.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        base.update(env or {})
        self.env = base
        self.url: str | None = None
        self._runs = 0

    def materialize(
        self,
        select: str,
        *,
        partition: str | None = None,
        partition_range: str | None = None,
        timeout: float = 300.0,
    ) -> str:
        """``dagster asset materialize`` of ``select`` (a partition or a range); its output.

        Raises:
            ComponentFailed: the command failed or timed out (its output is shown).
        """
        cmd = [str(BIN / "dagster"), "asset", "materialize", "-f", str(self.defs)]
        cmd += ["--select", select]
        if partition is not None:
            cmd += ["--partition", partition]
        if partition_range is not None:
            cmd += ["--partition-range", partition_range]
        self._runs += 1
        name = f"dagster-materialize-{self._runs}"
        return self.deployment.run(name, cmd, env=self.env, timeout=timeout, cwd=self.home)

    def start_webserver(self, *, timeout: float = 180.0) -> str:
        """Start ``dagster-webserver`` on a free port and wait until it answers; its URL.

        Raises:
            ComponentFailed: it exited or did not answer in time.
        """
        port = free_port()
        cmd = [str(BIN / "dagster-webserver"), "-f", str(self.defs)]
        cmd += ["-h", "127.0.0.1", "-p", str(port)]
        self.deployment.start("dagster-webserver", cmd, env=self.env, cwd=self.home)
        url = f"http://127.0.0.1:{port}"
        self.deployment.wait_http("dagster-webserver", f"{url}/server_info", timeout=timeout)
        self.url = url
        return url

    def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, timeout: float = 60.0
    ) -> dict[str, Any]:
        """POST ``query`` to the webserver's ``/graphql``; its ``data``.

        Raises:
            ComponentFailed: (dagster-webserver) an HTTP error or GraphQL errors.
        """
        if self.url is None:
            raise RuntimeError("start_webserver() first")
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": dict(variables or {})},
            timeout=timeout,
        )
        body = response.json() if response.content else {}
        if not response.is_success or body.get("errors"):
            raise self.deployment.fail(
                "dagster-webserver", f"GraphQL {response.status_code}: {response.text[:3000]}"
            )
        return dict(body["data"])
