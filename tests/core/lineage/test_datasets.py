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


def test_single_blob_is_named_physically_with_a_logical_symlink(check_events: Any) -> None:
    literal = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=FRAME)
    dataset = lineage_dataset(
        literal,
        dataset_name="daily_sales",
        project="shop",
        domain="prod",
        version="7",
        description="sales per day",
    )
    assert dataset.key == DatasetName("s3://lake", "cas/ab/ab12")
    facets = dataset.facets
    assert facets["schema"]["fields"] == [
        {"name": "order_id", "type": "int64", "ordinal_position": 1},
        {"name": "amount", "type": "double", "ordinal_position": 2},
    ]
    assert facets["dataSource"]["name"] == "s3://lake"
    assert facets["version"]["datasetVersion"] == "7"
    assert facets["storage"] == {
        **facets["storage"],
        "storageLayer": "cargohold",
        "fileFormat": "parquet",
    }
    assert facets["symlinks"]["identifiers"] == [
        {"namespace": "cargohold://shop/prod", "name": "daily_sales", "type": "DATASET"}
    ]
    assert facets["documentation"]["description"] == "sales per day"
    out = dataset.as_output()["outputFacets"]["outputStatistics"]
    assert (out["rowCount"], out["size"], out["fileCount"]) == (10, 2048, 1)
    assert dataset.as_input()["inputFacets"]["inputStatistics"]["rowCount"] == 10
    check_events([_event(inputs=[dataset], outputs=[dataset])])


def test_version_defaults_to_the_content_hash() -> None:
    dataset = lineage_dataset(FRAME)
    assert dataset.facets["version"]["datasetVersion"] == FRAME.hash
    assert "symlinks" not in dataset.facets


def test_inline_literal_is_named_by_its_catalog_name(check_events: Any) -> None:
    literal = Literal(type=LiteralType("int"), value=42)
    dataset = lineage_dataset(literal, dataset_name="etl.extract.return_value", domain="dev")
    assert dataset.key == DatasetName("cargohold://default/dev", "etl.extract.return_value")
    assert dataset.facets["version"]["datasetVersion"] == literal.hash
    assert dataset.facets["storage"]["fileFormat"] == "json"
    assert dataset.facets["dataSource"]["uri"] == "cargohold://default/dev"
    anonymous = lineage_dataset(literal)
    assert anonymous.name == f"inline/{literal.hash[:32]}"
    check_events([_event(outputs=[dataset, anonymous])])


def test_several_blobs_make_one_logical_dataset_with_file_symlinks(check_events: Any) -> None:
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
    assert {
        (i["namespace"], i["name"], i["type"]) for i in dataset.facets["symlinks"]["identifiers"]
    } == {
        ("s3://lake", "cas/ab/ab12", "FILE"),
        ("file", "/data/cas/cd34", "FILE"),
    }
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
