"""Airflow's clean-up reaching the store: reconcile XCom-owned blob references (and XCom
artifacts) against the ``xcom`` table of Airflow's metadata database.

When a DAG run is deleted (REST API, UI, ``DagRun`` model) or ``airflow db clean --tables xcom``
removes XCom rows, Airflow never calls the backend's ``purge``: the references the backend
registered stay. :func:`reconcile_xcoms` finds every XCom owner (``dag/run/task/map/key``, see
:func:`~cargohold.airflow_provider.records.xcom_owner_id`) and every XCom artifact (metadata
``airflow.xcom_key``) whose XCom row is gone, releases those references and expires those
artifacts, so the blobs nobody else references become garbage for the same ``cargohold gc``.
Owners and artifacts younger than the grace period are kept (a task registers its references
before the supervisor commits the XCom row).

It reads Airflow's table with plain SQL (no Airflow import): ``cargohold gc --airflow-db URL``
(or ``CARGOHOLD_AIRFLOW_DB_URL``), with the metadata database's SQLAlchemy URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from cargohold.airflow_provider.records import xcom_owner_id
from cargohold.core.catalog import models as m
from cargohold.core.catalog.blobrefs import OWNER_XCOM, release_blobs
from cargohold.core.catalog.lifecycle import delete_artifacts
from cargohold.core.catalog.retention import XCOM_KEY_METADATA
from cargohold.core.catalog.session import make_engine
from cargohold.core.errors import CatalogError

if TYPE_CHECKING:
    from cargohold.core.catalog import Catalog

__all__ = ["XComReconciliation", "airflow_xcom_owners", "reconcile_xcoms"]


@dataclass(frozen=True)
class XComReconciliation:
    """What :func:`reconcile_xcoms` released (or would release, in a dry run)."""

    dry_run: bool
    released_owners: tuple[str, ...]
    expired_artifacts: tuple[str, ...]


def airflow_xcom_owners(airflow_db_url: str) -> set[str]:
    """The owner id of every XCom row in Airflow's metadata database.

    Raises:
        CatalogError: the database cannot be read (the message names it).
        ConfigurationError: the URL is malformed.
    """
    engine = make_engine(airflow_db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT dag_id, run_id, task_id, map_index, key FROM xcom")
            ).all()
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise CatalogError(
            f"cannot read the xcom table of the Airflow metadata database at {where}: "
            f"{exc}; pass its SQLAlchemy URL ([database] sql_alchemy_conn) to --airflow-db"
        ) from exc
    finally:
        engine.dispose()
    return {
        xcom_owner_id(
            dag_id=row.dag_id,
            run_id=row.run_id,
            task_id=row.task_id,
            map_index=int(row.map_index),
            key=row.key,
        )
        for row in rows
    }


def reconcile_xcoms(
    catalog: Catalog,
    *,
    airflow_db_url: str,
    grace: timedelta,
    dry_run: bool = True,
) -> XComReconciliation:
    """Release XCom references and expire XCom artifacts whose XCom row Airflow no longer has
    (and that are older than ``grace``). Nothing else is touched.

    Raises:
        CatalogError: a database failed.
    """
    live = airflow_xcom_owners(airflow_db_url)
    cutoff = catalog.now() - grace

    def run(conn: Connection) -> XComReconciliation:
        owners = [o for o in _xcom_owners(conn, cutoff) if o not in live]
        artifacts = [a for a, owner in _xcom_artifacts(conn, cutoff) if owner not in live]
        if not dry_run:
            release_blobs(conn, owner_kind=OWNER_XCOM, owner_ids=owners)
            delete_artifacts(conn, artifact_ids=artifacts)
        return XComReconciliation(
            dry_run=dry_run, released_owners=tuple(owners), expired_artifacts=tuple(artifacts)
        )

    database = catalog.database
    return database.read(run) if dry_run else database.write(run)


def _xcom_owners(conn: Connection, cutoff: datetime) -> Iterator[str]:
    t = m.blob_refs
    stmt = (
        select(t.c.owner_id)
        .where(t.c.owner_kind == OWNER_XCOM)
        .group_by(t.c.owner_id)
        .having(func.max(t.c.created_at) < cutoff)
    )
    yield from conn.execute(stmt).scalars()


def _xcom_artifacts(conn: Connection, cutoff: datetime) -> Iterator[tuple[str, str]]:
    a, md = m.artifacts, m.artifact_metadata
    stmt = (
        select(
            a.c.id,
            a.c.source_job,
            a.c.source_run_id,
            a.c.source_task,
            a.c.source_map_index,
            md.c.value,
        )
        .join(md, md.c.artifact_id == a.c.id)
        .where(md.c.key == XCOM_KEY_METADATA, a.c.created_at < cutoff)
    )
    for row in conn.execute(stmt):
        owner = xcom_owner_id(
            dag_id=row.source_job or "",
            run_id=row.source_run_id or "",
            task_id=row.source_task or "",
            map_index=-1 if row.source_map_index is None else int(row.source_map_index),
            key=row.value,
        )
        yield row.id, owner
