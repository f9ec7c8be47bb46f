"""Several upstream partitions loaded as one table, for inputs annotated with a table type.

An input that spans several partitions of an asset normally loads as ``dict[str, value]``
(keyed by partition key). Annotated with a table type instead, it loads as one table of every
partition's rows with the partition keys as (string) columns, read through
:class:`~cargohold.core.catalog.scan.ScannedTable` (only the ``columns`` the input's metadata
asks for, plus the partition columns; every byte read verified):

* ``pd.DataFrame`` -> a pandas DataFrame;
* ``pa.Table`` -> a pyarrow Table;
* ``pl.LazyFrame`` -> a polars LazyFrame over the scan; ``pl.DataFrame`` -> a polars DataFrame;
* ``ScannedTable`` -> the lazy scan itself (iterate it, or ``.to_duckdb()``).

``dict[str, ...]`` annotations keep the dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cargohold.core.catalog import Artifact
from cargohold.core.storage.store import Store
from cargohold.core.types.literals import Literal

__all__ = ["as_one_table", "table_kind"]

_KINDS = {
    "pandas.DataFrame": "pandas",
    "pyarrow.Table": "arrow",
    "polars.LazyFrame": "polars_lazy",
    "polars.DataFrame": "polars",
    "cargohold.ScannedTable": "scan",
}


def table_kind(annotation: Any) -> str | None:
    """Which table an input annotated ``annotation`` loads several partitions as, or None
    (then they load as a dict)."""
    if not isinstance(annotation, type):
        return None
    root = (getattr(annotation, "__module__", "") or "").split(".", 1)[0]
    return _KINDS.get(f"{root}.{annotation.__name__}")


def as_one_table(
    loaded: Sequence[tuple[Artifact, Literal]],
    *,
    kind: str,
    store: Store,
    partition_keys: Sequence[str],
    columns: Sequence[str] | None,
) -> Any:
    """The loaded partitions' artifacts as one table of ``kind`` (see :func:`table_kind`).

    Raises:
        TypeMismatchError: a partition is not a table, or column types cannot be combined.
        CorruptDataError: a byte read fails its hash.
    """
    from cargohold.core.catalog.scan import ScannedTable, ScanPart

    parts = [
        ScanPart.of(artifact, literal, partition_keys=partition_keys)
        for artifact, literal in loaded
    ]
    wanted = None
    if columns:
        wanted = [*columns, *(key for key in partition_keys if key not in columns)]
    table = ScannedTable(parts=parts, store=store, partition_keys=partition_keys, columns=wanted)
    if kind == "scan":
        return table
    if kind == "pandas":
        return table.to_pandas()
    if kind == "arrow":
        return table.to_arrow()
    if kind == "polars_lazy":
        return table.to_polars()
    import polars as pl

    return pl.from_arrow(table.to_arrow())
