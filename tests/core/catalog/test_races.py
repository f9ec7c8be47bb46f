"""Cross-process races (spawned processes) on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime

import pytest

from cargohold.core.catalog import Catalog
from cargohold.core.errors import ReservationConflictError

from . import _workers

PROCESSES = 8
SPAWN = multiprocessing.get_context("spawn")


def _join(processes: list[SPAWN.Process]) -> None:  # type: ignore[name-defined]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0, f"worker exited with {process.exitcode}"


def test_concurrent_creates_get_versions_without_gaps(catalog: Catalog, catalog_url: str) -> None:
    catalog.create_dataset(dataset="race", partition_keys=["date"])
    per_process = 6
    start, results = SPAWN.Event(), SPAWN.Queue()
    processes = [
        SPAWN.Process(target=_workers.create_many, args=(catalog_url, per_process, start, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    start.set()
    versions = [v for _ in processes for v in results.get(timeout=90)]
    _join(processes)
    total = PROCESSES * per_process
    assert sorted(versions) == list(range(1, total + 1))
    assert catalog.get_latest(dataset="race", partitions={"date": "2026-11-01"}).version == total
    listed = [a.version for a in catalog.iter_artifacts(dataset="race", sort_by="version")]
    assert listed == list(range(total, 0, -1))


def test_exactly_one_process_gets_the_reservation(catalog: Catalog, catalog_url: str) -> None:
    catalog.create_dataset(dataset="race")
    start, results = SPAWN.Event(), SPAWN.Queue()
    processes = [
        SPAWN.Process(
            target=_workers.reserve_once, args=(catalog_url, f"owner-{i}", start, results)
        )
        for i in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    start.set()
    outcomes = dict(results.get(timeout=90) for _ in processes)
    _join(processes)
    winners = [owner for owner, won in outcomes.items() if won]
    assert len(outcomes) == PROCESSES
    assert len(winners) == 1
    assert catalog.get_reservation(dataset="race", tag_name="key").owner_id == winners[0]


def test_holder_that_stops_heartbeating_loses_the_reservation(
    catalog: Catalog, catalog_url: str
) -> None:
    catalog.create_dataset(dataset="race")
    heartbeat, beats = 0.3, 4  # expiry = 3 x 0.3 s after each beat
    results = SPAWN.Queue()
    holder = SPAWN.Process(
        target=_workers.hold_then_stop, args=(catalog_url, "holder", heartbeat, beats, results)
    )
    holder.start()
    assert results.get(timeout=60) == "beat"
    conflicts = 0
    while True:  # while the holder heartbeats, nobody else gets in
        try:
            message = results.get_nowait()
        except Exception:
            message = None
        if message == "stopped":
            break
        with pytest.raises(ReservationConflictError, match="holder"):
            catalog.get_or_extend_reservation(
                dataset="race", tag_name="key", owner_id="waiter", heartbeat_interval=heartbeat
            )
        conflicts += 1
        time.sleep(0.1)
    holder.join(30)
    assert conflicts >= 3
    last = catalog.get_reservation(dataset="race", tag_name="key")
    assert last.owner_id == "holder"
    while datetime.now(UTC) < last.expires_at:  # not before it expires...
        try:
            catalog.get_or_extend_reservation(
                dataset="race", tag_name="key", owner_id="waiter", heartbeat_interval=heartbeat
            )
        except ReservationConflictError:
            time.sleep(0.05)
            continue
        pytest.fail("took over an unexpired reservation")
    taken = catalog.get_or_extend_reservation(  # ...and right after it
        dataset="race", tag_name="key", owner_id="waiter", heartbeat_interval=heartbeat
    )
    assert taken.owner_id == "waiter"
