"""Retention: per-dataset policies that expire old artifact versions, applied by ``cargohold gc``.

A policy (one row of ``catalog_retention``) has ``keep_last`` (keep the newest N versions of
each partition) and/or ``max_age`` (expire versions created longer ago); an artifact expires
when either says so. A tagged artifact, or one whose metadata says ``cargohold.pinned=true``, is
never expired. Expiring deletes the artifact's rows and blob references; its blobs then go in
the same run's garbage collection, unless another owner still references them.

Datasets without a policy are kept whole, except XCom datasets (their artifacts carry the
``airflow.xcom_key`` metadata the Airflow backend writes): there a version superseded by a later
try of the same run, task and map index (a failed or cleared try) expires by default. The
current try's value is kept, and so is every run's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import Dataset

__all__ = [
    "PIN_METADATA",
    "XCOM_KEY_METADATA",
    "RetentionPolicy",
    "expired_ids",
    "get_policy",
    "policies",
    "set_policy",
]

PIN_METADATA = "cargohold.pinned"
XCOM_KEY_METADATA = "airflow.xcom_key"


@dataclass(frozen=True)
class RetentionPolicy:
    """Keep the newest ``keep_last`` versions per partition and/or versions younger than
    ``max_age``; ``None`` on both means keep everything."""

    keep_last: int | None = None
    max_age: timedelta | None = None


def set_policy(
    conn: Connection, *, dataset: Dataset, policy: RetentionPolicy | None, now: datetime
) -> None:
    """Store (or, for ``None``, remove) the dataset's policy."""
    t = m.retention
    if policy is None:
        conn.execute(delete(t).where(t.c.dataset_id == dataset.uuid))
        return
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = make(t).values(
        dataset_id=dataset.uuid,
        keep_last=policy.keep_last,
        max_age_seconds=None if policy.max_age is None else policy.max_age.total_seconds(),
        updated_at=now,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[t.c.dataset_id],
            set_={
                "keep_last": stmt.excluded.keep_last,
                "max_age_seconds": stmt.excluded.max_age_seconds,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )


def get_policy(conn: Connection, *, dataset: Dataset) -> RetentionPolicy | None:
    """The dataset's stored policy, or ``None``."""
    t = m.retention
    row = conn.execute(select(t).where(t.c.dataset_id == dataset.uuid)).first()
    return None if row is None else _policy(row.keep_last, row.max_age_seconds)


def policies(conn: Connection) -> dict[str, RetentionPolicy]:
    """Every stored policy, by dataset uuid."""
    t = m.retention
    return {
        row.dataset_id: _policy(row.keep_last, row.max_age_seconds)
        for row in conn.execute(select(t))
    }


def xcom_dataset_ids(conn: Connection) -> list[str]:
    """Uuids of datasets holding XCom artifacts (see the module docstring)."""
    a, md = m.artifacts, m.artifact_metadata
    stmt = (
        select(a.c.dataset_id)
        .join(md, md.c.artifact_id == a.c.id)
        .where(md.c.key == XCOM_KEY_METADATA)
        .distinct()
    )
    return list(conn.execute(stmt).scalars())


def expired_ids(
    conn: Connection, *, dataset_id: str, policy: RetentionPolicy | None, now: datetime
) -> list[str]:
    """Ids of the dataset's artifacts that ``policy`` expires (``None``: the XCom default)."""
    a, t, md = m.artifacts, m.tags, m.artifact_metadata
    rows = conn.execute(
        select(
            a.c.id,
            a.c.partition_key,
            a.c.version,
            a.c.created_at,
            a.c.source_run_id,
            a.c.source_task,
            a.c.source_map_index,
        ).where(a.c.dataset_id == dataset_id)
    ).all()
    protected = set(
        conn.execute(select(t.c.artifact_id).where(t.c.dataset_id == dataset_id)).scalars()
    )
    protected.update(
        conn.execute(
            select(md.c.artifact_id)
            .join(a, a.c.id == md.c.artifact_id)
            .where(a.c.dataset_id == dataset_id, md.c.key == PIN_METADATA)
            .where(md.c.value.in_(["true", "1", "yes"]))
        ).scalars()
    )
    groups: dict[str, list[tuple[int, str, datetime, str]]] = defaultdict(list)
    for row in rows:
        if policy is None:
            group = json.dumps(
                [row.partition_key, row.source_run_id, row.source_task, row.source_map_index]
            )
        else:
            group = row.partition_key
        groups[group].append((row.version, row.id, row.created_at, group))
    cutoff = None
    if policy is not None and policy.max_age is not None:
        cutoff = now - policy.max_age
    keep_last = 1 if policy is None else policy.keep_last
    expired: list[str] = []
    for members in groups.values():
        members.sort(reverse=True)  # newest version first
        for rank, (_, artifact_id, created_at, _) in enumerate(members):
            if artifact_id in protected:
                continue
            too_many = keep_last is not None and rank >= keep_last
            too_old = cutoff is not None and created_at < cutoff
            if too_many or too_old:
                expired.append(artifact_id)
    return expired


def _policy(keep_last: int | None, max_age_seconds: float | None) -> RetentionPolicy:
    return RetentionPolicy(
        keep_last=keep_last,
        max_age=None if max_age_seconds is None else timedelta(seconds=max_age_seconds),
    )
