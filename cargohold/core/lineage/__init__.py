"""OpenLineage emission: dataset naming, facets, run events and the non-blocking emitter.

Nothing here imports openlineage at import time; the emitter imports it only when lineage is
configured. Testing tools (capturing transport, HTTP receiver, graph) live in
:mod:`cargohold.core.lineage.testing`, the schema validator in :mod:`.validation`.

Usage::

    emitter = LineageEmitter.from_env()            # off unless OPENLINEAGE_* is configured
    with emitter.track(run_context) as run:        # START now; COMPLETE or FAIL on exit
        run.add_input(literal_read, dataset_name="raw_orders")
        run.add_output(literal_written, dataset_name="daily_sales")
"""

from cargohold.core.lineage.datasets import LineageDataset, lineage_dataset
from cargohold.core.lineage.emitter import EmitterStats, LineageEmitter
from cargohold.core.lineage.events import (
    EventType,
    ParentRun,
    RunIdentity,
    airflow_dag_run_id,
    airflow_task_run_id,
    build_run_event,
    dagster_job_name,
    new_run_id,
    static_uuid,
)
from cargohold.core.lineage.naming import (
    DatasetName,
    catalog_dataset_name,
    dataset_name_from_uri,
    table_dataset_name,
)
from cargohold.core.lineage.recorder import RunRecorder
from cargohold.core.lineage.transport import (
    LineageTransport,
    OpenLineageTransport,
    lineage_configured,
)

__all__ = [
    "DatasetName",
    "EmitterStats",
    "EventType",
    "LineageDataset",
    "LineageEmitter",
    "LineageTransport",
    "OpenLineageTransport",
    "ParentRun",
    "RunIdentity",
    "RunRecorder",
    "airflow_dag_run_id",
    "airflow_task_run_id",
    "build_run_event",
    "catalog_dataset_name",
    "dagster_job_name",
    "dataset_name_from_uri",
    "lineage_configured",
    "lineage_dataset",
    "new_run_id",
    "static_uuid",
    "table_dataset_name",
]
