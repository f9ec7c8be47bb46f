"""Administrative commands: ``init``, ``db upgrade``, ``gc``, ``retention set|show``,
``cache ls|rm``, ``serve``."""

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
    from cargohold.cli.app import App
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
    gc.add_argument(
        "--no-retention",
        action="store_true",
        help="do not expire artifacts by the retention policies first",
    )
    gc.add_argument(
        "--airflow-db",
        default=os.environ.get("CARGOHOLD_AIRFLOW_DB_URL") or None,
        metavar="URL",
        help="Airflow metadata database (SQLAlchemy URL, default CARGOHOLD_AIRFLOW_DB_URL): "
        "release XCom blobs and artifacts whose XCom row Airflow deleted (db clean, deleted runs)",
    )
    gc.set_defaults(handler=run_gc)

    retention = commands.add_parser(
        "retention", help="per-dataset retention policies (applied by gc)", parents=[common]
    )
    rsub = retention.add_subparsers(dest="action", metavar="ACTION", required=True)
    rset = rsub.add_parser("set", help="set (or --clear) a dataset's policy", parents=[common])
    rset.add_argument("dataset", help="dataset name")
    rset.add_argument("--keep-last", type=int, help="keep the newest N versions per partition")
    rset.add_argument("--max-age-days", type=float, help="expire versions older than this")
    rset.add_argument("--clear", action="store_true", help="remove the policy (keep all)")
    rset.set_defaults(handler=retention_set)
    rshow = rsub.add_parser("show", help="show a dataset's policy", parents=[common])
    rshow.add_argument("dataset", help="dataset name")
    rshow.set_defaults(handler=retention_show)

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
        "serve",
        help="serve the web UI, its JSON API and signed upload and download URLs",
        parents=[common],
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787)
    serve.add_argument(
        "--token",
        help="token the pages and API require (default $CARGOHOLD_UI_TOKEN); "
        "needed to bind anything but a loopback address",
    )
    serve.add_argument(
        "--timeout-keep-alive", type=int, default=5, help="seconds idle connections stay open"
    )
    serve.add_argument(
        "--limit-concurrency", type=int, default=256, help="connections served at once"
    )
    serve.add_argument("--quiet", action="store_true", help="do not log requests")
    serve.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="drop an upload whose body stays silent this long (s, 60)",
    )
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
    """``cargohold gc [--apply]``: collect unreferenced blobs older than the grace period, and
    what crashed writers left (temporary files, incomplete multipart uploads, spool files)."""
    hours = app.args.grace_hours
    if hours < 0:
        raise InvalidArgumentError(f"--grace-hours must be >= 0, got {hours}")
    grace = timedelta(hours=hours)
    dry_run = not app.args.apply
    expired: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    if app.args.airflow_db:
        from cargohold.airflow_provider.cleanup import reconcile_xcoms

        reconciled = reconcile_xcoms(
            app.catalog, airflow_db_url=app.args.airflow_db, grace=grace, dry_run=dry_run
        )
        released = reconciled.released_owners
        expired += reconciled.expired_artifacts
    if not app.args.no_retention:
        expired += app.catalog.apply_retention(dry_run=dry_run).artifact_ids
    report = app.catalog.collect_garbage(store=app.hold.store, grace=grace, dry_run=dry_run)
    leftovers = app.hold.store.clean_leftovers(older_than=grace, dry_run=dry_run)
    if app.out.as_json:
        app.out.json(
            {
                "dry_run": report.dry_run,
                "count": report.count,
                "bytes": report.bytes,
                "scanned": report.scanned,
                "kept_young": report.kept_young,
                "blob_hashes": list(report.blob_hashes),
                "expired_artifacts": list(expired),
                "released_xcom_owners": list(released),
                "leftovers": {
                    "temporary_files": list(leftovers.temporary_files),
                    "multipart_uploads": list(leftovers.multipart_uploads),
                    "spool_files": list(leftovers.spool_files),
                    "bytes": leftovers.bytes,
                    "kept_live": leftovers.kept_live,
                },
            }
        )
        return 0
    verb = "would delete" if report.dry_run else "deleted"
    if released:
        app.out.line(f"released the blob references of {len(released)} XComs Airflow deleted")
    if expired:
        app.out.line(f"{verb} {len(expired)} expired artifact versions")
    app.out.line(
        f"{verb} {report.count} blobs ({human_bytes(report.bytes)}) of {report.scanned} scanned; "
        f"{report.kept_young} kept as younger than {hours:g} h"
    )
    app.out.line(
        f"{verb} {leftovers.count} leftovers of crashed writers "
        f"({len(leftovers.temporary_files)} temporary files, "
        f"{len(leftovers.multipart_uploads)} incomplete multipart uploads, "
        f"{len(leftovers.spool_files)} spool files; {human_bytes(leftovers.bytes)})"
    )
    if report.dry_run and (report.count or leftovers.count):
        app.out.note("dry run: add --apply to delete them")
    return 0


def _policy_fields(policy: Any) -> dict[str, Any]:
    if policy is None:
        return {"keep_last": None, "max_age_days": None}
    days = None if policy.max_age is None else policy.max_age.total_seconds() / 86_400
    return {"keep_last": policy.keep_last, "max_age_days": days}


def retention_set(app: App) -> int:
    """``cargohold retention set DATASET [--keep-last N] [--max-age-days D] | --clear``."""
    args = app.args
    given = args.keep_last is not None or args.max_age_days is not None
    if given == bool(args.clear):
        raise InvalidArgumentError("give --keep-last and/or --max-age-days, or --clear")
    max_age = None
    if args.max_age_days is not None:
        if args.max_age_days <= 0:
            raise InvalidArgumentError(f"--max-age-days must be > 0, got {args.max_age_days}")
        max_age = timedelta(days=args.max_age_days)
    policy = app.catalog.set_retention(
        dataset=args.dataset, keep_last=args.keep_last, max_age=max_age
    )
    return _show_policy(app, args.dataset, policy)


def retention_show(app: App) -> int:
    """``cargohold retention show DATASET``."""
    policy = app.catalog.get_retention(dataset=app.args.dataset)
    return _show_policy(app, app.args.dataset, policy)


def _show_policy(app: App, dataset: str, policy: Any) -> int:
    fields = _policy_fields(policy)
    if app.out.as_json:
        app.out.json({"dataset": dataset, **fields})
        return 0
    if policy is None:
        app.out.line(f"{dataset}: no retention policy (every version is kept)")
        return 0
    app.out.fields(
        {
            "dataset": dataset,
            "keep last": "-" if fields["keep_last"] is None else str(fields["keep_last"]),
            "max age": "-" if fields["max_age_days"] is None else f"{fields['max_age_days']:g} d",
        }
    )
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
    """``cargohold serve``: the web application (UI, API, data proxy) on uvicorn, in the
    foreground until Ctrl-C."""
    from cargohold.web import WebServer, WebSettings

    args = app.args
    log = None if args.quiet else (lambda line: app.out.note(line))
    env = WebSettings.from_env()
    server = WebServer(
        hold=app.hold,
        host=args.host,
        port=args.port,
        token=args.token or env.token,
        airflow_url=env.airflow_url,
        dagster_url=env.dagster_url,
        timeout_keep_alive=args.timeout_keep_alive,
        limit_concurrency=args.limit_concurrency,
        body_timeout=args.timeout,
        log=log,
    )
    app.out.line(f"serving {app.hold.store.url} and its catalog at {server.url} (Ctrl-C stops)")
    if os.environ.get("CARGOHOLD_PROXY_URL", server.url).rstrip("/") != server.url:
        app.out.note(f"note: CARGOHOLD_PROXY_URL points elsewhere; links need {server.url}")
    sys.stdout.flush()
    app.out.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        app.out.note("stopped")
    return 0
