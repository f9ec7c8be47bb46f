"""``CargoholdIOManager``: one IO manager for every type, storage and partitioning.

Replace ``FilesystemIOManager`` or ``S3PickleIOManager`` in one line::

    defs = Definitions(
        assets=[...],
        resources={"io_manager": CargoholdIOManager(
            store_url="s3://bucket/cargohold", catalog_url="postgresql+psycopg://.../catalog",
        )},
    )

Writing: the value goes through the type engine (frames as Parquet, arrays, dataclasses, pydantic
models, files...; small values inline), and every materialization becomes a new artifact version
of the asset's dataset in the catalog (naming rules in :mod:`.naming`); history is kept. Output
metadata: ``dagster/uri``, ``uri``, ``path``, ``dagster/row_count``, ``dagster/column_schema``,
``cargohold/artifact_id``, ``cargohold/version``, ``cargohold/size`` (bytes),
``cargohold/hash``, ``cargohold/dataset``. Asset metadata ``cargohold/tags`` (a list) moves
those tags (``latest``, ``production``) to each new artifact.

Reading: the latest version, or the one the input pins (see :mod:`._inputs`), loaded as the
input's annotation (a Parquet table as pandas, pyarrow or polars); ``columns`` reads only those
columns. Several partitions load concurrently (``max_concurrency``) into a dict keyed by
partition key. Reads are recorded in the catalog; lineage in :mod:`.lineage`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from dagster import ConfigurableIOManager, InitResourceContext, InputContext, OutputContext
from pydantic import Field, PrivateAttr

from cargohold.core.catalog import Artifact, Catalog
from cargohold.core.errors import AlreadyExistsError, ConfigurationError, NotFoundError
from cargohold.core.hold import Cargohold
from cargohold.core.lineage import catalog_dataset_name
from cargohold.core.types.literals import Literal
from cargohold.dagster_integration import _inputs as inputs
from cargohold.dagster_integration._base import CargoholdBase
from cargohold.dagster_integration._outputs import Written, output_metadata, split_output
from cargohold.dagster_integration.caching import cached_output_literal, remember_input, use_hold
from cargohold.dagster_integration.lineage import LineageRead, StepLineage, run_context
from cargohold.dagster_integration.naming import (
    PARTITION_COLUMN_METADATA,
    dataset_name,
    partition_dimensions,
    partition_values,
)

__all__ = ["DATA_NAME", "CargoholdIOManager"]

DATA_NAME = "value"
TAGS_METADATA = "cargohold/tags"
_OP_DIMENSION = "run"


class CargoholdIOManager(CargoholdBase, ConfigurableIOManager):
    """Stores outputs as versioned catalog artifacts and loads inputs from them (module doc)."""

    max_concurrency: int = Field(
        default=8,
        ge=1,
        description="How many partitions one input loads at the same time (threads).",
    )

    _lineage: StepLineage = PrivateAttr(default_factory=StepLineage)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Make this IO manager's store and catalog the ones ``@cached_asset`` uses here."""
        use_hold(self.hold())

    # -- writing ------------------------------------------------------------------------------

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store ``obj`` as one artifact per partition and attach the output metadata.

        Raises:
            TypeMismatchError: a range run's output cannot be split by partition.
            SerializationError: the value cannot be stored (no transformer, pickle off).
            CatalogError, StorageError: the catalog or the store failed.
            ConfigurationError: a setting or the asset's cargohold metadata is malformed.
        """
        if context.dagster_type.is_nothing:
            return
        hold = self.hold()
        catalog = hold.catalog
        definition = dict(context.definition_metadata or {})
        annotation = context.dagster_type.typing_type
        if context.has_asset_key:
            dataset = dataset_name(context.asset_key)
            asset_path: list[str] | None = list(context.asset_key.path)
        else:
            dataset = _op_dataset(context.job_name, context.step_key, context.name)
            asset_path = None
        pieces: list[tuple[str | None, dict[str, str], Any]]
        python_type = inputs.as_type_of(annotation)
        if context.has_asset_key and context.has_asset_partitions:
            pdef = context.asset_partitions_def
            dims = partition_dimensions(pdef, definition)
            keys = list(context.asset_partition_keys)
            split = split_output(
                obj,
                keys=keys,
                partitions_def=pdef,
                column=definition.get(PARTITION_COLUMN_METADATA),
            )
            if len(keys) > 1:
                python_type = inputs.element_type(annotation) if isinstance(obj, Mapping) else None
            pieces = [(key, partition_values(pdef, key, dims), value) for key, value in split]
        elif asset_path is None:
            dims = (_OP_DIMENSION,)
            pieces = [
                (
                    None,
                    {
                        _OP_DIMENSION: _op_run_key(
                            context.run_id, context.step_key, context.mapping_key
                        )
                    },
                    obj,
                )
            ]
        else:
            dims = ()
            pieces = [(None, {}, obj)]
        self._ensure_dataset(catalog, dataset, dims, asset_path)
        settings = hold.settings
        source = run_context(
            namespace=settings.lineage_namespace,
            job=context.job_name,
            run_id=context.run_id,
            asset_path=asset_path,
            step_key=context.step_key,
            domain=settings.domain,
        )
        tags = _tags(definition)
        logical = catalog_dataset_name(
            project=settings.project, domain=catalog.domain, dataset=dataset
        )
        logical_uri = f"{logical.namespace}/{logical.name}"
        written: list[Written] = []
        for key, parts, value in pieces:
            literal = cached_output_literal(value)
            if literal is None:
                if asset_path is not None:
                    _release_superseded(hold, dataset, parts)
                literal = hold.put(value, python_type=python_type)
            artifact = catalog.create_artifact(
                dataset=dataset,
                data={DATA_NAME: literal},
                partitions=parts,
                metadata=_artifact_metadata(context, key),
                source=source,
            )
            for tag in tags:
                catalog.move_tag(dataset=dataset, tag=tag, artifact_id=artifact.id)
            uri = literal.blob.uri if literal.blob is not None else logical_uri
            written.append(Written(partition_key=key, artifact=artifact, literal=literal, uri=uri))
        context.add_output_metadata(
            output_metadata(written=written, dataset=dataset, logical_uri=logical_uri)
        )
        if asset_path is not None:
            self._lineage.complete(
                emitter=self.emitter(),
                context=source,
                step_key=context.step_key,
                outputs=[(w.literal, dataset, str(w.artifact.version)) for w in written],
            )

    def _ensure_dataset(
        self,
        catalog: Catalog,
        dataset: str,
        dims: Sequence[str],
        asset_path: Sequence[str] | None,
    ) -> None:
        try:
            found = catalog.get_dataset(dataset=dataset)
        except NotFoundError:
            metadata = {"orchestrator": "dagster"}
            if asset_path is not None:
                metadata["dagster.asset_key"] = "/".join(asset_path)
            with contextlib.suppress(AlreadyExistsError):  # another step created it first
                catalog.create_dataset(dataset=dataset, partition_keys=dims, metadata=metadata)
            return
        if tuple(found.partition_keys) != tuple(dims):
            raise ConfigurationError(
                f"dataset {dataset!r} in the catalog is partitioned by "
                f"{list(found.partition_keys)}, but this asset writes {list(dims)}; set the "
                f"asset's metadata 'cargohold/partition_key' to match, or rename the asset"
            )

    # -- reading ------------------------------------------------------------------------------

    def load_input(self, context: InputContext) -> Any:
        """The value of the upstream asset (or op output) the input names.

        Returns one value, or for several partitions (or a dict annotation) a dict keyed by
        partition key; partitions without an artifact are left out when the input's metadata
        has ``allow_missing_partitions``.

        Raises:
            NotFoundError: the dataset, a partition or the pinned artifact does not exist (the
                message names the asset and the partitions).
            SerializationError, StorageError, CatalogError: as the core raises them.
            ConfigurationError: malformed pin metadata.
        """
        hold = self.hold()
        catalog = hold.catalog
        metadata = dict(context.definition_metadata or {})
        pin = inputs.Pin.from_metadata(metadata)
        columns = metadata.get("columns")
        allow_missing = bool(metadata.get("allow_missing_partitions", False))
        annotation = context.dagster_type.typing_type
        upstream = context.upstream_output
        if context.has_asset_key:
            dataset = dataset_name(context.asset_key)
        elif upstream is not None:
            dataset = _op_dataset(upstream.job_name, upstream.step_key, upstream.name)
        else:
            raise ConfigurationError(
                "CargoholdIOManager loads inputs from assets or upstream op outputs; this input "
                "has neither (give it a default value or a dagster_type loader)"
            )
        try:
            ds = catalog.get_dataset(dataset=dataset)
        except NotFoundError as exc:
            raise NotFoundError(
                f"no dataset {dataset!r} in the catalog: materialize the upstream asset first "
                f"(through CargoholdIOManager or another cargohold producer)"
            ) from exc
        step_key = context.step_context.step.key
        settings = hold.settings
        reader = run_context(
            namespace=settings.lineage_namespace,
            job=context.step_context.job_name,
            run_id=context.step_context.run_id,
            asset_path=None,
            step_key=step_key,
            domain=settings.domain,
        )
        partitioned = context.has_asset_key and context.has_asset_partitions
        keys: list[str] = list(context.asset_partition_keys) if partitioned else [""]
        many = partitioned and (len(keys) != 1 or inputs.is_mapping_type(annotation))
        as_type = inputs.element_type(annotation) if many else inputs.as_type_of(annotation)

        def partitions_of(key: str) -> dict[str, str]:
            if partitioned:
                return partition_values(context.asset_partitions_def, key, ds.partition_keys)
            if not context.has_asset_key and upstream is not None:
                return {
                    _OP_DIMENSION: _op_run_key(
                        upstream.run_id, upstream.step_key, upstream.mapping_key
                    )
                }
            return {}

        def load_one(key: str) -> inputs.Loaded:
            try:
                artifact = inputs.resolve_artifact(
                    catalog, dataset=dataset, partitions=partitions_of(key), pin=pin
                )
            except NotFoundError as exc:
                return inputs.Loaded(key=key, missing=exc)
            literal = _literal_of(artifact)
            value = hold.get(literal, as_type=as_type, columns=columns)
            if not columns:
                remember_input(value, literal)  # a cached asset keys on it without re-reading
            catalog.record_read(artifact_id=artifact.id, source=reader)
            return inputs.Loaded(key=key, value=value, artifact=artifact)

        loaded = inputs.load_concurrently(keys, load_one, max_concurrency=self.max_concurrency)
        missing = [item for item in loaded if item.missing is not None]
        if missing and not allow_missing:
            names = [item.key for item in missing] if partitioned else []
            where = f" partitions {names}" if names else ""
            raise NotFoundError(
                f"asset {dataset!r} has no artifact ({pin.describe()}) for{where or ' it'}; "
                f"materialize it first, or set allow_missing_partitions=True in the input's "
                f"metadata to skip missing partitions"
            ) from missing[0].missing
        for item in missing:
            context.log.warning(f"cargohold: skipped missing partition {item.key} of {dataset}")
        found = [item for item in loaded if item.missing is None]
        self._lineage.record_reads(
            run_id=reader.run_id,
            step_key=step_key,
            reads=[
                LineageRead(
                    literal=_literal_of(item.artifact),
                    dataset=dataset,
                    version=str(item.artifact.version),
                )
                for item in found
                if item.artifact is not None
            ],
        )
        if many:
            return {item.key: item.value for item in found}
        return found[0].value if found else None

    # -- lifecycle ----------------------------------------------------------------------------

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Emit FAIL for assets that failed in this process, then flush lineage (bounded)."""
        emitter = self._emitter
        run = context.run  # InitResourceContext.run_id is deprecated since Dagster 1.13
        run_id = run.run_id if run is not None else None
        if emitter is None or not emitter.enabled or run_id is None:
            return
        namespace = self.hold().settings.lineage_namespace
        self._lineage.fail_unfinished(
            emitter=emitter, instance=context.instance, run_id=run_id, namespace=namespace
        )
        emitter.flush()


def _release_superseded(hold: Cargohold, dataset: str, partitions: dict[str, str]) -> None:
    """Release the cached pages of the version about to be superseded, as an overwrite would:
    the new version then reuses that memory instead of growing the page cache by its size
    (which, on a VM that hands freed memory back to its host, costs more than the write). The
    old version stays whole on disk, in the history."""
    if not hold.store.is_local:
        return
    try:
        previous = hold.catalog.get_latest(dataset=dataset, partitions=partitions)
    except NotFoundError:
        return
    blob = _literal_of(previous).blob
    if blob is not None:
        hold.store.release_cache(blob.uri)


def _literal_of(artifact: Artifact) -> Literal:
    """The artifact's value: its ``value`` entry (cargohold adapters) or its only entry."""
    found = artifact.data.get(DATA_NAME)
    return found if found is not None else next(iter(artifact.data.values()))


def _op_dataset(job: str, step_key: str, output: str) -> str:
    base = step_key.split("[", 1)[0]
    return f"{job}.{base}.{output}"


def _op_run_key(run_id: str, step_key: str, mapping_key: str | None) -> str:
    """The partition value of an op output: the run id, the mapped step's key, the mapping key."""
    mapped = step_key[step_key.index("[") :] if "[" in step_key else ""
    return run_id + mapped + (f"[{mapping_key}]" if mapping_key else "")


def _tags(metadata: Mapping[str, Any]) -> list[str]:
    tags = metadata.get(TAGS_METADATA)
    if tags is None:
        return []
    if isinstance(tags, str):
        return [tags]
    if isinstance(tags, list | tuple) and all(isinstance(tag, str) for tag in tags):
        return list(tags)
    raise ConfigurationError(f"{TAGS_METADATA} must be a str or a list of str, got {tags!r}")


def _artifact_metadata(context: OutputContext, partition_key: str | None) -> dict[str, str]:
    out = {"dagster.run_id": context.run_id, "dagster.job": context.job_name}
    if context.has_asset_key:
        out["dagster.asset_key"] = "/".join(context.asset_key.path)
    if partition_key is not None:
        out["dagster.partition_key"] = str(partition_key)
    return out
