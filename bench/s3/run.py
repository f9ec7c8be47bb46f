"""S3 transfer benchmark: one large blob put and got by cargohold and by raw s3fs, side by side.

    .venv/bin/python bench/s3/run.py                     # 256 MB, 5 rounds
    .venv/bin/python bench/s3/run.py --mb 64 --rounds 3  # a quicker run

moto's S3 server runs in its own process over real HTTP; each endpoint is measured twice over:
  loopback   straight to moto
  proxy      through bench/support/latency_proxy.py adding a 20 ms round trip (10 ms each way),
             as a real object store answers
  capped     with ``--connection-mbps N``: the same proxy, each connection also held to N MiB/s
             (real S3 serves one connection at tens of MB/s: what parallel parts work around)
Candidates, interleaved in every round (the machine is shared and noisy; medians are reported):
  s3fs single    raw s3fs, one stream: ``S3FileSystem(max_concurrency=1)``, put_file / get_file
                 (its multipart upload sends 50 MiB parts one after the other)
  s3fs x8        raw s3fs's own knobs: ``max_concurrency=8``, 16 MiB parts and blocks
  cargohold      ``Store.put_file`` (hash, lease-free exists check, concurrent multipart upload)
                 and ``Store.download(expected_hash=...)`` (concurrent ranged GETs, hashed in order)

moto keeps objects over 5 MB in temporary files on disk and copies a whole object for every
ranged GET; ``--moto-memory`` (the default) sets ``MOTO_S3_DEFAULT_KEY_BUFFER_SIZE`` so objects
stay in memory, which takes the shared disk out of the figures (``--moto-disk`` keeps moto's
default). The same server serves every candidate either way.

Prints per round and as medians: wall time, MB/s, the ratio to the single stream, moto's CPU
seconds and the CPU seconds of moto + proxies + this process (steadier than wall time on a busy
machine), and the most that hiding every round trip of the single stream could gain.
"""

from __future__ import annotations

import argparse
import os
import socket
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

from cargohold.core.storage.store import Store  # noqa: E402
from tests.support.services import free_port, moto_s3  # noqa: E402

MB = 1 << 20


def start_proxy(
    target: str, one_way_ms: float, connection_mbps: float = 0.0
) -> tuple[subprocess.Popen[bytes], str]:
    """bench/support/latency_proxy.py in front of ``target``; returns the process and its URL."""
    port = free_port()
    proxy = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "bench" / "support" / "latency_proxy.py"),
            "--listen",
            str(port),
            "--target",
            target.split("://", 1)[1],
            "--delay-ms",
            str(one_way_ms),
            "--connection-mbps",
            str(connection_mbps),
        ],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proxy, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proxy.terminate()
    raise RuntimeError("the latency proxy did not start")


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


def cargohold(endpoint: str, bucket: str) -> Transfer:
    store = Store(f"s3://{bucket}/cargohold", options=options(endpoint))

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
        if "moto.server" in " ".join(child.cmdline()):
            return child
    raise RuntimeError("moto's server process not found")


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def all_cpu(processes: list[psutil.Process]) -> list[float]:
    """CPU seconds so far of moto, the proxy and this process (threads included)."""
    return [cpu_seconds(process) for process in processes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256, help="blob size in MiB")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rtt-ms", type=float, default=20.0)
    parser.add_argument("--moto-disk", action="store_true", help="keep moto's disk spill")
    parser.add_argument(
        "--connection-mbps",
        type=float,
        default=0.0,
        help="also measure through the proxy with each connection capped to this rate (MiB/s)",
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
    print(f"load before: {load()} (2 cores shared)")
    with moto_s3(separate_process=True) as server:
        bucket = server.create_bucket()
        moto = moto_process()
        proxy, proxied = start_proxy(server.endpoint_url, args.rtt_ms / 2)
        watched = [moto, psutil.Process(proxy.pid), psutil.Process()]
        try:
            endpoints = {"loopback": server.endpoint_url, f"{args.rtt_ms:g} ms RTT": proxied}
            if args.connection_mbps:
                capped, capped_url = start_proxy(
                    server.endpoint_url, args.rtt_ms / 2, args.connection_mbps
                )
                watched.append(psutil.Process(capped.pid))
                endpoints[f"{args.connection_mbps:g} MB/s/conn"] = capped_url
            candidates: dict[tuple[str, str], Transfer] = {}
            for label, endpoint in endpoints.items():
                candidates[(label, "s3fs single")] = raw_s3fs(
                    endpoint, bucket, "single", max_concurrency=1
                )
                candidates[(label, "s3fs x8")] = raw_s3fs(
                    endpoint,
                    bucket,
                    "x8",
                    max_concurrency=8,
                    chunksize=16 * MB,
                    default_block_size=16 * MB,
                )
                candidates[(label, "cargohold")] = cargohold(endpoint, bucket)
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
                        cpu, start = all_cpu(watched), time.perf_counter()
                        if op == "put":
                            handle = put(str(source))
                        else:
                            get(handle, target)
                        times[key][op].append(time.perf_counter() - start)
                        spent = [b - a for a, b in zip(cpu, all_cpu(watched), strict=True)]
                        times[key][f"{op} cpu"].append(spent[0])
                        times[key][f"{op} all"].append(sum(spent))
                    assert os.path.getsize(target) == args.mb * MB
                    os.unlink(target)
                    remove(handle)
                    print(
                        f"  round {round_ + 1} {key[0]:>10} {key[1]:<12} "
                        f"put {times[key]['put'][-1]:6.2f} s (cpu moto "
                        f"{times[key]['put cpu'][-1]:5.2f} all {times[key]['put all'][-1]:5.2f})"
                        f"  get {times[key]['get'][-1]:6.2f} s (cpu moto "
                        f"{times[key]['get cpu'][-1]:5.2f} all {times[key]['get all'][-1]:5.2f})",
                        flush=True,
                    )
        finally:
            for process in (proxy, capped) if args.connection_mbps else (proxy,):
                process.terminate()
                process.wait(timeout=10)
    os.unlink(source)
    os.rmdir(work)
    print(f"load after: {load()}")
    moto_mode = "disk (moto default)" if args.moto_disk else "memory"
    print(f"\n{args.mb} MiB blob, medians of {args.rounds} rounds, moto objects in {moto_mode}:")
    print(
        f"{'endpoint':>12} {'candidate':<12} {'put MB/s':>9} {'get MB/s':>9} {'put x':>6} "
        f"{'get x':>6} {'moto cpu s put':>15} {'get':>5}"
    )
    for label in endpoints:
        base = times[(label, "s3fs single")]
        for name in ("s3fs single", "s3fs x8", "cargohold"):
            mine = times[(label, name)]
            put_s, get_s = statistics.median(mine["put"]), statistics.median(mine["get"])
            put_x = statistics.median(base["put"]) / put_s
            get_x = statistics.median(base["get"]) / get_s
            print(
                f"{label:>12} {name:<12} {args.mb / put_s:9.1f} {args.mb / get_s:9.1f} "
                f"{put_x:6.2f} {get_x:6.2f} {statistics.median(mine['put cpu']):15.2f} "
                f"{statistics.median(mine['get cpu']):5.2f}"
            )
    print(
        "\nCPU seconds per transfer (moto + proxy + this process; less noisy than wall time on a "
        "shared machine):"
    )
    for label in endpoints:
        cells = []
        for name in ("s3fs single", "s3fs x8", "cargohold"):
            mine = times[(label, name)]
            put_cpu = statistics.median(mine["put all"])
            get_cpu = statistics.median(mine["get all"])
            cells.append(f"{name} put {put_cpu:.2f} get {get_cpu:.2f}")
        print(f"  {label:>10}: " + "; ".join(cells))
    rtt = args.rtt_ms / 1000
    single_requests = {"put": 2 + -(-args.mb // 50), "get": 1}  # s3fs: 50 MiB parts, one GET
    print(
        "\nceiling from latency: the proxy adds one round trip per request and does not limit a "
        "connection's bandwidth, so hiding every round trip of the single stream gains at most:"
    )
    base = times[(f"{args.rtt_ms:g} ms RTT", "s3fs single")]
    for op, count in single_requests.items():
        wall = statistics.median(base[op])
        print(
            f"  {op}: {wall:.2f} s / ({wall:.2f} s - {count} x {rtt:g} s) = "
            f"{wall / (wall - count * rtt):.3f}x"
        )


if __name__ == "__main__":
    main()
