"""8 processes x 40 rounds of a serialized cached function, on SQLite and PostgreSQL: no catalog
race reaches the caller, and the body runs once per input."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from pathlib import Path

from . import _workers

PROCESSES = 8
ROUNDS = 40
SPAWN = multiprocessing.get_context("spawn")


def test_eight_processes_forty_rounds_no_errors_body_once_per_input(
    catalog_url: str, store_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "calls.log"
    start, results = SPAWN.Event(), SPAWN.Queue()
    processes = [
        SPAWN.Process(
            target=_workers.call_rounds,
            args=(store_url, catalog_url, str(log), ROUNDS, start, results),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    start.set()
    outcomes = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    errors = [error for _, errs in outcomes for error in errs]
    assert errors == []
    for values, _ in outcomes:
        assert values == [x * x for x in range(ROUNDS)]
    runs = Counter(log.read_text().split())
    assert runs == Counter({f"ran-{x}": 1 for x in range(ROUNDS)})
