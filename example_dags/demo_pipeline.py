"""The README's demo: Airflow and Dagster sharing versioned, partitioned data through cargohold.

Run it with ``bash scripts/demo.sh``. On the embedded defaults (a SQLite catalog and a local store
under ``$CARGOHOLD_HOME``, ``./.cargohold`` by default):

1. Airflow runs ``example_dags/airflow/daily_producer.py`` with ``dag.test()`` for three days, with
   cargohold as its XCom backend: each day's frame is a Parquet artifact of ``daily_sales``.
2. Dagster (``example_dags/dagster/definitions.py``) backfills ``region_totals`` over those days
   in one run, reading two columns of the Airflow-produced partitions, then ``weekly_report``.
3. The latest ``daily_sales`` partition is queried the Flyte Artifacts way.
4. The catalog is listed, and 5. the lineage of a Dagster artifact is drawn back to Airflow, in
   the terminal and as a Mermaid diagram in ``$CARGOHOLD_HOME/lineage.md``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAYS = ["2026-11-01", "2026-11-02", "2026-11-03"]
AIRFLOW_DAG = REPO / "example_dags" / "airflow" / "daily_producer.py"
AIRFLOW_TIMEOUT = 900  # seconds for the Airflow process (migration and three runs)
# One process migrates Airflow's metadata database when asked ("migrate" first), then runs every
# day (Airflow is imported once); a line per day reports its state. No collections while Airflow
# imports (about a million objects, each full pass ~0.3 s), and they are frozen afterwards. It
# exits normally (not os._exit, which would skip the atexit handlers: cargohold's bounded flush of
# lineage events still queued, and its count of what it drops).
RUN_DAG = """
import gc, sys, time
gc.disable()
from datetime import datetime
from airflow.dag_processing.dagbag import DagBag
migrate, dag_file, dag_id, *days = sys.argv[1:]
if migrate == "migrate":
    from airflow.utils.db import upgradedb
    upgradedb()
    print("DEMO-MIGRATED", flush=True)
bag = DagBag(dag_folder=dag_file)
if bag.import_errors:
    sys.exit(f"DAG import errors: {bag.import_errors}")
dag = bag.get_dag(dag_id)
gc.freeze()
gc.enable()
failed = False
for day in days:
    started = time.perf_counter()
    run = dag.test(logical_date=datetime.fromisoformat(day + "T00:00:00+00:00"))
    state = str(getattr(run.state, "value", run.state))
    print(f"DEMO-RUN {day} {state} {time.perf_counter() - started:.1f}", flush=True)
    failed = failed or state != "success"
sys.exit(1 if failed else 0)
"""


def step(number: int, title: str) -> None:
    print(f"\n[{number}/5] {title}", flush=True)


def run_airflow(home: Path) -> None:
    """Run the daily producer with dag.test() for each day, in one subprocess (Airflow reads its
    configuration at import); Dagster is imported here meanwhile, on the other core."""
    airflow_home = home / "airflow"
    dags = airflow_home / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    shutil.copy(AIRFLOW_DAG, dags / AIRFLOW_DAG.name)
    # Lineage settings pass through (OPENLINEAGE_URL, OPENLINEAGE_NAMESPACE, ...; Airflow's own
    # [openlineage] options as AIRFLOW__OPENLINEAGE__*): with lineage configured, the Airflow half
    # reaches the lineage server too, joined to the Dagster half through daily_sales.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIRFLOW") or k.startswith("AIRFLOW__OPENLINEAGE__")
    }
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__XCOM_BACKEND="cargohold.airflow_provider.xcom.CargoholdXComBackend",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        CARGOHOLD_HOME=str(home),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")])),
    )
    # The metadata database is kept between runs; it is migrated (in the same process as the
    # runs) when it is new or the Airflow distributions changed since it was last migrated.
    versions = _airflow_versions()
    stamp = airflow_home / "airflow.db.migrated-by"
    current = (airflow_home / "airflow.db").exists() and (
        stamp.exists() and stamp.read_text() == versions
    )
    # Output goes to files, not pipes: nothing reads a pipe while Dagster is imported.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                RUN_DAG,
                "current" if current else "migrate",
                str(dags / AIRFLOW_DAG.name),
                "daily_producer",
                *DAYS,
            ],
            env=env,
            stdout=out,
            stderr=err,
            text=True,
            cwd=str(airflow_home),
        )
        try:
            import_dagster()
            proc.wait(timeout=AIRFLOW_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            sys.exit(f"dag.test() of daily_producer took over {AIRFLOW_TIMEOUT} s; stopped it")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())
    for line in done.stdout.splitlines():
        if line.startswith("DEMO-RUN "):
            _, day, state, seconds = line.split()
            print(f"  daily_producer  {day}  {state}  ({seconds} s)")
    if "DEMO-MIGRATED" in done.stdout:
        stamp.write_text(versions)
        print(f"  (Airflow's metadata database migrated: {airflow_home / 'airflow.db'})")
    _check(done, f"dag.test() of daily_producer for {', '.join(DAYS)}")


def _airflow_versions() -> str:
    """The installed Airflow distributions (core, task SDK, providers) and their versions: the
    metadata database's schema follows them."""
    from importlib.metadata import distributions

    found = {
        f"{dist.metadata['Name']}=={dist.version}"
        for dist in distributions()
        if str(dist.metadata["Name"] or "").lower().startswith("apache-airflow")
    }
    return "\n".join(sorted(found)) + "\n"


def _check(done: subprocess.CompletedProcess[str], what: str) -> None:
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{(done.stdout + done.stderr)[-4000:]}")


def import_dagster() -> None:
    """Import Dagster and the example's definitions (quietly; no collections while importing, and
    what the imports made is frozen out of later collections)."""
    import gc
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)  # Dagster logs every event at DEBUG to the console
    gc.disable()
    try:
        import dagster  # noqa: F401

        if str(REPO / "example_dags" / "dagster") not in sys.path:
            sys.path.insert(0, str(REPO / "example_dags" / "dagster"))
        import definitions  # noqa: F401
    finally:
        gc.freeze()
        gc.enable()
    logging.disable(logging.NOTSET)


def run_dagster() -> None:
    """Backfill region_totals over the three days in one run, then the weekly report."""
    import logging

    import_dagster()
    logging.disable(logging.WARNING)  # Dagster logs every event at DEBUG to the console
    import dagster as dg
    from definitions import daily_sales, defs, region_totals, weekly_report

    resources = defs.resources
    instance = dg.DagsterInstance.ephemeral()
    backfill = dg.materialize(
        [daily_sales, region_totals],
        selection=[region_totals],
        resources=resources,
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": DAYS[0],
            "dagster/asset_partition_range_end": DAYS[-1],
        },
    )
    print(
        f"  region_totals   {DAYS[0]}..{DAYS[-1]}  "
        f"{'success' if backfill.success else 'FAILED'}  (one run, three artifacts)"
    )
    weekly = dg.materialize(
        [daily_sales, weekly_report],
        selection=[weekly_report],
        resources=resources,
        instance=instance,
        partition_key=DAYS[-1],
    )
    logging.disable(logging.NOTSET)
    print(f"  weekly_report   {DAYS[-1]}  {'success' if weekly.success else 'FAILED'}")
    if not (backfill.success and weekly.success):
        sys.exit("the Dagster runs failed")


def query_latest() -> None:
    from cargohold import ArtifactQuery

    found = ArtifactQuery.get_latest(
        dataset="daily_sales", partition_keys={"date": dt.datetime(2026, 11, 3)}
    )
    if found is None:
        sys.exit("no daily_sales artifact for 2026-11-03")
    frame = found.load(columns=["region", "amount"])
    source = found.source
    producer = f"{source.orchestrator} {source.job}.{source.task}" if source else "unknown"
    print(
        "  ArtifactQuery.get_latest(dataset='daily_sales', partition_keys={'date': "
        "datetime(2026, 11, 3)})"
    )
    print(f"  -> daily_sales version {found.version} for date=2026-11-03, written by {producer}")
    print(f"     {found.uri}")
    print(f"     .load(columns=['region', 'amount']): {len(frame)} orders")
    totals = frame.groupby("region")["amount"].agg(["count", "sum"]).sort_values("sum")[::-1]
    print(f"     {'region':<8}{'orders':>8}{'amount':>14}")
    for region, row in totals.iterrows():
        print(f"     {region!s:<8}{int(row['count']):>8}{row['sum']:>14,.2f}")
    print(f"     {'total':<8}{len(frame):>8}{frame['amount'].sum():>14,.2f}")


def cli(*argv: str) -> None:
    from cargohold.cli.main import main as cargohold

    code = cargohold(list(argv))
    if code:
        sys.exit(f"cargohold {' '.join(argv)} exited with {code}")


def lineage_target() -> str:
    from cargohold import Cargohold

    catalog = Cargohold.from_env().catalog
    artifact = catalog.get_latest(dataset="region_totals", partitions={"date": DAYS[-1]})
    catalog.close()
    return artifact.id


def write_mermaid(target: str, path: Path) -> None:
    """Write the lineage of ``target`` as a Markdown file: a heading, then a Mermaid diagram."""
    from cargohold import Cargohold
    from cargohold.cli.lineage import collect, mermaid

    catalog = Cargohold.from_env().catalog
    try:
        graph = collect(catalog, catalog.get_artifact(artifact_id=target), depth=5)
    finally:
        catalog.close()
    path.write_text(
        f"# Lineage of region_totals for {DAYS[-1]}\n\n"
        "From the Airflow task that wrote each day's sales to the Dagster assets that read "
        "them (an edge means: the run that produced the right-hand artifact read the "
        "left-hand one).\n\n"
        f"```mermaid\n{mermaid(graph)}\n```\n"
    )
    print(f"  the same graph as Mermaid: {path}")


def main() -> None:
    home = Path(os.environ.get("CARGOHOLD_HOME") or Path.cwd() / ".cargohold").absolute()
    os.environ["CARGOHOLD_HOME"] = str(home)
    print(f"cargohold demo: store and catalog under {home}")
    started = time.perf_counter()

    step(1, "Airflow: daily_producer via dag.test(), cargohold as the XCom backend")
    run_airflow(home)
    step(2, "Dagster: region_totals backfilled over the Airflow-produced days, weekly_report")
    run_dagster()
    step(3, "Query the latest partition")
    query_latest()
    step(4, "The catalog")
    cli("datasets", "ls")
    cli("artifacts", "ls", "daily_sales")
    step(5, "Lineage of region_totals for 2026-11-03, back to the Airflow task that wrote it")
    target = lineage_target()
    cli("lineage", target)
    write_mermaid(target, home / "lineage.md")
    print(f"\ndemo done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
