"""Catalog commands: ``datasets ls``, ``artifacts ls|show|get|download|link``, ``query latest``,
``lineage``.

An artifact is named by its id or by a ``cargohold://`` URL
(``cargohold://{project}/{domain}/{dataset}[@{version}|:{tag}][/{key}={value}...][/{output}]``);
a dataset by ``name`` (the default project and domain) or ``project/domain/name[@version]``.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from cargohold.cli.ids import resolve_artifact
from cargohold.cli.lineage import run_lineage
from cargohold.cli.output import ProgressBar, artifact_dict, human_bytes, short_time
from cargohold.core.errors import InvalidArgumentError, ProxyError

if TYPE_CHECKING:
    from cargohold.cli.app import App
    from cargohold.core.catalog.objects import Artifact, DatasetID

__all__ = ["artifact_dict", "parse_dataset", "parse_partitions", "register"]

_PROGRESS_MIN = 8 << 20


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the catalog commands to the ``cargohold`` parser."""
    datasets = commands.add_parser("datasets", help="list datasets", parents=[common])
    dsub = datasets.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = dsub.add_parser("ls", help="list datasets", parents=[common])
    ls.add_argument("--name-prefix", help="only names starting with this")
    ls.add_argument("--all-projects", action="store_true", help="ignore project and domain")
    ls.add_argument("--limit", type=int, default=100)
    ls.set_defaults(handler=datasets_ls)

    artifacts = commands.add_parser(
        "artifacts", help="list, show and fetch artifacts", parents=[common]
    )
    asub = artifacts.add_subparsers(dest="action", metavar="ACTION", required=True)
    als = asub.add_parser("ls", help="list artifacts, newest first", parents=[common])
    als.add_argument("dataset", nargs="?", help="name or project/domain/name[@version]")
    _partition_option(als)
    als.add_argument("--tag", help="only the artifact with this tag")
    als.add_argument("--limit", type=int, default=50)
    als.add_argument("--page-token", help="the next_token of a previous page")
    als.set_defaults(handler=artifacts_ls)
    show = asub.add_parser("show", help="describe one artifact", parents=[common])
    show.add_argument("artifact", help="artifact id or cargohold:// URL")
    show.set_defaults(handler=artifacts_show)
    get = asub.add_parser("get", help="print an output's value", parents=[common])
    get.add_argument("artifact", help="artifact id or cargohold:// URL")
    get.add_argument("--output", help="the data entry (needed when there are several)")
    get.add_argument("--columns", help="comma-separated columns to read from a table")
    get.set_defaults(handler=artifacts_get)
    dl = asub.add_parser("download", help="save an output's bytes to a file", parents=[common])
    dl.add_argument("artifact", help="artifact id or cargohold:// URL")
    dl.add_argument("--output", help="the data entry (needed when there are several)")
    dl.add_argument("-o", "--to", dest="to", help="file to write (default: a name in .)")
    dl.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw a progress bar (default: on a terminal, for files >= 8 MiB)",
    )
    dl.set_defaults(handler=artifacts_download)
    link = asub.add_parser("link", help="a signed, expiring download URL", parents=[common])
    link.add_argument("artifact", help="artifact id or cargohold:// URL")
    link.add_argument("--output", help="the data entry (needed when there are several)")
    link.add_argument("--expires-in", type=float, default=3600.0, help="seconds (max 3600)")
    link.add_argument("--proxy-url", help="the `cargohold serve` URL (CARGOHOLD_PROXY_URL)")
    link.set_defaults(handler=artifacts_link)

    query = commands.add_parser("query", help="query the catalog", parents=[common])
    qsub = query.add_subparsers(dest="action", metavar="ACTION", required=True)
    latest = qsub.add_parser("latest", help="the newest artifact of a dataset", parents=[common])
    latest.add_argument("dataset", help="name or project/domain/name[@version]")
    _partition_option(latest)
    latest.set_defaults(handler=query_latest)

    lineage = commands.add_parser(
        "lineage", help="upstream and downstream graph of an artifact", parents=[common]
    )
    lineage.add_argument("artifact", help="artifact id or cargohold:// URL")
    lineage.add_argument("--depth", type=int, default=5, help="levels each way (default 5)")
    lineage.add_argument("--mermaid", action="store_true", help="print Mermaid flowchart text")
    lineage.set_defaults(handler=run_lineage)


def _partition_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--partition",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a partition value (repeat for several keys)",
    )


def parse_partitions(values: list[str]) -> dict[str, str]:
    """``["date=2026-11-01"]`` -> ``{"date": "2026-11-01"}``.

    Raises:
        InvalidArgumentError: an item lacks ``=``.
    """
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgumentError(f"partition {item!r} must look like KEY=VALUE")
        out[key] = value
    return out


def parse_dataset(app: App, text: str) -> DatasetID:
    """A dataset id from ``name`` or ``project/domain/name[@version]``.

    Raises:
        InvalidArgumentError: another number of ``/``-separated parts.
    """
    from cargohold.core.catalog.objects import DatasetID

    name, _, version = text.partition("@")
    parts = name.split("/")
    settings = app.hold.settings
    if len(parts) == 1:
        project, domain = settings.project, settings.domain
    elif len(parts) == 3:
        project, domain, name = parts
    else:
        raise InvalidArgumentError(
            f"dataset {text!r} must be NAME or PROJECT/DOMAIN/NAME[@VERSION]"
        )
    return DatasetID(project=project, domain=domain, name=name, version=version or "1")


def _partitions_text(partitions: Any) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(partitions.items())) or "-"


def _rows(artifacts: list[Artifact]) -> list[list[object]]:
    return [
        [
            a.id,
            a.dataset.name,
            a.version,
            _partitions_text(a.partitions),
            ",".join(a.tags) or "-",
            ",".join(sorted(a.data)),
            short_time(a.created_at),
        ]
        for a in artifacts
    ]


_HEADERS = ["ID", "DATASET", "VERSION", "PARTITIONS", "TAGS", "OUTPUTS", "CREATED"]


def datasets_ls(app: App) -> int:
    """``cargohold datasets ls``."""
    args, settings = app.args, app.hold.settings
    scope: dict[str, Any] = {}
    if not args.all_projects:
        scope = {"project": settings.project, "domain": settings.domain}
    page = app.catalog.list_datasets(name_prefix=args.name_prefix, limit=args.limit, **scope)
    if app.out.as_json:
        app.out.json(
            [
                {
                    "project": d.id.project,
                    "domain": d.id.domain,
                    "name": d.id.name,
                    "version": d.id.version,
                    "partition_keys": list(d.partition_keys),
                    "metadata": dict(d.metadata),
                    "created_at": d.created_at,
                }
                for d in page
            ]
        )
        return 0
    where = "" if args.all_projects else f" of {settings.project}/{settings.domain}"
    app.out.table(
        ["PROJECT", "DOMAIN", "NAME", "VERSION", "PARTITION KEYS", "CREATED"],
        [
            [
                d.id.project,
                d.id.domain,
                d.id.name,
                d.id.version,
                ",".join(d.partition_keys) or "-",
                short_time(d.created_at),
            ]
            for d in page
        ],
        empty=f"(no datasets{where} in the catalog {app.catalog_shown})",
    )
    return 0


def artifacts_ls(app: App) -> int:
    """``cargohold artifacts ls [DATASET]``."""
    args = app.args
    dataset = None if args.dataset is None else parse_dataset(app, args.dataset)
    partitions = parse_partitions(args.partition) or None
    page = app.catalog.list_artifacts(
        dataset=dataset,
        partitions=partitions,
        tag=args.tag,
        limit=args.limit,
        page_token=args.page_token,
    )
    if app.out.as_json:
        app.out.json({"items": [artifact_dict(a) for a in page], "next_token": page.next_token})
        return 0
    app.out.table(
        _HEADERS,
        _rows(list(page)),
        empty=f"(no artifacts{'' if dataset is None else f' of {dataset}'} in the catalog "
        f"{app.catalog_shown})",
    )
    if page.next_token:
        app.out.note(f"more: --page-token {page.next_token}")
    return 0


def _show(app: App, artifact: Artifact) -> None:
    if app.out.as_json:
        app.out.json(artifact_dict(artifact))
        return
    info = artifact_dict(artifact)
    source = artifact.source
    app.out.fields(
        {
            "id": artifact.id,
            "dataset": str(artifact.dataset),
            "version": artifact.version,
            "partitions": _partitions_text(artifact.partitions),
            "tags": ", ".join(artifact.tags),
            "url": info["url"],
            "created": short_time(artifact.created_at),
            "source": ""
            if source is None
            else f"{source.orchestrator} {source.job}/{source.run_id} {source.task}".strip(),
            "metadata": ", ".join(f"{k}={v}" for k, v in sorted(artifact.metadata.items())),
        }
    )
    app.out.line()
    rows: list[list[object]] = []
    for name, lit in sorted(artifact.data.items()):
        if lit.blob is None:
            rows.append([name, str(lit.type), "inline", f"{lit.value!r:.60}"])
        else:
            rows.append([name, str(lit.type), human_bytes(lit.blob.size), lit.blob.uri])
    app.out.table(["OUTPUT", "TYPE", "SIZE", "VALUE / URI"], rows)


def artifacts_show(app: App) -> int:
    """``cargohold artifacts show ARTIFACT``."""
    _show(app, resolve_artifact(app, app.args.artifact))
    return 0


def query_latest(app: App) -> int:
    """``cargohold query latest DATASET [-p KEY=VALUE ...]``: with partitions, the newest version
    in that partition; without, the newest artifact of the dataset."""
    args = app.args
    dataset = parse_dataset(app, args.dataset)
    partitions = parse_partitions(args.partition)
    catalog = app.catalog
    if partitions:
        artifact = catalog.get_latest(dataset=dataset, partitions=partitions)
    else:
        page = catalog.list_artifacts(dataset=dataset, limit=1)
        if not page.items:
            from cargohold.core.errors import NotFoundError

            raise NotFoundError(f"dataset {dataset} has no artifacts yet; run its pipeline")
        artifact = page.items[0]
    _show(app, artifact)
    return 0


def _output_arg(app: App) -> str | None:
    from cargohold.core.proxy import CargoholdURL

    output: str | None = app.args.output
    ref: str = app.args.artifact
    if output is None and "://" in ref:
        output = CargoholdURL.parse(ref).output
    return output


def artifacts_get(app: App) -> int:
    """``cargohold artifacts get ARTIFACT``: print the value (JSON for inline values)."""
    from cargohold.core.proxy.outputs import describe, pick_output

    artifact = resolve_artifact(app, app.args.artifact)
    name, literal = pick_output(artifact, _output_arg(app))
    if literal.blob is None:
        if app.out.as_json:
            app.out.json({"metadata": describe(artifact, name, literal), "value": literal.value})
        else:
            app.out.json(literal.value)
        return 0
    columns = app.args.columns.split(",") if app.args.columns else None
    value = app.hold.get(literal, columns=columns)
    if isinstance(value, bytes | bytearray):
        raise ProxyError(
            f"output {name!r} is {human_bytes(len(value))} of bytes; save it with "
            f"`cargohold artifacts download {app.args.artifact}`"
        )
    if app.out.as_json:
        app.out.json({"metadata": describe(artifact, name, literal), "value": str(value)})
    else:
        app.out.line(str(value))
    return 0


def artifacts_download(app: App) -> int:
    """``cargohold artifacts download ARTIFACT [-o FILE]``: stream, verify, show progress."""
    from cargohold.core.proxy.outputs import pick_output

    args = app.args
    artifact = resolve_artifact(app, args.artifact)
    name, literal = pick_output(artifact, _output_arg(app))
    if literal.blob is None:
        raise ProxyError(f"output {name!r} is an inline value; print it with `artifacts get`")
    blob = literal.blob
    target = args.to or f"{artifact.dataset.name}-v{artifact.version}-{name}.{blob.format}"
    show = args.progress
    if show is None:
        show = blob.size >= _PROGRESS_MIN and app.out.stderr.isatty()
    bar = ProgressBar(stream=app.out.stderr, total=blob.size, label=name) if show else None
    tmp = f"{target}.part"
    done = 0
    try:
        with (
            app.hold.store.open_blob(blob.uri, expected_hash=blob.hash) as src,
            open(tmp, "wb") as dst,
        ):
            while chunk := src.read(4 << 20):
                dst.write(chunk)
                done += len(chunk)
                if bar is not None:
                    bar(done)
        os.replace(tmp, target)
    finally:
        if bar is not None:
            bar.finish()
        if os.path.exists(tmp):
            os.unlink(tmp)
    if app.out.as_json:
        app.out.json({"path": os.path.abspath(target), "size": done, "hash": blob.hash})
    else:
        app.out.line(f"saved {target} ({human_bytes(done)}, hash verified)")
    return 0


def artifacts_link(app: App) -> int:
    """``cargohold artifacts link ARTIFACT``: a signed, expiring download URL."""
    args = app.args
    link = app.proxy(base_url=args.proxy_url).create_download_link(
        artifact=resolve_artifact(app, args.artifact),
        output=args.output,
        expires_in=args.expires_in,
    )
    if app.out.as_json:
        app.out.json(link.to_dict())
    else:
        app.out.line(link.signed_url)
        app.out.note(f"expires at {link.expires_at.isoformat()}")
    return 0
