"""Size accounting and eviction queries of the cache, on the catalog's own tables.

Every cache entry is a catalog artifact whose metadata holds ``cache_size`` (bytes: the sizes of
the blobs its outputs reference plus the length of its inline literals) and ``cache_last_used``
(a fixed-width UTC timestamp, so text order is time order). The catalog indexes artifact
metadata on ``(key, value)``, so the total size is one aggregate over the ``cache_size`` rows and
the least recently used entries are an index range scan over the ``cache_last_used`` rows. No
new table is needed.

These functions run inside a transaction the caller opens with ``catalog.database``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Connection, and_, cast, func, select

from cargohold.core.catalog import models as m
from cargohold.core.catalog.blobrefs import OWNER_CACHE, blobs_of, release_blobs
from cargohold.core.catalog.lifecycle import delete_artifacts
from cargohold.core.types.literals import Literal

__all__ = [
    "ENTRY_KEY",
    "LAST_USED_KEY",
    "SIZE_KEY",
    "delete_entries",
    "entry_size",
    "format_time",
    "least_recently_used",
    "parse_time",
    "total_size",
]

SIZE_KEY = "cache_size"
LAST_USED_KEY = "cache_last_used"
ENTRY_KEY = "cache_key"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(moment: datetime) -> str:
    """A UTC timestamp as fixed-width text that sorts in time order."""
    return moment.astimezone(UTC).strftime(_TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """The inverse of :func:`format_time`."""
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def entry_size(outputs: Mapping[str, Literal]) -> int:
    """Bytes an entry accounts for: its distinct blobs' sizes plus its inline literals' JSON."""
    inline = sum(len(lit.to_json()) for lit in outputs.values() if lit.is_inline)
    return inline + sum(blob.size for blob in blobs_of(outputs.values()))


def total_size(conn: Connection) -> int:
    """The summed ``cache_size`` of every cache entry in the catalog."""
    am = m.artifact_metadata
    stmt = select(func.coalesce(func.sum(cast(am.c.value, BigInteger)), 0)).where(
        am.c.key == SIZE_KEY
    )
    return int(conn.execute(stmt).scalar_one())


def least_recently_used(
    conn: Connection, *, limit: int, exclude: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Up to ``limit`` entries as ``(artifact id, size)``, least recently used first."""
    used = m.artifact_metadata.alias("used")
    size = m.artifact_metadata.alias("size")
    stmt = (
        select(used.c.artifact_id, cast(size.c.value, BigInteger).label("size"))
        .join(size, and_(size.c.artifact_id == used.c.artifact_id, size.c.key == SIZE_KEY))
        .where(used.c.key == LAST_USED_KEY)
        .order_by(used.c.value, used.c.artifact_id)
        .limit(limit)
    )
    excluded = list(exclude)
    if excluded:
        stmt = stmt.where(used.c.artifact_id.not_in(excluded))
    return [(row.artifact_id, int(row.size)) for row in conn.execute(stmt)]


def delete_entries(conn: Connection, *, artifact_ids: Sequence[str]) -> None:
    """Delete entries: their artifacts (data, tags, metadata, blob references) and their
    ``cache`` blob ownership. The blobs stay in the store until garbage collection."""
    ids = list(artifact_ids)
    if not ids:
        return
    release_blobs(conn, owner_kind=OWNER_CACHE, owner_ids=ids)
    delete_artifacts(conn, artifact_ids=ids)
