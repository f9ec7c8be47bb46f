"""``ArtifactSensor``: wait for a dataset partition to appear in the catalog (deferrable).

Poke mode asks the catalog once per ``poke_interval``. With ``deferrable=True`` the task frees its
worker slot and :class:`ArtifactTrigger` polls from the triggerer; the catalog lookup runs in a
thread so the triggerer's event loop never blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk.bases.sensor import BaseSensorOperator
from airflow.triggers.base import BaseTrigger, TriggerEvent

from cargohold.airflow_provider.hooks import CargoholdHook

__all__ = ["ArtifactSensor", "ArtifactTrigger", "find_artifact"]


def find_artifact(
    *,
    dataset: str,
    partitions: Mapping[str, Any],
    min_version: int | None,
    cargohold_conn_id: str,
) -> dict[str, Any] | None:
    """The summary of the newest artifact of the partition (None when there is none yet).

    A dataset that does not exist yet counts as "not yet".

    Raises:
        InvalidArgumentError: the partition keys differ from the dataset's.
        CatalogError: the catalog failed.
    """
    from cargohold.airflow_provider.operators import artifact_summary
    from cargohold.core.errors import NotFoundError

    catalog = CargoholdHook(cargohold_conn_id=cargohold_conn_id).catalog
    try:
        artifact = catalog.get_latest(dataset=dataset, partitions=dict(partitions))
    except NotFoundError:
        return None
    if min_version is not None and artifact.version < min_version:
        return None
    return artifact_summary(artifact)


class ArtifactTrigger(BaseTrigger):
    """Polls the catalog until the partition has an artifact, then fires with its summary."""

    def __init__(
        self,
        *,
        dataset: str,
        partitions: Mapping[str, Any],
        min_version: int | None,
        cargohold_conn_id: str,
        poll_interval: float,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.dataset = dataset
        self.partitions = dict(partitions)
        self.min_version = min_version
        self.cargohold_conn_id = cargohold_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The trigger's class path and keyword arguments."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "dataset": self.dataset,
                "partitions": self.partitions,
                "min_version": self.min_version,
                "cargohold_conn_id": self.cargohold_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until found; a catalog error ends the wait with an error event."""
        while True:
            try:
                found = await asyncio.to_thread(
                    find_artifact,
                    dataset=self.dataset,
                    partitions=self.partitions,
                    min_version=self.min_version,
                    cargohold_conn_id=self.cargohold_conn_id,
                )
            except Exception as exc:
                message = f"{type(exc).__name__}: {exc}"
                yield TriggerEvent({"status": "error", "message": message})  # type: ignore[no-untyped-call]
                return
            if found is not None:
                yield TriggerEvent({"status": "found", "artifact": found})  # type: ignore[no-untyped-call]
                return
            await asyncio.sleep(self.poll_interval)


class ArtifactSensor(BaseSensorOperator):
    """Wait until ``dataset`` has an artifact in ``partitions`` (at least ``min_version``).

    Returns (and pushes as XCom) the artifact summary: dataset, version, id, partitions, uri.

    Raises:
        InvalidArgumentError: the partition keys differ from the dataset's.
        CatalogError: the catalog failed (also when it fails in the triggerer).
    """

    template_fields: Sequence[str] = ("dataset", "partitions")

    def __init__(
        self,
        *,
        dataset: str,
        partitions: Mapping[str, Any] | None = None,
        min_version: int | None = None,
        cargohold_conn_id: str = CargoholdHook.default_conn_name,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset = dataset
        self.partitions = dict(partitions or {})
        self.min_version = min_version
        self.cargohold_conn_id = cargohold_conn_id
        self.deferrable = deferrable
        self._found: dict[str, Any] | None = None

    def _find(self) -> dict[str, Any] | None:
        return find_artifact(
            dataset=self.dataset,
            partitions=self.partitions,
            min_version=self.min_version,
            cargohold_conn_id=self.cargohold_conn_id,
        )

    def execute(self, context: Any) -> Any:
        """Poke, or defer to :class:`ArtifactTrigger` when ``deferrable``."""
        if not self.deferrable:
            super().execute(context)
            return self._found
        found = self._find()
        if found is not None:
            return found
        self.defer(
            trigger=ArtifactTrigger(
                dataset=self.dataset,
                partitions=self.partitions,
                min_version=self.min_version,
                cargohold_conn_id=self.cargohold_conn_id,
                poll_interval=float(self.poke_interval),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)) if self.timeout else None,
        )
        return None

    def poke(self, context: Any) -> bool:
        """True once the partition has a (recent enough) artifact."""
        self._found = self._find()
        return self._found is not None

    def execute_complete(self, context: Any, event: Mapping[str, Any]) -> Any:
        """Resume after the trigger fired: return the summary, or fail with its error.

        Raises:
            CatalogError: the trigger reported a catalog failure.
        """
        if event.get("status") != "found":
            from cargohold.core.errors import CatalogError

            raise CatalogError(f"waiting for {self.dataset}: {event.get('message')}")
        return event["artifact"]

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The dataset waited for, as an input (OpenLineage provider hook)."""
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        from cargohold.airflow_provider.operators import lineage_settings
        from cargohold.core.lineage import catalog_dataset_name

        settings = lineage_settings(None)  # no connection lookup in the provider's fork
        name = catalog_dataset_name(
            project=settings.project, domain=settings.domain, dataset=self.dataset
        )
        return OperatorLineage(inputs=[Dataset(namespace=name.namespace, name=name.name)])
