"""The catalog's schema version: check it, and upgrade it with the shipped Alembic migrations.

A catalog never migrates an existing database behind the user's back. :func:`ensure_schema`
(run once, lazily, by :class:`~cargohold.core.catalog.Catalog`) creates the schema in a database
that has none of the catalog's tables yet, accepts one at the newest revision, and otherwise
raises :class:`SchemaOutOfDateError` naming the command to run: ``cargohold db upgrade``
(which calls :func:`upgrade_schema`).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from cargohold.core.catalog.session import Database, make_engine
from cargohold.core.errors import SchemaOutOfDateError

__all__ = [
    "UPGRADE_COMMAND",
    "VERSION_TABLE",
    "current_revision",
    "ensure_schema",
    "head_revision",
    "upgrade_schema",
]

UPGRADE_COMMAND = "cargohold db upgrade"
VERSION_TABLE = "cargohold_catalog_version"
_MIGRATIONS = Path(__file__).with_name("migrations")
_ADVISORY_LOCK = 0x636172676F  # "cargo": serialises schema changes on PostgreSQL


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this cargohold."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at, ``None`` if the catalog was never created in it."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})


def _upgrade(connection: Connection) -> None:
    _lock(connection)
    command.upgrade(_config(connection), "head")


def upgrade_schema(url: str) -> str:
    """Upgrade the catalog at ``url`` to the newest revision (creating it if needed).

    Returns:
        The revision the database is at afterwards.

    Raises:
        CatalogError: the database failed.
        ConfigurationError: the URL is not a supported database URL.
    """
    database = Database(make_engine(url))
    try:
        database.write(_upgrade)
        revision = database.read(current_revision)
    finally:
        database.dispose()
    assert revision is not None
    return revision


def ensure_schema(database: Database, *, create: bool = True) -> None:
    """Check the catalog's schema; create it in a database without catalog tables if ``create``.

    Raises:
        SchemaOutOfDateError: the database is at an older (or unknown) revision, or empty and
            ``create`` is false; the message names ``cargohold db upgrade``.
        CatalogError: the database failed.
    """
    head = head_revision()
    state = database.read(lambda conn: _state(conn, head))
    if state == "ok":
        return
    if state == "empty" and create:

        def _create(conn: Connection) -> None:
            _lock(conn)
            if _state(conn, head) == "empty":
                command.upgrade(_config(conn), "head")

        database.write(_create)
        return
    url = database.engine.url.render_as_string(hide_password=True)
    if state == "empty":
        raise SchemaOutOfDateError(
            f"the catalog database {url} has no cargohold schema; "
            f"run `{UPGRADE_COMMAND}` to create it"
        )
    if state == "unversioned":
        raise SchemaOutOfDateError(
            f"the catalog database {url} has cargohold's catalog tables but no schema revision "
            f"(its {VERSION_TABLE} table is missing: the tables were not created by cargohold's "
            "migrations, or that table was dropped); restore the table from a backup, or point "
            "the catalog at a new database"
        )
    raise SchemaOutOfDateError(
        f"the catalog database {url} is at schema revision {state}, this cargohold needs "
        f"{head}; run `{UPGRADE_COMMAND}` to upgrade it (back up the database first), or "
        f"install the cargohold version that wrote it if {state} is newer"
    )


def _state(connection: Connection, head: str) -> str:
    """The schema state: "ok", "empty", "unversioned" or the revision the database is at.

    The table names are read before the revision: at READ COMMITTED each statement sees what was
    committed when it started, and a concurrent creator commits its tables and its revision
    together, so tables seen imply their revision is seen next. (The other order could read "no
    revision" just before that commit and "catalog tables" just after: a false "unversioned".)
    """
    tables = set(inspect(connection).get_table_names())
    revision = current_revision(connection)
    if revision == head:
        return "ok"
    if revision is None:
        if not any(name.startswith("catalog_") for name in tables):
            return "empty"
        return "unversioned"
    return revision
