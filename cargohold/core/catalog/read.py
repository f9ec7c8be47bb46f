"""How an artifact is read: the joined SELECT of artifact rows, their decoding into
:class:`Artifact` objects, and the lookups by id, tag or partition version. Nothing here reads a
blob.

An artifact's data and tags live in child tables. On PostgreSQL the hot lookups (by id, the
latest of a partition, a page of a listing) select them with the artifact rows, as arrays of
correlated subqueries (:func:`full_select`): one statement, one round trip, one snapshot. The
other reads, and every read on SQLite (where a query is a function call, not a round trip),
fetch them for the whole page in one more query (:func:`load_artifacts`).

An artifact's source (the execution that produced it) is stored in the ``source_*`` columns of
its row; :data:`SOURCE_COLUMNS`, :func:`source_columns` and :func:`source_of` are the one mapping
between those columns and :class:`ArtifactSource`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Connection,
    Row,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import (
    SOURCE_FIELDS,
    Artifact,
    ArtifactSource,
    Dataset,
    DatasetID,
)
from cargohold.core.catalog.validation import partition_key_string
from cargohold.core.errors import NotFoundError
from cargohold.core.types.literals import Literal

__all__ = [
    "SOURCE_COLUMNS",
    "artifact_select",
    "dataset_of",
    "find_artifact",
    "full_select",
    "get_artifact_by_id",
    "load_artifacts",
    "source_columns",
    "source_of",
]

SOURCE_COLUMNS = tuple(f"source_{name}" for name in SOURCE_FIELDS)
"""The artifact row's columns of its source, in the order of ``SOURCE_FIELDS``."""


def source_columns(source: ArtifactSource | None) -> dict[str, Any]:
    """The ``source_*`` column values of an artifact row (none for no source)."""
    if source is None:
        return {}
    pairs = zip(SOURCE_COLUMNS, SOURCE_FIELDS, strict=True)
    return {column: getattr(source, name) for column, name in pairs}


def source_of(values: Sequence[Any]) -> ArtifactSource | None:
    """The source stored in ``values`` (the ``SOURCE_COLUMNS`` of a row, in order); None when
    the artifact has none."""
    orch, ns, job, run, task, map_i, try_n = values
    if orch is None:
        return None
    return ArtifactSource(
        orchestrator=orch,
        namespace=ns or "",
        job=job or "",
        run_id=run or "",
        task=task or "",
        map_index=-1 if map_i is None else map_i,
        try_number=1 if try_n is None else try_n,
    )


def artifact_select() -> Select[Any]:
    """SELECT of artifact rows joined with their dataset's id fields."""
    a, d = m.artifacts, m.datasets
    return select(
        a,
        d.c.project.label("ds_project"),
        d.c.domain.label("ds_domain"),
        d.c.name.label("ds_name"),
        d.c.version.label("ds_version"),
    ).join(d, d.c.id == a.c.dataset_id)


def _children_array(column: ColumnElement[str], table: Table) -> ColumnElement[Any]:
    """``ARRAY(SELECT column FROM table WHERE artifact_id = the row's id ORDER BY name)``."""
    # correlated to the artifact row only (a lookup by tag joins catalog_tags in the outer query)
    inner = select(column).where(table.c.artifact_id == m.artifacts.c.id).correlate(m.artifacts)
    # untyped: psycopg already returns a list, and a typed ARRAY would process every item again
    return func.array(inner.order_by(table.c.name).scalar_subquery())


@functools.cache
def full_select(dialect: str) -> Select[Any]:
    """:func:`artifact_select`, on PostgreSQL with each row's data names, data documents and
    tag names as three more columns (``data_names``, ``data_json``, ``tag_names``; data by
    name), so :func:`load_artifacts` needs no second query. Built once per dialect; callers add
    their WHERE and ORDER BY (a Select is immutable)."""
    stmt = artifact_select()
    if dialect != "postgresql":
        return stmt
    d, t = m.artifact_data, m.tags
    return stmt.add_columns(
        _children_array(d.c.name, d).label("data_names"),
        _children_array(d.c.literal_json, d).label("data_json"),
        _children_array(t.c.name, t).label("tag_names"),
    )


@functools.cache
def _children_statement(dialect: str) -> CompoundSelect[Any]:
    """Data and tag rows of a set of artifacts (``:ids``), built once per dialect."""
    d, t = m.artifact_data, m.tags
    if dialect == "postgresql":
        ids: Any = bindparam("ids", type_=ARRAY(String))

        def match(column: ColumnElement[Any]) -> ColumnElement[bool]:
            return column == any_(ids)
    else:

        def match(column: ColumnElement[Any]) -> ColumnElement[bool]:
            return column.in_(bindparam("ids", expanding=True))

    return union_all(
        select(d.c.artifact_id, literal(0).label("kind"), d.c.name, d.c.literal_json).where(
            match(d.c.artifact_id)
        ),
        select(
            t.c.artifact_id, literal(1).label("kind"), t.c.name, null().label("literal_json")
        ).where(match(t.c.artifact_id)),
    )


def load_artifacts(conn: Connection, rows: Sequence[Row[Any]]) -> list[Artifact]:
    """Domain objects for rows of :func:`artifact_select` or :func:`full_select`, with their
    data and tags: from the rows' own ``data_*`` and ``tag_names`` columns when they have them,
    else with one more query (the data and tag rows of every artifact of the page, UNION ALL).

    Raises:
        SerializationError: a stored data document is not a readable literal.
    """
    if not rows:
        return []
    field = {name: index for index, name in enumerate(rows[0]._fields)}
    values = [tuple(row) for row in rows]  # positional access: a page decodes 100s of rows
    ids = [value[field["id"]] for value in values]
    data: dict[str, dict[str, Literal]] = {}
    tag_names: dict[str, list[str]] = {}
    if "data_names" in field:
        at = field["data_names"], field["data_json"], field["tag_names"]
        for artifact_id, value in zip(ids, values, strict=True):
            names, documents, tags = (value[i] for i in at)
            data[artifact_id] = {
                name: Literal.from_json(document)
                for name, document in zip(names, documents, strict=True)
            }
            tag_names[artifact_id] = tags
    else:
        data = {i: {} for i in ids}
        tag_names = {i: [] for i in ids}
        for artifact_id, kind, name, literal_json in conn.execute(
            _children_statement(conn.dialect.name), {"ids": ids}
        ):
            if kind == 0:
                data[artifact_id][name] = Literal.from_json(literal_json)
            else:
                tag_names[artifact_id].append(name)
    decode = _Decoder(field)
    return [decode(value, data[i], tag_names[i]) for i, value in zip(ids, values, strict=True)]


class _Decoder:
    """Turns positional artifact rows into :class:`Artifact` objects, sharing what repeats
    within a page (dataset ids, partition and metadata documents)."""

    def __init__(self, field: Mapping[str, int]) -> None:
        self.at = [
            field[name]
            for name in (
                "id",
                "version",
                "partitions_json",
                "metadata_json",
                *SOURCE_COLUMNS,
                "created_at",
                "updated_at",
            )
        ]
        self.ds = [field[name] for name in ("ds_project", "ds_domain", "ds_name", "ds_version")]
        self.datasets: dict[tuple[str, ...], DatasetID] = {}
        self.parsed: dict[str, dict[str, str]] = {}

    def _json(self, text: str) -> dict[str, str]:
        found = self.parsed.get(text)
        if found is None:
            found = self.parsed[text] = json.loads(text)
        return dict(found)

    def __call__(
        self, value: tuple[Any, ...], data: Mapping[str, Literal], tags: list[str]
    ) -> Artifact:
        id_, version, parts, meta, *source_values, created, updated = (value[i] for i in self.at)
        key = tuple(value[i] for i in self.ds)
        dataset = self.datasets.get(key)
        if dataset is None:
            dataset = self.datasets[key] = DatasetID(
                project=key[0], domain=key[1], name=key[2], version=key[3]
            )
        return Artifact(
            id=id_,
            dataset=dataset,
            version=version,
            data=data,
            partitions=self._json(parts),
            metadata=self._json(meta),
            tags=tuple(sorted(tags)),
            source=source_of(source_values),
            created_at=created,
            updated_at=updated,
        )


@functools.cache
def _latest_statement(dialect: str) -> Select[Any]:
    a = m.artifacts
    return (
        full_select(dialect)
        .where(a.c.dataset_id == bindparam("ds"), a.c.partition_key == bindparam("pk"))
        .order_by(a.c.version.desc())
        .limit(1)
    )


@functools.cache
def _by_id_statement(dialect: str) -> Select[Any]:
    return full_select(dialect).where(m.artifacts.c.id == bindparam("id"))


def get_artifact_by_id(conn: Connection, artifact_id: str) -> Artifact:
    """The artifact with this id.

    Raises:
        NotFoundError: there is none.
    """
    rows = conn.execute(_by_id_statement(conn.dialect.name), {"id": artifact_id}).all()
    if not rows:
        raise NotFoundError(f"artifact {artifact_id} does not exist")
    return load_artifacts(conn, rows)[0]


def find_artifact(
    conn: Connection,
    *,
    dataset: Dataset,
    tag: str | None = None,
    partitions: Mapping[str, str] | None = None,
    version: int | None = None,
) -> Artifact | None:
    """The artifact a tag names, or the given (or latest) version of a partition; one indexed
    lookup on ``catalog_tags`` or ``(dataset_id, partition_key, version)``, then data and tags.
    """
    a = m.artifacts
    if tag is None and version is None:
        rows = conn.execute(
            _latest_statement(conn.dialect.name),
            {"ds": dataset.uuid, "pk": partition_key_string(partitions or {})},
        ).all()
        return load_artifacts(conn, rows)[0] if rows else None
    stmt = full_select(conn.dialect.name)
    if tag is not None:
        t = m.tags
        stmt = stmt.join(t, t.c.artifact_id == a.c.id).where(
            t.c.dataset_id == dataset.uuid, t.c.name == tag
        )
    else:
        stmt = stmt.where(
            a.c.dataset_id == dataset.uuid,
            a.c.partition_key == partition_key_string(partitions or {}),
        )
        stmt = stmt.where(a.c.version == version)
    rows = conn.execute(stmt).all()
    return load_artifacts(conn, rows)[0] if rows else None


def dataset_of(conn: Connection, *, artifact_id: str) -> str:
    """The uuid of the dataset an artifact belongs to.

    Raises:
        NotFoundError: no such artifact.
    """
    owner = conn.execute(
        select(m.artifacts.c.dataset_id).where(m.artifacts.c.id == artifact_id)
    ).scalar_one_or_none()
    if owner is None:
        raise NotFoundError(f"artifact {artifact_id} does not exist")
    return str(owner)
