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
