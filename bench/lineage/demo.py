"""Benchmark: the README demo with a lineage server that accepts connections and never answers.

Runs ``example_dags/demo_pipeline.py`` (three ``dag.test()`` runs of ``daily_producer``, then the
Dagster backfill and ``weekly_report``, the catalog queries) in these configurations, interleaved,
each ``--repeats`` times (default 3), on a fresh ``CARGOHOLD_HOME`` per run:

* ``off``: no OpenLineage configuration (lineage off);
* ``hung``: ``OPENLINEAGE_URL`` -> a server that accepts TCP and never answers, Airflow's
  OpenLineage provider hidden (cargohold emits every event itself);
* ``hung+provider`` (with ``--provider``): the same with the provider installed: its listener
  waits for its own sends in the task (``[openlineage] execution_timeout``), which is the
  provider's behaviour, not cargohold's.

For each run it also times how long the demo process takes to exit after its last output line,
and the CPU seconds (user + system) of the demo and its subprocesses, a figure that a busy shared
host disturbs far less than wall time. Prints the medians and the ratios to ``off`` (target:
``hung`` <= 1.05x, exit <= 1.5 s).

Run: ``.venv/bin/python bench/lineage/demo.py [--repeats 3] [--provider]`` (minutes: each demo
run starts three Airflow processes).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from cargohold.core.lineage.testing import BlackHoleServer  # noqa: E402
from tests.airflow_provider._lineage_env import (  # noqa: E402
    plugin_entry_point_dir,
    without_provider_dir,
)

DEMO = REPO / "example_dags" / "demo_pipeline.py"


def run_demo(
    root: Path, *, url: str | None, provider: bool, template: Path | None
) -> tuple[float, float, float]:
    """One demo run: (wall seconds, seconds from its last output line to its exit, CPU seconds
    of the demo and every subprocess it waited for)."""
    home = Path(tempfile.mkdtemp(dir=root, prefix="home"))
    if template is not None:
        (home / "airflow").mkdir()
        (home / "airflow" / "airflow.db").write_bytes(template.read_bytes())
    paths = [str(REPO), str(plugin_entry_point_dir(root))]
    if not provider:
        paths.append(str(without_provider_dir(root)))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CARGOHOLD_", "AIRFLOW", "OPENLINEAGE"))
    }
    env.update(CARGOHOLD_HOME=str(home), PYTHONPATH=os.pathsep.join(paths))
    if url:
        env.update(OPENLINEAGE_URL=url, OPENLINEAGE_NAMESPACE="bench")
    last = [0.0]
    cpu = _children_cpu()
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-u", str(DEMO)],
        env=env,
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            last[0] = time.perf_counter()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    code = proc.wait(timeout=1800)
    ended = time.perf_counter()
    reader.join(timeout=5)
    if code != 0:
        sys.exit("demo failed:\n" + "".join(lines)[-4000:])
    return ended - began, ended - last[0], _children_cpu() - cpu


def _children_cpu() -> float:
    """User + system CPU seconds of the waited-for children (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def migrated_template(root: Path) -> Path:
    """An Airflow metadata DB migrated once (the demo migrates only when it has none)."""
    home = root / "template"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    return home / "airflow.db"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--provider", action="store_true", help="also time hung+provider")
    args = parser.parse_args()
    kinds = ["off", "hung"] + (["hung+provider"] if args.provider else [])
    walls: dict[str, list[float]] = {k: [] for k in kinds}
    exits: dict[str, list[float]] = {k: [] for k in kinds}
    cpus: dict[str, list[float]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as tmp, BlackHoleServer() as hole:
        root = Path(tmp)
        template = migrated_template(root)
        for repeat in range(args.repeats):
            for kind in kinds:
                wall, exit_lag, cpu = run_demo(
                    root,
                    url=None if kind == "off" else hole.url,
                    provider=kind == "hung+provider",
                    template=template,
                )
                walls[kind].append(wall)
                exits[kind].append(exit_lag)
                cpus[kind].append(cpu)
                print(
                    f"  run {repeat + 1} {kind:14s} {wall:6.1f} s  exit {exit_lag:.2f} s  "
                    f"cpu {cpu:6.1f} s",
                    flush=True,
                )
    base = statistics.median(walls["off"])
    base_cpu = statistics.median(cpus["off"])
    print(
        f"\n{'demo':16s} {'median':>8s} {'ratio':>7s} {'exit after last line (max)':>28s}"
        f" {'cpu median':>11s} {'ratio':>7s}"
    )
    ok = True
    for kind in kinds:
        median = statistics.median(walls[kind])
        ratio = median / base
        worst_exit = max(exits[kind])
        cpu = statistics.median(cpus[kind])
        if kind == "hung":
            ok &= ratio <= 1.05 and worst_exit <= 1.5
        print(
            f"{kind:16s} {median:7.1f}s {ratio:6.3f}x {worst_exit:27.2f}s"
            f" {cpu:10.1f}s {cpu / base_cpu:6.3f}x"
        )
    print(
        "target: hung <= 1.05x of off, every exit <= 1.5 s after the last line:",
        "met" if ok else "NOT met",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
