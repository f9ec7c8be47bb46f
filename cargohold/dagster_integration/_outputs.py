"""Writing outputs: splitting a range run's output by partition, and the output metadata.

A run over one partition stores its output as one artifact. A single-run backfill over several
partitions stores one artifact per partition, from

* a dict keyed by partition key (every partition of the run, no other key; a one-partition run
  whose output is a dict with only that partition's key is read the same way), or
* a data frame (pandas, polars or pyarrow) split by the column the asset names in its metadata
  ``cargohold/partition_column``; its values are partition keys, or dates/datetimes formatted by
  a time-window partitions definition. A partition without rows gets an empty frame.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dagster import (
    DataVersion,
    MetadataValue,
    OutputContext,
    PartitionsDefinition,
    TableColumn,
    TableSchema,
    TimeWindowPartitionsDefinition,
)

from cargohold.core.catalog import Artifact
from cargohold.core.errors import ConfigurationError, TypeMismatchError
from cargohold.core.types.literals import Literal
from cargohold.dagster_integration import _context as ctx

__all__ = [
    "Written",
    "artifact_metadata",
    "attach_metadata",
    "data_version",
    "output_metadata",
    "split_output",
    "tags_to_move",
]

TAGS_METADATA = "cargohold/tags"


@dataclass(frozen=True, kw_only=True)
class Written:
    """One artifact an output wrote: its Dagster partition key (None if unpartitioned)."""

    partition_key: str | None
    artifact: Artifact
    literal: Literal
    uri: str
    is_none: bool = False


def split_output(
    obj: Any,
    *,
    keys: Sequence[str],
    partitions_def: PartitionsDefinition[Any],
    column: str | None,
) -> list[tuple[str, Any]]:
    """The (partition key, value) pairs to store for an output covering ``keys``.

    Raises:
        TypeMismatchError: several partitions but neither a dict covering exactly them nor a
            frame with the partition column; or a dict or column naming other partitions.
    """
    if len(keys) == 1:
        only = str(keys[0])
        if isinstance(obj, Mapping) and len(obj) == 1 and str(next(iter(obj))) == only:
            return [(only, next(iter(obj.values())))]  # keyed by partition, like a range run
        return [(keys[0], obj)]
    wanted = [str(key) for key in keys]
    if isinstance(obj, Mapping):
        given = {str(key): value for key, value in obj.items()}
        missing = [key for key in wanted if key not in given]
        extra = sorted(set(given) - set(wanted))
        if missing or extra:
            raise TypeMismatchError(
                f"this run covers {len(wanted)} partitions; its dict output must have exactly "
                f"those keys. Missing: {missing[:10]}; not in the run: {extra[:10]}"
            )
        return [(key, given[key]) for key in wanted]
    if column is not None:
        return _split_frame(obj, column=column, keys=wanted, partitions_def=partitions_def)
    raise TypeMismatchError(
        f"this run covers {len(wanted)} partitions ({wanted[0]} .. {wanted[-1]}): return a dict "
        f"keyed by partition key, or a data frame and name its partition column in the asset's "
        f"metadata 'cargohold/partition_column'; got {type(obj).__name__}"
    )


def _key_of(value: Any, partitions_def: PartitionsDefinition[Any]) -> str:
    if isinstance(partitions_def, TimeWindowPartitionsDefinition) and isinstance(
        value, date | datetime
    ):
        return value.strftime(partitions_def.fmt)
    return str(value)


def _split_frame(
    obj: Any, *, column: str, keys: list[str], partitions_def: PartitionsDefinition[Any]
) -> list[tuple[str, Any]]:
    module = type(obj).__module__.split(".")[0]
    groups: dict[str, Any] = {}
    if module == "pandas":
        if column not in obj.columns:
            raise TypeMismatchError(f"the output frame has no partition column {column!r}")
        for value, part in obj.groupby(column, sort=False, dropna=False):
            groups[_key_of(value, partitions_def)] = part
        empty = obj.iloc[0:0]
    elif module == "polars":
        if column not in obj.columns:
            raise TypeMismatchError(f"the output frame has no partition column {column!r}")
        for value, part in obj.partition_by(column, as_dict=True, maintain_order=True).items():
            groups[_key_of(value[0], partitions_def)] = part
        empty = obj.clear()
    elif module == "pyarrow":
        import pyarrow.compute as pc

        if column not in obj.column_names:
            raise TypeMismatchError(f"the output table has no partition column {column!r}")
        for value in pc.unique(obj[column]).to_pylist():
            groups[_key_of(value, partitions_def)] = obj.filter(pc.equal(obj[column], value))
        empty = obj.slice(0, 0)
    else:
        raise TypeMismatchError(
            f"cargohold/partition_column splits pandas, polars or pyarrow frames, "
            f"got {type(obj).__name__}"
        )
    extra = sorted(set(groups) - set(keys))
    if extra:
        raise TypeMismatchError(
            f"column {column!r} holds values of partitions outside this run: {extra[:10]}"
        )
    return [(key, groups.get(key, empty)) for key in keys]


def _schema(literal: Literal) -> TableSchema | None:
    blob = literal.blob
    if blob is None or not blob.schema:
        return None
    return TableSchema(columns=[TableColumn(name=name, type=kind) for name, kind in blob.schema])


def _size(literal: Literal) -> int:
    blob = literal.blob
    return blob.size if blob is not None else len(literal.to_json().encode())


def data_version(written: Sequence[Written]) -> DataVersion:
    """The materialization's data version: the stored value's content hash (several
    partitions: a hash over theirs, in partition order)."""
    if len(written) == 1:
        return DataVersion(written[0].literal.hash)
    digest = hashlib.sha256()
    for item in written:
        digest.update(f"{item.partition_key}={item.literal.hash};".encode())
    return DataVersion(f"sha256:{digest.hexdigest()}")


def artifact_metadata(item: Written, *, ui_url: str | None) -> dict[str, Any]:
    """The metadata of one stored artifact: row count and schema (tables), uri and path (not
    for a None value, as FilesystemIOManager), id, version, hash, size and the UI link."""
    out: dict[str, Any] = {}
    blob = item.literal.blob
    if blob is not None and blob.rows is not None:
        out["dagster/row_count"] = MetadataValue.int(blob.rows)
    schema = _schema(item.literal)
    if schema is not None:
        out["dagster/column_schema"] = MetadataValue.table_schema(schema)
    if not item.is_none:
        out["dagster/uri"] = MetadataValue.text(item.uri)
        out["uri"] = MetadataValue.text(item.uri)
        out["path"] = MetadataValue.path(item.uri)
    out["cargohold/artifact_id"] = MetadataValue.text(item.artifact.id)
    out["cargohold/version"] = MetadataValue.int(item.artifact.version)
    out["cargohold/hash"] = MetadataValue.text(item.literal.hash)
    out["cargohold/size"] = MetadataValue.int(_size(item.literal))
    if ui_url:
        out["cargohold/url"] = MetadataValue.url(f"{ui_url}/artifacts/{item.artifact.id}")
    return out


def output_metadata(
    *, written: Sequence[Written], dataset: str, logical_uri: str, ui_url: str | None = None
) -> dict[str, Any]:
    """The output metadata of a materialization (see the IO manager's docstring).

    One artifact: :func:`artifact_metadata`. Several (a range run): the dataset's logical uri,
    the partition count, the total size, and per partition the artifact id, version and uri
    under ``cargohold/artifacts``; each partition's own metadata goes on its materialization
    (:func:`attach_metadata`).
    """
    if not written:
        return {}
    out: dict[str, Any] = {"cargohold/dataset": MetadataValue.text(dataset)}
    if len(written) == 1:
        out.update(artifact_metadata(written[0], ui_url=ui_url))
        return out
    out["dagster/uri"] = MetadataValue.text(logical_uri)
    out["uri"] = MetadataValue.text(logical_uri)
    out["cargohold/size"] = MetadataValue.int(sum(_size(w.literal) for w in written))
    out["cargohold/partitions"] = MetadataValue.int(len(written))
    out["cargohold/artifacts"] = MetadataValue.json(
        {
            str(w.partition_key): {
                "artifact_id": w.artifact.id,
                "version": w.artifact.version,
                "uri": w.uri,
            }
            for w in written
        }
    )
    return out


def attach_metadata(
    context: OutputContext,
    *,
    written: Sequence[Written],
    dataset: str,
    logical_uri: str,
    ui_url: str | None,
) -> None:
    """Put the output metadata on ``context`` and, in a run, each partition's own metadata on
    that partition's materialization and the content-hash data version on the asset.

    Raises:
        DagsterInvariantViolationError: as Dagster raises it for malformed metadata.
    """
    if not written:
        return
    context.add_output_metadata(
        output_metadata(written=written, dataset=dataset, logical_uri=logical_uri, ui_url=ui_url)
    )
    step = ctx.step_context(context)
    if step is None or not context.has_asset_key:
        return
    key = context.asset_key
    if len(written) > 1:
        for item in written:
            step.add_asset_metadata(
                artifact_metadata(item, ui_url=ui_url),
                asset_key=key,
                partition_key=item.partition_key,
            )
    if not step.has_data_version(key):
        step.set_data_version(key, data_version(written))


def tags_to_move(metadata: Mapping[str, Any]) -> list[str]:
    """The tags asset metadata ``cargohold/tags`` moves to each new artifact.

    Raises:
        ConfigurationError: not a str or a list of str.
    """
    tags = metadata.get(TAGS_METADATA)
    if tags is None:
        return []
    if isinstance(tags, str):
        return [tags]
    if isinstance(tags, list | tuple) and all(isinstance(tag, str) for tag in tags):
        return list(tags)
    raise ConfigurationError(f"{TAGS_METADATA} must be a str or a list of str, got {tags!r}")
