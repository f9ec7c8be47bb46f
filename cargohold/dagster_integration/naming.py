"""How Dagster assets and partitions map to catalog datasets and partition values.

* An asset's dataset is its key path joined with ``.`` (``["sales", "daily"]`` -> ``sales.daily``).
* Its partition dimension is named by the asset's metadata ``cargohold/partition_key`` when given,
  else ``date`` for time-window partitions (daily, hourly, ...) and ``partition`` for the others
  (static, dynamic). Multi-partitions keep their dimension names.
* A partition value is Dagster's partition key string as is (``2026-11-02``, ``2026-11-02-05:00``,
  ``eu``); a multi-partition key gives one value per dimension.

So a user downstream writes ``ArtifactQuery.get_latest(dataset="daily_sales",
partition_keys={"date": "2026-11-02"})``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import (
    AssetKey,
    MultiPartitionKey,
    MultiPartitionsDefinition,
    PartitionsDefinition,
    TimeWindowPartitionsDefinition,
)

from cargohold.core.errors import ConfigurationError

__all__ = [
    "OP_DIMENSION",
    "PARTITION_COLUMN_METADATA",
    "PARTITION_KEY_METADATA",
    "dataset_name",
    "op_dataset_name",
    "op_run_key",
    "partition_dimensions",
    "partition_values",
]

PARTITION_KEY_METADATA = "cargohold/partition_key"
PARTITION_COLUMN_METADATA = "cargohold/partition_column"
OP_DIMENSION = "run"
"""The partition key of an op output's dataset: one value per run (and mapped step)."""


def dataset_name(asset_key: AssetKey | Sequence[str]) -> str:
    """The catalog dataset of an asset: its key path joined with ``.``."""
    path = asset_key.path if isinstance(asset_key, AssetKey) else list(asset_key)
    return ".".join(path)


def partition_dimensions(
    partitions_def: PartitionsDefinition[Any] | None, metadata: Mapping[str, Any] | None = None
) -> tuple[str, ...]:
    """The catalog partition keys of an asset partitioned by ``partitions_def``.

    Raises:
        ConfigurationError: ``cargohold/partition_key`` is not a non-empty string, or is given
            for a multi-partitioned asset (whose dimensions keep their own names).
    """
    if partitions_def is None:
        return ()
    override = (metadata or {}).get(PARTITION_KEY_METADATA)
    if isinstance(partitions_def, MultiPartitionsDefinition):
        if override is not None:
            raise ConfigurationError(
                f"{PARTITION_KEY_METADATA} cannot rename the dimensions of a multi-partitioned "
                f"asset; its catalog partition keys are its dimension names"
            )
        return tuple(dim.name for dim in partitions_def.partitions_defs)
    if override is not None:
        if not isinstance(override, str) or not override.strip():
            raise ConfigurationError(
                f"{PARTITION_KEY_METADATA} must be a non-empty string, got {override!r}"
            )
        return (override,)
    if isinstance(partitions_def, TimeWindowPartitionsDefinition):
        return ("date",)
    return ("partition",)


def partition_values(
    partitions_def: PartitionsDefinition[Any], partition_key: str, dimensions: Sequence[str]
) -> dict[str, str]:
    """The catalog partition values of one Dagster partition key."""
    if isinstance(partitions_def, MultiPartitionsDefinition):
        if not isinstance(partition_key, MultiPartitionKey):
            partition_key = partitions_def.get_partition_key_from_str(partition_key)
        by_dimension = partition_key.keys_by_dimension
        return {name: str(by_dimension[name]) for name in dimensions}
    return {dimensions[0]: str(partition_key)}


def op_dataset_name(job: str, step_key: str, output: str) -> str:
    """The catalog dataset of an op output: ``{job}.{op}.{output}`` (no mapping key)."""
    base = step_key.split("[", 1)[0]
    return f"{job}.{base}.{output}"


def op_run_key(run_id: str, step_key: str, mapping_key: str | None) -> str:
    """The partition value of an op output: the run id, the mapped step's key, the mapping key."""
    mapped = step_key[step_key.index("[") :] if "[" in step_key else ""
    return run_id + mapped + (f"[{mapping_key}]" if mapping_key else "")
