"""Per-dataset retention policies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cargohold.core.catalog.migrations.ddl import child_of, id_column, primary_key, time_column

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    table = "catalog_retention"
    op.create_table(
        table,
        id_column("dataset_id"),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("max_age_seconds", sa.Float(), nullable=True),
        time_column("updated_at"),
        child_of(table, "dataset_id", "catalog_datasets"),
        primary_key(table, "dataset_id"),
    )


def downgrade() -> None:
    op.drop_table("catalog_retention")
