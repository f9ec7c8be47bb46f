"""Round-trip benchmark: one pandas DataFrame through cargohold and its peers, in one process.

    .venv/bin/python bench/roundtrip.py                 # 10,000,000 rows (about 400 MB)
    .venv/bin/python bench/roundtrip.py --rows 1000000  # a quicker run

Peak memory is measured apart, in a fresh process per candidate (allocators keep their pools, so
a shared process would hide peaks): the peak RSS above the built source frame, once counting the
loaded copy as overhead and once beyond it ("transient"). Those processes run with
MIMALLOC_PURGE_DELAY=0, which keeps pyarrow's allocator from holding freed pages that RSS would
count. Every timed put runs in a fresh process and every get in another, as an
orchestrator's producer and consumer tasks do, with the allocator's defaults.

Candidates (each in its own temporary directory):
  raw pyarrow     Table.from_pandas + pq.write_table (single-threaded; zstd, dictionary columns
                  and row group size as cargohold sets them, so the file is byte for byte the
                  one cargohold writes) + pq.read_table + to_pandas
  cargohold       Cargohold.put + Cargohold.get, default configuration (table_format="auto":
                  Arrow IPC on this local store)
  cargohold parquet  the same with table_format="parquet" (row groups encoded on every core)
  dagster-fs      Dagster's FilesystemIOManager (pickle) handle_output + load_input
  airflow-objstore Airflow's XComObjectStorageBackend (common-io, threshold 0, file://)
Then a 200-byte dict put+get inline, and S3 throughput (moto's server in its own process)
against raw s3fs on the same bytes. Prints medians and ratios; machines are noisy, so each
candidate runs --repeat times and the store is emptied between runs (no dedup shortcut).
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cargohold import Cargohold
from cargohold.core.types.parquet_writer import rows_per_group
from cargohold.core.types.tables import PARQUET_COMPRESSION, _dictionary_columns
from tests.support.services import moto_s3

MB = 1 << 20


def make_frame(rows: int, strings: str = "str") -> pd.DataFrame:
    """int64, float64, int32, string and timestamp columns; ``strings`` is the string dtype
    (pandas 3's Arrow-backed ``str`` by default, or ``object`` as pandas 2 frames have)."""
    rng = np.random.default_rng(42)
    labels = rng.choice(["alpha", "beta", "gamma", "delta"], rows)
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype="int64"),
            "value": rng.random(rows),
            "count": rng.integers(0, 1000, rows, dtype="int32"),
            "label": pd.Series(labels, dtype=strings),
            "at": pd.date_range("2026-01-01", periods=rows, freq="s"),
        }
    )


class PeakMemory:
    """Samples this process's RSS in a thread; ``peak`` is the highest seen while running."""

    def __init__(self, interval: float = 0.002) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self.peak = 0
        self._running = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        self.peak = self._process.memory_info().rss
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self._interval)

    def __exit__(self, *exc: object) -> None:
        self._running = False
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


Candidate = tuple[Callable[[pd.DataFrame], Any], Callable[[Any], pd.DataFrame]]


def raw_pyarrow(workdir: Path) -> Candidate:
    path = workdir / "raw.parquet"

    def put(frame: pd.DataFrame) -> Path:
        table = pa.Table.from_pandas(frame, preserve_index=None)
        pq.write_table(
            table,
            path,
            compression=PARQUET_COMPRESSION,
            use_dictionary=_dictionary_columns(table),
            row_group_size=rows_per_group(table.schema),
        )
        return path

    def get(handle: Path) -> pd.DataFrame:
        return pq.read_table(handle).to_pandas()

    return put, get


def cargohold_default(workdir: Path) -> Candidate:
    hold = Cargohold(store_url=f"file://{workdir}/store", catalog_url=f"sqlite:///{workdir}/c.db")
    return hold.put, hold.get


def cargohold_parquet(workdir: Path) -> Candidate:
    hold = Cargohold(
        store_url=f"file://{workdir}/store",
        catalog_url=f"sqlite:///{workdir}/c.db",
        table_format="parquet",
    )
    return hold.put, hold.get


def dagster_filesystem(workdir: Path) -> Candidate:
    from dagster import AssetKey, build_input_context, build_output_context
    from dagster._core.storage.fs_io_manager import PickledObjectFilesystemIOManager

    manager = PickledObjectFilesystemIOManager(base_dir=str(workdir / "dagster"))
    key = AssetKey(["frame"])

    def put(frame: pd.DataFrame) -> Any:
        manager.handle_output(build_output_context(asset_key=key), frame)
        return key

    def get(handle: Any) -> pd.DataFrame:
        upstream = build_output_context(asset_key=handle)
        return manager.load_input(build_input_context(asset_key=handle, upstream_output=upstream))  # type: ignore[no-any-return]

    return put, get


def airflow_objectstorage(workdir: Path) -> Candidate:
    os.environ["AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH"] = f"file://{workdir}/airflow"
    os.environ["AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD"] = "0"
    from airflow.providers.common.io.xcom import backend

    for cached in (backend._get_base_path, backend._get_threshold, backend._get_compression):
        cached.cache_clear()
    xcom = backend.XComObjectStorageBackend

    def put(frame: pd.DataFrame) -> Any:
        return xcom.serialize_value(frame, key="return_value", task_id="t", dag_id="d", run_id="r")

    def get(handle: Any) -> pd.DataFrame:
        return xcom.deserialize_value(types.SimpleNamespace(value=handle))  # type: ignore[no-any-return]

    return put, get


CANDIDATES: dict[str, Callable[[Path], Candidate]] = {
    "raw pyarrow": raw_pyarrow,
    "cargohold": cargohold_default,
    "cargohold parquet": cargohold_parquet,
    "dagster-fs (pickle)": dagster_filesystem,
    "airflow-objstore": airflow_objectstorage,
}


def run_once(name: str, frame: pd.DataFrame) -> tuple[float, float, float]:
    """One put and one get: (put seconds, get seconds, CPU seconds of this process's threads
    over both). CPU time does not grow with the machine's load as wall time does: on a shared
    machine it tells the work done from the wait for a core. Memory is measured apart."""
    workdir = Path(tempfile.mkdtemp(prefix="cargohold-bench-"))
    try:
        put, get = CANDIDATES[name](workdir)
        gc.collect()
        cpu = time.process_time()
        start = time.perf_counter()
        handle = put(frame)
        put_seconds = time.perf_counter() - start
        gc.collect()
        start = time.perf_counter()
        loaded = get(handle)
        get_seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu
        assert len(loaded) == len(frame), f"{name} returned {len(loaded)} rows"
        del loaded
        return put_seconds, get_seconds, cpu_seconds
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_all(
    names: list[str], rows: int, strings: str, repeat: int, *, shared: bool = False
) -> dict[str, dict[str, float]]:
    """Each put in a fresh process and each get in another, as a producer task and a consumer
    task run; candidates round-robin ``repeat`` times; medians.

    Fresh processes also keep one candidate's allocator state (pages a previous candidate freed,
    or kept) out of the next one's time: in one shared process the same code measured up to 3x
    apart by its position in the round. ``shared`` runs every put and get in this process
    instead (the method of the issue's first table), after a warm-up of each candidate."""
    if shared:
        return _run_shared(names, make_frame(rows, strings), repeat)
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for _ in range(repeat):
        for name in names:
            workdir = Path(tempfile.mkdtemp(prefix="cargohold-bench-"))
            try:
                put_seconds, put_cpu = _child("_put_child", name, rows, strings, workdir)
                get_seconds, get_cpu = _child("_get_child", name, rows, strings, workdir)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            samples[name].append((put_seconds, get_seconds, put_cpu + get_cpu))
    return _medians(samples)


def _run_shared(names: list[str], frame: pd.DataFrame, repeat: int) -> dict[str, dict[str, float]]:
    for name in names:
        run_once(name, frame.head(10_000))
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in names}
    for _ in range(repeat):
        for name in names:
            samples[name].append(run_once(name, frame))
    return _medians(samples)


def _medians(samples: dict[str, list[tuple[float, float, float]]]) -> dict[str, dict[str, float]]:
    return {
        name: {
            "put": statistics.median(put for put, _, _ in rows_),
            "get": statistics.median(get for _, get, _ in rows_),
            "total": statistics.median(put + get for put, get, _ in rows_),
            "cpu": statistics.median(cpu for _, _, cpu in rows_),
        }
        for name, rows_ in samples.items()
    }


def _child(function: str, name: str, rows: int, strings: str, workdir: Path | None = None) -> Any:
    """Run ``function(name, rows, strings[, workdir])`` of this module in a fresh interpreter
    and return what it printed as JSON. The memory child runs with MIMALLOC_PURGE_DELAY=0
    (pyarrow's allocator returns freed pages at once, so RSS shows the true peak); the timed
    children with the allocator's defaults, as tasks run."""
    import json
    import subprocess

    arguments = f"{name!r}, {rows}, {strings!r}" + (f", {str(workdir)!r}" if workdir else "")
    code = (
        "import json, sys; sys.argv = ['x']; import bench.roundtrip as r; "
        f"print(json.dumps(r.{function}({arguments})))"
    )
    env = {k: v for k, v in os.environ.items() if k != "MIMALLOC_PURGE_DELAY"}
    if function == "_memory_child":
        env["MIMALLOC_PURGE_DELAY"] = "0"
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _put_child(name: str, rows: int, strings: str, workdir: str) -> tuple[float, float]:
    """A producer: build the frame, put it; (seconds, CPU seconds) of the put. The handle goes
    to ``workdir/handle.json`` for :func:`_get_child`."""
    import json

    frame = make_frame(rows, strings)
    run_once(name, frame.head(10_000))  # imports and first-use set-up are not the sample
    put, _ = CANDIDATES[name](Path(workdir))
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    handle = put(frame)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    Path(workdir, "handle.json").write_text(json.dumps(_handle_to_json(handle)))
    return seconds, cpu


def _get_child(name: str, rows: int, strings: str, workdir: str) -> tuple[float, float]:
    """A consumer: get what :func:`_put_child` put; (seconds, CPU seconds) of the get."""
    import json

    run_once(name, make_frame(10_000, strings))  # imports and first-use set-up
    _, get = CANDIDATES[name](Path(workdir))
    handle = _handle_from_json(json.loads(Path(workdir, "handle.json").read_text()))
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    loaded = get(handle)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert len(loaded) == rows, f"{name} returned {len(loaded)} rows"
    return seconds, cpu


def _handle_to_json(handle: Any) -> dict[str, Any]:
    from dagster import AssetKey

    from cargohold import Literal

    if isinstance(handle, Path):
        return {"path": str(handle)}
    if isinstance(handle, Literal):
        return {"literal": handle.to_json()}
    if isinstance(handle, AssetKey):
        return {"asset": list(handle.path)}
    return {"xcom": handle}


def _handle_from_json(data: dict[str, Any]) -> Any:
    from dagster import AssetKey

    from cargohold import Literal

    if "path" in data:
        return Path(data["path"])
    if "literal" in data:
        return Literal.from_json(data["literal"])
    if "asset" in data:
        return AssetKey(data["asset"])
    return data["xcom"]


def peak_memory_child(name: str, rows: int, strings: str) -> dict[str, float]:
    """Run one put+get of ``name`` in a fresh process; peak RSS above the built frame."""
    return dict(_child("_memory_child", name, rows, strings))


def _memory_child(name: str, rows: int, strings: str) -> dict[str, float]:
    frame = make_frame(rows, strings)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    workdir = Path(tempfile.mkdtemp(prefix="cargohold-mem-"))
    try:
        put, get = CANDIDATES[name](workdir)
        get(put(frame.head(1000)))  # imports and first-use set-up are not the candidate's peak
        gc.collect()
        baseline = rss()
        with PeakMemory() as put_peak:
            handle = put(frame)
        with PeakMemory() as get_peak:
            loaded = get(handle)
        holding = rss()  # the source frame and the loaded copy
        assert len(loaded) == rows
        peak = max(put_peak.peak, get_peak.peak)
        return {
            "peak_over_frame": (peak - baseline) / frame_bytes,
            "transient": (peak - max(holding, baseline)) / frame_bytes,
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def inline_dict(repeat: int = 20_000) -> float:
    with tempfile.TemporaryDirectory() as workdir:
        hold = Cargohold(store_url=f"file://{workdir}/s", catalog_url=f"sqlite:///{workdir}/c.db")
        value = {
            "run": "scheduled__2026-11-01T00:00:00+00:00",
            "rows": 1_000_000,
            "columns": ["id", "value", "count", "label", "at"],
            "ok": True,
            "ratio": 0.125,
            "owner": {"team": "data-platform", "contact": "oncall@example.com"},
        }
        import json

        assert 180 <= len(json.dumps(value)) <= 220, len(json.dumps(value))
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            hold.get(hold.put(value))
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1e6


def s3_throughput(frame: pd.DataFrame, repeat: int) -> dict[str, float]:
    import s3fs

    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame), sink, compression="zstd")
    data = sink.getvalue().to_pybytes()
    with moto_s3(separate_process=True) as server:
        bucket = server.create_bucket()
        options = server.options()
        raw = s3fs.S3FileSystem(**options)
        hold = Cargohold(
            store_url=f"s3://{bucket}/cargohold", store_options=options, catalog_url="sqlite://"
        )
        store = hold.store
        raw_times, ours_times = [], []
        raw.pipe_file(f"{bucket}/warmup", b"x")
        store.put_bytes(b"warm up")
        for i in range(repeat):
            path = f"{bucket}/raw/{i}.bin"
            start = time.perf_counter()
            raw.pipe_file(path, data)
            back = raw.cat_file(path)
            raw_times.append(time.perf_counter() - start)
            assert len(back) == len(data)
            raw.rm_file(path)
            del back

            start = time.perf_counter()
            info = store.put_bytes(data)
            back = store.read_bytes(info.uri, expected_hash=info.hash)
            ours_times.append(time.perf_counter() - start)
            assert len(back) == len(data)
            store.delete_blob(info.hash)
            del back
    size_mb = len(data) / MB
    raw_mbps = 2 * size_mb / statistics.median(raw_times)
    ours_mbps = 2 * size_mb / statistics.median(ours_times)
    return {"size_mb": size_mb, "raw": raw_mbps, "ours": ours_mbps, "ratio": ours_mbps / raw_mbps}


TARGETS = (
    # (candidate, peer, the peer's time / the candidate's at least, or None: at most)
    ("cargohold", "dagster-fs (pickle)", 1.5, None),
    ("cargohold", "airflow-objstore", 6.0, None),
    ("cargohold parquet", "raw pyarrow", None, 0.7),
    ("cargohold parquet", "dagster-fs (pickle)", 1.0, None),
    ("cargohold parquet", "airflow-objstore", 5.0, None),
)


def verdicts(
    results: dict[str, dict[str, float]], memory: dict[str, dict[str, float]]
) -> list[str]:
    """The issue's targets, each as a ratio of medians from this one run."""
    lines = []
    for ours, peer, at_least, at_most in TARGETS:
        if ours not in results or peer not in results:
            continue
        if at_most is not None:
            value = results[ours]["total"] / results[peer]["total"]
            cpu = results[ours]["cpu"] / results[peer]["cpu"]
            verdict = "met" if value <= at_most else "NOT met"
            lines.append(
                f"  {ours} / {peer} time: {value:.2f}x (target <= {at_most}: {verdict}); "
                f"CPU time {cpu:.2f}x"
            )
        else:
            assert at_least is not None
            value = results[peer]["total"] / results[ours]["total"]
            cpu = results[peer]["cpu"] / results[ours]["cpu"]
            verdict = "met" if value >= at_least else "NOT met"
            lines.append(
                f"  {peer} / {ours} time: {value:.2f}x (target >= {at_least}: {verdict}); "
                f"CPU time {cpu:.2f}x"
            )
    for name in ("cargohold", "cargohold parquet"):
        if name in memory and memory[name]["peak_over_frame"] == memory[name]["peak_over_frame"]:
            peak = memory[name]["peak_over_frame"]
            lines.append(
                f"  {name} peak memory above the source frame (put+get, fresh process, the loaded "
                f"copy counted): {peak:.2f}x the frame (target <= 1.6: "
                f"{'met' if peak <= 1.6 else 'NOT met'})"
            )
    return lines


def object_store_formats(frame: pd.DataFrame, repeat: int) -> dict[str, dict[str, float]]:
    """Cargohold put+get of ``frame`` on S3 (moto's server, own process, loopback) per table
    format, interleaved; medians. What ``table_format="auto"`` picks on object stores."""
    results: dict[str, list[tuple[float, float, int]]] = {"parquet": [], "arrow": []}
    with moto_s3(separate_process=True) as server:
        bucket = server.create_bucket()
        options = server.options()
        holds = {
            fmt: Cargohold(
                store_url=f"s3://{bucket}/{fmt}",
                store_options=options,
                catalog_url="sqlite://",
                table_format=fmt,
            )
            for fmt in results
        }
        for hold in holds.values():
            hold.get(hold.put(frame.head(1000)))
        for _ in range(repeat):
            for fmt, hold in holds.items():
                gc.collect()
                start = time.perf_counter()
                literal = hold.put(frame)
                put_seconds = time.perf_counter() - start
                start = time.perf_counter()
                loaded = hold.get(literal)
                get_seconds = time.perf_counter() - start
                assert len(loaded) == len(frame)
                assert literal.blob is not None
                del loaded
                results[fmt].append((put_seconds, get_seconds, literal.blob.size))
                hold.store.delete_blob(literal.blob.hash)
    return {
        fmt: {
            "put": statistics.median(p for p, _, _ in rows),
            "get": statistics.median(g for _, g, _ in rows),
            "total": statistics.median(p + g for p, g, _ in rows),
            "mb": rows[0][2] / MB,
        }
        for fmt, rows in results.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--s3-repeat", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--strings", choices=["str", "object"], default="str")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument(
        "--shared-process",
        action="store_true",
        help="time every put and get in this one process (default: each in a fresh process)",
    )
    parser.add_argument(
        "--memory-of", nargs="*", default=None, help="candidates to measure peak memory of (all)"
    )
    args = parser.parse_args()

    frame = make_frame(args.rows, args.strings)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    print(
        f"frame: {args.rows:,} rows, {frame_bytes / MB:,.0f} MB in memory, strings as "
        f"{args.strings}; median of {args.repeat} runs each, round-robin, each put and each get "
        f"{'in this one process' if args.shared_process else 'in a fresh process'}\n"
    )
    print(f"load average (1, 5, 15 min) at the start: {os.getloadavg()}\n")
    results = run_all(args.only, args.rows, args.strings, args.repeat, shared=args.shared_process)
    measured = args.only if args.memory_of is None else args.memory_of
    unmeasured = {"peak_over_frame": float("nan"), "transient": float("nan")}
    memory = {
        name: peak_memory_child(name, args.rows, args.strings) if name in measured else unmeasured
        for name in args.only
    }
    ours = results.get("cargohold")
    header = (
        f"{'candidate':<24}{'put s':>8}{'get s':>8}{'total s':>9}{'cpu s':>8}{'vs cargohold':>14}"
        f"{'peak mem/frame':>16}{'transient/frame':>17}"
    )
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        ratio = row["total"] / ours["total"] if ours else float("nan")
        print(
            f"{name:<24}{row['put']:>8.2f}{row['get']:>8.2f}{row['total']:>9.2f}{row['cpu']:>8.2f}"
            f"{ratio:>13.2f}x{memory[name]['peak_over_frame']:>16.2f}"
            f"{memory[name]['transient']:>17.2f}"
        )
    print()
    for line in verdicts(results, memory):
        print(line)
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}")

    micro = inline_dict()
    print(
        f"\n200-byte dict put+get inline: median {micro:.1f} us (target <= 50: "
        f"{'met' if micro <= 50 else 'NOT met'})"
    )

    if args.skip_s3:
        return
    formats = object_store_formats(frame, args.s3_repeat)
    print("\ncargohold on S3 (moto server, loopback) by table format, put+get medians:")
    for fmt, row in formats.items():
        print(
            f"  {fmt:<8} put {row['put']:6.2f} s  get {row['get']:6.2f} s  "
            f"total {row['total']:6.2f} s  {row['mb']:7.1f} MB stored"
        )
    s3 = s3_throughput(frame, args.s3_repeat)
    print(f"\nS3 (moto server, separate process), {s3['size_mb']:.0f} MB Parquet bytes, put+get:")
    print(f"  raw s3fs   {s3['raw']:8.1f} MB/s")
    print(
        f"  cargohold  {s3['ours']:8.1f} MB/s   ratio {s3['ratio']:.2f} "
        f"(target >= 0.9: {'met' if s3['ratio'] >= 0.9 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
