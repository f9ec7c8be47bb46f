"""The XCom backend: every value a task returns becomes a typed literal, recorded in the catalog.

Enable it with::

    AIRFLOW__CORE__XCOM_BACKEND=cargohold.airflow_provider.xcom.CargoholdXComBackend
    CARGOHOLD_STORE_URL=s3://bucket/xcom         # or the cargohold_default connection
    CARGOHOLD_CATALOG_URL=postgresql+psycopg://...

What Airflow stores in its XCom table is the literal's small JSON document, which the UI shows
as is: a small value inline (``{"cargohold": 1, "type": {"kind": "int"}, "value": 3}``), a large
one as a reference (``"blob": {"uri": ..., "python_type": "pandas.DataFrame", "size": ...,
"rows": ...}``), with the catalog artifact it was recorded as (``"artifact": {"dataset": ...,
"version": ..., "id": ...}``).

Reading (``deserialize_value``):

* inside a task (``xcom_pull``, ``@task`` arguments, mapped tasks' ``get_all``, several task ids,
  branching) the value itself comes back, loaded through the type engine; a missing blob, a
  store or catalog failure raises a :class:`~cargohold.core.errors.CargoholdError`. The path is
  never handed over instead of the value.
* outside a task (the API server with ``[api] enable_xcom_deserialize_support``, the scheduler,
  scripts) blobs are never read: inline values are decoded, referenced ones come back as a
  readable reference dict (``{"cargohold_reference": true, "uri": ..., "type": ..., "size": ...,
  "rows": ...}``), and so does any value that cannot be decoded there (a class that is not
  trusted there, a malformed document). These processes need no store credentials and never
  crash on our values.

A stored value is data anyone with XCom edit rights could have written: a class it names is used
only when it is trusted (see :mod:`cargohold.core.types.trust` and ``CARGOHOLD_ALLOWED_TYPES``,
whose default admits the modules Airflow loads DAG files as); inside a task anything else raises
:class:`~cargohold.core.errors.UntrustedTypeError`, outside one it reads as the reference view.

Lifecycle: a value's blobs are registered under the XCom's owner id (``dag/run/task/map/key``,
the same on every try), so a retry or clear replaces the earlier references; ``purge`` (called by
Airflow on ``XCom.delete`` and when a retry clears its keys) releases them and deletes the blobs
nobody else references. Anything left behind (a run deleted by ``airflow db clean``, a crash
between writing a blob and recording it) is unreferenced and found by ``cargohold gc``
(:meth:`Catalog.collect_garbage`). With ``CARGOHOLD_AIRFLOW_RECORD_ARTIFACTS=true`` (the default)
each value is also a catalog artifact, which keeps its blobs until the artifact expires.

Large values never travel through Airflow: the task process writes them to the store (tables as
Parquet, streamed) and sends the supervisor only the small document, so the supervisor's
heartbeat is never held up by a big push (common-io sends the whole JSON-encoded value).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from airflow.sdk.bases.xcom import BaseXCom

from cargohold.airflow_provider import records
from cargohold.airflow_provider._runtime import (
    TaskInfo,
    current_task,
    runtime,
    task_context,
)
from cargohold.airflow_provider.partitions import task_partitions
from cargohold.core.errors import CargoholdError, SerializationError
from cargohold.core.types.literals import Literal

__all__ = ["CargoholdXComBackend", "is_cargohold_document", "reference_view"]

OWNER_XCOM = "xcom"
_ARTIFACT = "artifact"
_OWNER = "xcom_owner"
_INTERNAL_KEYS = frozenset({"skipmixin_key", "trigger_run_id"})


def is_cargohold_document(value: object) -> bool:
    """True when ``value`` is an XCom value this backend stored (a literal document)."""
    return isinstance(value, Mapping) and "cargohold" in value and "type" in value


def reference_view(document: Mapping[str, Any], *, reason: str) -> dict[str, Any]:
    """The readable stand-in returned where a value is not loaded (see the module docstring);
    a document that is not even a readable literal gives a view saying so."""
    try:
        literal = Literal.from_dict(document)
    except CargoholdError as exc:
        return {"cargohold_reference": True, "type": "unreadable", "note": f"{reason}; {exc}"}
    view: dict[str, Any] = {"cargohold_reference": True, "type": str(literal.type)}
    if literal.blob is not None:
        blob = literal.blob
        view.update(uri=blob.uri, size=blob.size, format=blob.format, hash=blob.hash)
        view["python_type"] = blob.python_type
        if blob.rows is not None:
            view["rows"] = blob.rows
    else:
        view["value"] = literal.value
    if isinstance(document.get(_ARTIFACT), Mapping):
        view[_ARTIFACT] = dict(document[_ARTIFACT])
    view["note"] = reason
    return view


class CargoholdXComBackend(BaseXCom):
    """Airflow XCom backend storing values as cargohold literals (see the module docstring)."""

    @staticmethod
    def serialize_value(
        value: Any,
        *,
        key: str | None = None,
        task_id: str | None = None,
        dag_id: str | None = None,
        run_id: str | None = None,
        map_index: int | None = None,
    ) -> Any:
        """Turn ``value`` into a literal (offloading large values to the store), record it as a
        catalog artifact with the task's partitions, emit its lineage, and return the JSON
        document Airflow stores.

        Raises:
            UnsupportedTypeError: no transformer for the value's type (and pickle is off).
            StorageError: the store failed; nothing partial is visible.
            CatalogError: the catalog failed, or the task's partitions do not match its dataset.
            InvalidArgumentError: a declared partition has no value in this run.
        """
        rt = runtime()
        literal = rt.hold.put(value)
        document = literal.to_dict()
        if dag_id is None or task_id is None or run_id is None or key is None:
            return document  # not a task's XCom (e.g. a direct call): value only
        index = -1 if map_index is None else int(map_index)
        info = current_task(dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=index)
        context = task_context(
            info,
            dag_id=dag_id,
            task_id=task_id,
            run_id=run_id,
            map_index=index,
            partitions=task_partitions(info),
            domain=rt.hold.settings.domain,
        )
        dataset = records.xcom_dataset_name(dag_id=dag_id, task_id=task_id, key=key)
        version: int | None = None
        if rt.record_artifacts and not _internal(key):
            artifact = records.record_artifact(
                rt.hold.catalog,
                dataset=dataset,
                literal=literal,
                context=context,
                metadata={"airflow.xcom_key": key},
            )
            version = artifact.version
            document[_ARTIFACT] = {
                "dataset": dataset,
                "version": artifact.version,
                "id": artifact.id,
                "partitions": dict(artifact.partitions),
            }
        blobs = list(literal.blobs())
        if blobs:
            owner = records.xcom_owner_id(
                dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=index, key=key
            )
            catalog = rt.hold.catalog
            catalog.release_blob_owner(owner_kind=OWNER_XCOM, owner_id=owner)
            catalog.register_blob_owner(owner_kind=OWNER_XCOM, owner_id=owner, blobs=blobs)
            document[_OWNER] = owner
        if not _internal(key):  # Airflow's bookkeeping is not a dataset
            records.emit_lineage(
                rt.emitter,
                context=context,
                literal=literal,
                dataset=dataset,
                version=version,
                output=True,
            )
        return document

    @staticmethod
    def deserialize_value(result: Any) -> Any:
        """The value of a stored XCom (see the module docstring for where it is not loaded).

        Values stored by another backend are read the way Airflow's default backend reads them.

        Raises:
            BlobNotFoundError: (in a task) a referenced blob is missing.
            CorruptDataError: (in a task) stored bytes fail their hash check.
            UntrustedTypeError: (in a task) the value names a class not trusted in the task.
            SerializationError: (in a task) the literal is malformed or cannot be decoded.
            StorageError, CatalogError: (in a task) the store or catalog failed.
        """
        try:
            stored = _stored_document(result.value)
        except SerializationError as exc:
            if current_task() is None:
                return {"cargohold_reference": True, "type": "unreadable", "note": str(exc)}
            raise
        if stored is None:
            return BaseXCom.deserialize_value(result)
        info = current_task()
        if info is None:
            return _outside_task(stored)
        rt = runtime()
        literal = Literal.from_dict(stored)
        ctx = dataclasses.replace(rt.hold.context(), namespaces=_running_namespaces(info))
        value = rt.hold.engine.to_python(literal, ctx)
        _record_read(stored, literal, info)
        return value

    @classmethod
    def purge(cls, xcom: Any, *args: Any) -> None:
        """Release the XCom's blob references and delete the blobs nobody else references.

        Raises:
            StorageError: the store failed to delete a blob.
            CatalogError: the catalog failed.
        """
        stored = _stored_document(getattr(xcom, "value", None))
        if stored is None or not isinstance(stored.get(_OWNER), str):
            return
        literal = Literal.from_dict(stored)
        hashes = [blob.hash for blob in literal.blobs()]
        rt = runtime()
        catalog = rt.hold.catalog
        catalog.release_blob_owner(owner_kind=OWNER_XCOM, owner_id=stored[_OWNER])
        catalog.delete_unreferenced_blobs(store=rt.hold.store, hashes=hashes)


def _internal(key: str) -> bool:
    """Airflow's own bookkeeping XComs (branch decisions, links) are not catalog artifacts
    (nor lineage datasets)."""
    return key in _INTERNAL_KEYS or key.startswith("_")


def _stored_document(value: Any) -> dict[str, Any] | None:
    if isinstance(value, (str, bytes)):
        try:
            text = value.decode() if isinstance(value, bytes) else value
        except UnicodeDecodeError:
            return None
        if not text.startswith("{") or '"cargohold"' not in text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        except RecursionError as exc:
            raise SerializationError("XCom value nested too deeply to be a literal") from exc
    return dict(value) if is_cargohold_document(value) else None


def _outside_task(stored: Mapping[str, Any]) -> Any:
    try:
        literal = Literal.from_dict(stored)
        referenced = literal.blob is not None or any(True for _ in literal.blobs())
    except CargoholdError as exc:
        return reference_view(stored, reason=f"not a readable cargohold literal: {exc}")
    if referenced:
        return reference_view(
            stored,
            reason="stored in cargohold; loaded only inside a task (outside one, no blob is read)",
        )
    try:
        from cargohold.core.hold import Cargohold

        # a hold on an in-memory store: decoding an inline literal never touches a store
        return Cargohold(store_url="memory://cargohold-xcom-view", catalog_url="sqlite://").get(
            literal
        )
    except CargoholdError as exc:
        return reference_view(stored, reason=f"could not be decoded here: {exc}")


def _running_namespaces(info: TaskInfo) -> dict[str, Mapping[str, Any]]:
    """The module namespace the running task's callable comes from, by module name: classes a
    DAG file defines resolve to the copy the task runs with (``dag.test()`` parses the file a
    second time, so ``sys.modules`` may hold another copy). Still subject to the allowlist."""
    callable_ = getattr(info.task, "python_callable", None)
    namespace = getattr(callable_, "__globals__", None)
    if not isinstance(namespace, dict) or not isinstance(namespace.get("__name__"), str):
        return {}
    return {namespace["__name__"]: namespace}


def _record_read(stored: Mapping[str, Any], literal: Literal, info: TaskInfo) -> None:
    rt = runtime()
    artifact = stored.get(_ARTIFACT)
    if not isinstance(artifact, Mapping):
        return
    context = task_context(
        info,
        dag_id=info.dag_id,
        task_id=info.task_id,
        run_id=info.run_id,
        map_index=info.map_index,
        domain=rt.hold.settings.domain,
    )
    if rt.record_reads and isinstance(artifact.get("id"), str):
        rt.hold.catalog.record_read(artifact_id=artifact["id"], source=context)
    partitions = artifact.get("partitions")
    records.emit_lineage(
        rt.emitter,
        context=context,
        literal=literal,
        dataset=str(artifact.get("dataset")),
        version=artifact.get("version"),
        output=False,
        partitions=dict(partitions) if isinstance(partitions, Mapping) else {},
    )
