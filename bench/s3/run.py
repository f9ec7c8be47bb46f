"""S3 transfer benchmark: one large blob put and got by cargohold and by raw s3fs, side by side.

    .venv/bin/python bench/s3/run.py                     # 256 MiB, 3 rounds
    .venv/bin/python bench/s3/run.py --mb 64 --rounds 3  # a quicker run

moto's S3 server runs in its own process over real HTTP; every candidate is measured on two
endpoints in the same run, interleaved round by round:
  loopback   straight to moto
  proxy      through bench/support/latency_proxy.py: a 20 ms round trip (10 ms each way) and
             each connection held to ``--connection-mbps`` MiB/s each way (default 64)
The per-connection cap is the model of a real object store: S3 serves one request at tens of
MB/s, and AWS's performance guidelines ("Horizontal scaling and request parallelization") advise
one concurrent request per 85-90 MB/s of wanted throughput. 64 MiB/s (67 MB/s) sits inside that
range, on the low side; without a cap the proxy limits nothing but latency, and hiding the
single stream's round trips gains a few percent at most (``--uncapped`` adds that endpoint).

Candidates:
  s3fs single    raw s3fs, one stream: ``S3FileSystem(max_concurrency=1)``, put_file / get_file
                 (its multipart upload sends 50 MiB parts one after the other; one GET)
  cargohold      ``Store.put_file`` (hash, exists check, concurrent multipart upload) and
                 ``Store.download(expected_hash=...)`` (one stream that splits into ranged GETs
                 when it is slower than 160 MiB/s; hashed once, in order)
  s3fs x8        (``--s3fs-x8``) raw s3fs's own knobs: ``max_concurrency=8``, 16 MiB parts

moto keeps objects over 5 MB in temporary files on disk and copies the whole object for every
GET, ranged or not, one GET at a time per key; ``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE`` is set so
objects stay in memory, which takes the shared disk out of the figures (``--moto-disk`` keeps
moto's default). The server is bench/support/ranged_moto.py: moto with one change, a ranged GET
reads only its span, as real S3 serves ranges; ``--stock-moto`` runs moto unchanged, whose
serialised whole-object copies cap a split download (bench/s3/moto_get_cost.py).

Before each timed get, ``2 x --mb + 256`` MiB of free memory is written and freed
(bench/support/touch_memory.py ``back_pages``), so that the page cache of the file the get
writes lands on pages the virtual machine's host has backed: without it, a get that followed
cargohold's put met pages the guest had just handed back to the host and spent 0.8-1.0 s of
system time copying into the page cache (0.2-0.3 s once backed; s3fs's get, after its own put,
0.2-0.3 s either way). Not before a put: a put lasts seconds, long enough for the guest to hand
the freed pages back while it runs, and every put measured slower with it (cargohold's on
loopback 3.02 s against 2.35-2.70 s). ``--no-back-pages`` turns it off.

Prints per round and as medians: wall time, MB/s, the ratio to the single stream next to the
issue's target (loopback >= 1.0x, proxy >= 3x), moto's CPU seconds, and the CPU seconds of
moto + proxies + this process, whose half is a floor under wall time on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import psutil  # noqa: E402
import s3fs  # noqa: E402

from bench.support.latency_proxy import start_proxy  # noqa: E402
from bench.support.ranged_moto import SCRIPT as RANGED_MOTO  # noqa: E402
from bench.support.touch_memory import back_pages  # noqa: E402
from cargohold.core.storage.store import Store  # noqa: E402
from tests.support.services import moto_s3  # noqa: E402

MB = 1 << 20


def options(endpoint: str) -> dict[str, Any]:
    return {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        "skip_instance_cache": True,
    }


Transfer = tuple[Callable[[str], object], Callable[[object, str], None], Callable[[object], None]]


def raw_s3fs(endpoint: str, bucket: str, name: str, **knobs: Any) -> Transfer:
    chunk = knobs.pop("chunksize", None)
    fs = s3fs.S3FileSystem(**options(endpoint), **knobs)
    sizes = {"chunksize": chunk} if chunk else {}

    def put(source: str) -> object:
        path = f"{bucket}/raw/{name}"
        fs.put_file(source, path, **sizes)
        return path

    def get(handle: object, target: str) -> None:
        fs.get_file(str(handle), target, **sizes)

    return put, get, lambda handle: fs.rm_file(str(handle))


def cargohold(endpoint: str, bucket: str, concurrency: int) -> Transfer:
    store = Store(f"s3://{bucket}/cargohold", options=options(endpoint), concurrency=concurrency)

    def put(source: str) -> object:
        return store.put_file(source)

    def get(handle: object, target: str) -> None:
        info: Any = handle
        store.download(info.uri, target, expected_hash=info.hash)

    return put, get, lambda handle: store.delete_blob(handle.hash)  # type: ignore[attr-defined]


def load() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def moto_process() -> psutil.Process:
    for child in psutil.Process().children(recursive=True):
        command = " ".join(child.cmdline())
        if "moto.server" in command or RANGED_MOTO.name in command:
            return child
    raise RuntimeError("moto's server process not found")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


TARGETS = {"loopback": 1.0, "proxy": 3.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256, help="blob size in MiB")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8, help="cargohold's streams")
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    parser.add_argument("--connection-mbps", type=float, default=64.0, help="MiB/s per connection")
    parser.add_argument("--uncapped", action="store_true", help="also the proxy without a cap")
    parser.add_argument("--s3fs-x8", action="store_true", help="also raw s3fs with 8 streams")
    parser.add_argument("--moto-disk", action="store_true", help="keep moto's disk spill")
    parser.add_argument(
        "--stock-moto", action="store_true", help="moto unchanged: every GET copies the object"
    )
    parser.add_argument(
        "--no-back-pages",
        action="store_true",
        help="do not back free pages before each timed get (touch_memory.back_pages)",
    )
    args = parser.parse_args()
    if not args.moto_disk:
        os.environ["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(4 * args.mb * MB)
    work = Path(tempfile.mkdtemp(prefix="cargohold-bench-s3-"))
    source = work / "blob.bin"
    with open(source, "wb") as handle:
        for _ in range(args.mb):
            handle.write(os.urandom(MB))
    target = str(work / "back.bin")
    names = ["s3fs single", "cargohold"] + (["s3fs x8"] if args.s3fs_x8 else [])
    print(f"load before: {load()} (2 cores shared)", flush=True)
    proxies: list[subprocess.Popen[bytes]] = []
    server_script = None if args.stock_moto else RANGED_MOTO
    with moto_s3(separate_process=True, server_script=server_script) as server:
        bucket = server.create_bucket()
        watched = [moto_process(), psutil.Process()]
        try:
            endpoints = {"loopback": server.endpoint_url}
            capped, endpoints["proxy"] = start_proxy(
                server.endpoint_url, args.rtt_ms / 2, args.connection_mbps
            )
            proxies.append(capped)
            if args.uncapped:
                uncapped, endpoints["uncapped"] = start_proxy(server.endpoint_url, args.rtt_ms / 2)
                proxies.append(uncapped)
            watched += [psutil.Process(proxy.pid) for proxy in proxies]
            candidates: dict[tuple[str, str], Transfer] = {}
            for label, endpoint in endpoints.items():
                candidates[(label, "s3fs single")] = raw_s3fs(
                    endpoint, bucket, "single", max_concurrency=1
                )
                candidates[(label, "cargohold")] = cargohold(endpoint, bucket, args.concurrency)
                if args.s3fs_x8:
                    candidates[(label, "s3fs x8")] = raw_s3fs(
                        endpoint, bucket, "x8", max_concurrency=8, chunksize=16 * MB
                    )
            times: dict[tuple[str, str], dict[str, list[float]]] = {
                key: {op: [] for op in ("put", "get", "put cpu", "get cpu", "put all", "get all")}
                for key in candidates
            }
            for round_ in range(args.rounds):
                order = list(candidates.items())
                if round_ % 2:
                    order.reverse()  # interleave: no candidate always runs first
                for key, (put, get, remove) in order:
                    for op in ("put", "get"):
                        if not args.no_back_pages and op == "get":
                            back_pages(2 * args.mb + 256)
                        cpu, start = [cpu_seconds(p) for p in watched], time.perf_counter()
                        if op == "put":
                            handle = put(str(source))
                        else:
                            get(handle, target)
                        times[key][op].append(time.perf_counter() - start)
                        spent = [cpu_seconds(p) - c for p, c in zip(watched, cpu, strict=True)]
                        times[key][f"{op} cpu"].append(spent[0])
                        times[key][f"{op} all"].append(sum(spent))
                    assert os.path.getsize(target) == args.mb * MB
                    os.unlink(target)
                    remove(handle)
                    print(
                        f"  round {round_ + 1} {key[0]:>8} {key[1]:<12} "
                        f"put {times[key]['put'][-1]:6.2f} s (moto cpu "
                        f"{times[key]['put cpu'][-1]:5.2f})  get {times[key]['get'][-1]:6.2f} s "
                        f"(moto cpu {times[key]['get cpu'][-1]:5.2f})  load {load()}",
                        flush=True,
                    )
        finally:
            for proxy in proxies:
                proxy.terminate()
                proxy.wait(timeout=10)
    os.unlink(source)
    os.rmdir(work)
    print(f"load after: {load()}")
    moto_mode = "disk (moto default)" if args.moto_disk else "memory"
    moto_kind = "stock moto" if args.stock_moto else "moto serving ranges from the range"
    print(
        f"\n{args.mb} MiB blob, medians of {args.rounds} rounds, {moto_kind}, "
        f"objects in {moto_mode}; "
        f"proxy: {args.rtt_ms:g} ms RTT, {args.connection_mbps:g} MiB/s per connection; "
        f"cargohold concurrency {args.concurrency}"
    )
    print(
        f"{'endpoint':>8} {'candidate':<12} {'put s':>6} {'get s':>6} {'put MB/s':>9} "
        f"{'get MB/s':>9} {'put x':>6} {'get x':>6} {'target':>7} {'moto cpu put':>13} {'get':>5}"
    )
    paired: dict[tuple[str, str], list[float]] = {}
    for label in endpoints:
        base = times[(label, "s3fs single")]
        for name in names:
            mine = times[(label, name)]
            put_s, get_s = statistics.median(mine["put"]), statistics.median(mine["get"])
            put_x = statistics.median(base["put"]) / put_s
            get_x = statistics.median(base["get"]) / get_s
            paired[(label, name)] = [
                statistics.median(b / m for b, m in zip(base[op], mine[op], strict=True))
                for op in ("put", "get")
            ]
            goal = TARGETS.get(label) if name == "cargohold" else None
            verdict = ""
            if goal is not None:
                verdict = f">={goal:g}x " + ("met" if min(put_x, get_x) >= goal else "MISSED")
            print(
                f"{label:>8} {name:<12} {put_s:6.2f} {get_s:6.2f} {args.mb / put_s:9.1f} "
                f"{args.mb / get_s:9.1f} {put_x:6.2f} {get_x:6.2f} {verdict:>7} "
                f"{statistics.median(mine['put cpu']):13.2f} "
                f"{statistics.median(mine['get cpu']):5.2f}"
            )
    print(
        "\nThe same ratios paired by round (the median of single / candidate within each round, "
        "where both ran back to back; steadier when the machine's load drifts):"
    )
    for (label, name), (put_r, get_r) in paired.items():
        if name != "s3fs single":
            print(f"  {label:>8} {name:<12} put {put_r:5.2f}x  get {get_r:5.2f}x")
    print(
        "\nCPU seconds per transfer of moto + proxies + this process (medians), and the floor "
        "they put under wall time on this machine's 2 cores (all of them, nobody else running):"
    )
    for label in endpoints:
        base = times[(label, "s3fs single")]
        for name in names:
            mine = times[(label, name)]
            cells = []
            for op in ("put", "get"):
                spent = statistics.median(mine[f"{op} all"])
                best = statistics.median(base[op]) / (spent / 2)
                cells.append(
                    f"{op} {spent:5.2f} s (floor {spent / 2:4.2f} s, at most {best:4.1f}x)"
                )
            print(f"  {label:>8} {name:<12} " + "  ".join(cells))


if __name__ == "__main__":
    main()
