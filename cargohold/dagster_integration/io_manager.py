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
of the asset's dataset in the catalog (naming rules in :mod:`.naming`; a changed partitioning
writes a new dataset version, :mod:`._datasets`); history is kept. Output metadata, per
partition (also in a single-run backfill): ``dagster/uri``, ``uri``, ``path`` (not for a None
value), ``dagster/row_count``, ``dagster/column_schema``, ``cargohold/artifact_id``,
``cargohold/version``, ``cargohold/size`` (bytes), ``cargohold/hash``, ``cargohold/dataset``,
and ``cargohold/url`` (the artifact's page) when ``ui_url`` / ``CARGOHOLD_UI_URL`` is set. The
materialization's ``DataVersion`` is the value's content hash. Asset metadata ``cargohold/tags``
(a list) moves those tags (``latest``, ``production``) to each new artifact.

Reading: the latest version, or the one the input pins (see :mod:`._inputs`), loaded as the
input's annotation (a Parquet table as pandas, pyarrow or polars); ``columns`` reads only those
columns. Several partitions load concurrently (``max_concurrency``) into a dict keyed by
partition key, or, for an input annotated with a table type, into one table with the
partition columns (see :mod:`._scan_inputs`); an input mapped to no upstream partition loads
None; a missing one raises
``PartitionNotFoundError`` (also a ``FileNotFoundError``). Reads in a run are recorded in the
catalog; lineage in :mod:`.lineage`. Everything works outside a run as well
(``Definitions.load_asset_value``, ``build_input_context``, ``build_output_context``), as with
Dagster's own IO managers; such reads are not recorded (there is no run to attribute them to).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from dagster import ConfigurableIOManager, InitResourceContext, InputContext, OutputContext
from pydantic import Field, PrivateAttr

from cargohold.core.catalog import Artifact, Catalog, DatasetID, NewArtifact
from cargohold.core.errors import ConfigurationError, NotFoundError, PartitionNotFoundError
from cargohold.core.hold import Cargohold
from cargohold.core.lineage import catalog_dataset_name
from cargohold.core.types.literals import Literal
from cargohold.dagster_integration import _context as ctx
from cargohold.dagster_integration import _inputs as inputs
from cargohold.dagster_integration import _scan_inputs as scan_inputs
from cargohold.dagster_integration._base import CargoholdBase
from cargohold.dagster_integration._datasets import readable_dataset, writable_dataset
from cargohold.dagster_integration._outputs import (
    Written,
    attach_metadata,
    split_output,
    tags_to_move,
)
from cargohold.dagster_integration.caching import cached_output_literal, remember_input, use_hold
from cargohold.dagster_integration.lineage import (
    LineageRead,
    StepLineage,
    op_description,
    run_context,
)
from cargohold.dagster_integration.naming import (
    OP_DIMENSION,
    PARTITION_COLUMN_METADATA,
    dataset_name,
    op_dataset_name,
    op_run_key,
    partition_dimensions,
    partition_values,
)

__all__ = ["DATA_NAME", "UI_URL_VARIABLE", "CargoholdIOManager"]

DATA_NAME = "value"
UI_URL_VARIABLE = "CARGOHOLD_UI_URL"


class CargoholdIOManager(CargoholdBase, ConfigurableIOManager):
    """Stores outputs as versioned catalog artifacts and loads inputs from them (module doc)."""

    max_concurrency: int = Field(
        default=8,
        ge=1,
        description="How many partitions one input loads at the same time (threads).",
    )
    ui_url: str | None = Field(
        default=None,
        description=(
            "Base URL of the cargohold web UI; each materialization then links to its "
            "artifact's page ({ui_url}/artifacts/{artifact_id}). Default: CARGOHOLD_UI_URL, "
            "else no link."
        ),
    )

    retention_keep_last: int | None = Field(
        default=None,
        ge=1,
        description="Keep only the newest N versions of each partition; `cargohold gc` expires "
        "the rest (tagged and pinned versions stay). Unset: the dataset's stored policy.",
    )

    _lineage: StepLineage = PrivateAttr(default_factory=StepLineage)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Make this IO manager's store and catalog the ones ``@cached_asset`` uses here."""
        use_hold(self.hold())

    # -- writing ------------------------------------------------------------------------------

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store ``obj`` as one artifact per partition and attach the output metadata.

        Works inside a run and on a context from ``build_output_context`` alike. A range run's
        partitions each get their own metadata (row count, uri, version, schema, link); the
        materialization's ``DataVersion`` is the stored value's content hash.

        Raises:
            TypeMismatchError: a range run's output cannot be split by partition.
            SerializationError: the value cannot be stored (no transformer, pickle off).
            CatalogError, StorageError: the catalog or the store failed.
            ConfigurationError: a setting or the asset's cargohold metadata is malformed.
        """
        if ctx.is_nothing(context):
            return
        ident = ctx.output_identity(context)
        hold = self.hold()
        catalog = hold.catalog
        definition = dict(context.definition_metadata or {})
        annotation = ctx.annotation(context)
        if context.has_asset_key:
            dataset = dataset_name(context.asset_key)
            asset_path: list[str] | None = list(context.asset_key.path)
        else:
            dataset = op_dataset_name(ident.job, ident.step_key, context.name)
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
            if len(keys) > 1 or (isinstance(obj, Mapping) and split[0][1] is not obj):
                python_type = inputs.element_type(annotation) if isinstance(obj, Mapping) else None
            pieces = [(key, partition_values(pdef, key, dims), value) for key, value in split]
        elif asset_path is None:
            dims = (OP_DIMENSION,)
            run_key = op_run_key(ident.run_id, ident.step_key, context.mapping_key)
            pieces = [(None, {OP_DIMENSION: run_key}, obj)]
        else:
            dims = ()
            pieces = [(None, {}, obj)]
        target = self._target_dataset(context, catalog, dataset, dims, asset_path)
        if self.retention_keep_last is not None:
            catalog.set_retention(dataset=target, keep_last=self.retention_keep_last)
        settings = hold.settings
        source = run_context(
            namespace=settings.lineage_namespace,
            job=ident.job,
            run_id=ident.run_id,
            asset_path=asset_path,
            step_key=ident.step_key,
            domain=settings.domain,
        )
        tags = tags_to_move(definition)
        logical = catalog_dataset_name(
            project=settings.project, domain=catalog.domain, dataset=dataset
        )
        logical_uri = f"{logical.namespace}/{logical.name}"
        literals: list[Literal] = []
        for _, parts, value in pieces:
            literal = cached_output_literal(value)
            if literal is None:
                if asset_path is not None:
                    _release_superseded(hold, target, parts)
                literal = hold.put(value, python_type=python_type)
            literals.append(literal)
        new = [
            NewArtifact(
                data={DATA_NAME: literal},
                partitions=parts,
                metadata=_artifact_metadata(ident, context, key),
                source=source,
            )
            for (key, parts, _), literal in zip(pieces, literals, strict=True)
        ]
        if len(new) == 1:
            (one,) = new
            artifacts = [
                catalog.create_artifact(
                    dataset=target,
                    data=one.data,
                    partitions=one.partitions,
                    metadata=one.metadata,
                    source=one.source,
                )
            ]
        else:  # a range run: its partitions are recorded in one transaction, all or none
            artifacts = catalog.create_artifacts(dataset=target, artifacts=new)
        written: list[Written] = []
        for (key, _, value), literal, artifact in zip(pieces, literals, artifacts, strict=True):
            for tag in tags:
                catalog.move_tag(dataset=target, tag=tag, artifact_id=artifact.id)
            uri = literal.blob.uri if literal.blob is not None else logical_uri
            written.append(
                Written(
                    partition_key=key,
                    artifact=artifact,
                    literal=literal,
                    uri=uri,
                    is_none=value is None,
                )
            )
        attach_metadata(
            context,
            written=written,
            dataset=dataset,
            logical_uri=logical_uri,
            ui_url=self.ui_base_url(),
        )
        if asset_path is not None and ctx.step_context(context) is not None:
            self._lineage.complete(
                emitter=self.emitter(),
                context=source,
                step_key=ident.step_key,
                outputs=[
                    (w.literal, dataset, str(w.artifact.version), dict(w.artifact.partitions))
                    for w in written
                ],
                description=op_description(context),
            )

    def ui_base_url(self) -> str | None:
        """The web UI's base URL (``ui_url``, else ``CARGOHOLD_UI_URL``), or None."""
        base = self.ui_url or os.environ.get(UI_URL_VARIABLE) or ""
        return base.rstrip("/") or None

    def _target_dataset(
        self,
        context: OutputContext,
        catalog: Catalog,
        dataset: str,
        dims: Sequence[str],
        asset_path: Sequence[str] | None,
    ) -> DatasetID:
        metadata = {"orchestrator": "dagster"}
        if asset_path is not None:
            metadata["dagster.asset_key"] = "/".join(asset_path)
        target, previous = writable_dataset(catalog, name=dataset, dims=dims, metadata=metadata)
        if previous is not None:
            ctx.warn(
                context,
                f"cargohold: {dataset!r} was partitioned by {list(previous.partition_keys)} and "
                f"is now partitioned by {list(dims)}: new artifacts go to dataset version "
                f"{target.version}; version {previous.id.version} stays in the catalog as history",
            )
        return target

    # -- reading ------------------------------------------------------------------------------

    def load_input(self, context: InputContext) -> Any:
        """The value of the upstream asset (or op output) the input names.

        Works inside a run and outside one (``Definitions.load_asset_value``,
        ``AssetValueLoader``, ``build_input_context``). Returns one value, or for several
        partitions (or a dict annotation) a dict keyed by partition key; None when the input
        maps to no upstream partition (a self-dependent asset's first partition). Partitions
        without an artifact (or an asset never materialized) are left out when the input's
        metadata has ``allow_missing_partitions``.

        Raises:
            PartitionNotFoundError: (also a ``FileNotFoundError``) the asset, a partition or the
                pinned artifact does not exist; the message names the asset and partitions.
            TypeMismatchError: several partitions load into an input not annotated as a dict.
            SerializationError, StorageError, CatalogError: as the core raises them.
            ConfigurationError: malformed pin metadata.
        """
        hold = self.hold()
        catalog = hold.catalog
        metadata = dict(context.definition_metadata or {})
        pin = inputs.Pin.from_metadata(metadata)
        columns = metadata.get("columns")
        allow_missing = bool(metadata.get("allow_missing_partitions", False))
        annotation = ctx.annotation(context)
        upstream = context.upstream_output
        if context.has_asset_key:
            dataset = dataset_name(context.asset_key)
        elif upstream is not None:
            up = ctx.output_identity(upstream)
            dataset = op_dataset_name(up.job, up.step_key, upstream.name)
        else:
            raise ConfigurationError(
                "CargoholdIOManager loads inputs from assets or upstream op outputs; this input "
                "has neither (give it a default value or a dagster_type loader)"
            )
        partitioned = context.has_asset_key and context.has_asset_partitions
        keys: list[str] = list(context.asset_partition_keys) if partitioned else [""]
        if partitioned and not keys:
            return None  # no upstream partitions, as Dagster's IO managers
        many = partitioned and (len(keys) != 1 or inputs.is_mapping_type(annotation))
        one_table = scan_inputs.table_kind(annotation) if many else None
        if len(keys) > 1 and one_table is None:
            inputs.check_many_annotation(annotation, dataset=dataset, count=len(keys))
        as_type = inputs.element_type(annotation) if many else inputs.as_type_of(annotation)
        if partitioned:
            upstream_meta = upstream.definition_metadata if upstream is not None else None
            dims: tuple[str, ...] | None = partition_dimensions(
                context.asset_partitions_def, upstream_meta
            )
        else:
            dims = () if context.has_asset_key else (OP_DIMENSION,)
        try:
            ds = readable_dataset(catalog, name=dataset, dims=dims)
        except NotFoundError as exc:
            if allow_missing and partitioned:
                ctx.warn(context, f"cargohold: {dataset} was never materialized; loaded nothing")
                return {} if many else None
            raise PartitionNotFoundError(
                f"no dataset {dataset!r} in the catalog: materialize the upstream asset first "
                f"(through CargoholdIOManager or another cargohold producer)"
            ) from exc
        step = ctx.step_context(context)
        reader = None
        if step is not None:
            settings = hold.settings
            reader = run_context(
                namespace=settings.lineage_namespace,
                job=step.job_name,
                run_id=step.run_id,
                asset_path=None,
                step_key=step.step.key,
                domain=settings.domain,
            )

        def partitions_of(key: str) -> dict[str, str]:
            if partitioned:
                return partition_values(context.asset_partitions_def, key, ds.partition_keys)
            if not context.has_asset_key and upstream is not None:
                up = ctx.output_identity(upstream)
                return {OP_DIMENSION: op_run_key(up.run_id, up.step_key, upstream.mapping_key)}
            return {}

        def load_one(key: str) -> inputs.Loaded:
            try:
                artifact = inputs.resolve_artifact(
                    catalog, dataset=ds.id, partitions=partitions_of(key), pin=pin
                )
            except NotFoundError as exc:
                return inputs.Loaded(key=key, missing=exc)
            if reader is not None:
                catalog.record_read(artifact_id=artifact.id, source=reader)
            if one_table:  # read below, all partitions as one scan
                return inputs.Loaded(key=key, artifact=artifact)
            literal = _literal_of(artifact)
            value = hold.get(literal, as_type=as_type, columns=columns)
            if not columns:
                remember_input(value, literal)  # a cached asset keys on it without re-reading
            return inputs.Loaded(key=key, value=value, artifact=artifact)

        loaded = inputs.load_concurrently(keys, load_one, max_concurrency=self.max_concurrency)
        missing = [item for item in loaded if item.missing is not None]
        if missing and not allow_missing:
            names = [item.key for item in missing] if partitioned else []
            where = f" partitions {names}" if names else ""
            raise PartitionNotFoundError(
                f"asset {dataset!r} has no artifact ({pin.describe()}) for{where or ' it'}; "
                f"materialize it first, or set allow_missing_partitions=True in the input's "
                f"metadata to skip missing partitions"
            ) from missing[0].missing
        for item in missing:
            ctx.warn(context, f"cargohold: skipped missing partition {item.key} of {dataset}")
        found = [item for item in loaded if item.missing is None]
        if reader is not None:
            self._lineage.record_reads(
                run_id=reader.run_id,
                step_key=step.step.key,
                reads=[
                    LineageRead(
                        literal=_literal_of(item.artifact),
                        dataset=dataset,
                        version=str(item.artifact.version),
                        partitions=dict(item.artifact.partitions),
                    )
                    for item in found
                    if item.artifact is not None
                ],
                emitter=self.emitter(),
                context=reader,
                description=op_description(context),
            )
        if one_table:
            return scan_inputs.as_one_table(
                [(item.artifact, _literal_of(item.artifact)) for item in found if item.artifact],
                kind=one_table,
                store=hold.store,
                partition_keys=ds.partition_keys,
                columns=columns,
            )
        if many:
            return {item.key: item.value for item in found}
        return found[0].value if found else None

    # -- lifecycle ----------------------------------------------------------------------------

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Emit FAIL for assets that failed in this process (queued, never waited for)."""
        emitter = self._emitter
        run = context.run  # InitResourceContext.run_id is deprecated since Dagster 1.13
        run_id = run.run_id if run is not None else None
        if emitter is None or not emitter.enabled or run_id is None:
            return
        namespace = self.hold().settings.lineage_namespace
        # no flush here: a run's end never waits on the lineage server (the exit flush is bounded)
        self._lineage.fail_unfinished(
            emitter=emitter, instance=context.instance, run_id=run_id, namespace=namespace
        )


def _release_superseded(hold: Cargohold, dataset: DatasetID, partitions: dict[str, str]) -> None:
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


def _artifact_metadata(
    ident: ctx.OutputIdentity, context: OutputContext, partition_key: str | None
) -> dict[str, str]:
    out = {"dagster.run_id": ident.run_id, "dagster.job": ident.job}
    if context.has_asset_key:
        out["dagster.asset_key"] = "/".join(context.asset_key.path)
    if partition_key is not None:
        out["dagster.partition_key"] = str(partition_key)
    return out
