"""What every command gets: :class:`App`, its arguments, its output and the hold (built on first
use), and the check that a catalog exists before a command other than ``init`` opens it."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from cargohold.cli.output import Output
from cargohold.core.errors import CatalogError

if TYPE_CHECKING:
    from cargohold.core.catalog import Catalog
    from cargohold.core.config import Settings
    from cargohold.core.hold import Cargohold
    from cargohold.core.proxy import DataProxy

__all__ = ["App", "Handler", "require_catalog", "shown_url"]

Handler = Callable[["App"], int]
"""A command: runs with the app, returns the exit code."""


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
