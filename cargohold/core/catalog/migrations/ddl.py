"""The building blocks the catalog's migrations are written with.

A migration is a frozen snapshot of the schema change it made when it was released, so nothing
here reads ``models.py``: the models may change, the migrations stay. These helpers only name the
DDL the migrations repeat (an id, name, text or time column; a child row's foreign key to its
parent; a constraint or index under the naming convention of ``models.py``, ``pk_<table>``,
``fk_<table>_<column>_<parent>``, ``ix_<table>_<columns>``).

Each helper is frozen too as soon as a released migration calls it: never change what one emits;
to emit something else, add a helper (or write the DDL out in the new migration).
``tests/core/catalog/test_migrations_frozen.py`` pins the schema every released revision
creates, so an edit here that would change an old migration fails there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = [
    "child_of",
    "id_column",
    "index",
    "int_column",
    "name_column",
    "primary_key",
    "text_column",
    "time_column",
]

ID_LENGTH = 36
NAME_LENGTH = 255


def id_column(name: str) -> sa.Column[str]:
    """A required uuid column."""
    return sa.Column(name, sa.String(length=ID_LENGTH), nullable=False)


def name_column(name: str, *, nullable: bool = False) -> sa.Column[str]:
    """A name column (up to 255 characters)."""
    return sa.Column(name, sa.String(length=NAME_LENGTH), nullable=nullable)


def text_column(name: str) -> sa.Column[str]:
    """A required unbounded text column (JSON documents, partition keys)."""
    return sa.Column(name, sa.Text(), nullable=False)


def int_column(name: str, *, nullable: bool = False) -> sa.Column[int]:
    """An integer column."""
    return sa.Column(name, sa.Integer(), nullable=nullable)


def time_column(name: str) -> sa.Column[object]:
    """A required timezone-aware timestamp."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def child_of(table: str, column: str, parent: str) -> sa.ForeignKeyConstraint:
    """The foreign key of ``table.column`` to ``parent.id``."""
    return sa.ForeignKeyConstraint(
        [column], [f"{parent}.id"], name=op.f(f"fk_{table}_{column}_{parent}")
    )


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    """The primary key of ``table``."""
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def index(table: str, *columns: str, name: str | None = None) -> None:
    """Create a non-unique index on ``columns`` (named ``ix_<table>_<columns>`` by default)."""
    op.create_index(
        op.f(name or f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False
    )
