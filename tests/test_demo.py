"""The README's first command runs the demo end to end on the embedded defaults, and again on the
same ``.cargohold/`` (new versions of every artifact, the same output, Airflow's metadata database
kept rather than migrated again)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_demo_command() -> str:
    """The demo command as the README gives it (the first indented ``bash scripts/...`` line)."""
    for line in (REPO / "README.md").read_text().splitlines():
        if line.strip().startswith("bash scripts/") and "demo" in line:
            return line.strip()
    raise AssertionError("README.md gives no demo command")


def _run_demo(home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGOHOLD_", "AIRFLOW"))}
    env["CARGOHOLD_HOME"] = str(home)
    done = subprocess.run(
        ["bash", "-c", readme_demo_command()],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-5000:]
    return out


def _check_output(out: str, home: Path, version: int) -> None:
    assert out.count("daily_producer  2026-11-0") == 3
    assert "region_totals   2026-11-01..2026-11-03  success" in out
    assert (
        f"-> daily_sales version {version} for date=2026-11-03, written by airflow daily_producer"
        in out
    )
    for dataset in ("daily_sales", "region_totals", "weekly_report"):
        assert dataset in out
    # the query result: one row per region (every region sells every day), then the total
    table = out.split(".load(columns=['region', 'amount']): 1000 orders")[1].splitlines()[1:6]
    assert table[0].split() == ["region", "orders", "amount"]
    assert sorted(line.split()[0] for line in table[1:4]) == ["apac", "eu", "us"]
    assert table[4].split()[:2] == ["total", "1000"]
    assert sum(int(line.split()[1]) for line in table[1:4]) == 1000
    # the lineage graph as a Markdown file with a heading and a Mermaid block
    drawn = (home / "lineage.md").read_text()
    assert drawn.startswith("# Lineage of region_totals for 2026-11-03\n")
    assert "```mermaid\nflowchart LR\n" in drawn
    assert f"daily_sales v{version}" in drawn
    assert (home / "catalog.db").exists()
    assert any((home / "store" / "cas").rglob("*"))


@pytest.mark.timeout(1800)  # two demo runs (the first installs and migrates), a loaded machine
def test_readme_demo_runs_twice(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = _run_demo(home)
    _check_output(first, home, version=1)
    assert "Airflow's metadata database migrated" in first
    second = _run_demo(home)
    _check_output(second, home, version=2)
    assert "Airflow's metadata database migrated" not in second
