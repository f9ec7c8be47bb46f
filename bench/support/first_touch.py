"""First-touch cost of fresh memory: transparent huge pages against ordinary pages.

    .venv/bin/python bench/support/first_touch.py            # 400 MiB, 3 rounds

Each sample runs in a fresh process: it maps ``--mib`` MiB of anonymous memory, advises the
kernel to back it with huge pages (``MADV_HUGEPAGE``) or not (``MADV_NOHUGEPAGE``), and times
writing one byte per 4 KiB page, then the same pages a second time. On bare metal huge pages
fault faster; on a Firecracker guest that hands free memory back to its host (this project's
machines) the first touch of a huge page measured 350-440 MB/s against 2.0-2.6 GB/s for ordinary
pages, which is why cargohold's table reads allocate from pyarrow's jemalloc pool (ordinary
pages) rather than its default mimalloc pool (huge pages): see
``cargohold/core/types/arrow_pool.py``. Each sample waits ``--pause`` seconds first, so that
the memory the last one freed has gone back to the host (with no pause a huge-page sample right
after another ran at 2.7-7.3 GB/s: the host still backed those pages). Measured 2026-12-03,
400 MiB, 10 s pause, 3 rounds: huge pages 414-485 MB/s, ordinary pages 1.5-2.0 GB/s (3.8x).
Prints each sample and the medians.
"""

from __future__ import annotations

import argparse
import json
import mmap
import statistics
import subprocess
import sys
import time

PAGE = 4096


def touch(mib: int, huge: bool) -> tuple[float, float]:
    """(first, second) touch rates in MB/s of ``mib`` MiB mapped fresh in this process."""
    size = mib << 20
    memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    memory.madvise(mmap.MADV_HUGEPAGE if huge else mmap.MADV_NOHUGEPAGE)
    view = memoryview(memory)
    rates = []
    for _ in range(2):
        start = time.perf_counter()
        for offset in range(0, size, PAGE):
            view[offset] = 1
        rates.append(size / (time.perf_counter() - start) / 1e6)
    view.release()
    memory.close()
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pause", type=float, default=10.0, help="seconds before each sample (see above)"
    )
    parser.add_argument("--child", choices=["huge", "ordinary"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(touch(args.mib, args.child == "huge")))
        return
    samples: dict[str, list[tuple[float, float]]] = {"huge": [], "ordinary": []}
    for round_ in range(args.rounds):
        for kind in samples if round_ % 2 == 0 else reversed(list(samples)):
            time.sleep(args.pause)
            out = subprocess.run(
                [sys.executable, __file__, "--mib", str(args.mib), "--child", kind],
                capture_output=True,
                text=True,
                check=True,
            )
            first, second = json.loads(out.stdout)
            samples[kind].append((first, second))
            print(
                f"  round {round_ + 1} {kind:>8} pages: first touch {first:7,.0f} MB/s, "
                f"second {second:7,.0f} MB/s",
                flush=True,
            )
    print(f"\n{args.mib} MiB, fresh process per sample, medians of {args.rounds}:")
    for kind, rows in samples.items():
        first = statistics.median(row[0] for row in rows)
        second = statistics.median(row[1] for row in rows)
        print(f"  {kind:>8} pages: first touch {first:7,.0f} MB/s, second {second:7,.0f} MB/s")
    huge = statistics.median(row[0] for row in samples["huge"])
    ordinary = statistics.median(row[0] for row in samples["ordinary"])
    print(f"  ordinary / huge first-touch rate: {ordinary / huge:.2f}x")


if __name__ == "__main__":
    main()
