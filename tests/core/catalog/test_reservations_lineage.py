"""Conformance: reservations and lineage (reads recorded in the catalog)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from cargohold.core.catalog import ArtifactSource, Catalog
from cargohold.core.context import RunContext
from cargohold.core.errors import InvalidArgumentError, NotFoundError, ReservationConflictError

from .conftest import FakeClock
from .helpers import inline


@pytest.fixture
def timed(make_catalog: Callable[..., Catalog], clock: FakeClock) -> Catalog:
    catalog = make_catalog(clock=clock)
    catalog.create_dataset(dataset="cache")
    return catalog


def test_acquire_extend_conflict_takeover_release(timed: Catalog, clock: FakeClock) -> None:
    r = timed.get_or_extend_reservation(
        dataset="cache", tag_name="key", owner_id="a", heartbeat_interval=timedelta(seconds=10)
    )
    assert r.owner_id == "a"
    assert r.expires_at == clock.now + timedelta(seconds=30)
    clock.advance(seconds=20)
    extended = timed.get_or_extend_reservation(
        dataset="cache", tag_name="key", owner_id="a", heartbeat_interval=10
    )
    assert extended.expires_at == clock.now + timedelta(seconds=30)
    clock.advance(seconds=29)
    with pytest.raises(ReservationConflictError, match="held by 'a' until") as info:
        timed.get_or_extend_reservation(
            dataset="cache", tag_name="key", owner_id="b", heartbeat_interval=10
        )
    assert extended.expires_at.isoformat() in str(info.value)
    clock.advance(seconds=2)
    taken = timed.get_or_extend_reservation(
        dataset="cache", tag_name="key", owner_id="b", heartbeat_interval=5
    )
    assert taken.owner_id == "b"
    assert timed.get_reservation(dataset="cache", tag_name="key").owner_id == "b"
    with pytest.raises(NotFoundError):
        timed.release_reservation(dataset="cache", tag_name="key", owner_id="a")
    timed.release_reservation(dataset="cache", tag_name="key", owner_id="b")
    with pytest.raises(NotFoundError):
        timed.release_reservation(dataset="cache", tag_name="key", owner_id="b")
    with pytest.raises(NotFoundError):
        timed.get_reservation(dataset="cache", tag_name="key")
    again = timed.get_or_extend_reservation(
        dataset="cache", tag_name="key", owner_id="a", heartbeat_interval=1
    )
    assert again.owner_id == "a"


def test_reservations_are_per_tag_and_multiplier_is_configurable(
    make_catalog: Callable[..., Catalog], clock: FakeClock
) -> None:
    catalog = make_catalog(clock=clock, grace_multiplier=2)
    catalog.create_dataset(dataset="cache")
    a = catalog.get_or_extend_reservation(
        dataset="cache", tag_name="k1", owner_id="a", heartbeat_interval=10
    )
    b = catalog.get_or_extend_reservation(
        dataset="cache", tag_name="k2", owner_id="b", heartbeat_interval=10
    )
    assert a.expires_at == b.expires_at == clock.now + timedelta(seconds=20)


def test_reservation_bad_input(timed: Catalog) -> None:
    for heartbeat in (0, -1, "1s", True):
        with pytest.raises(InvalidArgumentError, match="heartbeat"):
            timed.get_or_extend_reservation(
                dataset="cache",
                tag_name="k",
                owner_id="a",
                heartbeat_interval=heartbeat,  # type: ignore[arg-type]
            )
    with pytest.raises(InvalidArgumentError):
        timed.get_or_extend_reservation(
            dataset="cache", tag_name="k", owner_id="", heartbeat_interval=1
        )
    with pytest.raises(NotFoundError):
        timed.get_or_extend_reservation(
            dataset="nope", tag_name="k", owner_id="a", heartbeat_interval=1
        )


def test_lineage_through_runs(catalog: Catalog) -> None:
    catalog.create_dataset(dataset="raw")
    catalog.create_dataset(dataset="clean")
    catalog.create_dataset(dataset="report")
    raw = catalog.create_artifact(
        dataset="raw", data={"x": inline()}, source=ArtifactSource(job="ingest", run_id="r1")
    )
    clean_run = RunContext(job="etl", run_id="r2", task="clean")
    catalog.record_read(artifact_id=raw.id, source=clean_run)
    clean = catalog.create_artifact(dataset="clean", data={"x": inline()}, source=clean_run)
    report_run = ArtifactSource(job="etl", run_id="r3", task="report")
    catalog.record_read(artifact_id=clean.id, source=report_run)
    catalog.record_read(artifact_id=raw.id, source=report_run)
    report = catalog.create_artifact(dataset="report", data={"x": inline()}, source=report_run)

    assert [a.id for a in catalog.upstream(artifact_id=clean.id)] == [raw.id]
    assert {a.id for a in catalog.upstream(artifact_id=report.id)} == {raw.id, clean.id}
    assert catalog.upstream(artifact_id=raw.id) == []
    assert {a.id for a in catalog.downstream(artifact_id=raw.id)} == {clean.id, report.id}
    assert [a.id for a in catalog.downstream(artifact_id=clean.id)] == [report.id]
    assert {a.id for a in catalog.run_inputs(job="etl", run_id="r3")} == {raw.id, clean.id}
    assert [a.id for a in catalog.run_outputs(job="etl", run_id="r2")] == [clean.id]
    assert catalog.run_outputs(job="other", run_id="r2") == []
    reads = catalog.reads_of(artifact_id=raw.id)
    assert [(r.source.run_id, r.source.task) for r in reads] == [("r2", "clean"), ("r3", "report")]
    with pytest.raises(NotFoundError):
        catalog.record_read(artifact_id="missing", source=report_run)
    with pytest.raises(NotFoundError):
        catalog.upstream(artifact_id="missing")
    with pytest.raises(NotFoundError):
        catalog.downstream(artifact_id="missing")


def test_lineage_keeps_the_tasks_of_one_run_apart(catalog: Catalog) -> None:
    """In one DAG run, ``report`` writes X and ``publish`` reads X and writes Y: X is upstream
    of Y only, never of itself, and Y is not upstream of anything ``report`` wrote."""
    catalog.create_dataset(dataset="xcom_report")
    catalog.create_dataset(dataset="published")
    report = RunContext(orchestrator="airflow", job="daily", run_id="manual_1", task="report")
    publish = RunContext(orchestrator="airflow", job="daily", run_id="manual_1", task="publish")
    x = catalog.create_artifact(dataset="xcom_report", data={"value": inline()}, source=report)
    catalog.record_read(artifact_id=x.id, source=publish)
    y = catalog.create_artifact(dataset="published", data={"value": inline()}, source=publish)

    assert catalog.upstream(artifact_id=x.id) == []
    assert [a.id for a in catalog.upstream(artifact_id=y.id)] == [x.id]
    assert [a.id for a in catalog.downstream(artifact_id=x.id)] == [y.id]
    assert catalog.downstream(artifact_id=y.id) == []
