"""The ASGI application: catalog and lineage pages, their JSON API, and the data proxy.

``create_app(hold=...)`` returns a Starlette application::

    GET  /                                        datasets (search, keyset pages)
    GET  /datasets/{project}/{domain}/{name}/{version}   partitions, versions, tags
    GET  /artifacts/{artifact_id}                 schema, rows, size, hash, source, preview, link
    GET  /lineage/artifacts/{artifact_id}         the graph around an artifact
    GET  /lineage/datasets/{project}/{domain}/{name}/{version}
    GET  /runs/{job}/{run_id}?task=T              what a run (task) wrote and read
    GET  /cache                                   cache entries
    GET  /resolve?url=cargohold://...             redirect to the artifact a URL names
    GET  /api/...                                 the same data as JSON (every page has one)
    GET|HEAD|PUT /v1/data/{path}?expires&md5&sig  the signed data proxy (see :mod:`.data`)

Pages are read-only: the only write is a signed PUT. With a token set, pages and the API need
it (``Authorization: Bearer``, or ``?token=`` once, which sets a cookie); the data routes carry
their own signatures.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from cargohold.core.cache import CacheService
from cargohold.core.catalog.objects import DatasetID
from cargohold.core.errors import (
    BlobNotFoundError,
    CargoholdError,
    ConfigurationError,
    InvalidArgumentError,
    NotFoundError,
    ProxyError,
    SerializationError,
    StorageError,
)
from cargohold.core.proxy.service import DataProxy
from cargohold.core.proxy.signing import DEFAULT_MAX_EXPIRES_IN, UrlSigner
from cargohold.core.proxy.urls import SCHEME
from cargohold.web import lineage, views
from cargohold.web.data import DataRoutes
from cargohold.web.preview import preview_table

if TYPE_CHECKING:
    from cargohold.core.hold import Cargohold

__all__ = ["WebSettings", "create_app"]

_HERE = Path(__file__).parent
_COOKIE = "cargohold_token"
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)
_LINK_SECONDS = 900


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """How the application behaves (everything optional).

    Attributes:
        secret: signs data-proxy URLs (default the hold's ``proxy_secret``).
        max_expires_in: the longest a signed URL lives.
        token: required by pages and the API when set.
        airflow_url, dagster_url: UIs that source links point into.
        preview_rows, preview_columns: how much of a table the artifact page shows.
        max_upload_bytes: the largest upload on a link without an MD5 (default the hold's
            ``proxy_max_upload_bytes``, ``CARGOHOLD_PROXY_MAX_UPLOAD_BYTES``).
        body_timeout: seconds an upload's body may stay silent before the upload is dropped.
    """

    secret: str | None = None
    max_expires_in: timedelta = DEFAULT_MAX_EXPIRES_IN
    token: str | None = None
    airflow_url: str | None = None
    dagster_url: str | None = None
    preview_rows: int = 20
    preview_columns: int = 20
    max_upload_bytes: int | None = None
    body_timeout: float = 60.0

    @classmethod
    def from_env(cls, **overrides: Any) -> WebSettings:
        """Read ``CARGOHOLD_UI_TOKEN``, ``CARGOHOLD_AIRFLOW_UI_URL`` and
        ``CARGOHOLD_DAGSTER_UI_URL``; ``overrides`` win."""
        env = os.environ
        values: dict[str, Any] = {
            "token": env.get("CARGOHOLD_UI_TOKEN") or None,
            "airflow_url": env.get("CARGOHOLD_AIRFLOW_UI_URL") or None,
            "dagster_url": env.get("CARGOHOLD_DAGSTER_UI_URL") or None,
        }
        return cls(**(values | overrides))


class _TokenGate:
    """Pages and API need the token; data routes and static files do not."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _ok(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/v1/data/", "/static/")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self._ok(auth[7:].strip()):
            await self.app(scope, receive, send)
            return
        cookie = SimpleCookie(headers.get("cookie", ""))
        if _COOKIE in cookie and self._ok(cookie[_COOKIE].value):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
        given = dict(query).get("token")
        if self._ok(given):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            target = scope.get("root_path", "") + path + (f"?{rest}" if rest else "")
            response: Response = RedirectResponse(target, status_code=303)
            response.set_cookie(_COOKIE, given or "", httponly=True, samesite="strict")
        else:
            response = JSONResponse(
                {"error": "this catalog needs its token: Authorization: Bearer <token>"},
                status_code=401,
            )
        await response(scope, receive, send)


class _SecurityHeaders:
    """Adds the security headers, and ``Server-Timing: app;dur=<ms>`` (time to the response's
    first byte inside the application)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - start) * 1000
                headers = list(message.get("headers", []))
                headers += [
                    (b"server-timing", f"app;dur={took:.2f}".encode()),
                    (b"content-security-policy", _CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidArgumentError(f"{name} must be an integer, got {raw!r}") from None


def _dataset_id(request: Request) -> DatasetID:
    p = request.path_params
    return DatasetID(project=p["project"], domain=p["domain"], name=p["name"], version=p["version"])


class _Handlers:
    """The page and API handlers of one hold (sync: Starlette runs them on its thread pool)."""

    def __init__(self, hold: Cargohold, settings: WebSettings) -> None:
        self.hold = hold
        self.settings = settings
        self.links = views.Links(airflow_url=settings.airflow_url, dagster_url=settings.dagster_url)
        self.templates = Jinja2Templates(directory=str(_HERE / "templates"))
        self.templates.env.globals["human_bytes"] = _human_bytes

    # -- data gathering (one function per page, shared by the page and its API) ----------------

    def datasets(self, request: Request) -> dict[str, Any]:
        return views.datasets_view(
            self.hold.catalog,
            query=request.query_params.get("q", "").strip(),
            page_token=request.query_params.get("page_token") or None,
            limit=_int(request, "limit", views.PAGE_SIZE),
        )

    def dataset(self, request: Request) -> dict[str, Any]:
        return views.dataset_view(
            self.hold.catalog,
            dataset=_dataset_id(request),
            page_token=request.query_params.get("page_token") or None,
            limit=_int(request, "limit", views.DATASET_PAGE_SIZE),
        )

    def artifact(self, request: Request) -> dict[str, Any]:
        view = views.artifact_view(
            self.hold.catalog, artifact_id=request.path_params["artifact_id"], links=self.links
        )
        rows = _int(request, "rows", self.settings.preview_rows)
        columns = _int(request, "columns", self.settings.preview_columns)
        for output in view["data"]:
            output["download"] = self._link(request, view["id"], output)
            if output.get("previewable"):
                output["preview"] = self._preview(view["id"], output["name"], rows, columns)
        return view

    def _preview(self, artifact_id: str, output: str, rows: int, columns: int) -> dict[str, Any]:
        artifact = self.hold.catalog.get_artifact(artifact_id=artifact_id)
        blob = artifact.data[output].blob
        if blob is None:
            return {"error": f"output {output!r} is inline; its value is on the page"}
        try:
            return preview_table(blob, self.hold.store, rows=rows, columns=columns)
        except (SerializationError, StorageError) as exc:
            return {"error": str(exc)}

    def _proxy(self, request: Request) -> DataProxy:
        base = f"{request.url.scheme}://{request.url.netloc}{_base(request)}"
        return DataProxy(
            hold=self.hold,
            base_url=base,
            secret=self.settings.secret,
            max_expires_in=self.settings.max_expires_in,
        )

    def _link(self, request: Request, artifact_id: str, output: dict[str, Any]) -> dict[str, Any]:
        if output["inline"]:
            return {"error": "inline value: nothing to download"}
        try:
            link = self._proxy(request).create_download_link(
                artifact=artifact_id, output=output["name"], expires_in=_LINK_SECONDS
            )
        except (ConfigurationError, ProxyError, StorageError) as exc:
            return {"error": str(exc)}
        return link.to_dict()

    def preview(self, request: Request) -> dict[str, Any]:
        artifact_id = request.path_params["artifact_id"]
        artifact = self.hold.catalog.get_artifact(artifact_id=artifact_id)
        output = request.query_params.get("output") or None
        names = sorted(artifact.data)
        if output is None:
            tables = [n for n in names if artifact.data[n].blob is not None]
            output = tables[0] if tables else None
        if output is None or output not in artifact.data:
            raise NotFoundError(f"artifact {artifact_id} has no table output {output!r}; {names}")
        result = self._preview(
            artifact_id,
            output,
            _int(request, "rows", self.settings.preview_rows),
            _int(request, "columns", self.settings.preview_columns),
        )
        if "error" in result:
            raise SerializationError(result["error"])
        return {"artifact_id": artifact_id, "output": output, **result}

    def link(self, request: Request) -> dict[str, Any]:
        artifact_id = request.path_params["artifact_id"]
        link = self._proxy(request).create_download_link(
            artifact=artifact_id,
            output=request.query_params.get("output") or None,
            expires_in=_LINK_SECONDS,
        )
        return link.to_dict()

    def artifact_lineage(self, request: Request) -> dict[str, Any]:
        artifact_id = request.path_params["artifact_id"]
        graph = lineage.artifact_graph(
            self.hold.catalog,
            artifact_id=artifact_id,
            depth=_int(request, "depth", 3),
            max_nodes=_int(request, "max_nodes", 200),
        )
        return {
            "title": f"artifact {artifact_id}",
            "api": f"/api/lineage/artifacts/{artifact_id}",
        } | graph

    def dataset_lineage(self, request: Request) -> dict[str, Any]:
        dataset = _dataset_id(request)
        graph = lineage.dataset_graph(
            self.hold.catalog,
            dataset=dataset,
            depth=_int(request, "depth", 3),
            max_nodes=_int(request, "max_nodes", 200),
        )
        api = "/api/lineage" + views.dataset_path(dataset)
        return {"title": f"dataset {dataset}", "api": api} | graph

    def cache(self, request: Request) -> dict[str, Any]:
        settings = self.hold.settings
        service = CacheService(
            catalog=self.hold.catalog, project=settings.project, domain=settings.domain
        )
        task = request.query_params.get("task") or None
        return {"task": task} | views.cache_view(service.entries(task=task))

    def run(self, request: Request) -> dict[str, Any]:
        return views.run_view(
            self.hold.catalog,
            job=request.path_params["job"],
            run_id=request.path_params["run_id"],
            task=request.query_params.get("task") or None,
            links=self.links,
        )

    def resolve(self, request: Request) -> dict[str, Any]:
        raw = request.query_params.get("url", "")
        if not raw.startswith(f"{SCHEME}://"):
            raise ProxyError(f"give ?url={SCHEME}://project/domain/dataset..., got {raw!r}")
        artifact = self._proxy(request).resolve_artifact(raw)
        return {"url": raw, "artifact_id": artifact.id, "path": f"/artifacts/{artifact.id}"}

    # -- endpoints --------------------------------------------------------------------------

    def page(
        self, template: str, gather: Callable[[Request], dict[str, Any]]
    ) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                data = gather(request)
            except CargoholdError as exc:
                status = _status(exc)
                return self.templates.TemplateResponse(
                    request,
                    "error.html",
                    {"base": _base(request), "status": status, "message": str(exc)},
                    status_code=status,
                )
            return self.templates.TemplateResponse(
                request, template, {"base": _base(request), "data": data}
            )

        return endpoint

    def api(self, gather: Callable[[Request], dict[str, Any]]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(gather(request))
            except CargoholdError as exc:
                return JSONResponse({"error": str(exc)}, status_code=_status(exc))

        return endpoint

    def redirect(self, request: Request) -> Response:
        try:
            found = self.resolve(request)
        except CargoholdError as exc:
            return self.templates.TemplateResponse(
                request,
                "error.html",
                {"base": _base(request), "status": _status(exc), "message": str(exc)},
                status_code=_status(exc),
            )
        return RedirectResponse(_base(request) + found["path"], status_code=303)


def _status(exc: CargoholdError) -> int:
    if isinstance(exc, NotFoundError | BlobNotFoundError):
        return 404
    if isinstance(exc, InvalidArgumentError | ProxyError | SerializationError):
        return 400
    return 500


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


_DS = "/{project}/{domain}/{name}/{version}"


def create_app(*, hold: Cargohold, settings: WebSettings | None = None) -> ASGIApp:
    """The web application of ``hold``: pages, JSON API, static files and the data proxy.

    Raises:
        ConfigurationError: (on the first signed request or link) no proxy secret.
    """
    settings = settings or WebSettings()
    if settings.secret is None and hold.settings.proxy_secret:
        settings = replace(settings, secret=hold.settings.proxy_secret)
    h = _Handlers(hold, settings)
    pages: list[tuple[str, str, Callable[[Request], dict[str, Any]]]] = [
        ("/", "datasets.html", h.datasets),
        ("/datasets" + _DS, "dataset.html", h.dataset),
        ("/artifacts/{artifact_id}", "artifact.html", h.artifact),
        ("/lineage/artifacts/{artifact_id}", "lineage.html", h.artifact_lineage),
        ("/lineage/datasets" + _DS, "lineage.html", h.dataset_lineage),
        ("/runs/{job}/{run_id}", "run.html", h.run),
        ("/cache", "cache.html", h.cache),
    ]
    routes: list[Route | Mount] = []
    for path, template, gather in pages:
        routes.append(Route(path, h.page(template, gather), methods=["GET"]))
        api_path = "/api/datasets" if path == "/" else "/api" + path
        routes.append(Route(api_path, h.api(gather), methods=["GET"]))
    routes += [
        Route("/api/artifacts/{artifact_id}/preview", h.api(h.preview), methods=["GET"]),
        Route("/api/artifacts/{artifact_id}/link", h.api(h.link), methods=["GET"]),
        Route("/api/resolve", h.api(h.resolve), methods=["GET"]),
        Route("/resolve", h.redirect, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=str(_HERE / "static")), name="static"),
    ]
    signer_secret = settings.secret
    if signer_secret:
        routes += DataRoutes(
            store=hold.store,
            signer=UrlSigner(secret=signer_secret, max_expires_in=settings.max_expires_in),
            max_upload_bytes=(
                hold.settings.proxy_max_upload_bytes
                if settings.max_upload_bytes is None
                else settings.max_upload_bytes
            ),
            body_timeout=settings.body_timeout,
        ).routes()
    else:
        routes.append(Route("/v1/data/{path:path}", _no_secret, methods=["GET", "HEAD", "PUT"]))

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = exc.detail if isinstance(exc, HTTPException) else "not found"
        return JSONResponse({"error": f"no route {request.url.path}: {detail}"}, status_code=404)

    app: ASGIApp = Starlette(routes=routes, exception_handlers={404: not_found})
    if settings.token:
        app = _TokenGate(app, settings.token)
    return _SecurityHeaders(app)


async def _no_secret(request: Request) -> Response:
    return JSONResponse(
        {"error": "this server has no CARGOHOLD_PROXY_SECRET; it cannot check signed URLs"},
        status_code=403,
    )
