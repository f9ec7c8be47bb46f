"""Released migrations are frozen: each revision creates exactly the schema it created when it
was released, whatever ``models.py`` (or a shared DDL helper) becomes later.

Each snapshot in ``schema_snapshots/`` is what that revision changed in a fresh SQLite database
upgraded to it from the revision before: the ``sqlite_master`` entries (tables with their
columns, types and constraint names; indexes) it created or altered, and those it dropped. A new
revision adds its id to ``RELEASED`` and its snapshot (``CARGOHOLD_WRITE_SCHEMA_SNAPSHOTS=1``
writes the missing ones); an old snapshot never changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from cargohold.core.catalog.schema import _config

SNAPSHOTS = Path(__file__).with_name("schema_snapshots")
RELEASED = ["0001", "0002", "0003"]


def schema_at(revision: str | None, path: Path) -> dict[str, str]:
    """``{"<type> <name>": sql}`` of a fresh database upgraded to ``revision`` (None: empty)."""
    if revision is None:
        return {}
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
            rows = conn.execute(
                text("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            ).all()
    finally:
        engine.dispose()
    return {f"{kind} {name}": f"{sql};" for kind, name, sql in rows}


def changes(before: dict[str, str], after: dict[str, str]) -> str:
    """The entries ``after`` created or altered, then those it dropped, one block each."""
    made = [f"-- {key}\n{sql}\n" for key, sql in sorted(after.items()) if before.get(key) != sql]
    gone = [f"-- dropped {key}\n" for key in sorted(before) if key not in after]
    return "".join(made + gone)


@pytest.mark.parametrize("index", range(len(RELEASED)), ids=RELEASED)
def test_released_migration_is_frozen(index: int, tmp_path: Path) -> None:
    revision = RELEASED[index]
    previous = RELEASED[index - 1] if index else None
    found = changes(
        schema_at(previous, tmp_path / "before.db"), schema_at(revision, tmp_path / "after.db")
    )
    snapshot = SNAPSHOTS / f"{revision}.txt"
    if os.environ.get("CARGOHOLD_WRITE_SCHEMA_SNAPSHOTS") == "1" and not snapshot.exists():
        snapshot.write_text(found)
    assert found == snapshot.read_text(), (
        f"migration {revision} no longer makes the schema change it was released with; a "
        f"released migration is frozen: put the change in a new revision"
    )
