"""The cache service on SQLite and PostgreSQL: get, put, delete, max age, size limit, LRU."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from cargohold.core.cache import CacheKey, CacheService, compute_key
from cargohold.core.catalog import ArtifactSource, Catalog
from cargohold.core.errors import AlreadyExistsError, CacheError, CacheFullError
from cargohold.core.hold import Cargohold
from cargohold.core.types.literals import Literal, LiteralType

from .conftest import FakeClock

SOURCE = ArtifactSource(orchestrator="airflow", job="dag", run_id="run-1", task="t")


def _key(n: int, *, version: str = "1", task: str = "tests.task") -> CacheKey:
    return compute_key(
        task=task, version=version, inputs={"n": Literal(type=LiteralType(kind="int"), value=n)}
    )


def _blob_output(hold: Cargohold, size: int, fill: bytes = b"a") -> dict[str, Literal]:
    literal = hold.put(fill * size)
    assert literal.blob is not None
    assert literal.blob.size == size
    return {"o0": literal}


def _service(hold: Cargohold, **options: object) -> CacheService:
    return CacheService(catalog=hold.catalog, **options)  # type: ignore[arg-type]


def test_miss_then_put_then_hit(hold: Cargohold) -> None:
    service = _service(hold)
    key = _key(1)
    assert service.get(key) is None
    outputs = {"o0": hold.put({"answer": 42}), "big": hold.put(b"z" * 5000)}
    stored = service.put(key, outputs, source=SOURCE)
    assert stored.size == 5000 + len(outputs["o0"].to_json())
    entry = service.get(key)
    assert entry is not None
    assert entry.outputs == outputs
    assert entry.source == SOURCE
    assert entry.artifact_id == stored.artifact_id
    assert not entry.computed
    assert hold.get(entry.outputs["o0"]) == {"answer": 42}
    assert service.get(_key(2)) is None
    assert service.get(_key(1, version="2")) is None


def test_cached_blob_is_referenced_not_copied(hold: Cargohold) -> None:
    service = _service(hold)
    outputs = _blob_output(hold, 4000)
    before = sorted(info.hash for info in hold.store.iter_blobs())
    service.put(_key(1), outputs)
    assert sorted(info.hash for info in hold.store.iter_blobs()) == before
    entry = service.get(_key(1))
    assert entry is not None
    assert entry.outputs["o0"].blob == outputs["o0"].blob


def test_put_over_an_entry_needs_overwrite(hold: Cargohold) -> None:
    service = _service(hold)
    key = _key(1)
    first = service.put(key, {"o0": hold.put(1)})
    with pytest.raises(AlreadyExistsError, match="overwrite=True"):
        service.put(key, {"o0": hold.put(2)})
    second = service.put(key, {"o0": hold.put(2)}, overwrite=True)
    assert second.artifact_id != first.artifact_id
    entry = service.get(key)
    assert entry is not None
    assert hold.get(entry.outputs["o0"]) == 2
    assert service.total_size() == second.size  # the replaced entry is gone


def test_delete_releases_the_blobs_for_gc(hold: Cargohold) -> None:
    service = _service(hold)
    outputs = _blob_output(hold, 3000)
    blob_hash = outputs["o0"].blob.hash  # type: ignore[union-attr]
    service.put(_key(1), outputs)

    def garbage() -> tuple[str, ...]:
        report = hold.catalog.collect_garbage(store=hold.store, grace=timedelta(0), dry_run=True)
        return report.blob_hashes

    assert blob_hash not in garbage()
    assert service.delete(_key(1)) is True
    assert service.get(_key(1)) is None
    assert blob_hash in garbage()
    assert service.delete(_key(1)) is False


def test_entries_are_listed_and_deleted_by_id(hold: Cargohold) -> None:
    service = _service(hold)
    first = service.put(_key(1), {"o0": hold.put("one")})
    service.put(_key(2, task="tests.other"), {"o0": hold.put("two")})
    assert {(task, a.id) for task, a in service.entries(task="tests.task")} == {
        ("tests.task", first.artifact_id)
    }
    assert len(service.entries()) == 2
    service.delete_entries(entry_ids=[first.artifact_id])
    assert service.get(_key(1)) is None
    assert service.get(_key(2, task="tests.other")) is not None
    hold.catalog.create_dataset(dataset="not_a_cache")
    plain = hold.catalog.create_artifact(dataset="not_a_cache", data={"v": hold.put(1)})
    with pytest.raises(CacheError, match="not a cache entry"):
        service.delete_entries(entry_ids=[plain.id])


def test_max_age_makes_old_entries_misses_and_replaceable(
    make_catalog: Callable[..., Catalog], hold: Cargohold, clock: FakeClock
) -> None:
    service = CacheService(catalog=make_catalog(clock=clock), max_age=timedelta(hours=1))
    key = _key(1)
    service.put(key, {"o0": hold.put("old")})
    clock.advance(minutes=59)
    assert service.get(key) is not None
    with pytest.raises(AlreadyExistsError):
        service.put(key, {"o0": hold.put("new")})
    clock.advance(minutes=2)
    assert service.get(key) is None
    service.put(key, {"o0": hold.put("new")})  # no overwrite needed: the old one expired
    entry = service.get(key)
    assert entry is not None
    assert hold.get(entry.outputs["o0"]) == "new"


def test_bad_configuration_is_refused(hold: Cargohold) -> None:
    with pytest.raises(CacheError):
        _service(hold, max_age=timedelta(0))
    with pytest.raises(CacheError):
        _service(hold, max_size_bytes=-1)
    with pytest.raises(CacheError):
        _service(hold, eviction="fifo")


def test_size_limit_raises_cache_full(hold: Cargohold) -> None:
    service = _service(hold, max_size_bytes=10_000)
    service.put(_key(1), _blob_output(hold, 6000, b"a"))
    with pytest.raises(CacheFullError, match="eviction='lru'"):
        service.put(_key(2), _blob_output(hold, 6000, b"b"))
    with pytest.raises(CacheFullError, match="whole cache limit"):
        service.put(_key(3), _blob_output(hold, 20_000, b"c"))
    assert service.get(_key(2)) is None
    assert service.total_size() == 6000
    service.put(_key(4), _blob_output(hold, 4000, b"d"))  # fits exactly
    assert service.total_size() == 10_000


def test_lru_eviction_drops_the_least_recently_used(
    make_catalog: Callable[..., Catalog], hold: Cargohold, clock: FakeClock
) -> None:
    service = CacheService(
        catalog=make_catalog(clock=clock),
        max_size_bytes=10_000,
        eviction="lru",
        touch_interval=timedelta(seconds=30),
    )
    service.put(_key(1), _blob_output(hold, 4000, b"a"))
    clock.advance(minutes=1)
    service.put(_key(2), _blob_output(hold, 4000, b"b"))
    clock.advance(minutes=1)
    assert service.get(_key(1)) is not None  # key 1 is now more recent than key 2
    clock.advance(minutes=1)
    service.put(_key(3), _blob_output(hold, 4000, b"c"))
    assert service.get(_key(2)) is None
    assert service.get(_key(1)) is not None
    assert service.get(_key(3)) is not None
    assert service.total_size() == 8000
    clock.advance(minutes=1)
    service.put(_key(4), _blob_output(hold, 9000, b"d"))  # evicts both
    assert service.get(_key(1)) is None
    assert service.get(_key(3)) is None
    assert service.total_size() == 9000


def test_hits_touch_last_used_at_most_once_per_interval(
    make_catalog: Callable[..., Catalog], hold: Cargohold, clock: FakeClock
) -> None:
    service = CacheService(catalog=make_catalog(clock=clock))
    put = service.put(_key(1), {"o0": hold.put(1)})
    clock.advance(seconds=30)
    assert service.get(_key(1)).last_used == put.last_used  # type: ignore[union-attr]
    clock.advance(seconds=31)
    service.get(_key(1))
    assert service.get(_key(1)).last_used == clock.now  # type: ignore[union-attr]


def test_get_or_compute_without_serialize(hold: Cargohold) -> None:
    service = _service(hold)
    calls: list[int] = []

    def compute() -> dict[str, Literal]:
        calls.append(1)
        return {"o0": hold.put(5)}

    first = service.get_or_compute(_key(1), compute, serialize=False)
    second = service.get_or_compute(_key(1), compute, serialize=False)
    assert first.computed
    assert not second.computed
    assert len(calls) == 1


def test_get_or_compute_serialized_in_threads(hold: Cargohold) -> None:
    import threading

    service = _service(hold)
    calls: list[int] = []
    results: list[int] = []

    def compute() -> dict[str, Literal]:
        calls.append(1)
        threading.Event().wait(0.3)
        return {"o0": hold.put(7)}

    def run() -> None:
        entry = service.get_or_compute(_key(1), compute, heartbeat_interval=0.2)
        results.append(hold.get(entry.outputs["o0"]))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [7, 7, 7, 7]
    assert len(calls) == 1


def test_failed_compute_releases_the_reservation(hold: Cargohold) -> None:
    service = _service(hold)

    def boom() -> dict[str, Literal]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        service.get_or_compute(_key(1), boom, heartbeat_interval=60)
    entry = service.get_or_compute(_key(1), lambda: {"o0": hold.put(1)}, heartbeat_interval=60)
    assert entry.computed  # not blocked for 3 minutes by the failed owner
