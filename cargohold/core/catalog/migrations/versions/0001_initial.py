"""The initial catalog schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "cargohold_blob_refs",
        sa.Column("owner_kind", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("blob_hash", sa.String(length=128), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "owner_kind", "owner_id", "blob_hash", name=op.f("pk_cargohold_blob_refs")
        ),
    )
    op.create_index(
        op.f("ix_cargohold_blob_refs_blob_hash"), "cargohold_blob_refs", ["blob_hash"], unique=False
    )
    op.create_table(
        "catalog_datasets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("partition_keys", sa.Text(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_datasets")),
        sa.UniqueConstraint(
            "project",
            "domain",
            "name",
            "version",
            name=op.f("uq_catalog_datasets_project_domain_name_version"),
        ),
    )
    op.create_table(
        "catalog_artifacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("partition_key", sa.Text(), nullable=False),
        sa.Column("partitions_json", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("metadata_json", sa.Text(), nullable=False),
        sa.Column("source_orchestrator", sa.String(length=255), nullable=True),
        sa.Column("source_namespace", sa.String(length=255), nullable=True),
        sa.Column("source_job", sa.String(length=255), nullable=True),
        sa.Column("source_run_id", sa.String(length=255), nullable=True),
        sa.Column("source_task", sa.String(length=255), nullable=True),
        sa.Column("source_map_index", sa.Integer(), nullable=True),
        sa.Column("source_try_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_datasets.id"],
            name=op.f("fk_catalog_artifacts_dataset_id_catalog_datasets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_artifacts")),
        sa.UniqueConstraint(
            "dataset_id",
            "partition_key",
            "version",
            name=op.f("uq_catalog_artifacts_dataset_id_partition_key_version"),
        ),
    )
    op.create_index(
        op.f("ix_catalog_artifacts_created_at_id"),
        "catalog_artifacts",
        ["created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_catalog_artifacts_dataset_id_created_at_id"),
        "catalog_artifacts",
        ["dataset_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_catalog_artifacts_dataset_id_version_id"),
        "catalog_artifacts",
        ["dataset_id", "version", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_catalog_artifacts_source_job_source_task"),
        "catalog_artifacts",
        ["source_job", "source_task"],
        unique=False,
    )
    op.create_index(
        op.f("ix_catalog_artifacts_source_run_id"),
        "catalog_artifacts",
        ["source_run_id"],
        unique=False,
    )
    op.create_table(
        "catalog_dataset_metadata",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_datasets.id"],
            name=op.f("fk_catalog_dataset_metadata_dataset_id_catalog_datasets"),
        ),
        sa.PrimaryKeyConstraint("dataset_id", "key", name=op.f("pk_catalog_dataset_metadata")),
    )
    op.create_index(
        op.f("ix_catalog_dataset_metadata_key_value"),
        "catalog_dataset_metadata",
        ["key", "value"],
        unique=False,
    )
    op.create_table(
        "catalog_reservations",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("tag_name", sa.String(length=255), nullable=False),
        sa.Column("owner_id", sa.String(length=255), nullable=False),
        sa.Column("heartbeat_seconds", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_datasets.id"],
            name=op.f("fk_catalog_reservations_dataset_id_catalog_datasets"),
        ),
        sa.PrimaryKeyConstraint("dataset_id", "tag_name", name=op.f("pk_catalog_reservations")),
    )
    op.create_table(
        "catalog_version_counters",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("partition_key", sa.Text(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_datasets.id"],
            name=op.f("fk_catalog_version_counters_dataset_id_catalog_datasets"),
        ),
        sa.PrimaryKeyConstraint(
            "dataset_id", "partition_key", name=op.f("pk_catalog_version_counters")
        ),
    )
    op.create_table(
        "catalog_artifact_data",
        sa.Column("artifact_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("literal_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["catalog_artifacts.id"],
            name=op.f("fk_catalog_artifact_data_artifact_id_catalog_artifacts"),
        ),
        sa.PrimaryKeyConstraint("artifact_id", "name", name=op.f("pk_catalog_artifact_data")),
    )
    op.create_table(
        "catalog_artifact_metadata",
        sa.Column("artifact_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["catalog_artifacts.id"],
            name=op.f("fk_catalog_artifact_metadata_artifact_id_catalog_artifacts"),
        ),
        sa.PrimaryKeyConstraint("artifact_id", "key", name=op.f("pk_catalog_artifact_metadata")),
    )
    op.create_index(
        op.f("ix_catalog_artifact_metadata_key_value"),
        "catalog_artifact_metadata",
        ["key", "value"],
        unique=False,
    )
    op.create_table(
        "catalog_artifact_partitions",
        sa.Column("artifact_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["catalog_artifacts.id"],
            name=op.f("fk_catalog_artifact_partitions_artifact_id_catalog_artifacts"),
        ),
        sa.PrimaryKeyConstraint("artifact_id", "key", name=op.f("pk_catalog_artifact_partitions")),
    )
    op.create_index(
        op.f("ix_catalog_artifact_partitions_range"),
        "catalog_artifact_partitions",
        ["dataset_id", "key", "value", "created_at", "artifact_id"],
        unique=False,
    )
    op.create_table(
        "catalog_reads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("artifact_id", sa.String(length=36), nullable=False),
        sa.Column("orchestrator", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("job", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.String(length=255), nullable=False),
        sa.Column("task", sa.String(length=255), nullable=False),
        sa.Column("map_index", sa.Integer(), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["catalog_artifacts.id"],
            name=op.f("fk_catalog_reads_artifact_id_catalog_artifacts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_reads")),
    )
    op.create_index(
        op.f("ix_catalog_reads_artifact_id"), "catalog_reads", ["artifact_id"], unique=False
    )
    op.create_index(op.f("ix_catalog_reads_run_id"), "catalog_reads", ["run_id"], unique=False)
    op.create_table(
        "catalog_tags",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("artifact_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["catalog_artifacts.id"],
            name=op.f("fk_catalog_tags_artifact_id_catalog_artifacts"),
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["catalog_datasets.id"],
            name=op.f("fk_catalog_tags_dataset_id_catalog_datasets"),
        ),
        sa.PrimaryKeyConstraint("dataset_id", "name", name=op.f("pk_catalog_tags")),
    )
    op.create_index(
        op.f("ix_catalog_tags_artifact_id"), "catalog_tags", ["artifact_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_catalog_tags_artifact_id"), table_name="catalog_tags")
    op.drop_table("catalog_tags")
    op.drop_index(op.f("ix_catalog_reads_run_id"), table_name="catalog_reads")
    op.drop_index(op.f("ix_catalog_reads_artifact_id"), table_name="catalog_reads")
    op.drop_table("catalog_reads")
    op.drop_index(
        op.f("ix_catalog_artifact_partitions_range"),
        table_name="catalog_artifact_partitions",
    )
    op.drop_table("catalog_artifact_partitions")
    op.drop_index(
        op.f("ix_catalog_artifact_metadata_key_value"), table_name="catalog_artifact_metadata"
    )
    op.drop_table("catalog_artifact_metadata")
    op.drop_table("catalog_artifact_data")
    op.drop_table("catalog_version_counters")
    op.drop_table("catalog_reservations")
    op.drop_index(
        op.f("ix_catalog_dataset_metadata_key_value"), table_name="catalog_dataset_metadata"
    )
    op.drop_table("catalog_dataset_metadata")
    op.drop_index(op.f("ix_catalog_artifacts_source_run_id"), table_name="catalog_artifacts")
    op.drop_index(
        op.f("ix_catalog_artifacts_source_job_source_task"), table_name="catalog_artifacts"
    )
    op.drop_index(
        op.f("ix_catalog_artifacts_dataset_id_version_id"), table_name="catalog_artifacts"
    )
    op.drop_index(
        op.f("ix_catalog_artifacts_dataset_id_created_at_id"), table_name="catalog_artifacts"
    )
    op.drop_index(op.f("ix_catalog_artifacts_created_at_id"), table_name="catalog_artifacts")
    op.drop_table("catalog_artifacts")
    op.drop_table("catalog_datasets")
    op.drop_index(op.f("ix_cargohold_blob_refs_blob_hash"), table_name="cargohold_blob_refs")
    op.drop_table("cargohold_blob_refs")
