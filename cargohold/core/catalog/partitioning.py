"""How a producer declares its partitioning: ``partition_by_date``, ``partition_by_key``.

::

    from cargohold import partition_by_date

    @partition_by_date(key="report_date")
    def generate_daily_report(report_date: datetime) -> pd.DataFrame: ...

Date keys normalise to ISO strings, so ``datetime(2026, 11, 1)`` and ``"2026-11-01"`` name the
same partition. :class:`~cargohold.core.query.ArtifactQuery` reads the declaration back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypeVar

from cargohold.core.catalog.validation import check_name, normalize_partition_value
from cargohold.core.errors import InvalidArgumentError

__all__ = [
    "PartitionSpec",
    "normalize_partition_keys",
    "partition_by_date",
    "partition_by_key",
    "partition_specs",
]

F = TypeVar("F")
_SPECS = "__cargohold_partitions__"


@dataclass(frozen=True, kw_only=True)
class PartitionSpec:
    """How a producer partitions its output: a key, and whether its values are dates."""

    key: str
    kind: Literal["date", "key"]

    def normalize(self, value: object) -> str:
        """The canonical partition value: ISO ``YYYY-MM-DD`` for date keys.

        Raises:
            InvalidArgumentError: a date key given something that is not a date.
        """
        if self.kind == "date":
            if isinstance(value, datetime):
                return value.date().isoformat()
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, str):
                try:
                    return datetime.fromisoformat(value).date().isoformat()
                except ValueError:
                    pass
            raise InvalidArgumentError(
                f"partition {self.key!r} is partitioned by date: expected a date, a datetime "
                f"or an ISO date string such as '2026-11-01', got {value!r:.80}"
            )
        return normalize_partition_value(value, key=self.key)


def _declare(spec: PartitionSpec) -> Callable[[F], F]:
    def decorate(producer: F) -> F:
        specs = tuple(getattr(producer, _SPECS, ()))
        if any(existing.key == spec.key for existing in specs):
            raise InvalidArgumentError(f"partition key {spec.key!r} is declared twice")
        try:
            setattr(producer, _SPECS, (spec, *specs))
        except (AttributeError, TypeError) as exc:
            raise InvalidArgumentError(
                f"cannot declare partitions on {producer!r}: put the partition decorator "
                f"below the orchestrator's decorator, on the plain function"
            ) from exc
        return producer

    return decorate


def partition_by_date(*, key: str = "date") -> Callable[[F], F]:
    """Declare that a producer's output is partitioned by a date under ``key``.

    Raises:
        InvalidArgumentError: ``key`` is not a valid name.
    """
    return _declare(PartitionSpec(key=check_name(key, what="partition key"), kind="date"))


def partition_by_key(*, key: str) -> Callable[[F], F]:
    """Declare that a producer's output is partitioned by the values of ``key``.

    Raises:
        InvalidArgumentError: ``key`` is not a valid name.
    """
    return _declare(PartitionSpec(key=check_name(key, what="partition key"), kind="key"))


def partition_specs(producer: object) -> tuple[PartitionSpec, ...]:
    """The partitioning declared on a producer, outermost decorator first (empty if none)."""
    return tuple(getattr(producer, _SPECS, ()))


def normalize_partition_keys(
    partition_keys: Mapping[str, object] | None, *, specs: tuple[PartitionSpec, ...] = ()
) -> dict[str, str]:
    """Canonical partition values; keys declared by ``specs`` use their spec's rules."""
    by_key = {spec.key: spec for spec in specs}
    out: dict[str, str] = {}
    for key, value in (partition_keys or {}).items():
        spec = by_key.get(key)
        out[key] = spec.normalize(value) if spec else normalize_partition_value(value, key=key)
    return out
