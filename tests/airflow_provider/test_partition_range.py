"""LoadArtifactOperator with a partition range returns one frame (dag.test, S3, PostgreSQL)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cargohold.airflow_provider.partition_scan import partition_filters
from cargohold.core.catalog import Catalog, OneOf, Range
from cargohold.core.errors import InvalidArgumentError
from cargohold.core.hold import Cargohold
from tests.airflow_provider.conftest import DAGS, AirflowEnv


def test_partition_range_loads_one_frame(airflow_env: AirflowEnv, catalog_url: str) -> None:
    hold = Cargohold(
        store_url=airflow_env.env["CARGOHOLD_STORE_URL"],
        catalog_url=catalog_url,
        store_options=json.loads(airflow_env.env["CARGOHOLD_STORE_OPTIONS"]),
    )
    hold.catalog.create_dataset(dataset="daily_sales", partition_keys=["date"])
    for day in range(1, 6):
        frame = pd.DataFrame({"amount": [day * 1.0, day * 2.0], "region": ["eu", "us"]})
        hold.catalog.create_artifact(
            dataset="daily_sales",
            partitions={"date": f"2026-11-0{day}"},
            data={"value": hold.put(frame)},
        )
    hold.catalog.close()

    run = airflow_env.run(
        DAGS / "partition_range.py", "partition_range", logical_date="2026-11-04T00:00:00+00:00"
    )
    assert run.state == "success", run.log[-6000:]
    summary = run.xcom("summarize")["value"]
    assert summary["type"] == "DataFrame"
    assert summary["columns"] == ["amount", "date"]
    assert summary["dates"] == ["2026-11-02", "2026-11-03", "2026-11-04"]
    assert summary["total"] == (2 + 3 + 4) * 3.0
    assert summary["days_columns"] == ["amount", "region", "date"]
    assert summary["days"] == ["2026-11-01", "2026-11-05"]
    readers = Catalog.from_url(catalog_url)
    read = readers.get_latest(dataset="daily_sales", partitions={"date": "2026-11-03"})
    assert {r.source.task for r in readers.reads_of(artifact_id=read.id)} == {"load_window"}


def test_partition_filters_spellings() -> None:
    assert partition_filters({"date": "2026-11-01"}) is None
    spans = partition_filters({"date": {"ge": "2026-11-01", "lt": "2026-11-08"}, "region": "eu"})
    assert spans == {"date": Range(ge="2026-11-01", lt="2026-11-08"), "region": "eu"}
    assert partition_filters({"region": ["eu", "us"]}) == {"region": OneOf(["eu", "us"])}
    with pytest.raises(InvalidArgumentError, match="dict of bounds"):
        partition_filters({"date": {"from": "2026-11-01"}})
