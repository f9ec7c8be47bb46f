"""Dataset naming by the OpenLineage conventions, and logical catalog names."""

from __future__ import annotations

import pytest

from cargohold.core.lineage.naming import (
    DatasetName,
    catalog_dataset_name,
    dataset_name_from_uri,
    table_dataset_name,
)


@pytest.mark.parametrize(
    ("uri", "namespace", "name"),
    [
        ("s3://bucket/cas/ab/abcd", "s3://bucket", "cas/ab/abcd"),
        ("s3a://bucket/a/b.parquet", "s3://bucket", "a/b.parquet"),
        ("gs://bucket/a/b", "gs://bucket", "a/b"),
        ("gcs://bucket/a/b", "gs://bucket", "a/b"),
        ("file:///tmp/store/a.parquet", "file", "/tmp/store/a.parquet"),
        ("file://localhost/tmp/a", "file", "/tmp/a"),
        ("file://nas01/share/a", "file://nas01", "/share/a"),
        ("/tmp/store//a/", "file", "/tmp/store/a"),
        ("memory://store/a/b", "memory", "/store/a/b"),
        ("memory:///store/a", "memory", "/store/a"),
        ("hdfs://nn:8020/data/x", "hdfs://nn:8020", "/data/x"),
        ("abfss://c@acct.dfs.core.windows.net/a/b", "abfss://c@acct.dfs.core.windows.net", "a/b"),
        ("cargohold://proj/dev/daily_sales", "cargohold://proj/dev", "daily_sales"),
        ("s3://bucket/with%20space", "s3://bucket", "with space"),
    ],
)
def test_uri_naming_follows_the_conventions(uri: str, namespace: str, name: str) -> None:
    assert dataset_name_from_uri(uri) == DatasetName(namespace, name)


@pytest.mark.parametrize("uri", ["", "s3://bucket", "s3://bucket/", "gs:///key"])
def test_object_store_uris_need_bucket_and_key(uri: str) -> None:
    with pytest.raises(ValueError, match=r"URI"):
        dataset_name_from_uri(uri)


def test_catalog_name_is_project_domain_namespace() -> None:
    name = catalog_dataset_name(project="p", domain="prod", dataset="daily_sales")
    assert name == DatasetName("cargohold://p/prod", "daily_sales")
    assert str(name) == "cargohold://p/prod:daily_sales"
    with pytest.raises(ValueError, match="domain"):
        catalog_dataset_name(project="p", domain="", dataset="x")


def test_table_naming_fills_default_ports() -> None:
    assert table_dataset_name(
        scheme="postgresql", host="db", database="shop", schema="public", table="orders"
    ) == DatasetName("postgres://db:5432", "shop.public.orders")
    assert table_dataset_name(
        scheme="mysql", host="db", port=3307, database="shop", table="orders"
    ) == DatasetName("mysql://db:3307", "shop.orders")
