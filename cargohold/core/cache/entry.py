"""A cache entry, and what serialized fills need of the service that stores entries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cargohold.core.cache.keys import CacheKey
from cargohold.core.catalog import ArtifactSource, Catalog, DatasetID
from cargohold.core.context import RunContext
from cargohold.core.types.literals import Literal as CargoLiteral

__all__ = ["CacheEntry", "EntryStore", "HeartbeatInterval"]

HeartbeatInterval = timedelta | float
"""Seconds, or a timedelta, between the extensions of a held reservation."""
_Outputs = Mapping[str, CargoLiteral]
_Source = ArtifactSource | RunContext | None


@dataclass(frozen=True, kw_only=True)
class CacheEntry:
    """A cached result: its output literals and the execution that produced them.

    ``computed`` is true when the call that returned this entry ran the computation itself
    (:meth:`CacheService.get_or_compute`); a plain hit has it false.
    """

    key: CacheKey
    artifact_id: str
    outputs: Mapping[str, CargoLiteral]
    source: ArtifactSource | None
    created_at: datetime
    last_used: datetime
    size: int
    computed: bool = False


class EntryStore(Protocol):
    """The entries of one catalog (:class:`~cargohold.core.cache.service.CacheService` is one):
    what :func:`cargohold.core.cache.reservations.get_or_compute` reads, writes and reserves."""

    catalog: Catalog

    def get(self, key: CacheKey) -> CacheEntry | None:
        """The entry of ``key``, or None on a miss."""
        ...

    def put(self, key: CacheKey, outputs: _Outputs, *, source: _Source = None) -> CacheEntry:
        """Store ``outputs`` under ``key`` (raises ``AlreadyExistsError`` over a live entry)."""
        ...

    def dataset_id(self, key: CacheKey) -> DatasetID:
        """The catalog dataset holding the entries of ``key``."""
        ...

    def ensure_dataset(self, key: CacheKey) -> DatasetID:
        """The dataset of ``key``, created if it does not exist yet."""
        ...
