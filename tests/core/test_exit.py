"""Processes that use cargohold exit cleanly: 200 runs of a put/get script, none aborting.

pyarrow can abort a process at interpreter exit (``terminate called without an active
exception``, rc 134) when a native thread is still busy while the interpreter tears down; a
subprocess check anywhere (the demo, the CLI tests) would turn that into a flaky failure. The
script does what a user's first script does: put a DataFrame (Parquet and Arrow IPC), read it
back whole and by columns, record it in the SQLite catalog, then exit normally.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNS = 200
PARALLEL = 4
SCRIPT = """
import sys
import pandas as pd
from cargohold import Cargohold

root = sys.argv[1]
frame = pd.DataFrame({"a": range(50_000), "b": [f"v{i}" for i in range(50_000)], "c": 0.5})
for table_format in ("parquet", "arrow"):
    hold = Cargohold(store_url=f"file://{root}/store", catalog_url=f"sqlite:///{root}/c.db",
                     table_format=table_format)
    lit = hold.put(frame)
    assert hold.get(lit).equals(frame)
    assert list(hold.get(lit, columns=["a", "c"]).columns) == ["a", "c"]
    catalog = hold.catalog
    if table_format == "parquet":
        catalog.create_dataset(dataset="frames")
    catalog.create_artifact(dataset="frames", data={"value": lit})
print("ok")
"""


def _run(index: int, root: Path) -> tuple[int, int, str]:
    work = root / f"run{index}"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGOHOLD_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return index, done.returncode, done.stdout + done.stderr


@pytest.mark.soak
@pytest.mark.timeout(1200)  # 200 interpreters, ~2 CPU-seconds each, on two cores
def test_put_get_script_exits_cleanly_200_times(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = [pool.submit(_run, i, tmp_path) for i in range(RUNS)]
        for done, future in enumerate(as_completed(futures), start=1):
            index, code, out = future.result()
            if code != 0 or "ok" not in out:
                for other in futures:
                    other.cancel()
                aborted = code in (-6, 134) or "terminate called" in out
                pytest.fail(
                    f"run {index} ({done} of {RUNS} finished) exited {code}"
                    f"{' (an abort at exit)' if aborted else ''}:\n{out[-1500:]}"
                )


# A scan left unfinished at exit: pyarrow's threads still read through the verified files and
# hold the bytes read while they decode; before cargohold closed open scans at exit and waited for
# those threads to let go of its files, such a process hung at exit or aborted (an Arrow thread
# released a Python buffer during finalization: ``terminate called without an active
# exception``), in most runs on a loaded machine.
SCAN_RUNS = 24
SCAN_SCRIPT = """
import sys
import pandas as pd
from cargohold import ArtifactQuery, Cargohold

root = sys.argv[1]
hold = Cargohold(store_url=f"file://{root}/store", catalog_url=f"sqlite:///{root}/c.db")
hold.catalog.create_dataset(dataset="sales", partition_keys=["date"])
for day in range(1, 7):
    frame = pd.DataFrame({"a": range(60_000), "b": [f"v{i}" for i in range(60_000)]})
    hold.catalog.create_artifact(
        dataset="sales", partitions={"date": f"2026-11-0{day}"}, data={"value": hold.put(frame)}
    )
table = ArtifactQuery.scan(dataset="sales", hold=hold)
batches = iter(table)  # a peek at the first batch, the iteration left open
first = next(batches)
reader = table.to_reader()  # and a reader left half-read
reader.read_next_batch()
print("ok", first.num_rows)
"""


def _run_scan(index: int, root: Path) -> tuple[int, int, str]:
    work = root / f"scan{index}"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARGOHOLD_")}
    env["PYTHONPATH"] = str(REPO)
    try:
        done = subprocess.run(
            [sys.executable, "-c", SCAN_SCRIPT, str(work)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        return index, -1, f"hung at exit (no exit within 300 s): {exc.stdout!r}"
    return index, done.returncode, done.stdout + done.stderr


@pytest.mark.soak
@pytest.mark.timeout(1800)  # 24 interpreters, ~4 CPU-seconds each, on two cores
def test_unfinished_scan_exits_cleanly(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(lambda i: _run_scan(i, tmp_path), range(SCAN_RUNS)))
    bad = [(index, code, out) for index, code, out in results if code != 0 or "ok" not in out]
    assert not bad, "\n".join(f"run {i} exited {code}:\n{out[-800:]}" for i, code, out in bad[:3])
