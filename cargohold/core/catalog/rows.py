"""Reading artifacts: the joined SELECT of artifact rows and their decoding into
:class:`Artifact` objects, with data and tags fetched for a whole page in one more query.
Nothing here reads a blob."""

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
    any_,
    bindparam,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import Artifact, ArtifactSource, DatasetID
from cargohold.core.types.literals import Literal

__all__ = ["artifact_select", "load_artifacts"]


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
    """Domain objects for rows of :func:`artifact_select`, with their data and tags (one more
    query: the data and tag rows of every artifact of the page, UNION ALL)."""
    if not rows:
        return []
    field = {name: index for index, name in enumerate(rows[0]._fields)}
    values = [tuple(row) for row in rows]  # positional access: a page decodes 100s of rows
    ids = [value[field["id"]] for value in values]
    data: dict[str, dict[str, Literal]] = {i: {} for i in ids}
    tag_names: dict[str, list[str]] = {i: [] for i in ids}
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
                "source_orchestrator",
                "source_namespace",
                "source_job",
                "source_run_id",
                "source_task",
                "source_map_index",
                "source_try_number",
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
        (id_, version, parts, meta, orch, ns, job, run, task, map_i, try_n, created, updated) = (
            value[i] for i in self.at
        )
        key = tuple(value[i] for i in self.ds)
        dataset = self.datasets.get(key)
        if dataset is None:
            dataset = self.datasets[key] = DatasetID(
                project=key[0], domain=key[1], name=key[2], version=key[3]
            )
        source = None
        if orch is not None:
            source = ArtifactSource(
                orchestrator=orch,
                namespace=ns or "",
                job=job or "",
                run_id=run or "",
                task=task or "",
                map_index=-1 if map_i is None else map_i,
                try_number=1 if try_n is None else try_n,
            )
        return Artifact(
            id=id_,
            dataset=dataset,
            version=version,
            data=data,
            partitions=self._json(parts),
            metadata=self._json(meta),
            tags=tuple(sorted(tags)),
            source=source,
            created_at=created,
            updated_at=updated,
        )
