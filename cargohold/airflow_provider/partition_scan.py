"""Loading a range of partitions as one frame, for :class:`LoadArtifactOperator`.

A partition value in the operator's ``partitions`` may select several partitions:

* a ``Range`` or ``OneOf`` (``cargohold.core.catalog``);
* or, so that it can be templated and written in JSON, a dict of bounds
  ``{"ge": "{{ macros.ds_add(ds, -6) }}", "le": "{{ ds }}"}`` (keys ``ge``, ``gt``, ``le``,
  ``lt``) or a list of values ``["eu", "us"]``.

Then the operator scans the latest version (or ``version`` / ``tag``) of every matching
partition with ``ArtifactQuery.scan`` (only ``columns``, every byte read verified) and returns
one pandas DataFrame with the partition keys as columns; each artifact read is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from cargohold.core.errors import InvalidArgumentError

if TYPE_CHECKING:
    import pandas as pd

    from cargohold.core.context import RunContext
    from cargohold.core.hold import Cargohold

__all__ = ["load_frame", "partition_filters"]

_BOUNDS = {"ge", "gt", "le", "lt"}


def partition_filters(partitions: Mapping[str, Any]) -> dict[str, object] | None:
    """The partition filters of ``partitions`` when one of them selects several partitions
    (see the module docstring), else None (a single-partition load).

    Raises:
        InvalidArgumentError: a dict that is not a set of bounds, or an empty list.
    """
    from cargohold.core.catalog import OneOf, Range

    out: dict[str, object] = {}
    spans = False
    for key, value in partitions.items():
        if isinstance(value, Range | OneOf):
            out[key], spans = value, True
        elif isinstance(value, Mapping):
            unknown = set(value) - _BOUNDS
            if unknown or not value:
                raise InvalidArgumentError(
                    f"partition {key!r}: a range is a dict of bounds {sorted(_BOUNDS)}, "
                    f"got {dict(value)!r}"
                )
            out[key], spans = Range(**{bound: value[bound] for bound in value}), True
        elif isinstance(value, list | tuple):
            out[key], spans = OneOf(value), True
        else:
            out[key] = value
    return out if spans else None


def load_frame(
    hold: Cargohold,
    *,
    dataset: str,
    partitions: Mapping[str, object],
    columns: Sequence[str] | None,
    version: int | None,
    tag: str | None,
    reader: RunContext,
) -> pd.DataFrame:
    """Every matching partition as one DataFrame (partition keys as columns).

    Raises:
        NotFoundError: no such dataset, or no matching partition.
        TypeMismatchError: a partition is not a table, or column types cannot be combined.
        CorruptDataError: a byte read fails its hash.
    """
    from cargohold.core.errors import NotFoundError
    from cargohold.core.query import ArtifactQuery

    catalog = hold.catalog
    wanted = None
    if columns is not None:
        keys = catalog.get_dataset(dataset=dataset).partition_keys
        wanted = [*columns, *(key for key in keys if key not in columns)]
    table = ArtifactQuery.scan(
        dataset=dataset,
        partition_keys=partitions,
        columns=wanted,
        version=tag if tag else version,
        catalog=catalog,
        store=hold.store,
    )
    if not table.parts:
        raise NotFoundError(f"dataset {dataset!r} has no artifact in partitions {dict(partitions)}")
    frame = table.to_pandas()
    for part in table.parts:
        catalog.record_read(artifact_id=part.artifact.id, source=reader)
    return frame
