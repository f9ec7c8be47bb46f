"""Literals and blobs become datasets with the right names and facets."""

from __future__ import annotations

from typing import Any

from cargohold.core.lineage.datasets import lineage_dataset
from cargohold.core.lineage.events import RunIdentity, build_run_event, new_run_id
from cargohold.core.lineage.naming import DatasetName
from cargohold.core.types.literals import BlobRef, Literal, LiteralType

FRAME = BlobRef(
    uri="s3://lake/cas/ab/ab12",
    size=2048,
    hash="ab12" * 16,
    format="parquet",
    python_type="pandas.DataFrame",
    rows=10,
    schema=(("order_id", "int64"), ("amount", "double")),
)


def _event(inputs: Any = (), outputs: Any = ()) -> dict[str, Any]:
    run = RunIdentity(namespace="ns", job_name="job", run_id=new_run_id())
    return build_run_event(event_type="COMPLETE", run=run, inputs=inputs, outputs=outputs)


def test_a_catalog_value_is_named_by_its_catalog_dataset(check_events: Any) -> None:
    literal = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=FRAME)
    dataset = lineage_dataset(
        literal,
        dataset_name="daily_sales",
        project="shop",
        domain="prod",
        version="7",
        description="sales per day",
    )
    assert dataset.key == DatasetName("cargohold://shop/prod", "daily_sales")
    facets = dataset.as_output()["facets"]
    assert facets["schema"]["fields"] == [
        {"name": "order_id", "type": "int64", "ordinal_position": 1},
        {"name": "amount", "type": "double", "ordinal_position": 2},
    ]
    assert facets["dataSource"]["name"] == "cargohold://shop/prod"
    assert facets["version"]["datasetVersion"] == f"7:{literal.hash}"
    # the physical blob is in the storage facet, never a symlink (a server would merge by it)
    assert facets["storage"] == {
        **facets["storage"],
        "storageLayer": "cargohold",
        "fileFormat": "parquet",
        "locations": ["s3://lake/cas/ab/ab12"],
    }
    assert "symlinks" not in facets
    assert "cargohold_partitions" not in facets
    assert facets["documentation"]["description"] == "sales per day"
    out = dataset.as_output()["outputFacets"]["outputStatistics"]
    assert (out["rowCount"], out["size"], out["fileCount"]) == (10, 2048, 1)
    assert dataset.as_input()["inputFacets"]["inputStatistics"]["rowCount"] == 10
    check_events([_event(inputs=[dataset], outputs=[dataset])])


def test_identical_bytes_in_two_datasets_stay_two_datasets() -> None:
    literal = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=FRAME)
    a = lineage_dataset(literal, dataset_name="raw_orders", version="1")
    b = lineage_dataset(literal, dataset_name="orders_copy", version="1")
    assert a.key != b.key
    later = lineage_dataset(literal, dataset_name="raw_orders", version="2")
    assert later.key == a.key  # a new version stays the same dataset


def test_partitions_go_into_the_partitions_facet(check_events: Any) -> None:
    day1 = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=FRAME)
    day2 = Literal(type=LiteralType("int"), value=2)
    one = lineage_dataset(day1, dataset_name="sales", version="3", partitions={"date": "d1"})
    two = lineage_dataset(day2, dataset_name="sales", version="1", partitions={"date": "d2"})
    merged = one.merged(two)
    assert merged.key == one.key
    facets = merged.as_output()["facets"]
    assert facets["cargohold_partitions"]["partitions"] == [
        {"keys": {"date": "d1"}, "version": "3", "contentHash": day1.hash},
        {"keys": {"date": "d2"}, "version": "1", "contentHash": day2.hash},
    ]
    assert facets["version"]["datasetVersion"] == (f"date=d1@3:{day1.hash};date=d2@1:{day2.hash}")
    assert one.as_output()["facets"]["version"]["datasetVersion"] == f"3:{day1.hash}"
    check_events([_event(outputs=[merged]), _event(inputs=[one])])


def test_null_counts_become_data_quality_metrics(check_events: Any) -> None:
    blob = BlobRef(
        uri="file:///data/cas/ef",
        size=10,
        hash="ef" * 32,
        format="arrow",
        python_type="pandas.DataFrame",
        rows=4,
        extra={"null_counts": {"a": 0, "b": 3}},
    )
    literal = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=blob)
    facets = lineage_dataset(literal, dataset_name="t").as_output()["facets"]
    metrics = facets["dataQualityMetrics"]
    assert metrics["rowCount"] == 4
    assert metrics["columnMetrics"] == {"a": {"nullCount": 0}, "b": {"nullCount": 3}}
    assert "dataQualityMetrics" not in lineage_dataset(FRAME).as_output()["facets"]  # no counts
    check_events([_event(outputs=[lineage_dataset(literal, dataset_name="t")])])


def test_without_a_catalog_name_a_blob_is_named_physically() -> None:
    dataset = lineage_dataset(FRAME)
    assert dataset.key == DatasetName("s3://lake", "cas/ab/ab12")
    assert dataset.as_output()["facets"]["version"]["datasetVersion"] == FRAME.hash


def test_inline_literal_is_named_by_its_catalog_name(check_events: Any) -> None:
    literal = Literal(type=LiteralType("int"), value=42)
    dataset = lineage_dataset(literal, dataset_name="etl.extract.return_value", domain="dev")
    assert dataset.key == DatasetName("cargohold://default/dev", "etl.extract.return_value")
    facets = dataset.as_output()["facets"]
    assert facets["version"]["datasetVersion"] == literal.hash
    assert facets["storage"]["fileFormat"] == "json"
    assert facets["dataSource"]["uri"] == "cargohold://default/dev"
    anonymous = lineage_dataset(literal)
    assert anonymous.name == f"inline/{literal.hash}"
    check_events([_event(outputs=[dataset, anonymous])])


def test_several_blobs_make_one_dataset_with_their_locations(check_events: Any) -> None:
    other = BlobRef(
        uri="file:///data/cas/cd34",
        size=100,
        hash="cd34" * 16,
        format="parquet",
        python_type="pandas.DataFrame",
        rows=5,
    )
    literal = Literal(
        type=LiteralType("dict"),
        value={"a": {"$blob": FRAME.to_dict()}, "b": {"$blob": other.to_dict()}},
    )
    dataset = lineage_dataset(literal, dataset_name="frames")
    assert dataset.key == DatasetName("cargohold://default/development", "frames")
    assert dataset.facets["storage"]["locations"] == [
        "file:///data/cas/cd34",
        "s3://lake/cas/ab/ab12",
    ]
    stats = dataset.as_output()["outputFacets"]["outputStatistics"]
    assert (stats["rowCount"], stats["size"], stats["fileCount"]) == (15, 2148, 2)
    check_events([_event(outputs=[dataset])])


def test_explicit_names_and_uris(check_events: Any) -> None:
    table = lineage_dataset(
        DatasetName("postgres://db:5432", "shop.public.orders"), dataset_name="orders"
    )
    uri = lineage_dataset("gs://bucket/exports/x.csv")
    assert table.key.namespace == "postgres://db:5432"
    assert uri.key == DatasetName("gs://bucket", "exports/x.csv")
    check_events([_event(inputs=[table, uri])])
