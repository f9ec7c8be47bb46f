"""The Airflow plugin: cargohold's web application inside Airflow's API server and UI.

Registered by the provider (``get_provider_info()["plugins"]``), it adds:

* the application (:func:`cargohold.web.create_app`) mounted at ``/cargohold`` of the API
  server, behind Airflow's own auth manager: the caller's JWT (``Authorization: Bearer`` or the
  UI's ``_token`` cookie) must name a user who may read assets (catalog pages) or read the
  DAG's XComs (``/runs/{dag_id}/...``, the task-instance view). The signed data routes
  (``/v1/data``) carry their own signatures and need no login.
* a "Data" view on the task-instance page (what that task instance wrote and read, instead of
  the raw XCom document), and a "Data catalog" nav entry.

Airflow 3.3's external views have no ``asset`` destination; asset pages are reached from the
catalog (each dataset page links its lineage).
"""

from __future__ import annotations

import threading
from typing import Any

from airflow.plugins_manager import AirflowPlugin

__all__ = ["URL_PREFIX", "CargoholdPlugin", "PluginApp"]

URL_PREFIX = "/cargohold"
_PUBLIC = ("/v1/data/", "/static/")
_COOKIE = "_token"


class PluginApp:
    """An ASGI app that authorizes each request with Airflow's auth manager, then hands it to
    the cargohold application (built from ``CARGOHOLD_*`` settings on the first request, so
    importing the plugin connects to nothing)."""

    def __init__(self) -> None:
        self._app: Any = None
        self._lock = threading.Lock()

    def _inner(self) -> Any:
        with self._lock:
            if self._app is None:
                from cargohold.core.hold import Cargohold
                from cargohold.web import WebSettings, create_app

                settings = WebSettings.from_env(token=None)  # Airflow authenticates
                self._app = create_app(hold=Cargohold.from_env(), settings=settings)
            return self._app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._inner()(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        request = Request(scope)
        path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
        relative = path[len(root) :] if root and path.startswith(root) else path
        if not relative.startswith(_PUBLIC):
            status, message = await _authorize(request, relative)
            if status != 200:
                await JSONResponse({"error": message}, status_code=status)(scope, receive, send)
                return
        await self._inner()(scope, receive, send)


async def _authorize(request: Any, path: str) -> tuple[int, str]:
    """``(200, "")`` when Airflow's auth manager lets the caller read this page."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        AssetDetails,
        DagAccessEntity,
        DagDetails,
    )

    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    token = token or request.cookies.get(_COOKIE)
    if not token:
        return 401, "log in to Airflow first (no Airflow token on this request)"
    manager = get_auth_manager()
    try:
        user = await manager.get_user_from_token(token)
    except Exception:  # expired or forged tokens: the auth manager's own errors
        return 401, "the Airflow token is invalid or expired; log in again"
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        parts = parts[1:]
    if len(parts) >= 2 and parts[0] == "runs":
        dag_id = parts[1]
        allowed = manager.is_authorized_dag(
            method="GET",
            access_entity=DagAccessEntity.XCOM,
            details=DagDetails(id=dag_id),
            user=user,
        )
        what = f"the XComs of DAG {dag_id}"
    else:
        allowed = manager.is_authorized_asset(method="GET", details=AssetDetails(), user=user)
        what = "assets"
    if not allowed:
        return 403, f"your Airflow role may not read {what}"
    return 200, ""


class CargoholdPlugin(AirflowPlugin):
    """Mounts the cargohold web UI in Airflow's API server and adds its views to Airflow's UI."""

    name = "cargohold"
    fastapi_apps = [{"app": PluginApp(), "url_prefix": URL_PREFIX, "name": "cargohold"}]  # noqa: RUF012
    external_views = [  # noqa: RUF012
        {
            "name": "Data catalog",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": "cargohold",
            "icon": f"{URL_PREFIX}/static/favicon.svg",
        },
        {
            "name": "Data",
            "href": f"{URL_PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}?task={{TASK_ID}}",
            "destination": "task_instance",
            "url_route": "cargohold-data",
        },
    ]
