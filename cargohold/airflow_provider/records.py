"""Recording Airflow outputs and reads in the catalog and in lineage.

Used by the XCom backend and the operators: one place that names a task's dataset, makes sure it
exists with the right partition keys, records the artifact with its source execution, and tells
the lineage emitter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from cargohold.core.errors import AlreadyExistsError, NotFoundError

if TYPE_CHECKING:
    from cargohold.core.catalog import Artifact, Catalog, Dataset
    from cargohold.core.context import RunContext
    from cargohold.core.lineage import LineageEmitter
    from cargohold.core.types.literals import Literal

__all__ = [
    "DATA_NAME",
    "emit_lineage",
    "ensure_dataset",
    "record_artifact",
    "xcom_dataset_name",
    "xcom_owner_id",
]

DATA_NAME = "value"


def xcom_dataset_name(*, dag_id: str, task_id: str, key: str) -> str:
    """The catalog dataset of a task's XCom: ``{dag_id}.{task_id}.{key}``."""
    return f"{dag_id}.{task_id}.{key}"


def xcom_owner_id(*, dag_id: str, run_id: str, task_id: str, map_index: int, key: str) -> str:
    """The blob owner id of one XCom: ``dag/run/task/map_index/key`` (the same on every try,
    so a retry's push replaces the earlier try's references instead of orphaning them)."""
    return f"{dag_id}/{run_id}/{task_id}/{map_index}/{key}"


def ensure_dataset(
    catalog: Catalog,
    *,
    name: str,
    partition_keys: tuple[str, ...] | list[str] = (),
    metadata: Mapping[str, str] | None = None,
) -> Dataset:
    """The dataset ``name``, created with ``partition_keys`` when it does not exist yet.

    Raises:
        InvalidArgumentError: a malformed name or partition key.
        CatalogError: the database failed.
    """
    try:
        return catalog.get_dataset(dataset=name)
    except NotFoundError:
        pass
    try:
        return catalog.create_dataset(
            dataset=name, partition_keys=tuple(partition_keys), metadata=metadata
        )
    except AlreadyExistsError:  # another process created it first
        return catalog.get_dataset(dataset=name)


def record_artifact(
    catalog: Catalog,
    *,
    dataset: str,
    literal: Literal,
    context: RunContext,
    metadata: Mapping[str, str] | None = None,
    tags: tuple[str, ...] | list[str] = (),
) -> Artifact:
    """Record ``literal`` as the next version of ``dataset`` in the context's partitions.

    Raises:
        InvalidArgumentError: the partitions differ from the dataset's partition keys (the
            message names the expected keys), or a malformed name.
        AlreadyExistsError: a tag is taken.
        CatalogError: the database failed.
    """
    ensure_dataset(catalog, name=dataset, partition_keys=tuple(context.partitions))
    return catalog.create_artifact(
        dataset=dataset,
        data={DATA_NAME: literal},
        partitions=dict(context.partitions),
        metadata=metadata,
        tags=tags,
        source=context,
    )


def emit_lineage(
    emitter: LineageEmitter,
    *,
    context: RunContext,
    literal: Literal,
    dataset: str,
    version: int | None,
    output: bool,
    partitions: Mapping[str, str] | None = None,
) -> None:
    """Tell lineage that the task read or wrote ``literal`` as a version of catalog ``dataset``.

    The dataset joins the task's run: the run cargohold's listener opened when no OpenLineage
    provider listens, else a RUNNING event under the provider's run id, which Marquez merges
    into the provider's run (see :mod:`cargohold.airflow_provider.lineage`). Never raises.
    """
    from cargohold.airflow_provider.lineage import record_dataset

    record_dataset(
        emitter,
        context=context,
        literal=literal,
        dataset=dataset,
        version=version,
        partitions=context.partitions if partitions is None else partitions,
        output=output,
    )
