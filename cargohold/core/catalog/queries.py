"""Listing artifacts: filters, sort and keyset pagination. Listing never reads blobs.

Partition filters map a key to a plain value (equality), a :class:`Range` or a :class:`OneOf`.
When every partition key of the dataset is given by equality, the lookup is one index range on
``(dataset_id, partition_key, version)``; otherwise each filtered key is an indexed ``EXISTS`` on
``catalog_artifact_partitions``. Values compare as strings (ISO dates order correctly).

Pages are ordered by ``(version, id)`` or ``(created_at, id)`` and continue strictly after the
last row of the previous page, so inserts between calls never shift or repeat rows.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    exists,
    literal,
    select,
    tuple_,
)

from cargohold.core.catalog import models as m
from cargohold.core.catalog.objects import Artifact, Dataset, Page
from cargohold.core.catalog.pagination import decode_token, encode_token, fingerprint
from cargohold.core.catalog.read import full_select, load_artifacts
from cargohold.core.catalog.validation import normalize_partition_value, partition_key_string
from cargohold.core.errors import InvalidArgumentError

__all__ = ["ArtifactListing", "OneOf", "Range", "SortBy", "list_artifacts"]

SortBy = Literal["version", "created_at"]


@dataclass(frozen=True, init=False)
class Range:
    """A range filter on a partition value: ``Range(ge="2026-10-01", lt="2026-11-01")``.

    Bounds may be str, int, date or datetime; they are normalised like partition values.
    """

    ge: str | None
    gt: str | None
    le: str | None
    lt: str | None

    def __init__(
        self, *, ge: object = None, gt: object = None, le: object = None, lt: object = None
    ) -> None:
        if ge is None and gt is None and le is None and lt is None:
            raise InvalidArgumentError("Range needs at least one of ge, gt, le, lt")
        for name, value in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)):
            text = None if value is None else normalize_partition_value(value, key=name)
            object.__setattr__(self, name, text)


@dataclass(frozen=True, init=False)
class OneOf:
    """A filter matching any of several partition values: ``OneOf(["eu", "us"])``."""

    values: tuple[str, ...]

    def __init__(self, values: Iterable[object]) -> None:
        texts = tuple(normalize_partition_value(v, key="OneOf") for v in values)
        if not texts:
            raise InvalidArgumentError("OneOf needs at least one value")
        object.__setattr__(self, "values", texts)


def _describe(value: str | Range | OneOf) -> Any:
    if isinstance(value, Range):
        return ["range", value.ge, value.gt, value.le, value.lt]
    if isinstance(value, OneOf):
        return ["in", list(value.values)]
    return ["eq", value]


def normalize_filters(
    partitions: Mapping[str, object] | None, *, dataset: Dataset | None
) -> dict[str, str | Range | OneOf]:
    """Normalise partition filters; keys must be partition keys of ``dataset`` when given.

    Raises:
        InvalidArgumentError: an unknown key, or a malformed value.
    """
    out: dict[str, str | Range | OneOf] = {}
    for key, value in (partitions or {}).items():
        if dataset is not None and key not in dataset.partition_keys:
            raise InvalidArgumentError(
                f"dataset {dataset.id} has partition keys {list(dataset.partition_keys)}, "
                f"not {key!r}"
            )
        if isinstance(value, Range | OneOf):
            out[key] = value
        else:
            out[key] = normalize_partition_value(value, key=key)
    return out


@dataclass(frozen=True, kw_only=True)
class ArtifactListing:
    """One listing request of :meth:`~cargohold.core.catalog.Catalog.list_artifacts`, its input
    already validated (the dataset resolved, partition filters normalised)."""

    dataset: Dataset | None
    partitions: Mapping[str, str | Range | OneOf]
    tag: str | None = None
    metadata: Mapping[str, str] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    job: str | None = None
    run_id: str | None = None
    task: str | None = None
    sort_by: SortBy = "created_at"
    descending: bool = True
    limit: int = 100
    page_token: str | None = None


def list_artifacts(conn: Connection, listing: ArtifactListing) -> Page[Artifact]:
    """One page of artifacts matching every filter of ``listing`` (see the module docstring).

    Raises:
        InvalidArgumentError: a bad sort or page token.
    """
    dataset, partitions, tag = listing.dataset, listing.partitions, listing.tag
    created_after, created_before = listing.created_after, listing.created_before
    job, run_id, task, sort_by = listing.job, listing.run_id, listing.task, listing.sort_by
    descending, limit, page_token = listing.descending, listing.limit, listing.page_token
    if sort_by not in ("version", "created_at"):
        raise InvalidArgumentError(f"sort_by must be 'version' or 'created_at', got {sort_by!r}")
    metadata = listing.metadata or {}
    query = fingerprint(
        [
            "artifacts",
            None if dataset is None else dataset.uuid,
            sorted((k, _describe(v)) for k, v in partitions.items()),
            tag,
            sorted(metadata.items()),
            None if created_after is None else created_after.isoformat(),
            None if created_before is None else created_before.isoformat(),
            job,
            run_id,
            task,
            sort_by,
            descending,
        ]
    )
    last: list[Any] | None = None
    if page_token is not None:
        last = decode_token(page_token, query=query, size=2)
        if sort_by == "created_at":
            last[0] = datetime.fromisoformat(last[0])
    single = _single_range(dataset, partitions)
    only_partitions = (
        tag is None
        and not metadata
        and created_after is None
        and created_before is None
        and job is None
        and run_id is None
        and task is None
    )
    if dataset is not None and single is not None and sort_by == "created_at" and only_partitions:
        key, value = single
        stmt, params = _range_page(
            conn.dialect.name, dataset, key, value, last=last, descending=descending
        )
        params["limit"] = limit + 1
        rows = conn.execute(stmt, params).all()
    else:
        a = m.artifacts
        conditions = _conditions(listing)
        sort_column = a.c.version if sort_by == "version" else a.c.created_at
        if last is not None:
            row_key = tuple_(sort_column, a.c.id)
            bound = tuple_(literal(last[0], type_=sort_column.type), literal(last[1]))
            conditions.append(row_key < bound if descending else row_key > bound)
        order = (
            (sort_column.desc(), a.c.id.desc()) if descending else (sort_column.asc(), a.c.id.asc())
        )
        stmt = full_select(conn.dialect.name).where(*conditions).order_by(*order)
        rows = conn.execute(stmt.limit(limit + 1)).all()
    items = tuple(load_artifacts(conn, rows[:limit]))
    token = None
    if len(rows) > limit:
        final = items[-1]
        last_sort: Any = final.version
        if sort_by == "created_at":
            assert final.created_at is not None
            last_sort = final.created_at.isoformat()
        token = encode_token(query=query, last=[last_sort, final.id])
    return Page(items=items, next_token=token)


def _conditions(listing: ArtifactListing) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``listing``'s filters (the general path; no keyset bound)."""
    a = m.artifacts
    dataset = listing.dataset
    conditions: list[ColumnElement[bool]] = []
    if dataset is not None:
        conditions.append(a.c.dataset_id == dataset.uuid)
    conditions.extend(_partition_conditions(dataset, listing.partitions))
    if listing.tag is not None:
        t = m.tags
        conditions.append(exists().where(and_(t.c.artifact_id == a.c.id, t.c.name == listing.tag)))
    am = m.artifact_metadata
    for key, value in (listing.metadata or {}).items():
        conditions.append(
            exists().where(and_(am.c.artifact_id == a.c.id, am.c.key == key, am.c.value == value))
        )
    if listing.created_after is not None:
        conditions.append(a.c.created_at >= listing.created_after)
    if listing.created_before is not None:
        conditions.append(a.c.created_at < listing.created_before)
    for column, wanted in (
        (a.c.source_job, listing.job),
        (a.c.source_run_id, listing.run_id),
        (a.c.source_task, listing.task),
    ):
        if wanted is not None:
            conditions.append(column == wanted)
    return conditions


def _single_range(
    dataset: Dataset | None, partitions: Mapping[str, str | Range | OneOf]
) -> tuple[str, str | Range | OneOf] | None:
    """The one partition filter of a query that has exactly one (and not a full-key equality,
    which the ``partition_key`` column serves), else None."""
    if dataset is None or len(partitions) != 1:
        return None
    ((key, value),) = partitions.items()
    if isinstance(value, str) and set(dataset.partition_keys) == {key}:
        return None
    return key, value


def _value_checks(
    column: ColumnElement[str], value: str | Range | OneOf
) -> list[ColumnElement[bool]]:
    if isinstance(value, Range):
        checks = []
        if value.ge is not None:
            checks.append(column >= value.ge)
        if value.gt is not None:
            checks.append(column > value.gt)
        if value.le is not None:
            checks.append(column <= value.le)
        if value.lt is not None:
            checks.append(column < value.lt)
        return checks
    if isinstance(value, OneOf):
        return [column.in_(list(value.values))]
    return [column == value]


_BOUNDS = ("ge", "gt", "le", "lt")


def _range_page(
    dialect: str,
    dataset: Dataset,
    key: str,
    value: str | Range | OneOf,
    *,
    last: list[Any] | None,
    descending: bool,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement of one page of a single partition filter and its parameters (all but
    ``limit``): the statement is built once per shape (:func:`_range_page_statement`)."""
    params: dict[str, Any] = {"ds": dataset.uuid, "key": key}
    if isinstance(value, Range):
        shape: tuple[str, ...] = tuple(b for b in _BOUNDS if getattr(value, b) is not None)
        params.update((f"v_{b}", getattr(value, b)) for b in shape)
    elif isinstance(value, OneOf):
        shape = ("in",)
        params["v_in"] = list(value.values)
    else:
        shape = ("eq",)
        params["v_eq"] = value
    if last is not None:
        params["last_at"], params["last_id"] = last
    return _range_page_statement(dialect, shape, last is not None, descending), params


@functools.lru_cache(maxsize=64)
def _range_page_statement(
    dialect: str, shape: tuple[str, ...], after: bool, descending: bool
) -> Select[Any]:
    """One page of artifacts of a single partition filter, newest (or oldest) first. The ids
    are read from the covering index ``(dataset_id, key, value, created_at, artifact_id)``
    alone: the top-N is found without touching the artifacts, which are then fetched for that
    page only. ``shape`` names the filter's bound parameters (``v_ge`` ... ``v_lt``, ``v_eq``
    or the expanding ``v_in``); ``after`` adds the keyset bound ``last_at``, ``last_id``."""
    p, a = m.artifact_partitions, m.artifacts
    compare = {
        "ge": operator.ge,
        "gt": operator.gt,
        "le": operator.le,
        "lt": operator.lt,
        "eq": operator.eq,
    }
    checks: list[ColumnElement[bool]] = [
        p.c.dataset_id == bindparam("ds"),
        p.c.key == bindparam("key"),
    ]
    for name in shape:
        if name == "in":
            checks.append(p.c.value.in_(bindparam("v_in", expanding=True)))
        else:
            checks.append(compare[name](p.c.value, bindparam(f"v_{name}")))
    if after:
        row_key = tuple_(p.c.created_at, p.c.artifact_id)
        bound = tuple_(
            bindparam("last_at", type_=p.c.created_at.type), bindparam("last_id", type_=String)
        )
        checks.append(row_key < bound if descending else row_key > bound)
    if descending:
        inner, outer = (p.c.created_at.desc(), p.c.artifact_id.desc()), (a.c.created_at.desc(),)
    else:
        inner, outer = (p.c.created_at.asc(), p.c.artifact_id.asc()), (a.c.created_at.asc(),)
    ids = select(p.c.artifact_id).where(*checks).order_by(*inner)
    ids = ids.limit(bindparam("limit", type_=Integer))
    order = (*outer, a.c.id.desc() if descending else a.c.id.asc())
    return full_select(dialect).where(a.c.id.in_(ids)).order_by(*order)


def _partition_conditions(
    dataset: Dataset | None, partitions: Mapping[str, str | Range | OneOf]
) -> Sequence[ColumnElement[bool]]:
    a, p = m.artifacts, m.artifact_partitions
    if (
        dataset is not None
        and partitions
        and set(partitions) == set(dataset.partition_keys)
        and all(isinstance(v, str) for v in partitions.values())
    ):
        exact = {k: v for k, v in partitions.items() if isinstance(v, str)}
        return [a.c.partition_key == partition_key_string(exact)]
    out: list[ColumnElement[bool]] = []
    for key, value in partitions.items():
        checks: list[ColumnElement[bool]] = [p.c.artifact_id == a.c.id, p.c.key == key]
        if dataset is not None:
            checks.append(p.c.dataset_id == dataset.uuid)
        checks.extend(_value_checks(p.c.value, value))
        out.append(exists().where(and_(*checks)))
    return out
