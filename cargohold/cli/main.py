"""The ``cargohold`` command: parse arguments, run one command, map errors to exit codes.

Exit codes: 0 success; 1 a :class:`~cargohold.core.errors.CargoholdError` (one line on stderr
saying what went wrong and what to do); 2 a usage error (the usage of the command it concerns);
130 interrupted; 141 stdout closed early (``| head``), quietly. With ``--json`` an error is one
JSON document on stderr: ``{"error": {"type": ..., "message": ..., "exit_code": ...}}``.

Options valid before or after the command: ``--store-url``, ``--catalog-url``, ``--project``,
``--domain`` (override ``CARGOHOLD_STORE_URL``, ``CARGOHOLD_CATALOG_URL``, ...) and ``--json``.

Only ``init`` and ``db upgrade`` create or migrate a catalog (a command opts in with
``set_defaults(creates_catalog=True)``); every other command needs an existing one and says
which URL it looked at when there is none.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from cargohold.cli.app import App, Handler
from cargohold.cli.output import Output
from cargohold.core.errors import CargoholdError

__all__ = ["App", "build_parser", "main"]


class UsageError(Exception):
    """A command line argparse rejected, with the parser of the command it concerns."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of exiting (sub-commands'
    parsers are of the same class)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def _leaf(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the (sub-)command ``args`` selected."""
    current = parser
    while True:
        subs = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return current
        chosen = getattr(args, subs[0].dest, None)
        if chosen is None or chosen not in subs[0].choices:
            return current
        current = subs[0].choices[chosen]


def _common(*, suppress: bool) -> argparse.ArgumentParser:
    default = argparse.SUPPRESS if suppress else None
    parser = _Parser(add_help=False)
    group = parser.add_argument_group("settings (override CARGOHOLD_* variables)")
    group.add_argument("--store-url", default=default, help="store URL (CARGOHOLD_STORE_URL)")
    group.add_argument(
        "--catalog-url", default=default, help="catalog database URL (CARGOHOLD_CATALOG_URL)"
    )
    group.add_argument("--project", default=default, help="project (CARGOHOLD_PROJECT)")
    group.add_argument("--domain", default=default, help="domain (CARGOHOLD_DOMAIN)")
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print JSON for scripts instead of tables",
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (``cargohold --help`` prints it)."""
    from cargohold.cli import admin, catalog

    parser = _Parser(
        prog="cargohold",
        description="Typed, versioned, partitioned data for Airflow and Dagster: inspect the "
        "catalog, fetch artifacts, draw lineage, serve signed links.",
        parents=[_common(suppress=False)],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = _common(suppress=True)
    admin.register(commands, common)
    catalog.register(commands, common)
    from cargohold.cli import sql  # the `sql` command (cargohold[sql])

    sql.register(commands, common)
    return parser


def _hint(exc: CargoholdError) -> str:
    from cargohold.core.errors import NotFoundError

    if isinstance(exc, NotFoundError):
        return "; see what exists with `cargohold datasets ls` and `cargohold artifacts ls`"
    return ""


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the ``cargohold`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit
    code. ``stdout`` and ``stderr`` default to the process's streams."""
    out_stream = stdout if stdout is not None else sys.stdout
    err_stream = stderr if stderr is not None else sys.stderr
    arguments = list(argv) if argv is not None else sys.argv[1:]
    as_json = "--json" in arguments
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(arguments)
        if extra:
            _leaf(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    except UsageError as exc:
        _report(err_stream, as_json, "UsageError", exc.message, 2, usage=exc.parser)
        return 2
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 2
    out = Output(stdout=out_stream, stderr=err_stream, as_json=bool(getattr(args, "json", False)))
    app = App(args=args, out=out)
    handler: Handler = args.handler
    try:
        code = handler(app)
        out_stream.flush()
        return code
    except BrokenPipeError:
        return _closed_pipe(out_stream)
    except CargoholdError as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        _report(err_stream, out.as_json, type(exc).__name__, message + _hint(exc), 1)
        return 1
    except KeyboardInterrupt:
        _report(err_stream, out.as_json, "KeyboardInterrupt", "interrupted", 130)
        return 130
    finally:
        app.close()


def _report(
    stream: TextIO,
    as_json: bool,
    kind: str,
    message: str,
    code: int,
    *,
    usage: argparse.ArgumentParser | None = None,
) -> None:
    """Write an error: ``cargohold: error: ...`` (after the usage of the command concerned),
    or one JSON document."""
    if as_json:
        error: dict[str, object] = {"type": kind, "message": message, "exit_code": code}
        if usage is not None:
            error["usage"] = " ".join(usage.format_usage().split())
        stream.write(json.dumps({"error": error}) + "\n")
        return
    if usage is not None:
        stream.write(usage.format_usage())
        stream.write(f"{usage.prog}: error: {message}\n")
        return
    stream.write(f"cargohold: error: {message}\n" if code != 130 else "cargohold: interrupted\n")


def _closed_pipe(stream: TextIO) -> int:
    """The reader of stdout went away (``| head``): no traceback, no message, exit 141."""
    if stream is sys.stdout:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
