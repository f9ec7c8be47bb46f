"""Fixtures shared by the whole suite: real S3 (moto over HTTP), PostgreSQL, catalogs.

``make_catalog`` builds catalogs on the ``catalog_url`` of the directory using it (the catalog
and cache suites parametrize it over SQLite and PostgreSQL).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cargohold.core.catalog import Catalog
from tests.support.services import S3Server, moto_s3, postgres_database, require_postgres


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1, over real HTTP, for the whole session."""
    with moto_s3() as server:
        yield server


@pytest.fixture
def s3_store_url(s3_server: S3Server) -> str:
    """A fresh bucket on the moto server, as a store URL."""
    return f"s3://{s3_server.create_bucket()}/store"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server for the session (fails in CI when the
    server is unreachable, skips elsewhere)."""
    require_postgres()
    with postgres_database() as url:
        yield url


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """A fresh database for this test alone (names repeat across tests)."""
    require_postgres()
    with postgres_database() as url:
        yield url


@pytest.fixture
def make_catalog(catalog_url: str) -> Iterator[Callable[..., Catalog]]:
    """A factory of catalogs on this test's database; each is closed after the test."""
    made: list[Catalog] = []

    def make(**options: Any) -> Catalog:
        catalog = Catalog(url=catalog_url, **options)
        made.append(catalog)
        return catalog

    yield make
    for catalog in made:
        catalog.close()


@pytest.fixture(autouse=True)
def _cargohold_loggers_enabled() -> None:
    """cargohold's loggers on, and passing records up, at each test's start: a logging
    configuration applied by a test before it in the same process (``disable_existing_loggers``,
    a library's own set-up) would otherwise hide them from ``caplog``."""
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith("cargohold") and isinstance(logger, logging.Logger):
            logger.disabled = False
            logger.propagate = True
