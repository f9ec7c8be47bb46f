"""The README's first command runs the demo end to end on the embedded defaults."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_demo_command() -> str:
    """The demo command as the README gives it (the first indented ``bash scripts/...`` line)."""
    for line in (REPO / "README.md").read_text().splitlines():
        if line.strip().startswith("bash scripts/") and "demo" in line:
            return line.strip()
    raise AssertionError("README.md gives no demo command")


def test_readme_demo_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGOHOLD_", "AIRFLOW"))}
    env["CARGOHOLD_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        ["bash", "-c", readme_demo_command()],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-5000:]
    assert out.count("daily_producer  2026-11-0") == 3
    assert "region_totals   2026-11-01..2026-11-03  success" in out
    assert "-> daily_sales version 1 for date=2026-11-03, written by airflow daily_producer" in out
    for dataset in ("daily_sales", "region_totals", "weekly_report"):
        assert dataset in out
    # the query result: one row per region (every region sells every day), then the total
    table = out.split(".load(columns=['region', 'amount']): 1000 orders")[1].splitlines()[1:6]
    assert table[0].split() == ["region", "orders", "amount"]
    assert sorted(line.split()[0] for line in table[1:4]) == ["apac", "eu", "us"]
    assert table[4].split()[:2] == ["total", "1000"]
    assert sum(int(line.split()[1]) for line in table[1:4]) == 1000
    # the lineage graph as a Markdown file with a heading and a Mermaid block
    drawn = (tmp_path / "home" / "lineage.md").read_text()
    assert drawn.startswith("# Lineage of region_totals for 2026-11-03\n")
    assert "```mermaid\nflowchart LR\n" in drawn
    assert "daily_sales v1" in drawn
    assert (tmp_path / "home" / "catalog.db").exists()
    assert any((tmp_path / "home" / "store" / "cas").rglob("*"))
