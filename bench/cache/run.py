"""Benchmark of the cache hit path on PostgreSQL with an input that references a 1 GB blob.

Writes a 1 GB file once (streamed in 8 MB chunks, never held in memory), puts it in a local
store (``File``: streamed and hashed on the way in), and caches ``total(data) -> int`` (the sum of
the file's bytes) over it. Then, in the same run, measures medians of:

* key computation: ``key_for_call`` over the input literal, parsed from its JSON reference each
  time (as an adapter receives it), so the literal's hash memo never helps; the blob is not read;
* lookup: ``CacheService.get`` on a hit (one indexed tag lookup in the catalog);
* key + lookup together                                   (target <= 2 ms median)
* the ``@cached`` wrapper on a hit (key + lookup + loading the inline output);
* recomputing instead: streaming the 1 GB blob from the store (hash-verified) and summing it;

and prints the table with the ratio recompute / (key + lookup). The machine is shared, so only
medians and ratios of this run are meaningful.

Usage::

    .venv/bin/python bench/cache/run.py                  # 1 GB
    .venv/bin/python bench/cache/run.py --size-mb 64     # smoke run
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
from sqlalchemy import create_engine, text

from cargohold.core.cache import CacheService, cached, key_for_call
from cargohold.core.catalog import upgrade_schema
from cargohold.core.hold import Cargohold
from cargohold.core.types.files import File
from cargohold.core.types.literals import Literal

CHUNK = 8 * 1024 * 1024


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the input blob")
    parser.add_argument("--repeats", type=int, default=500, help="timed hits per measurement")
    parser.add_argument("--recomputes", type=int, default=3, help="timed recomputations")
    parser.add_argument(
        "--server",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL (without database); a bench database is created and dropped",
    )
    return parser.parse_args()


@contextmanager
def bench_database(server: str) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest catalog schema, dropped afterwards."""
    name = f"cargohold_bench_cache_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{server}/{name}"
    try:
        upgrade_schema(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write_big_file(path: Path, size: int) -> None:
    """Write ``size`` pseudo-random bytes, one 8 MB chunk at a time."""
    rng = np.random.default_rng(42)
    block = rng.integers(0, 256, CHUNK, dtype=np.uint8)
    written = 0
    with open(path, "wb") as fh:
        index = 0
        while written < size:
            block[:8] = np.frombuffer(index.to_bytes(8, "little"), dtype=np.uint8)
            part = block[: min(CHUNK, size - written)]
            fh.write(part.tobytes())
            written += len(part)
            index += 1


def total(data: File) -> int:
    """The recomputation: stream the file and sum its bytes."""
    result = 0
    with data.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            result += int(np.frombuffer(chunk, dtype=np.uint8).sum(dtype=np.uint64))
    return result


def timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    """Milliseconds of each of ``repeats`` calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def row(name: str, samples: list[float]) -> tuple[str, float, float, int]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return name, statistics.median(samples), p95, len(samples)


def main() -> None:
    args = parse()
    size = args.size_mb * 1024 * 1024
    workdir = Path(tempfile.mkdtemp(prefix="cargohold-bench-cache-"))
    try:
        with bench_database(args.server) as url:
            run(args, url, workdir, size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, url: str, workdir: Path, size: int) -> None:
    hold = Cargohold(store_url=(workdir / "store").as_uri(), catalog_url=url)
    service = CacheService(catalog=hold.catalog)
    source = workdir / "input.bin"
    start = time.perf_counter()
    write_big_file(source, size)
    wrote = time.perf_counter() - start
    start = time.perf_counter()
    literal = hold.put(File(source))
    put_seconds = time.perf_counter() - start
    os.remove(source)  # only the store's copy remains
    assert literal.blob is not None
    assert literal.blob.size == size
    document = literal.to_json()
    print(
        f"input: {size / 2**20:,.0f} MiB blob {literal.blob.hash[:16]}... "
        f"(written in {wrote:.1f} s, put in the store in {put_seconds:.1f} s, once)"
    )

    def key() -> Any:
        return key_for_call(total, {"data": Literal.from_json(document)}, version="1", hold=hold)

    def compute() -> dict[str, Literal]:
        return {"o0": hold.put(total(hold.get(Literal.from_json(document))))}

    first = service.get_or_compute(key(), compute)
    assert first.computed
    expected = hold.get(first.outputs["o0"])
    the_key = key()

    def lookup() -> None:
        assert service.get(the_key) is not None

    def key_and_lookup() -> None:
        assert service.get(key()) is not None

    wrapped = cached(version="1", hold=hold, cache=service, task="bench.total")(total)
    assert wrapped(Literal.from_json(document)) == expected  # type: ignore[arg-type]

    def decorator_hit() -> None:
        assert wrapped(Literal.from_json(document)) == expected  # type: ignore[arg-type]

    def recompute() -> None:
        assert total(hold.get(Literal.from_json(document))) == expected

    fast = {
        "key computation (from the JSON reference)": key,
        "lookup on a hit (CacheService.get)": lookup,
        "key + lookup on a hit": key_and_lookup,
        "@cached wrapper on a hit": decorator_hit,
    }
    for fn in fast.values():  # warm up
        timed(fn, 20)
    samples: dict[str, list[float]] = {name: [] for name in fast}
    for _ in range(args.repeats):  # interleaved, so load bursts hit every operation alike
        for name, fn in fast.items():
            samples[name] += timed(fn, 1)
    rows = [row(name, values) for name, values in samples.items()]
    rows.append(
        row(f"recompute: read {size / 2**20:,.0f} MiB + sum", timed(recompute, args.recomputes))
    )
    print()
    print(f"{'operation':<46} {'median ms':>10} {'p95 ms':>10} {'n':>5}")
    print("-" * 74)
    for name, median, p95, count in rows:
        print(f"{name:<46} {median:>10.3f} {p95:>10.3f} {count:>5}")
    hit = rows[2][1]
    print("-" * 74)
    verdict = "OK" if hit <= 2.0 else "MISSED"
    print(f"key + lookup median {hit:.3f} ms, target <= 2 ms: {verdict}")
    print(f"recompute / (key + lookup): {rows[4][1] / hit:,.0f}x")
    hold.catalog.close()


if __name__ == "__main__":
    main()
