"""Dagster for real: a persistent instance on PostgreSQL (dagster-postgres), the
``dagster asset materialize`` CLI on the multiprocess executor, a single-run
``--partition-range`` backfill, a downstream load of the whole range, and the materializations'
metadata read back through the webserver's GraphQL API. The store is on S3 (moto over HTTP), the
catalog on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cargohold.core.hold import Cargohold
from tests.deploy.conftest import cargohold_env
from tests.deploy.dagster_defs import ROWS_PER_DAY, day_frame
from tests.support.dagster_deploy import DagsterDeployment, dagster_home
from tests.support.deploy import Deployment
from tests.support.services import S3Server, postgres_database, require_postgres

pytestmark = [pytest.mark.deploy, pytest.mark.postgres, pytest.mark.s3, pytest.mark.timeout(600)]

DEFS = Path(__file__).with_name("dagster_defs.py")
DAYS = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]

MATERIALIZATIONS = """
query Materializations($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset {
      assetMaterializations(limit: 50) {
        runId
        partition
        metadataEntries {
          label
          __typename
          ... on TextMetadataEntry { text }
          ... on IntMetadataEntry { intValue }
          ... on PathMetadataEntry { path }
          ... on JsonMetadataEntry { jsonString }
        }
      }
    }
  }
}
"""

RUN_TAGS = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status tags { key value } }
  }
}
"""


@dataclass
class Deployed:
    dagster: DagsterDeployment
    hold: Cargohold
    range_output: str
    summary_output: str


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, deploy_s3: S3Server) -> Iterator[Deployed]:
    """A persistent instance; the range backfill and the downstream load, run once."""
    require_postgres()
    root = tmp_path_factory.mktemp("dagster")
    with postgres_database() as instance_url, postgres_database() as catalog_url:
        env = cargohold_env(deploy_s3, catalog_url=catalog_url, home=root / "cargohold")
        with Deployment(root) as dep:
            dagster = DagsterDeployment(
                dep, home=dagster_home(root, instance_url), defs=DEFS, env=env
            )
            range_output = dagster.materialize(
                "deploy_sales,deploy_region_totals", partition_range=f"{DAYS[0]}...{DAYS[-1]}"
            )
            summary_output = dagster.materialize("deploy_summary")
            dagster.start_webserver()
            hold = Cargohold(
                store_url=env["CARGOHOLD_STORE_URL"],
                catalog_url=catalog_url,
                store_options=json.loads(env["CARGOHOLD_STORE_OPTIONS"]),
            )
            try:
                yield Deployed(dagster, hold, range_output, summary_output)
            finally:
                hold.catalog.close()


def materializations(dagster: DagsterDeployment, asset: str) -> list[dict[str, Any]]:
    found = dagster.graphql(MATERIALIZATIONS, {"path": [asset]})["assetOrError"]
    assert found["__typename"] == "Asset", found
    return list(found["assetMaterializations"])


def entries(materialization: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in materialization["metadataEntries"]:
        for field in ("text", "intValue", "path", "jsonString"):
            if field in entry:
                out[entry["label"]] = entry[field]
    return out


def test_a_range_backfill_runs_once_on_the_multiprocess_executor(deployed: Deployed) -> None:
    assert "multiprocess executor" in deployed.range_output, deployed.range_output[-3000:]
    found = materializations(deployed.dagster, "deploy_sales")
    assert sorted(m["partition"] for m in found) == DAYS
    run_ids = {m["runId"] for m in found}
    assert len(run_ids) == 1, "a single-run backfill: every partition in one run"
    run = deployed.dagster.graphql(RUN_TAGS, {"runId": run_ids.pop()})["runOrError"]
    assert run["status"] == "SUCCESS"
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert tags["dagster/asset_partition_range_start"] == DAYS[0]
    assert tags["dagster/asset_partition_range_end"] == DAYS[-1]
    for day in DAYS:  # each day is its own catalog artifact, in S3, with the right rows
        artifact = deployed.hold.catalog.get_latest(
            dataset="deploy_sales", partitions={"date": day}
        )
        literal = next(iter(artifact.data.values()))
        assert literal.blob is not None
        assert literal.blob.uri.startswith("s3://")
        frame = deployed.hold.get(literal)
        pd.testing.assert_frame_equal(
            frame.reset_index(drop=True), day_frame(day), check_dtype=False
        )


def test_materialization_metadata_through_graphql(deployed: Deployed) -> None:
    """Each partition of the single-run backfill carries its own metadata (issue 14): its row
    count, its blob's uri, its artifact id and version; the run's summary (partition count, the
    dataset's logical uri, every partition's artifact) rides along."""
    found = materializations(deployed.dagster, "deploy_sales")
    assert sorted(m["partition"] for m in found) == DAYS
    for materialization in found:
        day = materialization["partition"]
        meta = entries(materialization)
        latest = deployed.hold.catalog.get_latest(dataset="deploy_sales", partitions={"date": day})
        literal = next(iter(latest.data.values()))
        assert literal.blob is not None
        assert meta["cargohold/dataset"] == "deploy_sales", meta
        assert meta["dagster/row_count"] == ROWS_PER_DAY, meta
        assert meta["uri"] == literal.blob.uri, meta
        assert (meta["cargohold/artifact_id"], meta["cargohold/version"]) == (
            latest.id,
            latest.version,
        ), meta
        assert meta["cargohold/partitions"] == len(DAYS), meta
        artifacts = json.loads(meta["cargohold/artifacts"])
        assert sorted(artifacts) == DAYS, artifacts
        assert artifacts[day]["artifact_id"] == latest.id


def test_a_downstream_asset_loads_the_whole_range(deployed: Deployed) -> None:
    expected = {day: round(float(day_frame(day)["amount"].sum()), 2) for day in DAYS}
    artifact = deployed.hold.catalog.get_latest(dataset="deploy_summary")
    summary = deployed.hold.get(next(iter(artifact.data.values())))
    assert summary == expected
    found = materializations(deployed.dagster, "deploy_summary")
    assert len(found) == 1
    assert entries(found[0])["cargohold/dataset"] == "deploy_summary"
    for day in DAYS:  # the range run stored one artifact per day for the totals too
        totals = deployed.hold.catalog.get_latest(
            dataset="deploy_region_totals", partitions={"date": day}
        )
        value = deployed.hold.get(next(iter(totals.data.values())))
        assert round(sum(value.values()), 2) == expected[day]
