"""Conformance: datasets, artifacts, versions, tags. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import event

from cargohold.core.catalog import ArtifactSource, Catalog, DatasetID, OneOf, Range
from cargohold.core.context import RunContext
from cargohold.core.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
)

from .helpers import blob, inline


def test_create_and_get_dataset_with_defaults(catalog: Catalog) -> None:
    created = catalog.create_dataset(
        dataset="sales", partition_keys=["date", "region"], metadata={"owner": "data-eng"}
    )
    assert created.id == DatasetID(project="default", domain="development", name="sales")
    assert created.id.version == "1"
    assert created.partition_keys == ("date", "region")
    got = catalog.get_dataset(dataset="sales")
    assert got == created
    assert len(got.uuid) == 36


def test_domain_defaults_to_env(catalog_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARGOHOLD_DOMAIN", "production")
    with Catalog.from_url(catalog_url) as catalog:
        assert catalog.create_dataset(dataset="x").id.domain == "production"


def test_duplicate_dataset_already_exists(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales")
    with pytest.raises(AlreadyExistsError, match="sales"):
        catalog.create_dataset(dataset="sales")
    other_version = DatasetID(project="default", domain="development", name="sales", version="2")
    assert catalog.create_dataset(dataset=other_version).id.version == "2"


def test_missing_dataset_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        catalog.get_dataset(dataset="nope")
    with pytest.raises(NotFoundError):
        catalog.create_artifact(dataset="nope", data={"o": inline()})


def test_list_datasets_filters_and_pages(catalog: Catalog) -> None:
    for name in ("a_1", "a_2", "ab", "b", "a%x"):
        catalog.create_dataset(dataset=name, metadata={"team": "x" if "a" in name else "y"})
    catalog.create_dataset(
        dataset=DatasetID(project="other", domain="development", name="a_1"),
    )
    names = [d.id.name for d in catalog.list_datasets(project="default")]
    assert names == sorted(["a_1", "a_2", "ab", "b", "a%x"])
    assert [d.id.name for d in catalog.list_datasets(project="default", name_prefix="a_")] == [
        "a_1",
        "a_2",
    ]
    assert [d.id.name for d in catalog.list_datasets(name_prefix="a%")] == ["a%x"]
    assert [d.id.project for d in catalog.list_datasets(name="a_1")] == ["default", "other"]
    assert {d.id.name for d in catalog.list_datasets(metadata={"team": "y"})} == {"b"}
    assert catalog.list_datasets(domain="production").items == ()
    seen: list[str] = []
    token = None
    while True:
        page = catalog.list_datasets(limit=2, page_token=token)
        seen += [str(d.id) for d in page]
        token = page.next_token
        if token is None:
            break
    assert len(seen) == 6
    assert len(set(seen)) == 6


def test_create_and_get_artifact(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales", partition_keys=["date"])
    context = RunContext(orchestrator="airflow", job="dag", run_id="r1", task="t", try_number=2)
    data = {"frame": blob("ab" * 32), "rows": inline(3)}
    created = catalog.create_artifact(
        dataset="sales",
        data=data,
        partitions={"date": "2026-11-01"},
        metadata={"rows": "3"},
        tags=["nightly"],
        source=context,
    )
    assert created.version == 1
    got = catalog.get_artifact(artifact_id=created.id)
    assert got.data == data
    assert got.partitions == {"date": "2026-11-01"}
    assert got.metadata == {"rows": "3"}
    assert got.tags == ("nightly",)
    assert got.source == ArtifactSource(
        orchestrator="airflow", job="dag", run_id="r1", task="t", try_number=2
    )
    assert got.dataset == created.dataset
    assert got.created_at == created.created_at
    assert catalog.get_artifact(dataset="sales", tag="nightly").id == created.id


def test_lookups_bring_data_and_tags(catalog: Catalog) -> None:
    """Every lookup returns an artifact's data (several entries) and tags (several, sorted),
    and none mixes one artifact's children with another's; on PostgreSQL each of these
    lookups is one statement (the children come as arrays in the artifact's row)."""
    catalog.create_dataset(dataset="sales", partition_keys=["date"])
    made = [
        catalog.create_artifact(
            dataset="sales",
            # names in another order than their documents (a str, a dataframe, an int)
            data={"c": inline(i), "b": blob(f"{i:064x}"), "a": inline(f"s{i}")},
            partitions={"date": f"2026-01-{1 + i % 3:02d}"},
            tags=[f"z{i}", f"a{i}", f"m{i}"] if i % 2 else [],
        )
        for i in range(6)
    ]
    catalog.create_artifact(
        dataset="sales", data={"o": inline()}, partitions={"date": "2026-02-01"}
    )
    lookups: list[tuple[Callable[[], Any], list[Any]]] = [
        (lambda: [catalog.get_artifact(artifact_id=made[3].id)], [made[3]]),
        (
            lambda: [catalog.get_latest(dataset="sales", partitions={"date": "2026-01-02"})],
            [made[4]],
        ),
        (lambda: [catalog.get_artifact(dataset="sales", tag="m5")], [made[5]]),
        (
            lambda: [
                catalog.get_artifact(dataset="sales", partitions={"date": "2026-01-01"}, version=2)
            ],
            [made[3]],
        ),
        (
            lambda: list(
                catalog.list_artifacts(
                    dataset="sales", partitions={"date": Range(lt="2026-02-01")}, limit=4
                )
            ),
            made[:1:-1],
        ),
        (
            lambda: list(
                catalog.list_artifacts(
                    dataset="sales", partitions={"date": OneOf(["2026-01-01"])}, limit=4
                )
            ),
            [made[3], made[0]],
        ),
    ]
    sent: list[str] = []

    @event.listens_for(catalog.database.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    for lookup, expected in lookups:
        sent.clear()
        found = lookup()
        assert found == expected
        assert all(artifact.tags == tuple(sorted(artifact.tags)) for artifact in found)
        if catalog.database.dialect == "postgresql":
            assert len(sent) == 1, sent


def test_versions_count_per_partition(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales", partition_keys=["date", "region"])
    versions = []
    for day, region in [("d1", "eu"), ("d1", "eu"), ("d1", "us"), ("d2", "eu"), ("d1", "eu")]:
        a = catalog.create_artifact(
            dataset="sales", data={"o": inline()}, partitions={"date": day, "region": region}
        )
        versions.append(a.version)
    assert versions == [1, 2, 1, 1, 3]
    latest = catalog.get_latest(dataset="sales", partitions={"region": "eu", "date": "d1"})
    assert latest.version == 3
    v2 = catalog.get_artifact(dataset="sales", partitions={"date": "d1", "region": "eu"}, version=2)
    assert v2.version == 2
    with pytest.raises(NotFoundError):
        catalog.get_artifact(dataset="sales", partitions={"date": "d1", "region": "eu"}, version=9)
    with pytest.raises(NotFoundError):
        catalog.get_latest(dataset="sales", partitions={"date": "d9", "region": "eu"})


def test_unpartitioned_dataset(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="model")
    assert catalog.create_artifact(dataset="model", data={"m": inline()}).version == 1
    assert catalog.create_artifact(dataset="model", data={"m": inline()}).version == 2
    assert catalog.get_latest(dataset="model").version == 2


def test_dates_normalise_to_iso(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales", partition_keys=["date"])
    a = catalog.create_artifact(
        dataset="sales", data={"o": inline()}, partitions={"date": datetime(2026, 11, 1)}
    )
    b = catalog.create_artifact(
        dataset="sales", data={"o": inline()}, partitions={"date": "2026-11-01"}
    )
    c = catalog.create_artifact(
        dataset="sales", data={"o": inline()}, partitions={"date": date(2026, 11, 1)}
    )
    assert (a.version, b.version, c.version) == (1, 2, 3)
    assert a.partitions == {"date": "2026-11-01"}
    assert (
        catalog.get_latest(dataset="sales", partitions={"date": datetime(2026, 11, 1)}).id == c.id
    )


def test_partition_keys_must_match(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales", partition_keys=["date", "region"])
    with pytest.raises(InvalidArgumentError, match=r"\['date', 'region'\]"):
        catalog.create_artifact(dataset="sales", data={"o": inline()}, partitions={"date": "x"})
    with pytest.raises(InvalidArgumentError, match="expects partition keys"):
        catalog.create_artifact(
            dataset="sales",
            data={"o": inline()},
            partitions={"date": "x", "region": "eu", "shop": "1"},
        )
    with pytest.raises(InvalidArgumentError, match="float"):
        catalog.create_artifact(
            dataset="sales", data={"o": inline()}, partitions={"date": 1.5, "region": "eu"}
        )


def test_duplicate_artifact_id_already_exists_and_keeps_versions(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales", partition_keys=["date"])
    first = catalog.create_artifact(
        dataset="sales", data={"o": inline()}, partitions={"date": "d"}, artifact_id="fixed-id"
    )
    with pytest.raises(AlreadyExistsError, match="fixed-id"):
        catalog.create_artifact(
            dataset="sales", data={"o": inline()}, partitions={"date": "d"}, artifact_id="fixed-id"
        )
    nxt = catalog.create_artifact(dataset="sales", data={"o": inline()}, partitions={"date": "d"})
    assert (first.version, nxt.version) == (1, 2)


def test_taken_tag_rolls_back_the_whole_artifact(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales", partition_keys=["date"])
    catalog.create_artifact(
        dataset="sales", data={"o": inline()}, partitions={"date": "d"}, tags=["prod"]
    )
    with pytest.raises(AlreadyExistsError, match="move_tag"):
        catalog.create_artifact(
            dataset="sales",
            data={"o": blob("cd" * 32)},
            partitions={"date": "d"},
            tags=["prod"],
            artifact_id="rolled-back",
        )
    with pytest.raises(NotFoundError):
        catalog.get_artifact(artifact_id="rolled-back")
    nxt = catalog.create_artifact(dataset="sales", data={"o": inline()}, partitions={"date": "d"})
    assert nxt.version == 2


def test_blob_check_refuses_missing_blobs(make_catalog: Callable[..., Catalog]) -> None:
    present = {"ab" * 32}
    catalog = make_catalog(blob_exists=lambda ref: ref.hash in present)
    catalog.create_dataset(dataset="d")
    catalog.create_artifact(dataset="d", data={"x": blob("ab" * 32)})
    with pytest.raises(InvalidArgumentError, match="not in the store"):
        catalog.create_artifact(dataset="d", data={"x": blob("ef" * 32)})


def test_update_artifact(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales", partition_keys=["date"])
    a = catalog.create_artifact(
        dataset="sales",
        data={"frame": blob("ab" * 32), "n": inline(1)},
        partitions={"date": "d"},
        metadata={"a": "1"},
        tags=["t"],
    )
    updated = catalog.update_artifact(
        artifact_id=a.id, metadata={"b": "2"}, data={"n": inline(2), "extra": inline("x")}
    )
    assert updated.metadata == {"b": "2"}
    assert updated.data == {"frame": blob("ab" * 32), "n": inline(2), "extra": inline("x")}
    assert (updated.version, updated.partitions, updated.tags) == (1, {"date": "d"}, ("t",))
    assert updated.updated_at is not None
    assert a.updated_at is not None
    assert updated.updated_at >= a.updated_at
    assert catalog.get_artifact(artifact_id=a.id) == updated
    with pytest.raises(NotFoundError):
        catalog.update_artifact(artifact_id="missing", metadata={})


def test_add_tag_never_moves(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="sales")
    a = catalog.create_artifact(dataset="sales", data={"o": inline()})
    b = catalog.create_artifact(dataset="sales", data={"o": inline()})
    tag = catalog.add_tag(dataset="sales", tag="production", artifact_id=a.id)
    assert tag.artifact_id == a.id
    with pytest.raises(AlreadyExistsError, match="move_tag"):
        catalog.add_tag(dataset="sales", tag="production", artifact_id=b.id)
    with pytest.raises(AlreadyExistsError):
        catalog.add_tag(dataset="sales", tag="production", artifact_id=a.id)
    assert catalog.get_artifact(dataset="sales", tag="production").id == a.id
    catalog.move_tag(dataset="sales", tag="production", artifact_id=b.id)
    assert catalog.get_artifact(dataset="sales", tag="production").id == b.id
    catalog.move_tag(dataset="sales", tag="latest", artifact_id=a.id)
    assert [(t.name, t.artifact_id) for t in catalog.list_tags(dataset="sales")] == [
        ("latest", a.id),
        ("production", b.id),
    ]
    assert catalog.get_artifact(artifact_id=a.id).tags == ("latest",)


def test_tag_errors(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="one")
    catalog.create_dataset(dataset="two")
    a = catalog.create_artifact(dataset="one", data={"o": inline()})
    with pytest.raises(NotFoundError):
        catalog.add_tag(dataset="one", tag="t", artifact_id="missing")
    with pytest.raises(InvalidArgumentError, match="does not belong"):
        catalog.add_tag(dataset="two", tag="t", artifact_id=a.id)
    with pytest.raises(InvalidArgumentError, match="does not belong"):
        catalog.move_tag(dataset="two", tag="t", artifact_id=a.id)
    with pytest.raises(NotFoundError, match="tag 'x'"):
        catalog.get_artifact(dataset="one", tag="x")


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "a/b", "..", "a..b", "x" * 256, "tab\there", 5, None],
)
def test_bad_names_are_invalid_arguments(catalog: Catalog, bad: object) -> None:
    with pytest.raises(InvalidArgumentError):
        catalog.create_dataset(dataset=bad)  # type: ignore[arg-type]
    catalog.create_dataset(dataset="ok", partition_keys=["k"])
    if isinstance(bad, str):
        with pytest.raises(InvalidArgumentError):
            catalog.create_artifact(
                dataset="ok", data={"o": inline()}, partitions={"k": "v"}, tags=[bad]
            )
    with pytest.raises(InvalidArgumentError):
        catalog.create_dataset(dataset="other", partition_keys=[bad])  # type: ignore[list-item]


def test_wrong_types_are_invalid_arguments(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="d", partition_keys=["k"])
    with pytest.raises(InvalidArgumentError, match="must be a cargohold Literal"):
        catalog.create_artifact(dataset="d", data={"o": 3}, partitions={"k": "v"})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgumentError, match="at least one"):
        catalog.create_artifact(dataset="d", data={}, partitions={"k": "v"})
    with pytest.raises(InvalidArgumentError, match=r"metadata\['n'\] must be a str"):
        catalog.create_artifact(
            dataset="d",
            data={"o": inline()},
            partitions={"k": "v"},
            metadata={"n": 1},  # type: ignore[dict-item]
        )
    with pytest.raises(InvalidArgumentError, match="bool"):
        catalog.create_artifact(dataset="d", data={"o": inline()}, partitions={"k": True})
    with pytest.raises(InvalidArgumentError, match="partition_keys"):
        catalog.create_dataset(dataset="e", partition_keys="date")
    with pytest.raises(InvalidArgumentError, match="distinct"):
        catalog.create_dataset(dataset="e", partition_keys=["a", "a"])
    with pytest.raises(InvalidArgumentError, match="artifact_id"):
        catalog.get_artifact(artifact_id="x", tag="t")
    with pytest.raises(InvalidArgumentError, match="at most 36"):
        catalog.create_artifact(
            dataset="d", data={"o": inline()}, partitions={"k": "v"}, artifact_id="x" * 37
        )
