"""Conformance: artifact expiry, blob references and the garbage collector."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cargohold.core.catalog import OWNER_CACHE, OWNER_XCOM, Catalog
from cargohold.core.errors import InvalidArgumentError, NotFoundError
from cargohold.core.storage.store import Store

from .conftest import FakeClock
from .helpers import blob, inline, nested

H = [f"{i:02x}" * 32 for i in range(8)]


@dataclass(frozen=True)
class Info:
    hash: str
    size: int
    modified: datetime | None


class DictStore:
    """A tiny in-memory blob store with the two methods the collector uses."""

    def __init__(self) -> None:
        self.blobs: dict[str, Info] = {}

    def add(self, content_hash: str, *, size: int, modified: datetime | None) -> None:
        self.blobs[content_hash] = Info(content_hash, size, modified)

    def iter_blobs(self) -> Iterator[Info]:
        yield from list(self.blobs.values())

    def delete_blob(self, content_hash: str) -> None:
        del self.blobs[content_hash]


@pytest.fixture
def timed(make_catalog: Callable[..., Catalog], clock: FakeClock) -> Catalog:
    return make_catalog(clock=clock)


def test_expire_artifacts(timed: Catalog, clock: FakeClock) -> None:
    timed.create_dataset(dataset="d", partition_keys=["k"])
    old = timed.create_artifact(dataset="d", data={"x": blob(H[0])}, partitions={"k": "a"})
    tagged = timed.create_artifact(
        dataset="d", data={"x": inline()}, partitions={"k": "a"}, tags=["keep"]
    )
    timed.record_read(artifact_id=old.id, source=timed_source())
    clock.advance(days=10)
    fresh = timed.create_artifact(dataset="d", data={"x": inline()}, partitions={"k": "a"})

    dry = timed.expire_artifacts(dataset="d", max_age=timedelta(days=5), dry_run=True)
    assert dry.dry_run
    assert dry.artifact_ids == (old.id,)
    assert timed.get_artifact(artifact_id=old.id).id == old.id

    report = timed.expire_artifacts(dataset="d", max_age=timedelta(days=5))
    assert report.count == 1
    with pytest.raises(NotFoundError):
        timed.get_artifact(artifact_id=old.id)
    assert timed.get_artifact(artifact_id=tagged.id).tags == ("keep",)
    everything = timed.expire_artifacts(dataset="d", max_age=timedelta(days=5), keep_tagged=False)
    assert everything.artifact_ids == (tagged.id,)
    assert [a.id for a in timed.iter_artifacts(dataset="d")] == [fresh.id]
    nxt = timed.create_artifact(dataset="d", data={"x": inline()}, partitions={"k": "a"})
    assert nxt.version == 4  # versions are never reused
    with pytest.raises(InvalidArgumentError):
        timed.expire_artifacts(dataset="d", max_age=timedelta(0))


def timed_source():  # type: ignore[no-untyped-def]
    from cargohold.core.catalog import ArtifactSource

    return ArtifactSource(job="j", run_id="r")


def test_gc_keeps_referenced_and_young_blobs(timed: Catalog, clock: FakeClock) -> None:
    timed.create_dataset(dataset="d")
    a = timed.create_artifact(dataset="d", data={"x": blob(H[0]), "y": nested(H[1], H[2])})
    timed.register_blob_owner(owner_kind=OWNER_CACHE, owner_id="cache-key-1", blobs=[blob(H[3])])
    timed.register_blob_owner(
        owner_kind=OWNER_XCOM, owner_id="dag/run/t/-1/return_value", blobs=[blob(H[4]).blob]
    )  # type: ignore[list-item]
    store = DictStore()
    old = clock.now - timedelta(hours=2)
    for h in H[:6]:
        store.add(h, size=100, modified=old)
    store.add(H[6], size=7, modified=clock.now - timedelta(minutes=5))  # in-flight write
    store.add(H[7], size=9, modified=None)  # age unknown: kept

    dry = timed.collect_garbage(store=store)
    assert dry.dry_run
    assert dry.blob_hashes == (H[5],)
    assert (dry.count, dry.bytes, dry.scanned, dry.kept_young) == (1, 100, 8, 2)
    assert len(store.blobs) == 8

    report = timed.collect_garbage(store=store, dry_run=False)
    assert report.blob_hashes == (H[5],)
    assert H[5] not in store.blobs

    timed.update_artifact(artifact_id=a.id, data={"y": inline()})
    assert timed.release_blob_owner(owner_kind=OWNER_CACHE, owner_id="cache-key-1") == 1
    report = timed.collect_garbage(store=store, dry_run=False)
    assert set(report.blob_hashes) == {H[1], H[2], H[3]}
    assert report.bytes == 300

    clock.advance(days=30)
    timed.expire_artifacts(dataset="d", max_age=timedelta(days=1))
    timed.release_blob_owner(owner_kind=OWNER_XCOM, owner_id="dag/run/t/-1/return_value")
    report = timed.collect_garbage(store=store, dry_run=False, grace=timedelta(hours=1))
    assert set(report.blob_hashes) == {H[0], H[4], H[6]}
    assert set(store.blobs) == {H[7]}


def test_gc_on_a_real_store(make_catalog: Callable[..., Catalog], tmp_path: Path) -> None:
    store = Store((tmp_path / "store").as_uri())
    kept = store.put_bytes(b"kept")
    gone = store.put_bytes(b"garbage")
    catalog = make_catalog()
    catalog.create_dataset(dataset="d")
    catalog.create_artifact(dataset="d", data={"x": blob(kept.hash, uri=kept.uri, size=4)})
    assert catalog.collect_garbage(store=store, dry_run=False).count == 0  # both are young
    later = datetime.now(UTC) + timedelta(hours=2)
    catalog._clock = lambda: later  # the collector compares blob ages with the catalog clock
    report = catalog.collect_garbage(store=store, dry_run=False)
    assert report.blob_hashes == (gone.hash,)
    assert report.bytes == len(b"garbage")
    assert [b.hash for b in store.iter_blobs()] == [kept.hash]
