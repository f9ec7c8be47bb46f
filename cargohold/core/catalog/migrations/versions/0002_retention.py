"""Per-dataset retention policies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_retention",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("max_age_seconds", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_datasets.id"],
            name=op.f("fk_catalog_retention_dataset_id_catalog_datasets"),
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_catalog_retention")),
    )


def downgrade() -> None:
    op.drop_table("catalog_retention")
