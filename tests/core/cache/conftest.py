"""Fixtures of the cache tests: every test runs on SQLite and on PostgreSQL.

PostgreSQL is the session database of ``tests/conftest.py`` (``postgres_url``): the catalog schema
is created once, and every table is emptied before each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cargohold.core.catalog import upgrade_schema
from cargohold.core.catalog.models import Base
from cargohold.core.hold import Cargohold
from tests.support.clock import FakeClock

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def cache_postgres_url(postgres_url: str) -> str:
    """The session PostgreSQL database, at the newest catalog schema."""
    upgrade_schema(postgres_url)
    return postgres_url


def _truncate(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty catalog database at the newest schema, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.db'}"
        upgrade_schema(url)
        return url
    url = str(request.getfixturevalue("cache_postgres_url"))
    _truncate(url)
    return url


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A local store for this test."""
    return (tmp_path / "store").as_uri()


@pytest.fixture
def hold(catalog_url: str, store_url: str) -> Iterator[Cargohold]:
    """A Cargohold on this test's store and catalog (small inline limit: blobs are common)."""
    the_hold = Cargohold(store_url=store_url, catalog_url=catalog_url, inline_limit=256)
    yield the_hold
    the_hold.catalog.close()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at 2026-11-01 12:00 UTC."""
    return FakeClock()
