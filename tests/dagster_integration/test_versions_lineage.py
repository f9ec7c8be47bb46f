"""Versions and pinning, the resource, and lineage events (validated against the schemas)."""

import dagster as dg
import pandas as pd

from cargohold.core.catalog import Catalog
from cargohold.core.context import RunContext
from cargohold.core.hold import Cargohold
from cargohold.core.lineage.testing import LineageReceiver, dataset_node, job_node
from cargohold.dagster_integration import CargoholdIOManager, CargoholdResource

COUNTER = {"n": 0}


@dg.asset(metadata={"cargohold/tags": ["latest-good"]})
def prices() -> pd.DataFrame:
    COUNTER["n"] += 1
    return pd.DataFrame({"n": [COUNTER["n"]] * 5})


@dg.asset
def latest_price(prices: pd.DataFrame) -> int:
    return int(prices["n"][0])


@dg.asset(ins={"prices": dg.AssetIn(metadata={"cargohold/version": 1})})
def first_price(prices: pd.DataFrame) -> int:
    return int(prices["n"][0])


@dg.asset(ins={"prices": dg.AssetIn(metadata={"cargohold/tag": "production"})})
def production_price(prices: pd.DataFrame) -> int:
    return int(prices["n"][0])


def test_every_materialization_is_a_version_and_inputs_pin(
    io_manager: CargoholdIOManager,
) -> None:
    resources = {"io_manager": io_manager}
    versions = []
    for _ in range(3):
        result = dg.materialize([prices], resources=resources)
        versions.append(result.asset_materializations_for_node("prices")[0].metadata)
    assert [m["cargohold/version"].value for m in versions] == [1, 2, 3]
    catalog = io_manager.hold().catalog
    assert len(catalog.list_artifacts(dataset="prices")) == 3  # history is kept
    tagged = catalog.get_artifact(dataset="prices", tag="latest-good")
    assert tagged.version == 3  # the tag moved to the newest
    catalog.add_tag(
        dataset="prices", tag="production", artifact_id=versions[1]["cargohold/artifact_id"].value
    )
    result = dg.materialize(
        [prices, latest_price, first_price, production_price],
        resources=resources,
        selection=[latest_price, first_price, production_price],
    )
    assert result.output_for_node("latest_price") == 3
    assert result.output_for_node("first_price") == 1
    assert result.output_for_node("production_price") == 2


def test_resource_queries_the_catalog(local_io_manager: CargoholdIOManager) -> None:
    resource = CargoholdResource(
        store_url=local_io_manager.store_url, catalog_url=local_io_manager.catalog_url
    )

    @dg.asset(name="report")
    def report(cargohold: CargoholdResource) -> int:
        latest = cargohold.get_latest(dataset="prices")
        assert latest is not None
        frame = cargohold.load(latest, columns=["n"])
        return len(cargohold.list_artifacts(dataset="prices")) * 100 + int(frame["n"][0])

    resources = {"io_manager": local_io_manager, "cargohold": resource}
    dg.materialize([prices], resources=resources)
    COUNTER["n"] = 0
    assert dg.materialize([prices], resources=resources).success
    result = dg.materialize([prices, report], resources=resources, selection=[report])
    assert result.output_for_node("report") == 201


def test_lineage_start_complete_fail_and_cross_orchestrator_edge(
    io_manager: CargoholdIOManager, receiver: LineageReceiver
) -> None:
    # An Airflow task wrote "raw_orders" through the core; the Dagster asset reads it.
    hold = Cargohold(
        store_url=io_manager.store_url,
        catalog_url=io_manager.catalog_url,
        store_options=io_manager.store_options,
    )
    literal = hold.put(pd.DataFrame({"id": range(10)}))
    catalog: Catalog = hold.catalog
    catalog.create_dataset(dataset="raw_orders")
    airflow = RunContext(orchestrator="airflow", job="etl", task="extract", run_id="manual__1")
    catalog.create_artifact(dataset="raw_orders", data={"value": literal}, source=airflow)

    raw_orders = dg.AssetSpec("raw_orders")

    @dg.asset(name="clean_orders", deps=[], ins={"raw_orders": dg.AssetIn()})
    def clean_orders(raw_orders: pd.DataFrame) -> pd.DataFrame:
        return raw_orders[raw_orders["id"] > 2]

    @dg.asset(name="explodes")
    def explodes(clean_orders: pd.DataFrame) -> int:
        raise ValueError("bad data in clean_orders")

    result = dg.materialize(
        [raw_orders, clean_orders, explodes],
        resources={"io_manager": io_manager},
        selection=[clean_orders, explodes],
        raise_on_error=False,
    )
    assert not result.success
    events = receiver.wait_for(4, timeout=10)
    kinds = [(e["job"]["name"], e["eventType"]) for e in events]
    # an ad-hoc materialization: the jobs are named by their asset keys, not Dagster's
    # internal __ephemeral_asset_job__
    assert ("clean_orders", "START") in kinds
    assert ("clean_orders", "COMPLETE") in kinds
    assert ("explodes", "FAIL") in kinds
    assert not any("__ephemeral" in name for name, _ in kinds)
    fail = next(e for e in events if e["eventType"] == "FAIL")
    assert "bad data" in fail["run"]["facets"]["errorMessage"]["message"]
    assert fail["inputs"], "the failed run names the input it read"
    complete = next(e for e in events if e["eventType"] == "COMPLETE")
    parent = complete["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == result.run_id
    assert parent["job"]["name"] == "adhoc_materialization"
    # the catalog dataset the "Airflow" task wrote is the Dagster asset's input: one node, an edge
    source = complete["inputs"][0]
    assert (source["namespace"], source["name"]) == (
        "cargohold://default/development",
        "raw_orders",
    )
    assert source["facets"]["storage"]["locations"] == [literal.blob.uri]  # type: ignore[union-attr]
    graph = receiver.graph()
    namespace = complete["job"]["namespace"]
    assert graph.connected(
        dataset_node(source["namespace"], source["name"]),
        job_node(namespace, "clean_orders"),
    )
