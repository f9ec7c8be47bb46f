"""Touch every free page of this machine's memory once, then give it back.

On a virtual machine (this one is a Firecracker guest with virtio-balloon) a free page may be
handed back to the host, and is backed again only on its next first touch: measured here,
filling 430 MB of such pages ran at 400-550 MB/s, the same 430 MB touched again at 9-16 GB/s.
Whichever benchmark candidate receives such pages pays up to a second per 430 MB that a bare-
metal machine never pays, and ratios drift by 2x from run to run. Run this just before a
benchmark (the effect wears off within minutes: a second pass right after the first ran at
2.7 GB/s, one six minutes later at 0.5 GB/s again):

    .venv/bin/python bench/support/touch_memory.py            # all free memory but 1 GiB

It only touches free pages (MemFree), so the page cache (e.g. a seeded catalog database) stays.

:func:`back_pages` does the same for a few hundred MiB, for a benchmark to call just before a
short timed step: the kernel hands out the pages freed last first, so the step's next
allocations (its buffers, the page cache of a file it writes) land on pages the host has just
backed. The guest hands freed pages back to the host soon after they are freed (free page
reporting), so a step that follows a long one otherwise meets unbacked pages, and which
candidate meets them depends on what ran before it, not on the candidate. A step that lasts
seconds gains nothing: the pages freed here are handed back while it runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

CHUNK = 256 << 20


def free_bytes() -> int:
    """MemFree from /proc/meminfo, in bytes."""
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemFree:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemFree in /proc/meminfo")


def back_pages(mib: int) -> None:
    """Write ``mib`` MiB of fresh memory, all of it held at once, then free it (see the
    module's docstring)."""
    chunk = np.empty(mib << 20, dtype=np.uint8)
    chunk.fill(1)
    del chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-free-mib", type=int, default=1024, help="left untouched")
    args = parser.parse_args()
    wanted = max(0, free_bytes() - (args.keep_free_mib << 20))
    started = time.perf_counter()
    chunks = []
    for _ in range(wanted // CHUNK):
        chunk = np.empty(CHUNK, dtype=np.uint8)
        chunk.fill(1)  # every page written, so the host backs it
        chunks.append(chunk)
    seconds = time.perf_counter() - started
    touched = len(chunks) * CHUNK
    del chunks
    rate = touched / max(seconds, 1e-9) / 1e6
    print(f"touched {touched >> 20:,} MiB in {seconds:.1f} s ({rate:,.0f} MB/s)")


if __name__ == "__main__":
    main()
