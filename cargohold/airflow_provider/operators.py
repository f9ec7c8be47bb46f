"""Operators that publish artifacts to the catalog and load them back.

Both are thin: keyword-only, templated ``dataset`` / ``partitions``, the work done by the core.
They report lineage to Airflow's OpenLineage provider through
``get_openlineage_facets_on_start/complete/failure`` (OpenLineage classes are imported inside
those methods only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.operator import BaseOperator

from cargohold.airflow_provider import partition_scan, records
from cargohold.airflow_provider._runtime import current_task, runtime, task_context
from cargohold.airflow_provider.hooks import CargoholdHook

if TYPE_CHECKING:
    from cargohold.core.catalog import Artifact
    from cargohold.core.config import Settings
    from cargohold.core.hold import Cargohold

__all__ = [
    "LoadArtifactOperator",
    "PublishArtifactOperator",
    "artifact_summary",
    "lineage_settings",
]


def artifact_summary(artifact: Artifact) -> dict[str, Any]:
    """A small JSON description of an artifact: dataset, version, id, partitions, uri."""
    literal = artifact.data.get(records.DATA_NAME) or next(iter(artifact.data.values()))
    return {
        "dataset": artifact.dataset.name,
        "version": artifact.version,
        "id": artifact.id,
        "partitions": dict(artifact.partitions),
        "uri": literal.blob.uri if literal.blob is not None else None,
    }


def lineage_settings(hold: Cargohold | None) -> Settings:
    """The settings naming datasets in OpenLineage facets: the hold's, else the environment's."""
    if hold is not None:
        return hold.settings
    from cargohold.core.config import Settings

    return Settings.from_env()


class _CatalogOperator(BaseOperator):
    template_fields: Sequence[str] = ("dataset", "partitions")

    def __init__(
        self,
        *,
        dataset: str,
        partitions: Mapping[str, Any] | None = None,
        cargohold_conn_id: str = CargoholdHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset = dataset
        self.partitions = dict(partitions or {})
        self.cargohold_conn_id = cargohold_conn_id
        self._summary: dict[str, Any] | None = None
        self._cached_hold: Cargohold | None = None

    def _hold(self) -> Cargohold:
        if self._cached_hold is None:
            hook = CargoholdHook(cargohold_conn_id=self.cargohold_conn_id)
            self._cached_hold = hook.get_conn()
        return self._cached_hold

    def _context(self, hold: Cargohold, partitions: Mapping[str, str]) -> Any:
        info = current_task()
        return task_context(
            info,
            dag_id=info.dag_id if info else self.dag_id,
            task_id=info.task_id if info else self.task_id,
            run_id=info.run_id if info else "",
            map_index=info.map_index if info else -1,
            partitions=partitions,
            domain=hold.settings.domain,
        )

    def _lineage(self, *, output: bool) -> Any:
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        from cargohold.core.lineage import catalog_dataset_name

        # never look up a connection here: the provider calls this in a forked process
        settings = lineage_settings(self._cached_hold)
        logical = catalog_dataset_name(
            project=settings.project, domain=settings.domain, dataset=self.dataset
        )
        # the catalog dataset only: its blob is a version's bytes, not another dataset (the
        # versions, partitions and blob locations travel in cargohold's own events of this run)
        datasets = [Dataset(namespace=logical.namespace, name=logical.name)]
        return OperatorLineage(outputs=datasets) if output else OperatorLineage(inputs=datasets)


class PublishArtifactOperator(_CatalogOperator):
    """Publish ``value`` as the next version of ``dataset`` in ``partitions``, with tags.

    ``value`` may be an XComArg (``task.output``) or any value the type engine handles. The
    dataset is created with the partitions' keys on first use. Returns the artifact summary
    (dataset, version, id, partitions, uri). Outlets that are Airflow assets get an asset event
    whose ``extra`` carries the artifact's uri, version and id.

    Raises:
        InvalidArgumentError: partitions do not match the dataset's keys, or bad names.
        AlreadyExistsError: a tag is taken (tags never move; use ``move_tags``).
        StorageError, CatalogError: the store or catalog failed.
    """

    template_fields: Sequence[str] = ("dataset", "partitions", "value", "tags", "metadata")

    def __init__(
        self,
        *,
        dataset: str,
        value: Any,
        partitions: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
        move_tags: Sequence[str] = (),
        metadata: Mapping[str, str] | None = None,
        cargohold_conn_id: str = CargoholdHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dataset=dataset, partitions=partitions, cargohold_conn_id=cargohold_conn_id, **kwargs
        )
        self.value = value
        self.tags = list(tags)
        self.move_tags = list(move_tags)
        self.metadata = dict(metadata or {})

    def execute(self, context: Any) -> dict[str, Any]:
        """Write the value, record the artifact, move tags, emit the asset events."""
        hold = self._hold()
        literal = hold.put(self.value)
        partitions = {str(k): str(v) for k, v in self.partitions.items()}
        run = self._context(hold, partitions)
        artifact = records.record_artifact(
            hold.catalog,
            dataset=self.dataset,
            literal=literal,
            context=run,
            metadata=self.metadata,
            tags=self.tags,
        )
        for tag in self.move_tags:
            hold.catalog.move_tag(dataset=self.dataset, tag=tag, artifact_id=artifact.id)
        self._summary = artifact_summary(artifact)
        records.emit_lineage(
            runtime().emitter,
            context=run,
            literal=literal,
            dataset=self.dataset,
            version=artifact.version,
            output=True,
            partitions=dict(artifact.partitions),
        )
        outlet_events = context.get("outlet_events") if hasattr(context, "get") else None
        for outlet in self.outlets or ():
            if outlet_events is not None and type(outlet).__name__ == "Asset":
                outlet_events[outlet].extra.update(
                    {k: v for k, v in self._summary.items() if k in ("uri", "version", "id")}
                )
        return self._summary

    def get_openlineage_facets_on_start(self) -> Any:
        """The dataset this task will write (OpenLineage provider hook)."""
        return self._lineage(output=True)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The dataset written, logical and physical names (OpenLineage provider hook)."""
        return self._lineage(output=True)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """The dataset this task meant to write (OpenLineage provider hook)."""
        return self._lineage(output=True)


class LoadArtifactOperator(_CatalogOperator):
    """Load the latest (or ``version`` / ``tag``) artifact of a dataset partition and return
    its value (read only ``columns`` of a table; as ``as_type`` when given, the declared type a
    stored Enum, dataclass or pydantic model loads as without the allowlist); the read is
    recorded in the catalog. A partition range (``{"date": {"ge": ..., "le": ...}}``, a list,
    ``Range``, ``OneOf``) returns one DataFrame of every matching partition, with the partition
    keys as columns.

    Raises:
        NotFoundError: no such dataset, partition, version or tag.
        BlobNotFoundError, CorruptDataError: the data is missing or damaged.
        UntrustedTypeError: the value names a class that is neither ``as_type``, registered nor
            allowed (``CARGOHOLD_ALLOWED_TYPES``).
    """

    template_fields: Sequence[str] = ("dataset", "partitions", "version", "tag")

    def __init__(
        self,
        *,
        dataset: str,
        partitions: Mapping[str, Any] | None = None,
        version: int | str | None = None,
        tag: str | None = None,
        columns: Sequence[str] | None = None,
        as_type: Any = None,
        cargohold_conn_id: str = CargoholdHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            dataset=dataset, partitions=partitions, cargohold_conn_id=cargohold_conn_id, **kwargs
        )
        self.version = version
        self.tag = tag
        self.columns = list(columns) if columns else None
        self.as_type = as_type

    def execute(self, context: Any) -> Any:
        """Find the artifact, record the read and return its value (for a partition range, one
        DataFrame of every matching partition: see :mod:`.partition_scan`)."""
        hold = self._hold()
        catalog = hold.catalog
        spans = partition_scan.partition_filters(self.partitions)
        if spans is not None:
            version = None if self.version in (None, "") else int(str(self.version))
            return partition_scan.load_frame(
                hold,
                dataset=self.dataset,
                partitions=spans,
                columns=self.columns,
                version=version,
                tag=self.tag or None,
                reader=self._context(hold, {}),
            )
        if self.tag:
            artifact = catalog.get_artifact(dataset=self.dataset, tag=self.tag)
        else:
            artifact = catalog.get_artifact(
                dataset=self.dataset,
                partitions=self.partitions,
                version=None if self.version in (None, "") else int(self.version),
            )
        self._summary = artifact_summary(artifact)
        reader = self._context(hold, {})
        catalog.record_read(artifact_id=artifact.id, source=reader)
        literal = artifact.data.get(records.DATA_NAME) or next(iter(artifact.data.values()))
        records.emit_lineage(
            runtime().emitter,
            context=reader,
            literal=literal,
            dataset=self.dataset,
            version=artifact.version,
            output=False,
            partitions=dict(artifact.partitions),
        )
        return hold.get(literal, as_type=self.as_type, columns=self.columns)

    def get_openlineage_facets_on_start(self) -> Any:
        """The dataset this task will read (OpenLineage provider hook)."""
        return self._lineage(output=False)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The dataset read (OpenLineage provider hook)."""
        return self._lineage(output=False)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """The dataset this task meant to read (OpenLineage provider hook)."""
        return self._lineage(output=False)
