"""Reservations: short leases on (dataset, tag name) that serialise work such as cache fills.

One statement does acquire, extend and take-over atomically on both databases::

    INSERT INTO catalog_reservations (...) VALUES (...)
    ON CONFLICT (dataset_id, tag_name) DO UPDATE SET owner_id = ..., expires_at = ...
    WHERE catalog_reservations.owner_id = :owner OR catalog_reservations.expires_at < :now
    RETURNING owner_id

No row back means another owner holds an unexpired lease: :class:`ReservationConflictError`,
naming the holder and the expiry (the seed's RESOURCE_EXHAUSTED). The holder is read by a second
statement; when it has released in between (PostgreSQL runs each statement on a fresh snapshot),
the upsert is tried again, so a conflict never surfaces as "no reservation".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import Dataset, Reservation
from cargohold.core.errors import NotFoundError, ReservationConflictError

__all__ = ["DEFAULT_GRACE_MULTIPLIER", "get_or_extend", "get_reservation", "release"]

DEFAULT_GRACE_MULTIPLIER = 3.0
_ATTEMPTS = 8


def get_or_extend(
    conn: Connection,
    *,
    dataset: Dataset,
    tag_name: str,
    owner_id: str,
    heartbeat_interval: timedelta,
    grace_multiplier: float,
    now: datetime,
) -> Reservation:
    """Acquire, extend or take over the reservation; expiry = now + heartbeat x multiplier.

    Raises:
        ReservationConflictError: another owner holds it and it has not expired.
    """
    t = m.reservations
    expires_at = now + heartbeat_interval * grace_multiplier
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    base = make(t).values(
        dataset_id=dataset.uuid,
        tag_name=tag_name,
        owner_id=owner_id,
        heartbeat_seconds=heartbeat_interval.total_seconds(),
        expires_at=expires_at,
        created_at=now,
    )
    stmt = base.on_conflict_do_update(
        index_elements=[t.c.dataset_id, t.c.tag_name],
        set_={
            "owner_id": base.excluded.owner_id,
            "heartbeat_seconds": base.excluded.heartbeat_seconds,
            "expires_at": base.excluded.expires_at,
        },
        where=or_(t.c.owner_id == owner_id, t.c.expires_at < now),
    ).returning(t.c.owner_id)
    for _ in range(_ATTEMPTS):
        if conn.execute(stmt).first() is not None:
            break
        # Another owner held it when the upsert ran. Read the holder; on PostgreSQL (read
        # committed) it may have released in between, then the row is gone: try again rather
        # than report a reservation that no longer exists.
        holder = _find(conn, dataset=dataset, tag_name=tag_name)
        if holder is not None and holder.owner_id != owner_id:
            raise ReservationConflictError(
                f"reservation {tag_name!r} of dataset {dataset.id} is held by "
                f"{holder.owner_id!r} until {holder.expires_at.isoformat()}; "
                f"retry after it expires or is released"
            )
    else:
        raise ReservationConflictError(
            f"reservation {tag_name!r} of dataset {dataset.id} changed hands {_ATTEMPTS} times "
            f"while acquiring it; retry"
        )
    return Reservation(
        dataset=dataset.id,
        tag_name=tag_name,
        owner_id=owner_id,
        heartbeat_interval=heartbeat_interval,
        expires_at=expires_at,
    )


def get_reservation(conn: Connection, *, dataset: Dataset, tag_name: str) -> Reservation:
    """The current reservation (possibly expired).

    Raises:
        NotFoundError: there is none.
    """
    found = _find(conn, dataset=dataset, tag_name=tag_name)
    if found is None:
        raise NotFoundError(f"no reservation {tag_name!r} on dataset {dataset.id}")
    return found


def _find(conn: Connection, *, dataset: Dataset, tag_name: str) -> Reservation | None:
    t = m.reservations
    row = conn.execute(
        select(t).where(t.c.dataset_id == dataset.uuid, t.c.tag_name == tag_name)
    ).first()
    if row is None:
        return None
    return Reservation(
        dataset=dataset.id,
        tag_name=tag_name,
        owner_id=row.owner_id,
        heartbeat_interval=timedelta(seconds=row.heartbeat_seconds),
        expires_at=row.expires_at,
    )


def release(conn: Connection, *, dataset: Dataset, tag_name: str, owner_id: str) -> None:
    """Release the owner's reservation.

    Raises:
        NotFoundError: ``owner_id`` holds no reservation on (dataset, tag name).
    """
    t = m.reservations
    result = conn.execute(
        delete(t).where(
            t.c.dataset_id == dataset.uuid, t.c.tag_name == tag_name, t.c.owner_id == owner_id
        )
    )
    if result.rowcount == 0:
        raise NotFoundError(
            f"owner {owner_id!r} holds no reservation {tag_name!r} on dataset {dataset.id}"
        )
