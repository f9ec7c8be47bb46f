"""Benchmark: what lineage emission costs the caller.

1. Caller-thread cost per event: ``emitter.start(...)`` (build the event, queue it) with the
   standard HTTP transport pointed at an accepting receiver, at a refused port, and at a server
   that accepts but never answers. Target: median <= 1 ms.
2. A run of 100 short tasks (about 2 ms of Python work + 3 ms of waiting each, START and COMPLETE
   with one output dataset per task), with lineage off, then configured through OPENLINEAGE_URL
   towards an accepting receiver, a refused port and a hung server. Target: <= 1.05x of "off".

Run: ``.venv/bin/python bench/lineage/run.py`` (about 30 s). Each scenario is repeated and the
median reported; the final close (bounded exit flush) is reported separately, outside the run.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cargohold.core.context import RunContext
from cargohold.core.lineage import LineageEmitter
from cargohold.core.lineage.testing import BlackHoleServer, LineageReceiver, refused_url
from cargohold.core.types.literals import BlobRef, Literal, LiteralType

TASKS = 100
REPEATS = 5
EVENTS = 2000

BLOB = BlobRef(
    uri="s3://lake/cas/ab/ab12",
    size=2048,
    hash="ab12" * 16,
    format="parquet",
    python_type="pandas.DataFrame",
    rows=10,
    schema=(("order_id", "int64"), ("amount", "double")),
)
FRAME = Literal(type=LiteralType("dataframe", "pandas.DataFrame"), blob=BLOB)


@contextmanager
def lineage_target(kind: str) -> Iterator[None]:
    """Point OPENLINEAGE_URL at a receiver of the given kind (or unset it for ``off``)."""
    os.environ.pop("OPENLINEAGE_URL", None)
    if kind == "off":
        yield
    elif kind == "accepting":
        with LineageReceiver(validate=False) as server:
            os.environ["OPENLINEAGE_URL"] = server.url
            yield
    elif kind == "refused":
        os.environ["OPENLINEAGE_URL"] = refused_url()
        yield
    elif kind == "hung":
        with BlackHoleServer() as hole:
            os.environ["OPENLINEAGE_URL"] = hole.url
            yield
    else:
        raise ValueError(kind)
    os.environ.pop("OPENLINEAGE_URL", None)
    for key in [k for k in os.environ if k.startswith("OPENLINEAGE__")]:
        del os.environ[key]


def work() -> None:
    """A short task: ~2 ms of pure-Python work, then ~3 ms waiting (I/O)."""
    deadline = time.perf_counter() + 0.002
    total = 0
    while time.perf_counter() < deadline:
        total += sum(range(200))
    time.sleep(0.003)


def run_tasks(emitter: LineageEmitter) -> float:
    """Run TASKS tasks, each tracked by the emitter; return the wall time."""
    run_id = str(uuid.uuid4())
    began = time.perf_counter()
    for index in range(TASKS):
        ctx = RunContext(
            orchestrator="dagster", namespace="bench", job="job", run_id=run_id, task=f"t{index}"
        )
        with emitter.track(ctx) as run:
            work()
            run.add_output(FRAME, dataset_name=f"t{index}")
    return time.perf_counter() - began


def per_event_cost(emitter: LineageEmitter) -> float:
    """Median caller-thread time of one emitter.start(...) call, in ms."""
    identity = emitter.identity(RunContext(job="job", task="t", run_id=str(uuid.uuid4())))
    output = [emitter.dataset(FRAME, dataset_name="sales")]
    samples = []
    for _ in range(EVENTS):
        began = time.perf_counter_ns()
        emitter.start(run=identity, outputs=output)
        samples.append(time.perf_counter_ns() - began)
        time.sleep(0.0001)
    return statistics.median(samples) / 1e6


def measure(kind: str, body: Callable[[LineageEmitter], float]) -> tuple[float, float, str]:
    """Median of REPEATS runs of ``body`` with a fresh emitter; also the close time and stats."""
    results, closes, stats = [], [], ""
    for _ in range(REPEATS):
        with lineage_target(kind):
            emitter = LineageEmitter.from_env(queue_size=10_000, flush_timeout=0.5)
            results.append(body(emitter))
            began = time.perf_counter()
            final = emitter.close()
            closes.append(time.perf_counter() - began)
            stats = f"sent={final.sent} failed={final.failed} dropped={final.dropped}"
    return statistics.median(results), statistics.median(closes), stats


def main() -> int:
    rows: list[tuple[str, str, str, str, str]] = []
    ok = True
    for kind in ("accepting", "refused", "hung"):
        cost, _, stats = measure(kind, per_event_cost)
        ok &= cost <= 1.0
        rows.append((f"per event, receiver {kind}", f"{cost:.3f} ms", "<= 1 ms", "", stats))
    base, _, _ = measure("off", run_tasks)
    rows.append((f"{TASKS} tasks, lineage off", f"{base * 1000:.1f} ms", "", "1.000x", ""))
    for kind in ("accepting", "refused", "hung"):
        took, close, stats = measure(kind, run_tasks)
        ratio = took / base
        if kind != "accepting":
            ok &= ratio <= 1.05
        rows.append(
            (
                f"{TASKS} tasks, receiver {kind}",
                f"{took * 1000:.1f} ms",
                "<= 1.05x" if kind != "accepting" else "",
                f"{ratio:.3f}x",
                f"{stats}; close {close * 1000:.0f} ms",
            )
        )
    header = ("scenario", "median", "target", "ratio vs off", "emitter stats (last repeat)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
