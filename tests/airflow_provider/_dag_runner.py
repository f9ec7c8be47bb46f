"""Run one DAG with ``dag.test()`` in this process and write what happened as JSON.

Usage: python _dag_runner.py DAG_FILE DAG_ID OUT_JSON [--partition-key KEY] [--logical-date ISO]

The environment (AIRFLOW_HOME, the XCom backend, CARGOHOLD_*) is set by the caller. The output
has the run state, every task instance (state, try number, map index) and every XCom row as
stored (the JSON Airflow keeps), so tests can assert on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("dag_file")
    parser.add_argument("dag_id")
    parser.add_argument("out")
    parser.add_argument("--partition-key")
    parser.add_argument("--logical-date")
    args = parser.parse_args()

    started = time.perf_counter()
    import airflow.models.dagrun as dagrun_module
    from airflow.dag_processing.dagbag import DagBag

    if args.partition_key:
        original = dagrun_module.get_or_create_dagrun

        def with_partition(**kwargs: Any) -> Any:
            run = original(**kwargs)
            run.partition_key = args.partition_key
            kwargs["session"].merge(run)
            kwargs["session"].commit()
            return run

        dagrun_module.get_or_create_dagrun = with_partition  # type: ignore[assignment]

    bag = DagBag(dag_folder=args.dag_file)
    if bag.import_errors:
        print(json.dumps(bag.import_errors), file=sys.stderr)
        return 2
    dag = bag.get_dag(args.dag_id)
    test_kwargs: dict[str, Any] = {}
    if args.logical_date:
        test_kwargs["logical_date"] = datetime.fromisoformat(args.logical_date)
    t0 = time.perf_counter()
    run = dag.test(**test_kwargs)
    elapsed = time.perf_counter() - t0

    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(
            TaskInstance.dag_id == args.dag_id, TaskInstance.run_id == run.run_id
        )
        task_instances = [
            {
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "state": str(ti.state.value if hasattr(ti.state, "value") else ti.state),
                "try_number": ti.try_number,
            }
            for ti in tis
        ]
        rows = session.query(XComModel).filter(
            XComModel.dag_id == args.dag_id, XComModel.run_id == run.run_id
        )
        xcoms = [
            {"task_id": x.task_id, "map_index": x.map_index, "key": x.key, "value": x.value}
            for x in rows
        ]
    state = run.state.value if hasattr(run.state, "value") else str(run.state)
    result = {
        "state": state,
        "run_id": run.run_id,
        "logical_date": run.logical_date.isoformat() if run.logical_date else None,
        "run_after": run.run_after.isoformat() if run.run_after else None,
        "task_instances": task_instances,
        "xcoms": xcoms,
        "dag_test_seconds": elapsed,
        "total_seconds": time.perf_counter() - started,
    }
    with open(args.out, "w") as fh:
        json.dump(result, fh, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
