"""Schema: migrations match the models, old databases are refused, dropped connections retried."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from cargohold.core.catalog import UPGRADE_COMMAND, Catalog, upgrade_schema
from cargohold.core.catalog.models import Base
from cargohold.core.catalog.schema import VERSION_TABLE, head_revision
from cargohold.core.errors import CatalogError, SchemaOutOfDateError

from .helpers import inline


def test_migrations_match_models(catalog_url: str) -> None:
    engine = create_engine(catalog_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diffs = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diffs == []


def test_fresh_sqlite_database_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'dir' / 'catalog.db'}"
    with Catalog.from_url(url) as catalog:
        catalog.create_dataset(dataset="d")
        assert catalog.get_dataset(dataset="d").id.name == "d"


def test_empty_database_without_create_names_the_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = Catalog(url=url, create_schema=False)
    with pytest.raises(SchemaOutOfDateError, match=UPGRADE_COMMAND):
        catalog.get_dataset(dataset="d")
    assert upgrade_schema(url) == head_revision()
    catalog.create_dataset(dataset="d")
    catalog.close()


def test_old_database_is_refused_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_schema(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(SchemaOutOfDateError, match="cargohold db upgrade") as info:
        Catalog(url=url).get_dataset(dataset="d")
    assert "0000" in str(info.value)
    assert head_revision() in str(info.value)


def test_unversioned_catalog_tables_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_schema(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    engine.dispose()
    with pytest.raises(SchemaOutOfDateError, match=f"no schema revision .*{VERSION_TABLE}"):
        Catalog(url=url).get_dataset(dataset="d")


def test_unsupported_url_is_a_configuration_error() -> None:
    from cargohold.core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="sqlite"):
        Catalog(url="mysql://x/y").get_dataset(dataset="d")
    with pytest.raises(ConfigurationError):
        Catalog(url="not a url").get_dataset(dataset="d")


@pytest.mark.postgres
def test_dropped_connection_is_retried_once_for_reads(
    make_catalog: Callable[..., Catalog], catalog_url: str
) -> None:
    if not catalog_url.startswith("postgresql"):
        pytest.skip("needs a server whose connections can be killed")
    # No pre-ping, so the pool hands out the dead connection and the retry must kick in.
    catalog = make_catalog(engine_options={"pool_pre_ping": False, "pool_size": 1})
    catalog.create_dataset(dataset="d")
    catalog.create_artifact(dataset="d", data={"x": inline()})
    pid = catalog.database.read(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar())
    admin = create_engine(catalog_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    assert catalog.get_latest(dataset="d").version == 1


@pytest.mark.postgres
def test_write_on_a_dropped_connection_is_retried_once(
    make_catalog: Callable[..., Catalog], catalog_url: str
) -> None:
    if not catalog_url.startswith("postgresql"):
        pytest.skip("needs a server whose connections can be killed")
    catalog = make_catalog(engine_options={"pool_size": 1})
    catalog.create_dataset(dataset="d")
    pid = catalog.database.read(lambda conn: conn.execute(text("SELECT pg_backend_pid()")).scalar())
    admin = create_engine(catalog_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    admin.dispose()
    assert catalog.create_artifact(dataset="d", data={"x": inline()}).version == 1
    assert catalog.get_latest(dataset="d").version == 1


def test_in_memory_sqlite_catalog_works() -> None:
    with Catalog(url="sqlite://") as catalog:
        catalog.create_dataset(dataset="d")
        catalog.create_artifact(dataset="d", data={"x": inline()})
        assert catalog.get_latest(dataset="d").version == 1


def test_database_errors_are_translated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    catalog = Catalog(url=url)
    catalog.create_dataset(dataset="d")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE catalog_artifact_data"))
    engine.dispose()
    with pytest.raises(CatalogError, match="catalog_artifact_data") as info:
        catalog.create_artifact(dataset="d", data={"x": inline()})
    assert info.value.__cause__ is not None
    catalog.close()


@pytest.mark.postgres
def test_postgres_reads_skip_the_transaction_round_trips(postgres_url: str) -> None:
    """At READ COMMITTED a read runs in autocommit (no BEGIN/COMMIT round trips): each
    statement is its own transaction, so ``now()`` is that statement's start. An engine asking
    for another isolation level keeps its transaction (one snapshot for the whole read)."""

    def second_statement_starts_its_transaction(conn: Any) -> bool:
        conn.execute(text("SELECT 1"))
        return bool(conn.execute(text("SELECT now() = statement_timestamp()")).scalar_one())

    with Catalog(url=postgres_url) as catalog:
        assert catalog.database.read(second_statement_starts_its_transaction)
    with Catalog(url=postgres_url, engine_options={"isolation_level": "REPEATABLE READ"}) as rr:
        assert not rr.database.read(second_statement_starts_its_transaction)
