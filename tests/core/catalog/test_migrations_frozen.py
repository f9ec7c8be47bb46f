"""Released migrations are frozen: each revision creates exactly the schema it created when it
was released, whatever ``models.py`` (or a shared DDL helper) becomes later.

Each snapshot in ``schema_snapshots/`` is the ``sqlite_master`` of a fresh SQLite database
upgraded to that revision (tables, columns, types, constraint and index names). A new revision
adds its snapshot; an old one never changes: regenerate one only to record a brand-new revision
(``CARGOHOLD_WRITE_SCHEMA_SNAPSHOTS=1``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from cargohold.core.catalog.schema import _config

SNAPSHOTS = Path(__file__).with_name("schema_snapshots")
RELEASED = ["0001", "0002"]


def schema_at(revision: str, path: Path) -> str:
    """The ``sqlite_master`` of a fresh database upgraded to ``revision``, one entry a line."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
            rows = conn.execute(
                text(
                    "SELECT type, name, sql FROM sqlite_master "
                    "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
                )
            ).all()
    finally:
        engine.dispose()
    return "".join(f"-- {kind} {name}\n{sql};\n" for kind, name, sql in rows)


@pytest.mark.parametrize("revision", RELEASED)
def test_released_migration_is_frozen(revision: str, tmp_path: Path) -> None:
    found = schema_at(revision, tmp_path / "catalog.db")
    snapshot = SNAPSHOTS / f"{revision}.sql"
    if os.environ.get("CARGOHOLD_WRITE_SCHEMA_SNAPSHOTS") == "1" and not snapshot.exists():
        snapshot.write_text(found)
    assert found == snapshot.read_text(), (
        f"migration {revision} no longer creates the schema it was released with; a released "
        f"migration is frozen: put the change in a new revision"
    )
