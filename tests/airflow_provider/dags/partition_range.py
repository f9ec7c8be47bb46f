"""LoadArtifactOperator over a templated partition range: three days as one DataFrame."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from cargohold.airflow_provider.operators import LoadArtifactOperator


@dag(dag_id="partition_range", schedule=None, start_date=datetime(2026, 11, 1), catchup=False)
def partition_range() -> None:
    window = LoadArtifactOperator(
        task_id="load_window",
        dataset="daily_sales",
        partitions={"date": {"ge": "{{ macros.ds_add(ds, -2) }}", "le": "{{ ds }}"}},
        columns=["amount"],
    )
    regions = LoadArtifactOperator(
        task_id="load_days",
        dataset="daily_sales",
        partitions={"date": ["2026-11-01", "2026-11-05"]},
    )

    @task
    def summarize(frame: Any, days: Any) -> dict[str, Any]:
        return {
            "type": type(frame).__name__,
            "columns": list(frame.columns),
            "dates": sorted(set(frame["date"])),
            "total": float(frame["amount"].sum()),
            "days_columns": list(days.columns),
            "days": sorted(set(days["date"])),
        }

    summarize(window.output, regions.output)


partition_range()
