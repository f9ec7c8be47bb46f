"""Fixtures of the catalog conformance suite: every test runs on SQLite and on PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (user ``postgres``, trust auth, database ``test``);
the suite creates a fresh database for the session and drops it afterwards. When the server is
unreachable the PostgreSQL cases skip, unless ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cargohold.core.catalog import Catalog, upgrade_schema
from cargohold.core.catalog.models import Base
from tests.support.clock import FakeClock
from tests.support.services import unavailable

PG_ADMIN_URL = os.environ.get(
    "CARGOHOLD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _admin_engine() -> Any:
    return create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database with the catalog schema, dropped after the session."""
    admin = _admin_engine()
    name = f"cargohold_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        reason = f"PostgreSQL at 127.0.0.1:5432 is unreachable ({type(exc).__name__}: {exc})"
        unavailable(reason)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade_schema(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite catalog file at the newest schema, copied for each test."""
    path = tmp_path_factory.mktemp("catalog-template") / "catalog.db"
    upgrade_schema(f"sqlite:///{path}")
    return path


def _truncate(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty catalog at the newest schema, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "catalog.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def catalog(make_catalog: Callable[..., Catalog]) -> Catalog:
    """A catalog on an empty database."""
    return make_catalog()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at 2026-11-01 12:00 UTC."""
    return FakeClock()
