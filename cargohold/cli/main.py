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
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn, TextIO

from cargohold.cli.output import Output
from cargohold.core.errors import CargoholdError, CatalogError

if TYPE_CHECKING:
    from cargohold.core.catalog import Catalog
    from cargohold.core.config import Settings
    from cargohold.core.hold import Cargohold
    from cargohold.core.proxy import DataProxy

__all__ = ["App", "build_parser", "main"]

Handler = Callable[["App"], int]


class App:
    """What a command gets: its arguments, the output, and the hold (built on first use)."""

    def __init__(self, *, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self._hold: Cargohold | None = None
        self._catalog: Catalog | None = None

    def option(self, name: str, default: object = None) -> object:
        """A parsed option, or ``default`` when it was not given."""
        return getattr(self.args, name, default)

    @property
    def hold(self) -> Cargohold:
        """The hold configured from the environment and the command-line overrides; its catalog
        is :attr:`catalog`.

        Raises:
            ConfigurationError: a setting is malformed.
            CatalogError: the command needs an existing catalog and there is none.
        """
        if self._hold is None:
            from cargohold.core.hold import Cargohold

            hold = Cargohold.from_env(
                store_url=self.option("store_url"),
                catalog_url=self.option("catalog_url"),
                project=self.option("project"),
                domain=self.option("domain"),
            )
            self._hold = hold.with_catalog(self.catalog_for(hold.settings))
        return self._hold

    @property
    def catalog(self) -> Catalog:
        """The catalog, with the configured project and domain as its defaults.

        Raises:
            CatalogError: the command needs an existing catalog and there is none.
        """
        return self.hold.catalog

    @property
    def catalog_shown(self) -> str:
        """The catalog URL, password hidden (for messages)."""
        return shown_url(self.hold.settings.catalog_url)

    def catalog_for(self, settings: Settings) -> Catalog:
        """The catalog of ``settings``: as it is for ``init`` and ``db upgrade``; for every
        other command only when it exists (never created, never migrated).

        Raises:
            CatalogError: there is no catalog at the URL (the message names it and
                ``cargohold init``).
            SchemaOutOfDateError: the catalog needs ``cargohold db upgrade``.
        """
        from cargohold.core.catalog import Catalog

        if self._catalog is None:
            create = bool(self.option("creates_catalog", False))
            if not create:
                require_catalog(settings.catalog_url)
            self._catalog = Catalog.from_settings(settings, create_schema=create)
        return self._catalog

    def proxy(self, *, base_url: str | None = None) -> DataProxy:
        """A data proxy on the hold."""
        from cargohold.core.proxy import DataProxy

        return DataProxy(hold=self.hold, base_url=base_url)

    def close(self) -> None:
        """Release the catalog's connections."""
        if self._catalog is not None:
            self._catalog.close()


def shown_url(url: str) -> str:
    """A database URL with its password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a malformed URL: show it as given, it has no parsable password
        return url


def _sqlite_file(url: str) -> str | None:
    """The file of a ``sqlite:///path`` URL; None for other databases and in-memory ones."""
    scheme, _, rest = url.partition("://")
    if scheme.split("+", 1)[0].lower() != "sqlite" or not rest.startswith("/"):
        return None
    path = rest[1:].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


def require_catalog(url: str) -> None:
    """Check that a cargohold catalog exists at ``url`` without creating anything.

    Raises:
        CatalogError: no SQLite file there, or a database without the catalog's tables.
        ConfigurationError: the URL is malformed.
    """
    from sqlalchemy import Connection, inspect

    from cargohold.core.catalog.schema import current_revision
    from cargohold.core.catalog.session import Database, make_engine

    missing = CatalogError(
        f"no cargohold catalog at {shown_url(url)} (nothing was created there); create one with "
        f"`cargohold init`, or point --catalog-url or CARGOHOLD_CATALOG_URL at an existing one"
    )
    if url.split("://", 1)[0].split("+", 1)[0].lower() == "sqlite":
        path = _sqlite_file(url)
        if path is None or not os.path.isfile(path):
            raise missing  # an in-memory database is always empty
        return

    def _empty(conn: Connection) -> bool:
        if current_revision(conn) is not None:
            return False
        return not any(name.startswith("catalog_") for name in inspect(conn).get_table_names())

    database = Database(make_engine(url))
    try:
        empty = database.read(_empty)
    finally:
        database.dispose()
    if empty:
        raise missing


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
