"""A small client of Airflow 3's REST API (``/api/v2``) for deployment tests.

It gets a JWT from the SimpleAuthManager (``GET /auth/token``, which answers without credentials
when ``[core] simple_auth_manager_all_admins`` is true) and sends it as a bearer token. Every
call and every wait is bounded; a wait that runs out raises through the deployment so the
failure names the component and shows its log (see :mod:`tests.support.deploy`).

Use::

    rest = AirflowRest(base_url, deployment=dep)
    rest.wait_for_dags(["my_dag"], timeout=120)
    run_id = rest.trigger("my_dag", conf={"n": 3})
    run = rest.wait_for_run("my_dag", run_id, timeout=300)
    assert run["state"] == "success", rest.explain("my_dag", run_id)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from tests.support.deploy import Deployment

__all__ = ["TERMINAL_RUN_STATES", "AirflowRest"]

TERMINAL_RUN_STATES = frozenset({"success", "failed"})


class AirflowRest:
    """Calls ``base_url``'s ``/api/v2`` with a token; waits fail through ``deployment``."""

    def __init__(
        self,
        base_url: str,
        *,
        deployment: Deployment,
        component: str = "scheduler",
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.deployment = deployment
        self.component = component
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)
        self._token: str | None = None

    def close(self) -> None:
        self._client.close()

    def token(self) -> str:
        """A JWT from ``GET /auth/token`` (cached)."""
        if self._token is None:
            response = self._client.get("/auth/token")
            response.raise_for_status()
            self._token = str(response.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """``method path`` under ``/api/v2``, with the token; the decoded JSON answer.

        Raises:
            httpx.HTTPStatusError: a non-2xx answer (its body is in the message).
        """
        headers = {"Authorization": f"Bearer {self.token()}"}
        response = self._client.request(method, f"/api/v2{path}", headers=headers, **kwargs)
        if not response.is_success:
            raise httpx.HTTPStatusError(
                f"{method} {path}: {response.status_code} {response.text[:2000]}",
                request=response.request,
                response=response,
            )
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def wait_for_dags(self, dag_ids: Iterable[str], *, timeout: float) -> None:
        """Wait until the dag-processor has parsed every DAG in ``dag_ids`` without import
        errors, and unpause them.

        Raises:
            ComponentFailed: (dag-processor) not all parsed in time, or an import error.
        """
        wanted = set(dag_ids)

        def parsed() -> bool | None:
            errors = self.get("/importErrors")["import_errors"]
            if errors:
                raise self.deployment.fail("dag-processor", f"DAG import errors: {errors}")
            have = {d["dag_id"] for d in self.get("/dags", limit=100)["dags"]}
            return True if wanted <= have else None

        self.deployment.wait_for(
            "dag-processor", parsed, timeout=timeout, what=f"DAGs {sorted(wanted)} parsed"
        )
        for dag_id in wanted:
            self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(
        self,
        dag_id: str,
        *,
        conf: Mapping[str, Any] | None = None,
        logical_date: str | None = None,
        run_id: str | None = None,
        partition_key: str | None = None,
    ) -> str:
        """Trigger a run of ``dag_id``; its run id."""
        body: dict[str, Any] = {"logical_date": logical_date, "conf": dict(conf or {})}
        if run_id is not None:
            body["dag_run_id"] = run_id
        if partition_key is not None:
            body["partition_key"] = partition_key
        return str(self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/dags/{dag_id}/dagRuns/{run_id}"))

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        *,
        timeout: float,
        states: frozenset[str] = TERMINAL_RUN_STATES,
    ) -> dict[str, Any]:
        """Wait until the run reaches one of ``states``; the run as the API shows it.

        Raises:
            ComponentFailed: (the scheduler) not within ``timeout``; the message lists the task
                instances' states.
        """

        def done() -> dict[str, Any] | None:
            run = self.run(dag_id, run_id)
            return run if run["state"] in states else None

        try:
            return self.deployment.wait_for(
                self.component, done, timeout=timeout, what=f"run {dag_id}/{run_id} finishing"
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.explain(dag_id, run_id)}") from None

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (mapped ones one per map index)."""
        found = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)
        return list(found["task_instances"])

    def task_instance(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> dict[str, Any]:
        for ti in self.task_instances(dag_id, run_id):
            if ti["task_id"] == task_id and ti["map_index"] == map_index:
                return ti
        raise KeyError(f"no task instance {dag_id}/{run_id}/{task_id}[{map_index}]")

    def wait_for_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str, *, timeout: float
    ) -> dict[str, Any]:
        """Wait until a task instance is in ``state`` (e.g. ``deferred``)."""

        def reached() -> dict[str, Any] | None:
            ti = self.task_instance(dag_id, run_id, task_id)
            return ti if ti["state"] == state else None

        return self.deployment.wait_for(
            self.component, reached, timeout=timeout, what=f"{dag_id}.{task_id} {state}"
        )

    def xcom_entries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """The XCom entries of a task (every key and map index)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries"
        return list(self.get(path, limit=1000)["xcom_entries"])

    def xcom(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        key: str = "return_value",
        *,
        map_index: int = -1,
    ) -> Any:
        """One XCom entry's value, as the API returns it (the document the backend stored)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.get(path, map_index=map_index)["value"]

    def explain(self, dag_id: str, run_id: str) -> str:
        """The run's task instances' states and tries, for failure messages."""
        try:
            tis = self.task_instances(dag_id, run_id)
        except Exception as exc:
            return f"(task instances unavailable: {exc})"
        rows = [
            f"  {t['task_id']}[{t['map_index']}]: {t['state']} try {t['try_number']}"
            f" on {t.get('hostname')}"
            for t in sorted(tis, key=lambda t: (t["task_id"], t["map_index"]))
        ]
        return "task instances:\n" + "\n".join(rows)
