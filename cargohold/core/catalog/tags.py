"""Tags: names that point at one artifact of a dataset.

:func:`put_tag` follows the seed: a tag that is already taken raises ``AlreadyExists`` and never
moves silently (the caller's ``Database.write`` turns the unique-key violation into
:class:`AlreadyExistsError`). With ``move=True`` it is the explicit, atomic way to repoint a tag
such as ``latest`` or ``production``: one ``INSERT ... ON CONFLICT DO UPDATE``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import Dataset, Tag
from cargohold.core.catalog.read import dataset_of
from cargohold.core.errors import InvalidArgumentError

__all__ = ["check_artifact_in_dataset", "list_tags", "put_tag"]


def check_artifact_in_dataset(conn: Connection, *, dataset: Dataset, artifact_id: str) -> None:
    """Make sure the artifact exists and belongs to ``dataset``.

    Raises:
        NotFoundError: no such artifact.
        InvalidArgumentError: it belongs to another dataset.
    """
    if dataset_of(conn, artifact_id=artifact_id) != dataset.uuid:
        raise InvalidArgumentError(
            f"artifact {artifact_id} does not belong to dataset {dataset.id}; "
            f"a tag can only name an artifact of its own dataset"
        )


def put_tag(
    conn: Connection, *, dataset: Dataset, name: str, artifact_id: str, now: datetime, move: bool
) -> Tag:
    """Point a tag at an artifact. A new tag is inserted (IntegrityError if it is taken); with
    ``move`` it is created, or moved from wherever it pointed.

    Raises:
        NotFoundError: the artifact does not exist.
        InvalidArgumentError: it belongs to another dataset.
    """
    check_artifact_in_dataset(conn, dataset=dataset, artifact_id=artifact_id)
    t = m.tags
    row = {"dataset_id": dataset.uuid, "name": name, "artifact_id": artifact_id, "created_at": now}
    if not move:
        conn.execute(insert(t), row)
    else:
        make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        stmt = (
            make(t)
            .values(**row)
            .on_conflict_do_update(
                index_elements=[t.c.dataset_id, t.c.name],
                set_={"artifact_id": artifact_id, "created_at": now},
            )
        )
        conn.execute(stmt)
    return Tag(name=name, artifact_id=artifact_id, dataset=dataset.id)


def list_tags(conn: Connection, *, dataset: Dataset) -> list[Tag]:
    """Every tag of a dataset, by name."""
    t = m.tags
    rows = conn.execute(
        select(t.c.name, t.c.artifact_id).where(t.c.dataset_id == dataset.uuid).order_by(t.c.name)
    )
    return [Tag(name=row.name, artifact_id=row.artifact_id, dataset=dataset.id) for row in rows]
