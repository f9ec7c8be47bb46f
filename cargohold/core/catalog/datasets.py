"""Datasets and their tags: create, get and list. Functions run on a connection inside a
transaction.

A tag is a name that points at one artifact of a dataset. :func:`put_tag` follows the seed: a tag
that is already taken raises ``AlreadyExists`` and never moves silently (the caller's
``Database.write`` turns the unique-key violation into :class:`AlreadyExistsError`). With
``move=True`` it is the explicit, atomic way to repoint a tag such as ``latest`` or
``production``: one ``INSERT ... ON CONFLICT DO UPDATE``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, exists, insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import Dataset, DatasetID, Page, Tag
from cargohold.core.catalog.pagination import decode_token, encode_token, fingerprint
from cargohold.core.catalog.read import dataset_of
from cargohold.core.errors import InvalidArgumentError, NotFoundError

__all__ = [
    "check_artifact_in_dataset",
    "dataset_from_row",
    "find_dataset",
    "get_dataset",
    "insert_dataset",
    "list_datasets",
    "list_tags",
    "put_tag",
]


def dataset_from_row(row: Row[Any]) -> Dataset:
    """The domain object of a ``catalog_datasets`` row."""
    return Dataset(
        id=DatasetID(project=row.project, domain=row.domain, name=row.name, version=row.version),
        uuid=row.id,
        metadata=json.loads(row.metadata_json),
        partition_keys=tuple(json.loads(row.partition_keys)),
        created_at=row.created_at,
    )


def insert_dataset(
    conn: Connection,
    *,
    dataset_id: DatasetID,
    metadata: Mapping[str, str],
    partition_keys: Sequence[str],
    now: datetime,
) -> Dataset:
    """Insert a dataset (the unique key raises IntegrityError when it exists)."""
    new_id = str(uuid.uuid4())
    conn.execute(
        insert(m.datasets),
        {
            "id": new_id,
            "project": dataset_id.project,
            "domain": dataset_id.domain,
            "name": dataset_id.name,
            "version": dataset_id.version,
            "partition_keys": json.dumps(list(partition_keys)),
            "metadata_json": json.dumps(dict(metadata), sort_keys=True),
            "created_at": now,
        },
    )
    if metadata:
        conn.execute(
            insert(m.dataset_metadata),
            [{"dataset_id": new_id, "key": k, "value": v} for k, v in metadata.items()],
        )
    return Dataset(
        id=dataset_id,
        uuid=new_id,
        metadata=dict(metadata),
        partition_keys=tuple(partition_keys),
        created_at=now,
    )


def find_dataset(conn: Connection, dataset_id: DatasetID) -> Dataset | None:
    """The dataset with this id, or None."""
    t = m.datasets
    row = conn.execute(
        select(t).where(
            t.c.project == dataset_id.project,
            t.c.domain == dataset_id.domain,
            t.c.name == dataset_id.name,
            t.c.version == dataset_id.version,
        )
    ).first()
    return None if row is None else dataset_from_row(row)


def get_dataset(conn: Connection, dataset_id: DatasetID) -> Dataset:
    """The dataset with this id.

    Raises:
        NotFoundError: there is none.
    """
    found = find_dataset(conn, dataset_id)
    if found is None:
        raise NotFoundError(f"dataset {dataset_id} does not exist")
    return found


def datasets_by_uuid(conn: Connection, uuids: Sequence[str]) -> dict[str, Dataset]:
    """The datasets with these uuids, keyed by uuid."""
    if not uuids:
        return {}
    rows = conn.execute(select(m.datasets).where(m.datasets.c.id.in_(set(uuids))))
    return {row.id: dataset_from_row(row) for row in rows}


def list_datasets(
    conn: Connection,
    *,
    project: str | None,
    domain: str | None,
    name: str | None,
    name_prefix: str | None,
    version: str | None,
    metadata: Mapping[str, str],
    limit: int,
    page_token: str | None,
) -> Page[Dataset]:
    """One page of datasets matching every filter, ordered by (project, domain, name, version).

    Raises:
        InvalidArgumentError: the page token is malformed or belongs to another query.
    """
    t = m.datasets
    query = fingerprint(
        ["datasets", project, domain, name, name_prefix, version, sorted(metadata.items())]
    )
    order = (t.c.project, t.c.domain, t.c.name, t.c.version)
    stmt = select(t)
    for column, value in (
        (t.c.project, project),
        (t.c.domain, domain),
        (t.c.name, name),
        (t.c.version, version),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if name_prefix:
        escaped = name_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(t.c.name.like(escaped + "%", escape="\\"))
    md = m.dataset_metadata
    for key, value in metadata.items():
        stmt = stmt.where(
            exists().where(and_(md.c.dataset_id == t.c.id, md.c.key == key, md.c.value == value))
        )
    if page_token is not None:
        last = decode_token(page_token, query=query, size=4)
        stmt = stmt.where(tuple_(*order) > tuple_(*last))
    rows = conn.execute(stmt.order_by(*order).limit(limit + 1)).all()
    items = tuple(dataset_from_row(row) for row in rows[:limit])
    token = None
    if len(rows) > limit:
        last_id = items[-1].id
        token = encode_token(
            query=query,
            last=[last_id.project, last_id.domain, last_id.name, last_id.version],
        )
    return Page(items=items, next_token=token)


# -- tags -------------------------------------------------------------------------------


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
