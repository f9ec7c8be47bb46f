"""The initial catalog schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from cargohold.core.catalog.migrations.ddl import (
    child_of,
    id_column,
    index,
    int_column,
    name_column,
    primary_key,
    text_column,
    time_column,
)

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

DATASETS, ARTIFACTS = "catalog_datasets", "catalog_artifacts"
_TABLES = (  # in creation order; downgrade drops them (and so their indexes) in reverse
    "cargohold_blob_refs",
    DATASETS,
    ARTIFACTS,
    "catalog_dataset_metadata",
    "catalog_reservations",
    "catalog_version_counters",
    "catalog_artifact_data",
    "catalog_artifact_metadata",
    "catalog_artifact_partitions",
    "catalog_reads",
    "catalog_tags",
)


def _child(table: str, parent: str, key: sa.Column[Any], *columns: sa.Column[Any]) -> None:
    """A table of rows that hang off one ``parent`` row: primary key (parent id, ``key``)."""
    column = "dataset_id" if parent == DATASETS else "artifact_id"
    op.create_table(
        table,
        id_column(column),
        key,
        *columns,
        child_of(table, column, parent),
        primary_key(table, column, str(key.name)),
    )


def upgrade() -> None:
    blob_refs = "cargohold_blob_refs"
    op.create_table(
        blob_refs,
        sa.Column("owner_kind", sa.String(length=32), nullable=False),
        name_column("owner_id"),
        sa.Column("blob_hash", sa.String(length=128), nullable=False),
        text_column("uri"),
        sa.Column("size", sa.BigInteger(), nullable=False),
        time_column("created_at"),
        primary_key(blob_refs, "owner_kind", "owner_id", "blob_hash"),
    )
    index(blob_refs, "blob_hash")
    op.create_table(
        DATASETS,
        id_column("id"),
        *(name_column(name) for name in ("project", "domain", "name", "version")),
        text_column("partition_keys"),
        text_column("metadata_json"),
        time_column("created_at"),
        primary_key(DATASETS, "id"),
        sa.UniqueConstraint(
            "project",
            "domain",
            "name",
            "version",
            name=op.f("uq_catalog_datasets_project_domain_name_version"),
        ),
    )
    op.create_table(
        ARTIFACTS,
        id_column("id"),
        id_column("dataset_id"),
        text_column("partition_key"),
        text_column("partitions_json"),
        int_column("version"),
        text_column("metadata_json"),
        *(
            name_column(f"source_{name}", nullable=True)
            for name in ("orchestrator", "namespace", "job", "run_id", "task")
        ),
        int_column("source_map_index", nullable=True),
        int_column("source_try_number", nullable=True),
        time_column("created_at"),
        time_column("updated_at"),
        child_of(ARTIFACTS, "dataset_id", DATASETS),
        primary_key(ARTIFACTS, "id"),
        sa.UniqueConstraint(
            "dataset_id",
            "partition_key",
            "version",
            name=op.f("uq_catalog_artifacts_dataset_id_partition_key_version"),
        ),
    )
    index(ARTIFACTS, "created_at", "id")
    index(ARTIFACTS, "dataset_id", "created_at", "id")
    index(ARTIFACTS, "dataset_id", "version", "id")
    index(ARTIFACTS, "source_job", "source_task")
    index(ARTIFACTS, "source_run_id")
    _child("catalog_dataset_metadata", DATASETS, name_column("key"), text_column("value"))
    index("catalog_dataset_metadata", "key", "value")
    _child(
        "catalog_reservations",
        DATASETS,
        name_column("tag_name"),
        name_column("owner_id"),
        sa.Column("heartbeat_seconds", sa.Float(), nullable=False),
        time_column("expires_at"),
        time_column("created_at"),
    )
    counters = "catalog_version_counters"
    _child(counters, DATASETS, text_column("partition_key"), int_column("last_version"))
    _child("catalog_artifact_data", ARTIFACTS, name_column("name"), text_column("literal_json"))
    _child("catalog_artifact_metadata", ARTIFACTS, name_column("key"), text_column("value"))
    index("catalog_artifact_metadata", "key", "value")
    parts = "catalog_artifact_partitions"
    columns = (id_column("dataset_id"), name_column("value"), time_column("created_at"))
    _child(parts, ARTIFACTS, name_column("key"), *columns)
    index(
        parts,
        *("dataset_id", "key", "value", "created_at", "artifact_id"),
        name=f"ix_{parts}_range",
    )
    reads = "catalog_reads"
    op.create_table(
        reads,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        id_column("artifact_id"),
        *(name_column(name) for name in ("orchestrator", "namespace", "job", "run_id", "task")),
        int_column("map_index"),
        int_column("try_number"),
        time_column("read_at"),
        child_of(reads, "artifact_id", ARTIFACTS),
        primary_key(reads, "id"),
    )
    index(reads, "artifact_id")
    index(reads, "run_id")
    tags = "catalog_tags"
    op.create_table(
        tags,
        id_column("dataset_id"),
        name_column("name"),
        id_column("artifact_id"),
        time_column("created_at"),
        child_of(tags, "artifact_id", ARTIFACTS),
        child_of(tags, "dataset_id", DATASETS),
        primary_key(tags, "dataset_id", "name"),
    )
    index(tags, "artifact_id")


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
