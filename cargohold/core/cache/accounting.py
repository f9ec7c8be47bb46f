"""Size accounting and eviction queries of the cache, on the catalog's own tables.

Every cache entry is a catalog artifact whose metadata holds ``cache_size`` (bytes: the sizes of
the blobs its outputs reference plus the length of its inline literals) and ``cache_last_used``
(a fixed-width UTC timestamp, so text order is time order). The catalog indexes artifact
metadata on ``(key, value)``, so the total size is one aggregate over the ``cache_size`` rows and
the least recently used entries are an index range scan over the ``cache_last_used`` rows. No
new table is needed.

The queries are the catalog's public calls (``Catalog.metadata_sum``,
``Catalog.ordered_by_metadata``, ``Catalog.delete_artifacts``); this module names the keys and
the time format.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from cargohold.core.catalog import blobs_of
from cargohold.core.types.literals import Literal

__all__ = [
    "ENTRY_KEY",
    "LAST_USED_KEY",
    "SIZE_KEY",
    "entry_size",
    "format_time",
    "parse_time",
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
