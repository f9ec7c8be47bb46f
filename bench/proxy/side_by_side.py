"""Benchmark: the local signed GET of the Starlette data routes against the previous stdlib
server (``http.server`` + ``sendfile``), side by side in one process, interleaved rounds.

The previous server's source is taken from git (``git show <ref>:cargohold/core/proxy/server.py``,
default ``main``) into a temporary file and imported from there; it is never part of the
package. Both serve the same page-cached file from the same local store; each round GETs it once
from each (in alternating order) with the same client as bench/proxy/run.py. Reported: median
MiB/s of each and the ratio new / old (the issue's bar: >= 0.8). Usage::

    .venv/bin/python bench/proxy/side_by_side.py [--size-mib 128] [--rounds 21] [--ref main]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from cargohold.core.hold import Cargohold  # noqa: E402
from cargohold.web import WebServer  # noqa: E402

SECRET = "bench-secret"


def _run_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location("proxy_bench", REPO / "bench/proxy/run.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("bench/proxy/run.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def old_server_module(ref: str, work: Path) -> ModuleType:
    """The previous ``cargohold/core/proxy/server.py`` at ``ref``, imported from a temp file."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{ref}:cargohold/core/proxy/server.py"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    path = work / "old_proxy_server.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_proxy_server", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--ref", default="main", help="git ref holding the previous server")
    args = parser.parse_args()
    read_url = _run_py().read_url
    print(f"load average: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="cargohold-bench-side-") as tmp:
        work = Path(tmp)
        old = old_server_module(args.ref, work)
        hold = Cargohold(
            store_url=(work / "store").as_uri(),
            catalog_url=f"sqlite:///{work}/catalog.db",
            proxy_secret=SECRET,
        )
        source = work / "blob.bin"
        with source.open("wb") as out:
            for _ in range(args.size_mib):
                out.write(os.urandom(1 << 20))
        blob = hold.store.put_file(str(source))
        size = args.size_mib << 20
        with old.ProxyServer(hold=hold, secret=SECRET) as before, WebServer(hold=hold) as after:
            links = {
                "old http.server + sendfile": before.proxy.create_download_link(uri=blob.uri),
                "new Starlette /v1/data": after.proxy.create_download_link(uri=blob.uri),
            }
            times: dict[str, list[float]] = {name: [] for name in links}
            for name, link in links.items():  # warm the page cache and both servers
                if read_url(link.signed_url) != size:
                    raise RuntimeError(f"{name}: short read")
            for round_ in range(args.rounds):
                order = list(links) if round_ % 2 == 0 else list(reversed(links))
                for name in order:
                    start = time.perf_counter()
                    got = read_url(links[name].signed_url)
                    times[name].append(time.perf_counter() - start)
                    if got != size:
                        raise RuntimeError(f"{name}: read {got} of {size} bytes")
        hold.catalog.close()
    mib = size / (1 << 20)
    speed = {name: mib / statistics.median(samples) for name, samples in times.items()}
    old_name, new_name = list(links)
    for name, samples in times.items():
        print(
            f"{name:<30} median {statistics.median(samples) * 1000:7.1f} ms "
            f"{speed[name]:7.0f} MiB/s  ({args.rounds} rounds of {args.size_mib} MiB)"
        )
    per_round = [o / n for o, n in zip(times[old_name], times[new_name], strict=True)]
    print(
        f"new / old throughput: {speed[new_name] / speed[old_name]:.2f}x of medians, "
        f"{statistics.median(per_round):.2f}x median of per-round ratios; bar 0.8x"
    )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
