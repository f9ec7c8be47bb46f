"""Alembic environment of the catalog: always runs on a connection cargohold hands in.

Use :func:`cargohold.core.catalog.schema.upgrade_schema` (``cargohold db upgrade``) rather than
the ``alembic`` command; the version is kept in the ``cargohold_catalog_version`` table so the
catalog can share a database with other Alembic-managed schemas (such as Airflow's).
"""

from __future__ import annotations

from alembic import context

from cargohold.core.catalog.models import Base

VERSION_TABLE = "cargohold_catalog_version"


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "the cargohold catalog migrations run through `cargohold db upgrade` "
            "(cargohold.core.catalog.schema.upgrade_schema), not the alembic command line"
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_run()
