"""Conformance: retention policies (keep_last, max_age), the XCom default, tags and pins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from cargohold.core.catalog import ArtifactSource, Catalog
from cargohold.core.catalog.retention import RetentionPolicy
from cargohold.core.errors import InvalidArgumentError

from .conftest import FakeClock
from .helpers import blob, inline

H = [f"{i:02x}" * 32 for i in range(10)]


@pytest.fixture
def timed(make_catalog: Callable[..., Catalog], clock: FakeClock) -> Catalog:
    return make_catalog(clock=clock)


def test_keep_last_per_partition_spares_tags_and_pins(timed: Catalog) -> None:
    timed.create_dataset(dataset="d", partition_keys=["day"])
    a = [
        timed.create_artifact(dataset="d", data={"x": blob(H[i])}, partitions={"day": "a"})
        for i in range(4)
    ]
    b = [
        timed.create_artifact(dataset="d", data={"x": blob(H[4 + i])}, partitions={"day": "b"})
        for i in range(2)
    ]
    timed.add_tag(dataset="d", tag="golden", artifact_id=a[0].id)
    timed.update_artifact(artifact_id=a[1].id, metadata={"cargohold.pinned": "true"})
    assert timed.get_retention(dataset="d") is None
    assert timed.apply_retention(dry_run=False).artifact_ids == ()  # no policy: all kept

    policy = timed.set_retention(dataset="d", keep_last=1)
    assert policy == RetentionPolicy(keep_last=1)
    assert timed.get_retention(dataset="d") == policy
    dry = timed.apply_retention()
    assert set(dry.artifact_ids) == {a[2].id, b[0].id}
    assert len(timed.list_artifacts(dataset="d").items) == 6  # a dry run deletes nothing

    report = timed.apply_retention(dry_run=False)
    assert set(report.artifact_ids) == {a[2].id, b[0].id}
    left = {art.id for art in timed.list_artifacts(dataset="d").items}
    assert left == {a[0].id, a[1].id, a[3].id, b[1].id}
    # the expired versions' blobs are no longer referenced: gc may take them
    from cargohold.core.catalog.blobrefs import referenced_hashes

    refs = timed.database.read(lambda conn: referenced_hashes(conn, H[:6]))
    assert refs == {H[0], H[1], H[3], H[5]}


def test_max_age_and_clearing_the_policy(timed: Catalog, clock: FakeClock) -> None:
    timed.create_dataset(dataset="d")
    old = timed.create_artifact(dataset="d", data={"x": inline()})
    clock.advance(days=10)
    new = timed.create_artifact(dataset="d", data={"x": inline()})
    timed.set_retention(dataset="d", max_age=timedelta(days=5))
    assert timed.apply_retention(dry_run=False).artifact_ids == (old.id,)
    assert [art.id for art in timed.list_artifacts(dataset="d").items] == [new.id]
    assert timed.set_retention(dataset="d") is None
    assert timed.get_retention(dataset="d") is None


def test_xcom_datasets_drop_superseded_tries_by_default(timed: Catalog) -> None:
    timed.create_dataset(dataset="dag.task.return_value")

    def push(run: str, try_number: int) -> str:
        source = ArtifactSource(
            orchestrator="airflow", job="dag", run_id=run, task="task", try_number=try_number
        )
        return timed.create_artifact(
            dataset="dag.task.return_value",
            data={"x": inline(try_number)},
            metadata={"airflow.xcom_key": "return_value"},
            source=source,
        ).id

    failed, retried, other_run = push("r1", 1), push("r1", 2), push("r2", 1)
    assert timed.apply_retention(dry_run=False).artifact_ids == (failed,)
    left = {art.id for art in timed.list_artifacts(dataset="dag.task.return_value").items}
    assert left == {retried, other_run}


def test_bad_policies_are_refused(timed: Catalog) -> None:
    timed.create_dataset(dataset="d")
    with pytest.raises(InvalidArgumentError, match="keep_last"):
        timed.set_retention(dataset="d", keep_last=0)
    with pytest.raises(InvalidArgumentError, match="max_age"):
        timed.set_retention(dataset="d", max_age=timedelta(0))
