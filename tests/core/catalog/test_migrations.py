"""Migrations from an older revision, with data in place, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from cargohold.core.catalog import Catalog, Range, schema, upgrade_schema
from cargohold.core.catalog.schema import _config, head_revision
from cargohold.core.errors import SchemaOutOfDateError

from .conftest import BACKENDS, PG_ADMIN_URL, _admin_engine

DATASET = "5d0c7e1a-0000-4000-8000-000000000001"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    request.getfixturevalue("postgres_url")  # skips when the server is unreachable
    admin = _admin_engine()
    name = f"cargohold_migrate_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        (command.downgrade if down else command.upgrade)(_config(conn), revision)
    engine.dispose()


def _seed_at_0002(url: str) -> list[str]:
    """A dataset partitioned by date with three artifacts, written as 0002 had them."""
    engine = create_engine(url)
    # timestamps as each backend's UTCDateTime stores them (SQLite: naive UTC text)
    zone = "+00:00" if url.startswith("postgresql") else ".000000"
    now = f"2026-11-30 12:00:00{zone}"
    ids = [f"5d0c7e1a-0000-4000-8000-00000000010{i}" for i in range(3)]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO catalog_datasets (id, project, domain, name, version, "
                "partition_keys, metadata_json, created_at) VALUES (:id, 'p', 'd', 'events', "
                "'1', '[\"date\"]', '{}', :now)"
            ),
            {"id": DATASET, "now": now},
        )
        for i, artifact_id in enumerate(ids):
            day = f"2026-11-0{i + 1}"
            created = f"2026-11-0{i + 1} 12:00:00{zone}"
            conn.execute(
                text(
                    "INSERT INTO catalog_artifacts (id, dataset_id, partition_key, "
                    "partitions_json, version, metadata_json, created_at, updated_at) VALUES "
                    "(:id, :ds, :pk, :pj, 1, '{}', :at, :at)"
                ),
                {
                    "id": artifact_id,
                    "ds": DATASET,
                    "pk": f'[["date","{day}"]]',
                    "pj": f'{{"date": "{day}"}}',
                    "at": created,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO catalog_version_counters (dataset_id, partition_key, "
                    "last_version) VALUES (:ds, :pk, 1)"
                ),
                {"ds": DATASET, "pk": f'[["date","{day}"]]'},
            )
            conn.execute(
                text(
                    "INSERT INTO catalog_artifact_partitions (artifact_id, key, dataset_id, "
                    "value, created_at) VALUES (:id, 'date', :ds, :day, :at)"
                ),
                {"id": artifact_id, "ds": DATASET, "day": day, "at": created},
            )
            conn.execute(
                text(
                    "INSERT INTO catalog_artifact_data (artifact_id, name, literal_json) VALUES "
                    "(:id, 'o', :lit)"
                ),
                {
                    "id": artifact_id,
                    "lit": f'{{"cargohold":1,"type":{{"kind":"int"}},"value":{i}}}',
                },
            )
    engine.dispose()
    return ids


def _recent_index(url: str) -> list[str] | None:
    engine = create_engine(url)
    try:
        for index in inspect(engine).get_indexes("catalog_artifact_partitions"):
            if index["name"] == "ix_catalog_artifact_partitions_recent":
                return [str(c) for c in index["column_names"]]
        return None
    finally:
        engine.dispose()


def test_upgrade_from_0002_adds_the_recent_index(empty_url: str) -> None:
    _migrate(empty_url, "0002")
    ids = _seed_at_0002(empty_url)
    assert _recent_index(empty_url) is None
    with pytest.raises(SchemaOutOfDateError, match="0002"):
        Catalog(url=empty_url, project="p", domain="d").get_dataset(dataset="events")

    assert upgrade_schema(empty_url) == head_revision() == "0003"
    assert _recent_index(empty_url) == ["dataset_id", "key", "created_at", "artifact_id", "value"]
    with Catalog(url=empty_url, project="p", domain="d") as catalog:
        page = catalog.list_artifacts(
            dataset="events", partitions={"date": Range(ge="2026-11-02")}, limit=1
        )
        assert [a.id for a in page.items] == [ids[2]]
        rest = catalog.list_artifacts(
            dataset="events",
            partitions={"date": Range(ge="2026-11-02")},
            limit=1,
            page_token=page.next_token,
        )
        assert [a.id for a in rest.items] == [ids[1]]
        assert rest.next_token is None
        new = catalog.create_artifact(
            dataset="events",
            data=catalog.get_artifact(artifact_id=ids[0]).data,
            partitions={"date": "2026-11-01"},
        )
        assert new.version == 2

    _migrate(empty_url, "0002", down=True)
    assert _recent_index(empty_url) is None


@pytest.mark.parametrize(
    "empty_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_catalog_another_process_creates_mid_check_is_accepted(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Celery deployment's mapped tasks open a fresh catalog together: one creates the schema
    while another checks it. Whichever of its two reads (table names, revision) the check makes
    first, the creator commits right after it: the check must accept the new catalog, never
    call it unversioned (it did when it read the revision first). On PostgreSQL, where each
    read sees every commit made before it."""
    url = empty_url
    created: list[bool] = []

    def create_once() -> None:
        if not created:
            created.append(True)
            upgrade_schema(url)  # "another process": its own engine and connection

    real_revision = schema.current_revision
    real_inspect = schema.inspect

    def revision_then_create(connection: Any) -> str | None:
        revision = real_revision(connection)
        create_once()
        return revision

    class TablesThenCreate:
        def __init__(self, connection: Any) -> None:
            self._inspector = real_inspect(connection)

        def get_table_names(self) -> list[str]:
            names: list[str] = self._inspector.get_table_names()
            create_once()
            return names

    monkeypatch.setattr(schema, "current_revision", revision_then_create)
    monkeypatch.setattr(schema, "inspect", TablesThenCreate)
    with Catalog(url=url, project="p", domain="d") as catalog:
        catalog.create_dataset(dataset="events")
        assert catalog.get_dataset(dataset="events").id.name == "events"
    assert created == [True]
