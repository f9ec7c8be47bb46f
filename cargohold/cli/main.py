"""The ``cargohold`` command: parse arguments, run one command, map errors to exit codes.

Exit codes: 0 success; 1 a :class:`~cargohold.core.errors.CargoholdError` (one line on stderr
saying what went wrong and what to do); 2 a usage error; 130 interrupted.

Options valid before or after the command: ``--store-url``, ``--catalog-url``, ``--project``,
``--domain`` (override ``CARGOHOLD_STORE_URL``, ``CARGOHOLD_CATALOG_URL``, ...) and ``--json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from cargohold.cli.output import Output
from cargohold.core.errors import CargoholdError

if TYPE_CHECKING:
    from cargohold.core.catalog import Catalog
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
        """The hold configured from the environment and the command-line overrides.

        Raises:
            ConfigurationError: a setting is malformed.
        """
        if self._hold is None:
            from cargohold.core.hold import Cargohold

            self._hold = Cargohold.from_env(
                store_url=self.option("store_url"),
                catalog_url=self.option("catalog_url"),
                project=self.option("project"),
                domain=self.option("domain"),
            )
        return self._hold

    @property
    def catalog(self) -> Catalog:
        """The catalog, with the configured project and domain as its defaults."""
        if self._catalog is None:
            from cargohold.core.catalog import Catalog

            self._catalog = Catalog.from_settings(self.hold.settings)
        return self._catalog

    def proxy(self, *, base_url: str | None = None) -> DataProxy:
        """A data proxy on the hold."""
        from cargohold.core.proxy import DataProxy

        return DataProxy(hold=self.hold, base_url=base_url)

    def close(self) -> None:
        """Release the catalog's connections."""
        if self._catalog is not None:
            self._catalog.close()
        if self._hold is not None:
            self._hold.catalog.close()


def _common(*, suppress: bool) -> argparse.ArgumentParser:
    default = argparse.SUPPRESS if suppress else None
    parser = argparse.ArgumentParser(add_help=False)
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

    parser = argparse.ArgumentParser(
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
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    out = Output(stdout=out_stream, stderr=err_stream, as_json=bool(getattr(args, "json", False)))
    app = App(args=args, out=out)
    handler: Handler = args.handler
    try:
        return handler(app)
    except CargoholdError as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        err_stream.write(f"cargohold: error: {message}{_hint(exc)}\n")
        return 1
    except KeyboardInterrupt:
        err_stream.write("cargohold: interrupted\n")
        return 130
    finally:
        app.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
