"""What one GET costs moto, the S3 server of the tests and benchmarks: 1-byte ranged GETs of a
1 MiB and a 256 MiB object, one at a time and 8 at once.

    .venv/bin/python bench/s3/moto_get_cost.py

moto reads the whole object for every GET, ranged or not (``FakeKey.value`` under the key's
lock), so a GET of a 256 MiB object costs it about 0.14 s whatever the range, and 8 at once are
served one after the other (about 1.1 s). A download split into N ranged GETs therefore waits
about (N - 1) x 0.14 s for the last stream's first byte: the ceiling bench/s3/run.py meets
through its capped proxy, which real S3 (requests served in parallel) does not have. The same
GETs are then timed on bench/support/ranged_moto.py (moto serving a range from the range alone),
the server bench/s3/run.py uses by default.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ["MOTO_S3_DEFAULT_KEY_BUFFER_SIZE"] = str(1 << 30)  # objects in memory, as run.py

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from bench.support.ranged_moto import SCRIPT as RANGED_MOTO  # noqa: E402
from tests.support.services import moto_s3  # noqa: E402

SERVERS = {"stock moto": None, "ranged moto": RANGED_MOTO}


def main() -> None:
    for label, script in SERVERS.items():
        print(label, flush=True)
        measure(script)
    print("load:", " ".join(Path("/proc/loadavg").read_text().split()[:3]))


def measure(server_script: Path | None) -> None:
    with moto_s3(separate_process=True, server_script=server_script) as server:
        bucket = server.create_bucket()
        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
            config=Config(max_pool_connections=16, connect_timeout=10, read_timeout=60),
        )
        sizes = {"1 MiB": 1 << 20, "256 MiB": 256 << 20}
        for name, size in sizes.items():
            client.put_object(Bucket=bucket, Key=name, Body=os.urandom(size))

        def one(key: str) -> None:
            client.get_object(Bucket=bucket, Key=key, Range="bytes=0-0")["Body"].read()

        for name in sizes:
            alone = []
            for _ in range(5):
                start = time.perf_counter()
                one(name)
                alone.append(time.perf_counter() - start)
            together = []
            with ThreadPoolExecutor(8) as pool:
                for _ in range(3):
                    start = time.perf_counter()
                    list(pool.map(one, [name] * 8))
                    together.append(time.perf_counter() - start)
            print(
                f"{name:>8} object: a 1-byte ranged GET {statistics.median(alone) * 1000:5.0f} ms;"
                f" 8 at once {statistics.median(together) * 1000:5.0f} ms",
                flush=True,
            )


if __name__ == "__main__":
    main()
