"""CLI test fixtures: a populated catalog and store; in-process and subprocess runners."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cargohold.cli.main import main
from cargohold.core.catalog import Catalog
from cargohold.core.catalog.objects import ArtifactSource
from cargohold.core.hold import Cargohold

REPO = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).with_name("cargohold")


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Demo:
    """A small pipeline's worth of catalog: raw -> clean -> report, two days."""

    env: dict[str, str]
    hold: Cargohold
    raw: list[str]
    clean: list[str]
    report: str
    payload: bytes


def populate(
    hold: Cargohold, catalog: Catalog | None = None
) -> tuple[list[str], list[str], str, bytes]:
    """raw_orders (2 days) -> clean_orders (2 days) -> daily_report, with lineage."""
    catalog = catalog or hold.catalog
    for name in ("raw_orders", "clean_orders"):
        catalog.create_dataset(dataset=name, partition_keys=["date"])
    catalog.create_dataset(dataset="daily_report")
    payload = os.urandom(300_000)
    raw, clean = [], []
    for day in ("2026-11-01", "2026-11-02"):
        ingest = ArtifactSource(orchestrator="airflow", job="etl", run_id=f"r-{day}", task="ingest")
        r = catalog.create_artifact(
            dataset="raw_orders",
            data={"frame": hold.put(payload + day.encode())},
            partitions={"date": day},
            source=ingest,
        )
        cleaner = ArtifactSource(orchestrator="airflow", job="etl", run_id=f"c-{day}", task="clean")
        catalog.record_read(artifact_id=r.id, source=cleaner)
        c = catalog.create_artifact(
            dataset="clean_orders",
            data={"rows": hold.put(1000 + len(raw))},
            partitions={"date": day},
            source=cleaner,
            tags=[f"day-{day}"],
        )
        raw.append(r.id)
        clean.append(c.id)
    reporter = ArtifactSource(orchestrator="dagster", job="reports", run_id="rep-1", task="report")
    for c_id in clean:
        catalog.record_read(artifact_id=c_id, source=reporter)
    report = catalog.create_artifact(
        dataset="daily_report", data={"summary": hold.put({"total": 2001})}, source=reporter
    )
    return raw, clean, report.id, payload


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    env = {
        "CARGOHOLD_STORE_URL": (tmp_path / "store").as_uri(),
        "CARGOHOLD_CATALOG_URL": f"sqlite:///{tmp_path / 'catalog.db'}",
        "CARGOHOLD_PROXY_SECRET": "cli-test-secret",
    }
    hold = Cargohold(
        store_url=env["CARGOHOLD_STORE_URL"],
        catalog_url=env["CARGOHOLD_CATALOG_URL"],
        proxy_secret=env["CARGOHOLD_PROXY_SECRET"],
    )
    raw, clean, report, payload = populate(hold)
    hold.catalog.close()
    return Demo(env=env, hold=hold, raw=raw, clean=clean, report=report, payload=payload)


@pytest.fixture
def run(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Call ``main(argv)`` in-process with the demo's environment, capturing its output."""
    for key, value in demo.env.items():
        monkeypatch.setenv(key, value)

    def _run(*argv: str) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err)
        return Result(code, out.getvalue(), err.getvalue())

    return _run


def run_subprocess(
    *argv: str, env: dict[str, str], cwd: Path, module: bool = False, timeout: float = 60
) -> Result:
    """Run the installed console script (or ``python -m cargohold.cli``) as a subprocess."""
    command = [sys.executable, "-m", "cargohold.cli"] if module else [str(CONSOLE_SCRIPT)]
    full_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [*command, *argv],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)
