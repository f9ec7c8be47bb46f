"""Airflow XCom benchmark on a real deployment: cargohold's backend against common-io's
``XComObjectStorageBackend``, task durations from the REST API, interleaved in one run.

Each candidate gets its own deployment (api-server, scheduler, dag-processor; LocalExecutor; a
PostgreSQL metadata database named ``deploybench_*``), all started side by side from
``tests/support/airflow_deploy.py``, since the XCom backend is a deployment-wide setting:

- ``cargohold``: ``CargoholdXComBackend`` with its defaults, a ``file://`` store, the catalog on
  PostgreSQL (``--cargohold-formats default,arrow`` adds one deployment per
  ``CARGOHOLD_TABLE_FORMAT``);
- ``common-io``: ``XComObjectStorageBackend``, threshold 0 (every value to the store), a
  ``file://`` path; it JSON-encodes a DataFrame through Airflow's serde (Parquet with snappy,
  hex-encoded into the JSON document).

The DAG (``dag_deploy_frame.py``) has a producer returning a frame (int64, float64, int64, str,
timestamp) and a consumer reading it. Every repeat triggers, on each deployment in turn (the
order alternating), a run with ``--rows`` rows and a 1-row run (the fixed cost of a task), one run
at a time on the machine. A task's duration is ``end_date - start_date`` of its task instance
(``/api/v2/dags/{dag}/dagRuns/{run}/taskInstances``); "moving the frame" is the median of
producer + consumer over the big runs minus the same over the 1-row runs.

The backends are thin subclasses (``timed_xcom.py``) that time each serialize/deserialize call,
and the tasks time their own code, so the table also splits the moved time into building the
frame (the producer's code, which the 1-row baseline does not cancel), the backend's serialize
(producer) and deserialize (consumer), and the rest.

    PYTHONPATH=$PWD .venv/bin/python bench/airflow/run_deployment.py [--repeat 5] \\
        [--rows 10000000] [--cargohold-formats default] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.airflow_deploy import AirflowDeployment, airflow_deployment  # noqa: E402
from tests.support.deploy import log_tail  # noqa: E402
from tests.support.services import postgres_database, require_postgres  # noqa: E402

DAG_ID = "bench_deploy_frame"
DAG_FILE = HERE / "dag_deploy_frame.py"
TIMED_CARGOHOLD = "bench.airflow.timed_xcom.TimedCargohold"
TIMED_COMMON_IO = "bench.airflow.timed_xcom.TimedObjectStorage"
PEER = "common-io"
RUN_TIMEOUT = 1800.0
DROP_TIMEOUT = 120.0


@dataclass
class Sample:
    """One DAG run: its task durations and the timings its processes recorded."""

    rows: int
    durations: dict[str, float]  # task id -> end_date - start_date
    timings: dict[str, dict[str, float]]  # task id -> kind -> seconds (summed)


@dataclass
class Candidate:
    name: str
    env: dict[str, str]
    deployment: AirflowDeployment | None = None
    profile_out: Path | None = None
    samples: list[Sample] = field(default_factory=list)


def _seconds(ti: dict[str, Any]) -> float:
    start = datetime.fromisoformat(ti["start_date"])
    end = datetime.fromisoformat(ti["end_date"])
    return (end - start).total_seconds()


def _candidates(root: Path, formats: list[str], catalog_urls: list[str]) -> list[Candidate]:
    found = []
    for fmt, catalog_url in zip(formats, catalog_urls, strict=True):
        name = "cargohold" if fmt == "default" else f"cargohold-{fmt}"
        env = {
            "AIRFLOW__CORE__XCOM_BACKEND": TIMED_CARGOHOLD,
            "CARGOHOLD_STORE_URL": (root / name / "store").as_uri(),
            "CARGOHOLD_CATALOG_URL": catalog_url,
            "CARGOHOLD_HOME": str(root / name / "cargohold-home"),
        }
        if fmt != "default":
            env["CARGOHOLD_TABLE_FORMAT"] = fmt
        found.append(Candidate(name, env))
    found.append(
        Candidate(
            PEER,
            {
                "AIRFLOW__CORE__XCOM_BACKEND": TIMED_COMMON_IO,
                "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH": (root / PEER / "xcom").as_uri(),
                "AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD": "0",
            },
        )
    )
    for candidate in found:
        (root / candidate.name).mkdir(parents=True, exist_ok=True)
        timings = root / candidate.name / "timings.jsonl"
        candidate.env.update(
            BENCH_TIMINGS_FILE=str(timings),
            AIRFLOW__OPENLINEAGE__DISABLED="true",
            # bytecode cached as a deployment caches it (a shell with PYTHONDONTWRITEBYTECODE
            # would make every task process compile psycopg, Airflow, ... again), kept out of
            # the shared venv
            PYTHONDONTWRITEBYTECODE="",
            PYTHONPYCACHEPREFIX=str(root / "pycache"),
        )
    return found


def _timings(path: Path, dag_run: str) -> tuple[dict[str, dict[str, float]], dict[int, str]]:
    """The timing lines of one run's tasks, summed per task and kind (lines without a task
    belong to their pid's task), and the task id of each of the run's pids."""
    if not path.exists():
        return {}, {}
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    task_of_pid = {
        line["pid"]: line["task"] for line in lines if line["task"] and dag_run in line["task"]
    }
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        task = line["task"] or task_of_pid.get(line["pid"])
        if task and task.startswith(dag_run + "/"):
            out[task.rsplit("/", 1)[1]][line["kind"]] += float(line["seconds"])
    pids = {pid: task.rsplit("/", 1)[1] for pid, task in task_of_pid.items()}
    return {task: dict(kinds) for task, kinds in out.items()}, pids


def _keep_profiles(candidate: Candidate, pids: dict[int, str], rows: int, seed: int) -> None:
    """Move the run's cProfile dumps to ``--profile`` as ``<candidate>-<rows>-<seed>-<task>-
    <kind>-<n>.prof``."""
    source = candidate.env.get("BENCH_PROFILE_DIR")
    if not source or candidate.profile_out is None:
        return
    for dump in Path(source).glob("*.prof"):
        pid, rest = dump.name.split("-", 1)
        if int(pid) in pids:
            name = f"{candidate.name}-{rows}-{seed}-{pids[int(pid)]}-{rest}"
            shutil.move(str(dump), candidate.profile_out / name)


def _one_run(candidate: Candidate, rows: int, seed: int) -> Sample:
    assert candidate.deployment is not None
    dep = candidate.deployment
    run_id = dep.rest.trigger(DAG_ID, conf={"rows": rows, "seed": seed})
    try:
        dep.succeed(DAG_ID, run_id, timeout=RUN_TIMEOUT)
    except AssertionError as exc:
        logs = sorted(
            (dep.home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}").glob("**/*.log")
        )
        tails = "\n".join(f"--- {log} ---\n{log_tail(log, 3000)}" for log in logs)
        raise AssertionError(f"{candidate.name}: {exc}\n{tails}") from None
    tis = dep.rest.task_instances(DAG_ID, run_id)
    durations = {ti["task_id"]: _seconds(ti) for ti in tis}
    timings, pids = _timings(Path(candidate.env["BENCH_TIMINGS_FILE"]), f"{DAG_ID}/{run_id}")
    _keep_profiles(candidate, pids, rows, seed)
    return Sample(rows, durations, timings)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _summary(candidate: Candidate, rows: int) -> dict[str, float]:
    big = [s for s in candidate.samples if s.rows == rows]
    small = [s for s in candidate.samples if s.rows == 1]

    def total(s: Sample) -> float:
        return s.durations["produce"] + s.durations["consume"]

    def part(samples: list[Sample], task: str, kind: str) -> float:
        return _median([s.timings.get(task, {}).get(kind, 0.0) for s in samples])

    out = {
        "produce_big": _median([s.durations["produce"] for s in big]),
        "consume_big": _median([s.durations["consume"] for s in big]),
        "produce_1row": _median([s.durations["produce"] for s in small]),
        "consume_1row": _median([s.durations["consume"] for s in small]),
        "total_big": _median([total(s) for s in big]),
        "total_1row": _median([total(s) for s in small]),
    }
    out["moved"] = out["total_big"] - out["total_1row"]
    for task, kind in (
        ("produce", "build"),
        ("produce", "serialize"),
        ("consume", "deserialize"),
        ("consume", "check"),
    ):
        out[f"{kind}_big"] = part(big, task, kind)
        out[f"{kind}_1row"] = part(small, task, kind)
    out["moved_without_build"] = out["moved"] - (out["build_big"] - out["build_1row"])
    return out


def _table(candidates: list[Candidate], rows: int) -> str:
    sums = {c.name: _summary(c, rows) for c in candidates}
    peer = sums[PEER]
    lines = [
        f"| {rows:,}-row frame, real deployment (medians, s) | "
        + " | ".join(c.name for c in candidates)
        + " |",
        "| --- |" + " --- |" * len(candidates),
    ]

    def row(label: str, key: str) -> None:
        lines.append(
            f"| {label} | " + " | ".join(f"{sums[c.name][key]:.2f}" for c in candidates) + " |"
        )

    row("producer task (big)", "produce_big")
    row("consumer task (big)", "consume_big")
    row("producer task (1 row)", "produce_1row")
    row("consumer task (1 row)", "consume_1row")
    row("producer + consumer (big)", "total_big")
    row("producer + consumer (1 row)", "total_1row")
    row("**moving the frame** (big minus 1 row)", "moved")
    row("  of which: building the frame (task code)", "build_big")
    row("  of which: backend serialize (producer)", "serialize_big")
    row("  of which: backend deserialize (consumer)", "deserialize_big")
    row("  of which: the consumer's check (task code)", "check_big")
    row("moving the frame, building excluded", "moved_without_build")
    for key, label in (("moved", "moving the frame"), ("moved_without_build", "building excluded")):
        lines.append(
            f"| {PEER} / candidate, {label} | "
            + " | ".join(f"{peer[key] / sums[c.name][key]:.2f}x" for c in candidates)
            + " |"
        )
    return "\n".join(lines)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--cargohold-formats",
        default="default",
        help="CARGOHOLD_TABLE_FORMAT values, comma-separated, a deployment each ('default': unset)",
    )
    parser.add_argument("--json", type=Path, help="write every sample here")
    parser.add_argument(
        "--profile",
        type=Path,
        help="profile every XCom serialize/deserialize (cProfile) and keep the dumps here",
    )
    args = parser.parse_args()
    formats = [f.strip() for f in args.cargohold_formats.split(",") if f.strip()]
    require_postgres()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # run every finally: stop the deployments
    loads = [f"start: {_load()}"]
    started = time.monotonic()
    # the databases outlive the deployments (the inner stack stops every process first); the
    # results are printed before any database is dropped
    root = Path(tempfile.mkdtemp(prefix="bench-airflow-deploy-"))
    try:
        _bench(root, args, formats, loads, started)
    except BaseException:
        print(f"failed: the deployments' logs are kept in {root}", file=sys.stderr)
        raise
    shutil.rmtree(root, ignore_errors=True)
    return 0


def _bench(
    root: Path, args: argparse.Namespace, formats: list[str], loads: list[str], started: float
) -> None:
    """Start the deployments, measure, print the table (and write the JSON)."""
    with ExitStack() as databases:
        dags = root / "dags"
        dags.mkdir()
        shutil.copy(DAG_FILE, dags / DAG_FILE.name)

        def database() -> str:
            return databases.enter_context(
                postgres_database(prefix="deploybench_", drop_timeout=DROP_TIMEOUT)
            )

        candidates = _candidates(root, formats, [database() for _ in formats])
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for candidate in candidates:
                candidate.profile_out = args.profile
                candidate.env["BENCH_PROFILE_DIR"] = str(root / candidate.name / "profiles")
                (root / candidate.name / "profiles").mkdir()
        metadata_urls = [database() for _ in candidates]
        with ExitStack() as deployments:
            for candidate, metadata_url in zip(candidates, metadata_urls, strict=True):
                candidate.deployment = deployments.enter_context(
                    airflow_deployment(
                        root / candidate.name / "deployment",
                        metadata_url=metadata_url,
                        dags_folder=dags,
                        extra_env=candidate.env,
                        triggerer=False,
                    )
                )
                candidate.deployment.rest.wait_for_dags([DAG_ID], timeout=300)
                print(f"[{time.monotonic() - started:.0f}s] {candidate.name} up", flush=True)
            _measure(candidates, rows=args.rows, repeat=args.repeat, started=started)
        loads.append(f"end: {_load()}")
        print(_table(candidates, args.rows))
        print("load average (1, 5, 15 min): " + "; ".join(loads), flush=True)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "rows": args.rows,
                        "repeat": args.repeat,
                        "load": loads,
                        "samples": {c.name: [s.__dict__ for s in c.samples] for c in candidates},
                        "summary": {c.name: _summary(c, args.rows) for c in candidates},
                    },
                    indent=2,
                )
            )


def _measure(candidates: list[Candidate], *, rows: int, repeat: int, started: float) -> None:
    """A warm-up run on each deployment, then ``repeat`` rounds of a big and a 1-row run on
    each, one run at a time, the order of deployments and of sizes alternating."""
    for candidate in candidates:  # first imports, first connections
        _one_run(candidate, 1, 0)
    seed = 1
    for i in range(repeat):
        order = candidates if i % 2 == 0 else candidates[::-1]
        for size in (rows, 1) if i % 2 == 0 else (1, rows):
            for candidate in order:
                sample = _one_run(candidate, size, seed)
                seed += 1
                candidate.samples.append(sample)
                print(
                    f"[{time.monotonic() - started:.0f}s] repeat {i + 1} {candidate.name} "
                    f"rows={size:,}: {json.dumps(sample.durations)} "
                    f"{json.dumps(sample.timings)} load {_load()}",
                    flush=True,
                )


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
