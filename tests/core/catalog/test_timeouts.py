"""Every wait on the catalog's server is bounded: a PostgreSQL port that accepts TCP and never
answers, and a statement that runs too long, each end in a CatalogError naming the server and the
setting to raise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cargohold import Settings
from cargohold.core.catalog import Catalog
from cargohold.core.errors import CatalogError
from tests.support.faults import black_hole, outcome
from tests.support.services import postgres_database, require_postgres


def test_a_black_hole_postgres_ends_in_a_catalog_error_naming_server_and_setting() -> None:
    with black_hole() as port:
        catalog = Catalog(url=f"postgresql://cargohold@127.0.0.1:{port}/catalog", connect_timeout=2)
        error = outcome(catalog.list_datasets, bound=30)
    assert isinstance(error, CatalogError), repr(error)
    message = str(error)
    assert f"127.0.0.1:{port}/catalog" in message
    assert "catalog_connect_timeout" in message
    assert "CARGOHOLD_CATALOG_CONNECT_TIMEOUT" in message


def test_the_connect_timeout_setting_reaches_the_catalog() -> None:
    settings = Settings.from_env(
        {"CARGOHOLD_CATALOG_CONNECT_TIMEOUT": "3", "CARGOHOLD_CATALOG_STATEMENT_TIMEOUT": "7.5"},
        store_url="memory://x",
        catalog_url="postgresql://u@127.0.0.1:1/db",
    )
    catalog = Catalog.from_settings(settings)
    assert catalog._timeouts == {"connect_timeout": 3.0, "statement_timeout": 7.5}


def test_cli_datasets_ls_on_a_black_hole_postgres_exits_with_the_error() -> None:
    with black_hole() as port:
        env = dict(
            os.environ,
            CARGOHOLD_CATALOG_URL=f"postgresql://cargohold@127.0.0.1:{port}/catalog",
            CARGOHOLD_STORE_URL="memory://cli-timeouts",
            CARGOHOLD_CATALOG_CONNECT_TIMEOUT="2",
        )
        done = subprocess.run(
            [sys.executable, "-m", "cargohold.cli", "datasets", "ls"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert "catalog_connect_timeout" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.postgres
def test_a_statement_past_statement_timeout_ends_in_a_catalog_error() -> None:
    require_postgres()
    with postgres_database() as url:
        catalog = Catalog(url=url, statement_timeout=0.5)
        try:
            with pytest.raises(CatalogError, match="catalog_statement_timeout") as caught:
                catalog.database.read(lambda conn: conn.exec_driver_sql("SELECT pg_sleep(10)"))
            assert url.rsplit("/", 1)[1] in str(caught.value)
        finally:
            catalog.close()
