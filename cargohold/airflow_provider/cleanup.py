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

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from cargohold.airflow_provider.records import xcom_owner_id
from cargohold.core.catalog import OWNER_XCOM, ArtifactSource
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
    stale = catalog.stale_blob_owners(owner_kind=OWNER_XCOM, before=cutoff)
    owners = [owner for owner in stale if owner not in live]
    artifacts = [
        artifact_id
        for artifact_id, source, key in catalog.metadata_values(
            key=XCOM_KEY_METADATA, created_before=cutoff
        )
        if _owner(source, key) not in live
    ]
    if not dry_run:
        catalog.delete_artifacts(artifact_ids=artifacts, release={OWNER_XCOM: owners})
    return XComReconciliation(
        dry_run=dry_run, released_owners=tuple(owners), expired_artifacts=tuple(artifacts)
    )


def _owner(source: ArtifactSource | None, key: str) -> str:
    """The XCom owner id of an XCom artifact recorded by ``source`` under ``key``."""
    found = source or ArtifactSource(job="", run_id="", task="", map_index=-1)
    return xcom_owner_id(
        dag_id=found.job,
        run_id=found.run_id,
        task_id=found.task,
        map_index=found.map_index,
        key=key,
    )
