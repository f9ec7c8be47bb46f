"""Pages of a partition range newest first without a sort: an index on partition rows ordered
by creation time.

``list_artifacts(dataset=..., partitions={"date": Range(ge=...)})`` pages newest first. The
range index ``(dataset_id, key, value, created_at, artifact_id)`` finds every row in the range,
which then have to be sorted: at 10M artifacts a large hourly dataset has ~13,000 rows in its
last 120 days, and the page took over 20 ms. With ``(dataset_id, key, created_at, artifact_id,
value)`` the newest rows are read in order, the range is checked from the index itself, and the
scan stops after one page (about 100 entries for a recent range). The planner keeps the range
index for equality and narrow or old ranges.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_catalog_artifact_partitions_recent"),
        "catalog_artifact_partitions",
        ["dataset_id", "key", "created_at", "artifact_id", "value"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_catalog_artifact_partitions_recent"), table_name="catalog_artifact_partitions"
    )
