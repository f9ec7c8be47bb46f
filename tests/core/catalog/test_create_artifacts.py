"""Conformance: ``Catalog.create_artifacts``, a batch of artifacts in one transaction.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from cargohold.core.catalog import ArtifactSource, Catalog, NewArtifact
from cargohold.core.catalog import models as m
from cargohold.core.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError

from .helpers import blob, inline


def _count(catalog: Catalog, table: Any) -> int:
    return catalog.database.read(
        lambda conn: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    )


def test_batch_equals_one_by_one(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="events", partition_keys=["date"])
    source = ArtifactSource(orchestrator="dagster", job="backfill", run_id="r1", task="events")
    items = [
        NewArtifact(data={"o": inline(1)}, partitions={"date": "2026-01-01"}, source=source),
        NewArtifact(
            data={"o": blob("a" * 64), "extra": inline("x")},
            partitions={"date": "2026-01-02"},
            metadata={"rows": "10"},
            tags=("first-blob",),
        ),
        NewArtifact(data={"o": inline(3)}, partitions={"date": "2026-01-01"}),  # version 2
        NewArtifact(data={"o": inline(4)}, partitions={"date": "2026-01-03"}, source=source),
    ]
    created = catalog.create_artifacts(dataset="events", artifacts=items)
    assert [(a.partitions["date"], a.version) for a in created] == [
        ("2026-01-01", 1),
        ("2026-01-02", 1),
        ("2026-01-01", 2),
        ("2026-01-03", 1),
    ]
    for artifact in created:
        assert catalog.get_artifact(artifact_id=artifact.id) == artifact
    assert created[1].tags == ("first-blob",)
    assert created[1].metadata == {"rows": "10"}
    assert created[0].source == source
    assert catalog.get_latest(dataset="events", partitions={"date": "2026-01-01"}) == created[2]
    # the blob is referenced (gc keeps it), the versions continue after the batch
    assert _count(catalog, m.blob_refs) == 1
    after = catalog.create_artifact(
        dataset="events", data={"o": inline()}, partitions={"date": "2026-01-01"}
    )
    assert after.version == 3


def test_batch_is_all_or_nothing(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="events", partition_keys=["date"])
    taken = catalog.create_artifact(
        dataset="events", data={"o": inline()}, partitions={"date": "2026-01-01"}, tags=["gold"]
    )
    items = [
        NewArtifact(data={"o": blob("b" * 64)}, partitions={"date": "2026-01-01"}),
        NewArtifact(data={"o": inline()}, partitions={"date": "2026-01-02"}, tags=("gold",)),
    ]
    with pytest.raises(AlreadyExistsError, match="gold"):
        catalog.create_artifacts(dataset="events", artifacts=items)
    assert [a.id for a in catalog.iter_artifacts(dataset="events")] == [taken.id]
    assert _count(catalog, m.blob_refs) == 0
    nxt = catalog.create_artifacts(
        dataset="events",
        artifacts=[NewArtifact(data={"o": inline()}, partitions={"date": "2026-01-01"})],
    )
    assert nxt[0].version == 2  # the failed batch consumed no version


def test_repeated_or_existing_artifact_id_already_exists(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="events")
    same = "0b3e7f5c-0000-4000-8000-000000000001"
    twice = [NewArtifact(data={"o": inline()}, artifact_id=same)] * 2
    with pytest.raises(AlreadyExistsError, match="artifact id"):
        catalog.create_artifacts(dataset="events", artifacts=twice)
    assert list(catalog.iter_artifacts(dataset="events")) == []
    catalog.create_artifact(dataset="events", data={"o": inline()}, artifact_id=same)
    with pytest.raises(AlreadyExistsError):
        catalog.create_artifacts(dataset="events", artifacts=twice[:1])


def test_bad_input_writes_nothing(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="events", partition_keys=["date"])
    good = NewArtifact(data={"o": inline()}, partitions={"date": "2026-01-01"})
    with pytest.raises(InvalidArgumentError, match="partition keys"):
        catalog.create_artifacts(
            dataset="events", artifacts=[good, NewArtifact(data={"o": inline()})]
        )
    with pytest.raises(InvalidArgumentError, match="NewArtifact"):
        catalog.create_artifacts(dataset="events", artifacts=[good, {"data": {}}])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError):
        catalog.create_artifacts(
            dataset="events",
            artifacts=[NewArtifact(data={}, partitions={"date": "2026-01-01"})],
        )
    with pytest.raises(NotFoundError):
        catalog.create_artifacts(dataset="nope", artifacts=[good])
    assert list(catalog.iter_artifacts(dataset="events")) == []
    assert catalog.create_artifacts(dataset="events", artifacts=[]) == []


def test_batch_is_one_statement(catalog: Catalog) -> None:
    """On PostgreSQL a batch, whatever its shapes, is one statement (not one per artifact)."""
    if catalog.database.dialect != "postgresql":
        pytest.skip("the one-statement batch is PostgreSQL's")
    catalog.create_dataset(dataset="events", partition_keys=["date"])
    catalog.get_dataset(dataset="events")  # cached from here on
    sent: list[bool] = []

    @event.listens_for(catalog.database.engine, "before_cursor_execute")
    def _count_statement(*args: Any) -> None:
        sent.append(args[5])  # executemany

    items = [
        NewArtifact(
            data={"o": inline(i)} if i % 3 else {"o": blob(f"{i:064x}"), "p": inline()},
            partitions={"date": f"2026-02-{1 + i % 28:02d}"},
            metadata={"i": str(i)} if i % 5 == 0 else None,
            tags=(f"t{i}",) if i % 7 == 0 else (),
        )
        for i in range(60)
    ]
    created = catalog.create_artifacts(dataset="events", artifacts=items)
    assert len(created) == 60
    assert sent == [False]
    assert _count(catalog, m.blob_refs) == 20
    assert _count(catalog, m.artifact_metadata) == 12
    assert len(catalog.list_tags(dataset="events")) == 9
    assert sorted(a.version for a in created) == [1] * 28 + [2] * 28 + [3] * 4


AWKWARD = [
    'quote " and backslash \\ and {braces}, commas',
    "NULL",
    "",
    " spaces  around ",
    "ünïcødé ✓ 𝄞 and \u2028 line separator",
    '{"looks": ["like", "json"]}',
    "tab\tnew\nline",
]


def test_batch_keeps_awkward_strings(catalog: Catalog) -> None:
    """Every character of metadata values and data documents survives the batch (on
    PostgreSQL the rows travel as JSON): what is read back equals what was given."""
    catalog.create_dataset(dataset="events", partition_keys=["region"])
    items = [
        NewArtifact(
            data={"o": inline(text), "n": inline(i)},
            partitions={"region": f'r-{i} ✓ "q" {{x}},y'},
            metadata={"note": text, "k": "v"},
            source=ArtifactSource(orchestrator="dagster", job=text or "j", run_id="r", task="t"),
        )
        for i, text in enumerate(AWKWARD)
    ]
    created = catalog.create_artifacts(dataset="events", artifacts=items)
    for item, artifact in zip(items, created, strict=True):
        assert artifact.data == item.data
        assert artifact.metadata == item.metadata
        read = catalog.get_artifact(artifact_id=artifact.id)
        assert read == artifact
        assert read.data["o"].value == item.data["o"].value
        assert read.partitions == item.partitions
        assert read.source == item.source
    listed = catalog.list_artifacts(dataset="events", metadata={"note": AWKWARD[0]})
    assert [a.id for a in listed] == [created[0].id]
