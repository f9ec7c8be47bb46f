"""Serialized execution across processes (spawned), on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

from cargohold.core.hold import Cargohold

from . import _workers

PROCESSES = 8
SPAWN = multiprocessing.get_context("spawn")


def _lines(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_eight_processes_run_the_body_once(
    hold: Cargohold, catalog_url: str, store_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "calls.log"
    start, results = SPAWN.Event(), SPAWN.Queue()
    processes = [
        SPAWN.Process(
            target=_workers.call_square,
            args=(store_url, catalog_url, str(log), 1.0, 0.5, start, results),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    start.set()
    outcomes = [results.get(timeout=90) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert [value for _, value in outcomes] == [49] * PROCESSES
    assert _lines(log).count("start") == 1
    assert _lines(log).count("done") == 1


def test_killed_owner_is_taken_over_after_expiry(
    hold: Cargohold, catalog_url: str, store_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "calls.log"
    heartbeat = 0.5  # the reservation expires 1.5 s after the last heartbeat
    results = SPAWN.Queue()
    owner = SPAWN.Process(
        target=_workers.call_square,
        args=(store_url, catalog_url, str(log), 120.0, heartbeat, None, results),
    )
    owner.start()
    deadline = time.monotonic() + 60
    while "start" not in _lines(log):
        assert time.monotonic() < deadline, "the first process never started computing"
        time.sleep(0.05)
    waiter = SPAWN.Process(
        target=_workers.call_square,
        args=(store_url, catalog_url, str(log), 0.0, heartbeat, None, results),
    )
    waiter.start()
    time.sleep(1.0)  # the waiter is blocked by the live owner's heartbeats
    assert results.empty()
    assert owner.pid is not None
    os.kill(owner.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    pid, value = results.get(timeout=60)
    waited = time.monotonic() - killed_at
    waiter.join(30)
    owner.join(10)
    assert owner.exitcode == -signal.SIGKILL
    assert (pid, value) == (waiter.pid, 49)
    assert _lines(log).count("start") == 2
    assert _lines(log).count("done") == 1
    assert waited < 20
