"""Benchmark: download through a signed link vs reading the same blob directly from the store.

Two stores, both candidates measured in the same run, interleaved, several rounds each:

* local store: ``Store.open_blob`` streamed read / ``Store.download`` to a file, against a GET of a
  signed link served by ``cargohold serve`` (a separate process, as users run it);
* S3 (moto's server in its own process): s3fs through the store, against a GET of a botocore
  presigned URL.

Reported: median seconds and MiB/s per candidate, and the ratio link / direct (throughput);
the issue's bar is ratio >= 0.8. Usage::

    .venv/bin/python bench/proxy/run.py [--size-mib 256] [--s3-size-mib 64] [--rounds 5]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from cargohold.core.hold import Cargohold  # noqa: E402
from cargohold.core.proxy import DataProxy, download  # noqa: E402
from cargohold.core.proxy.client import read_body_into, tune_connection  # noqa: E402
from tests.support.services import free_port, moto_s3  # noqa: E402

SECRET = "bench-secret"
CHUNK = 16 << 20


def read_url(url: str) -> int:
    """GET ``url`` and discard the body in 4 MiB chunks; returns bytes read."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=120)
    tune_connection(conn)
    conn.request("GET", f"{parts.path}?{parts.query}")
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"GET failed: {response.status} {response.read()[:200]!r}")
    buffer = memoryview(bytearray(CHUNK))
    length = response.getheader("Content-Length")
    expected = int(length) if length and length.isdigit() else None
    total = 0
    while count := read_body_into(response, buffer, done=total, total=expected):
        total += count
    conn.close()
    return total


def read_store(hold: Cargohold, uri: str) -> int:
    """Stream a blob from the store and discard it; returns bytes read."""
    total = 0
    with hold.store.open_blob(uri) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
    return total


def measure(
    candidates: dict[str, Callable[[], int]], *, rounds: int, size: int
) -> dict[str, float]:
    """Median seconds per candidate, rounds interleaved (A B A B ...) after one warm-up each."""
    for run in candidates.values():
        assert run() == size
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, run in candidates.items():
            start = time.perf_counter()
            assert run() == size
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def report(
    title: str, medians: dict[str, float], size: int, pairs: list[tuple[str, str]]
) -> list[dict[str, object]]:
    """Print a table and return rows for the JSON summary."""
    mib = size / (1 << 20)
    print(f"\n{title} ({mib:.0f} MiB)")
    print(f"{'candidate':<34} {'median s':>9} {'MiB/s':>9}")
    for name, seconds in medians.items():
        print(f"{name:<34} {seconds:>9.3f} {mib / seconds:>9.0f}")
    rows = []
    for link, direct in pairs:
        ratio = medians[direct] / medians[link]
        verdict = "ok" if ratio >= 0.8 else "BELOW 0.8"
        print(f"ratio {link} / {direct}: {ratio:.2f}x  ({verdict})")
        rows.append({"store": title, "link": link, "direct": direct, "ratio": round(ratio, 3)})
    return rows


SENDFILE_SERVER = """
import socket, sys
path, port = sys.argv[1], int(sys.argv[2])
server = socket.create_server(("127.0.0.1", port))
print("listening", flush=True)
while True:
    conn, _ = server.accept()
    with conn, open(path, "rb") as source:
        conn.sendfile(source)
"""


def read_raw_socket(port: int) -> int:
    """Receive a whole file over a bare loopback socket (no HTTP, no signing): the ceiling of
    any link on this machine."""
    buffer = memoryview(bytearray(CHUNK))
    total = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)  # as the link client does
        while count := sock.recv_into(buffer):
            total += count
    return total


def bench_local(size: int, rounds: int, work: Path) -> list[dict[str, object]]:
    """Local store + `cargohold serve` in its own process."""
    hold = Cargohold(
        store_url=(work / "store").as_uri(),
        catalog_url=f"sqlite:///{work / 'catalog.db'}",
        proxy_secret=SECRET,
    )
    source = work / "source.bin"
    with open(source, "wb") as out:
        for _ in range(size // CHUNK):
            out.write(os.urandom(CHUNK))
    blob = hold.store.put_file(str(source))
    source.unlink()
    port = free_port()
    env = {**os.environ, "CARGOHOLD_PROXY_SECRET": SECRET, "PYTHONPATH": str(REPO),
           "CARGOHOLD_STORE_URL": hold.store.url,
           "CARGOHOLD_CATALOG_URL": hold.settings.catalog_url}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "cargohold.cli", "serve", "--port", str(port), "--quiet"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    raw_port = free_port()
    raw_server = subprocess.Popen(
        [sys.executable, "-c", SENDFILE_SERVER, hold.store.local_path(blob.uri), str(raw_port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert raw_server.stdout is not None
        server.stdout.readline()  # the banner: listening
        raw_server.stdout.readline()
        proxy = DataProxy(hold=hold, base_url=f"http://127.0.0.1:{port}")
        link = proxy.create_download_link(uri=blob.uri, expires_in=3600).signed_url
        target = str(work / "out.bin")
        medians = measure(
            {
                "direct: store.open_blob read": lambda: read_store(hold, blob.uri),
                "link: GET signed URL read": lambda: read_url(link),
                "direct: store.download to file": lambda: _size(
                    hold.store.download(blob.uri, target)
                ),
                "link: download() to file": lambda: download(url=link, local_path=target),
                "ceiling: bare socket, no HTTP": lambda: read_raw_socket(raw_port),
            },
            rounds=rounds,
            size=size,
        )
    finally:
        server.terminate()
        raw_server.terminate()
        server.wait(timeout=10)
        raw_server.wait(timeout=10)
    return report(
        "local store + cargohold serve",
        medians,
        size,
        [("link: GET signed URL read", "direct: store.open_blob read"),
         ("link: download() to file", "direct: store.download to file"),
         ("ceiling: bare socket, no HTTP", "direct: store.open_blob read")],
    )  # fmt: skip


def bench_s3(size: int, rounds: int, work: Path) -> list[dict[str, object]]:
    """moto's S3 server in its own process; s3fs vs presigned GET."""
    with moto_s3(separate_process=True) as s3:
        bucket = s3.create_bucket()
        hold = Cargohold(
            store_url=f"s3://{bucket}/store",
            store_options=s3.options(),
            catalog_url=f"sqlite:///{work / 's3-catalog.db'}",
        )
        source = work / "s3-source.bin"
        with open(source, "wb") as out:
            for _ in range(size // CHUNK):
                out.write(os.urandom(CHUNK))
        blob = hold.store.put_file(str(source))
        source.unlink()
        link = DataProxy(hold=hold).create_download_link(uri=blob.uri).signed_url
        target = str(work / "s3-out.bin")
        medians = measure(
            {
                "direct: s3fs open_blob read": lambda: read_store(hold, blob.uri),
                "link: GET presigned URL read": lambda: read_url(link),
                "direct: s3fs store.download": lambda: _size(hold.store.download(blob.uri, target)),
                "link: download() to file": lambda: download(url=link, local_path=target),
            },
            rounds=rounds,
            size=size,
        )
    return report(
        "S3 (moto) presigned vs s3fs",
        medians,
        size,
        [("link: GET presigned URL read", "direct: s3fs open_blob read"),
         ("link: download() to file", "direct: s3fs store.download")],
    )  # fmt: skip


def _size(path: str) -> int:
    return os.path.getsize(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--s3-size-mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--json", help="also write the ratios to this file")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cargohold-bench-proxy-") as tmp:
        work = Path(tmp)
        rows += bench_local(args.size_mib << 20, args.rounds, work)
        if not args.skip_s3:
            rows += bench_s3(args.s3_size_mib << 20, args.rounds, work)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    worst = min(float(str(row["ratio"])) for row in rows)
    print(f"\nworst ratio: {worst:.2f}x (bar: 0.80x)")
    return 0 if worst >= 0.8 else 1


if __name__ == "__main__":
    sys.exit(main())
