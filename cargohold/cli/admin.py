"""Administrative commands: ``init``, ``db upgrade``, ``gc``, ``cache ls|rm``, ``serve``."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargohold.cli.ids import expand_id
from cargohold.cli.output import human_bytes, short_time
from cargohold.core.errors import InvalidArgumentError

if TYPE_CHECKING:
    from cargohold.cli.main import App
    from cargohold.core.catalog.objects import Artifact

__all__ = ["register"]

_SECRET_HINT = (
    "set CARGOHOLD_PROXY_SECRET (shared by `cargohold serve` and whoever creates links), e.g. "
    "export CARGOHOLD_PROXY_SECRET=$(python -c 'import secrets; print(secrets.token_hex(32))')"
)


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the administrative commands to the ``cargohold`` parser."""
    init = commands.add_parser(
        "init", help="create the local store and the catalog", parents=[common]
    )
    init.set_defaults(handler=run_init, creates_catalog=True)

    db = commands.add_parser("db", help="catalog database schema", parents=[common])
    dbsub = db.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = dbsub.add_parser(
        "upgrade", help="migrate the catalog to the newest schema", parents=[common]
    )
    upgrade.set_defaults(handler=db_upgrade, creates_catalog=True)

    gc = commands.add_parser(
        "gc", help="delete blobs nothing references (dry run by default)", parents=[common]
    )
    gc.add_argument("--apply", action="store_true", help="really delete (default: dry run)")
    gc.add_argument(
        "--grace-hours", type=float, default=1.0, help="keep blobs younger than this (default 1)"
    )
    gc.set_defaults(handler=run_gc)

    cache = commands.add_parser("cache", help="list and remove cached results", parents=[common])
    csub = cache.add_subparsers(dest="action", metavar="ACTION", required=True)
    cls = csub.add_parser("ls", help="list cache entries", parents=[common])
    cls.add_argument("--task", help="only this task's entries")
    cls.set_defaults(handler=cache_ls)
    crm = csub.add_parser("rm", help="remove cache entries", parents=[common])
    crm.add_argument("entries", nargs="*", metavar="ENTRY_ID", help="entry ids (cache ls)")
    crm.add_argument("--task", help="remove every entry of this task")
    crm.add_argument("--all", action="store_true", help="remove every entry")
    crm.set_defaults(handler=cache_rm)

    serve = commands.add_parser(
        "serve", help="serve signed upload and download URLs", parents=[common]
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument("--quiet", action="store_true", help="do not log requests")
    serve.set_defaults(handler=run_serve)


def run_init(app: App) -> int:
    """``cargohold init``: create the local store directory and the catalog schema."""
    from cargohold.core.catalog import upgrade_schema

    settings = app.hold.settings
    store = app.hold.store
    if store.is_local:
        Path(store.root).mkdir(parents=True, exist_ok=True)
    url = settings.catalog_url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    revision = upgrade_schema(url)
    result = {
        "store_url": store.url,
        "catalog_url": url,
        "revision": revision,
        "project": settings.project,
        "domain": settings.domain,
    }
    if app.out.as_json:
        app.out.json(result)
        return 0
    app.out.fields(
        {
            "store": store.url,
            "catalog": url,
            "schema revision": revision,
            "project/domain": f"{settings.project}/{settings.domain}",
        }
    )
    if not settings.proxy_secret:
        app.out.note(f"to use `cargohold serve` and signed links: {_SECRET_HINT}")
    return 0


def db_upgrade(app: App) -> int:
    """``cargohold db upgrade``: apply the shipped migrations to the catalog."""
    from cargohold.core.catalog import upgrade_schema

    url = app.hold.settings.catalog_url
    revision = upgrade_schema(url)
    if app.out.as_json:
        app.out.json({"catalog_url": url, "revision": revision})
    else:
        app.out.line(f"catalog {url} is at schema revision {revision}")
    return 0


def run_gc(app: App) -> int:
    """``cargohold gc [--apply]``: collect unreferenced blobs older than the grace period."""
    hours = app.args.grace_hours
    if hours < 0:
        raise InvalidArgumentError(f"--grace-hours must be >= 0, got {hours}")
    report = app.catalog.collect_garbage(
        store=app.hold.store, grace=timedelta(hours=hours), dry_run=not app.args.apply
    )
    if app.out.as_json:
        app.out.json(
            {
                "dry_run": report.dry_run,
                "count": report.count,
                "bytes": report.bytes,
                "scanned": report.scanned,
                "kept_young": report.kept_young,
                "blob_hashes": list(report.blob_hashes),
            }
        )
        return 0
    verb = "would delete" if report.dry_run else "deleted"
    app.out.line(
        f"{verb} {report.count} blobs ({human_bytes(report.bytes)}) of {report.scanned} scanned; "
        f"{report.kept_young} kept as younger than {hours:g} h"
    )
    if report.dry_run and report.count:
        app.out.note("dry run: add --apply to delete them")
    return 0


def _cache_entries(app: App, task: str | None) -> list[tuple[str, Artifact]]:
    """``(task, entry artifact)`` for every cache entry of the configured project and domain."""
    from cargohold.core.cache import CacheService

    settings = app.hold.settings
    service = CacheService(catalog=app.catalog, project=settings.project, domain=settings.domain)
    return service.entries(task=task)


def cache_ls(app: App) -> int:
    """``cargohold cache ls [--task TASK]``."""
    entries = _cache_entries(app, app.args.task)
    rows: list[dict[str, Any]] = []
    for task, a in entries:
        size = int(a.metadata.get("cache_size", "0") or 0)
        used = a.metadata.get("cache_last_used", "")
        rows.append(
            {
                "id": a.id,
                "task": task,
                "cache_version": a.dataset.version,
                "key": a.tags[0] if a.tags else "",
                "size": size,
                "outputs": sorted(a.data),
                "created_at": a.created_at,
                "last_used": used or None,
            }
        )
    if app.out.as_json:
        app.out.json(rows)
        return 0
    app.out.table(
        ["ENTRY ID", "TASK", "VERSION", "KEY", "SIZE", "CREATED", "LAST USED"],
        [
            [
                r["id"],
                r["task"],
                r["cache_version"],
                str(r["key"])[:12],
                human_bytes(r["size"]),
                short_time(r["created_at"]),
                (r["last_used"] or "-")[:19],
            ]
            for r in rows
        ],
        empty=f"(no cache entries of {app.hold.settings.project}/{app.hold.settings.domain} in "
        f"the catalog {app.catalog_shown})",
    )
    return 0


def cache_rm(app: App) -> int:
    """``cargohold cache rm ENTRY_ID... | --task TASK | --all``."""
    from cargohold.core.cache import CacheService

    args = app.args
    if bool(args.entries) + bool(args.task) + bool(args.all) != 1:
        raise InvalidArgumentError("give entry ids, or --task TASK, or --all (exactly one)")
    ids = [expand_id(app, entry) for entry in args.entries] or [
        a.id for _, a in _cache_entries(app, args.task)
    ]
    CacheService(catalog=app.catalog).delete_entries(entry_ids=ids)
    if app.out.as_json:
        app.out.json({"removed": ids})
    else:
        app.out.line(f"removed {len(ids)} cache entries")
    return 0


def run_serve(app: App) -> int:
    """``cargohold serve``: the proxy server of the store, in the foreground until Ctrl-C."""
    from cargohold.core.proxy import ProxyServer

    args = app.args
    log = None if args.quiet else (lambda line: app.out.note(line))
    server = ProxyServer(hold=app.hold, host=args.host, port=args.port, log=log)
    app.out.line(f"serving {app.hold.store.url} at {server.url} (Ctrl-C stops)")
    if os.environ.get("CARGOHOLD_PROXY_URL", server.url).rstrip("/") != server.url:
        app.out.note(f"note: CARGOHOLD_PROXY_URL points elsewhere; links need {server.url}")
    sys.stdout.flush()
    app.out.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        app.out.note("stopped")
    return 0
