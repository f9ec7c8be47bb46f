"""Airflow XCom benchmark: cargohold's backend against Airflow's, in one run, interleaved.

1. ``bench_big_frame``: a 10,000,000-row DataFrame passed between two tasks, with
   ``CargoholdXComBackend`` (file:// store, SQLite catalog) and with common-io's
   ``XComObjectStorageBackend`` (threshold 0, file://). Target: ours >= 3x faster end to end.
2. ``bench_small_xcoms``: 200 small XComs, ours against Airflow's default backend (BaseXCom).
   Target: ours <= 1.2x.

Each run is ``dag.test()`` in a fresh subprocess with a fresh AIRFLOW_HOME (a copy of a database
migrated once); the time is the ``dag.test()`` call (what the DAG run takes), the median of
``--repeat`` runs, with the backends alternating so a busy machine slows both alike. The same DAG
with a 1-row frame gives the fixed cost of a ``dag.test()`` run, which bounds any end-to-end
ratio; the table also shows the time spent moving the frame (total minus that fixed cost).

    .venv/bin/python bench/airflow/run.py [--repeat 3] [--rows 10000000]

``run_deployment.py`` measures the same hand-off on a real deployment (scheduler +
LocalExecutor), from the task durations Airflow's REST API reports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RUNNER = REPO / "tests" / "airflow_provider" / "_dag_runner.py"
OURS = "cargohold.airflow_provider.xcom.CargoholdXComBackend"
COMMON_IO = "airflow.providers.common.io.xcom.backend.XComObjectStorageBackend"
DEFAULT = "airflow.sdk.bases.xcom.BaseXCom"
_DROP = ("CARGOHOLD_", "OPENLINEAGE", "AIRFLOW__", "AIRFLOW_HOME")


def _env(home: Path, backend: str, rows: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__XCOM_BACKEND=backend,
        AIRFLOW__OPENLINEAGE__DISABLED="true",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        BENCH_ROWS=str(rows),
        PYTHONPATH=str(REPO),
    )
    if backend == OURS:
        env.update(
            CARGOHOLD_STORE_URL=(home / "store").as_uri(),
            CARGOHOLD_CATALOG_URL=f"sqlite:///{home / 'catalog.db'}",
            CARGOHOLD_HOME=str(home / "cargohold"),
        )
    if backend == COMMON_IO:
        env.update(
            AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_PATH=(home / "xcom").as_uri(),
            AIRFLOW__COMMON_IO__XCOM_OBJECTSTORAGE_THRESHOLD="0",
        )
    return env


def _template(root: Path) -> Path:
    home = root / "template"
    home.mkdir()
    env = _env(home, DEFAULT, 0)
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    return home / "airflow.db"


def _run(root: Path, template: Path, dag_file: Path, dag_id: str, backend: str, rows: int) -> float:
    home = Path(tempfile.mkdtemp(dir=root))
    (home / "dags").mkdir()
    shutil.copy(template, home / "airflow.db")
    shutil.copy(dag_file, home / "dags" / dag_file.name)
    out = home / "result.json"
    done = subprocess.run(
        [sys.executable, str(RUNNER), str(home / "dags" / dag_file.name), dag_id, str(out)],
        env=_env(home, backend, rows),
        capture_output=True,
        text=True,
        cwd=str(home),
    )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(
            f"{dag_id} with {backend} failed:\n{(done.stdout + done.stderr)[-4000:]}"
        )
    result = json.loads(out.read_text())
    if result["state"] != "success":
        raise RuntimeError(f"{dag_id} with {backend}: run {result['state']}\n{done.stderr[-4000:]}")
    shutil.rmtree(home, ignore_errors=True)
    return float(result["dag_test_seconds"])


def _compare(
    root: Path,
    template: Path,
    dag_file: Path,
    dag_id: str,
    backends: list[str],
    *,
    repeat: int,
    rows: int,
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {b: [] for b in backends}
    for _ in range(repeat):
        for backend in backends:
            times[backend].append(_run(root, template, dag_file, dag_id, backend, rows))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--only", choices=["big", "small"])
    args = parser.parse_args()
    lines = [
        "| benchmark | cargohold (median s) | baseline (median s) | ratio | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-airflow-") as tmp:
        root = Path(tmp)
        template = _template(root)
        if args.only in (None, "big"):
            t = _compare(
                root,
                template,
                HERE / "dag_big_frame.py",
                "bench_big_frame",
                [OURS, COMMON_IO],
                repeat=args.repeat,
                rows=args.rows,
            )
            fixed = _compare(
                root,
                template,
                HERE / "dag_big_frame.py",
                "bench_big_frame",
                [OURS, COMMON_IO],
                repeat=args.repeat,
                rows=1,
            )
            ours, theirs = statistics.median(t[OURS]), statistics.median(t[COMMON_IO])
            base_ours = statistics.median(fixed[OURS])
            base_theirs = statistics.median(fixed[COMMON_IO])
            print("big frame runs:", json.dumps({k.rsplit(".", 1)[-1]: v for k, v in t.items()}))
            print("1-row runs:", json.dumps({k.rsplit(".", 1)[-1]: v for k, v in fixed.items()}))
            lines.append(
                f"| {args.rows:,}-row DataFrame, 2 tasks vs XComObjectStorageBackend | "
                f"{ours:.2f} | {theirs:.2f} | {theirs / ours:.2f}x faster | >= 3x |"
            )
            lines.append(
                f"| the same DAG with a 1-row frame (fixed dag.test() cost) | {base_ours:.2f} | "
                f"{base_theirs:.2f} | | |"
            )
            moved_ours, moved_theirs = ours - base_ours, theirs - base_theirs
            lines.append(
                f"| moving the frame (total minus the fixed cost) | {moved_ours:.2f} | "
                f"{moved_theirs:.2f} | {moved_theirs / moved_ours:.2f}x faster | |"
            )
            lines.append(
                f"| best end-to-end ratio possible if moving the frame cost cargohold nothing | "
                f"{base_ours:.2f} | {theirs:.2f} | {theirs / base_ours:.2f}x | |"
            )
        if args.only in (None, "small"):
            t = _compare(
                root,
                template,
                HERE / "dag_small_xcoms.py",
                "bench_small_xcoms",
                [OURS, DEFAULT],
                repeat=args.repeat,
                rows=0,
            )
            ours, theirs = statistics.median(t[OURS]), statistics.median(t[DEFAULT])
            print("small xcom runs:", json.dumps({k.rsplit(".", 1)[-1]: v for k, v in t.items()}))
            lines.append(
                f"| 200 small XComs vs default backend | {ours:.2f} | {theirs:.2f} | "
                f"{ours / theirs:.2f}x the time | <= 1.2x |"
            )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
