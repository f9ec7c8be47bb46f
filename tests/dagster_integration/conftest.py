"""Fixtures of the Dagster tests: IO managers on S3 (moto over HTTP) + PostgreSQL, or local.

Each test that needs PostgreSQL gets a fresh database (asset names repeat across tests); lineage
goes to a validating Marquez-like receiver through ``OPENLINEAGE_URL`` (so step subprocesses of
the multiprocess executor send there too), and every accepted event is re-validated against the
shared OpenLineage schemas when the test ends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cargohold.core.lineage.testing import LineageReceiver
from cargohold.core.lineage.validation import EventValidator, packaged_spec_dir
from cargohold.dagster_integration import CargoholdIOManager, CargoholdResource
from tests.support.services import S3Server, in_ci

SHARED_SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "openlineage-spec"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No OpenLineage or cargohold configuration leaks in; the cwd is a temporary folder."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("OPENLINEAGE", "CARGOHOLD_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CARGOHOLD_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def pg_url(fresh_postgres_url: str) -> str:
    """A fresh PostgreSQL database for this test (skips outside CI when the server is down)."""
    return fresh_postgres_url


@pytest.fixture
def s3_options(s3_server: S3Server) -> dict[str, Any]:
    """fsspec options reaching moto's S3 server."""
    return s3_server.options()


@pytest.fixture
def io_manager(s3_store_url: str, s3_options: dict[str, Any], pg_url: str) -> CargoholdIOManager:
    """The IO manager with its store on S3 (moto over HTTP) and its catalog on PostgreSQL."""
    return CargoholdIOManager(store_url=s3_store_url, store_options=s3_options, catalog_url=pg_url)


@pytest.fixture
def local_io_manager(tmp_path: Path) -> CargoholdIOManager:
    """The IO manager on a local folder and a SQLite catalog (fast tests)."""
    return CargoholdIOManager(
        store_url=f"file://{tmp_path}/store", catalog_url=f"sqlite:///{tmp_path}/catalog.db"
    )


@pytest.fixture
def resource_for() -> Any:
    """A function making the CargoholdResource twin of an IO manager."""

    def make(manager: CargoholdIOManager) -> CargoholdResource:
        return CargoholdResource(
            store_url=manager.store_url,
            store_options=manager.store_options,
            catalog_url=manager.catalog_url,
        )

    return make


@pytest.fixture(scope="session")
def validators() -> list[EventValidator]:
    """Validators over the packaged schemas and the shared reference copy."""
    found = [EventValidator(spec_dir=packaged_spec_dir())]
    if (SHARED_SPEC / "2-0-2" / "OpenLineage.json").is_file():
        found.append(EventValidator(spec_dir=SHARED_SPEC))
    elif in_ci():
        pytest.fail(f"CI=true but the shared OpenLineage schemas are missing at {SHARED_SPEC}")
    return found


@pytest.fixture
def receiver(
    validators: list[EventValidator], monkeypatch: pytest.MonkeyPatch
) -> Iterator[LineageReceiver]:
    """A validating Marquez-like receiver, configured through OPENLINEAGE_URL."""
    with LineageReceiver() as server:
        monkeypatch.setenv("OPENLINEAGE_URL", server.url)
        yield server
        for event in server.events:
            for validator in validators:
                errors = validator.errors(event)
                assert not errors, f"invalid event ({validator.spec_dir}): {errors}\n{event}"
