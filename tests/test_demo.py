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
    assert "-> version 1 of {'date': '2026-11-03'}, produced by airflow daily_producer" in out
    for dataset in ("daily_sales", "region_totals", "weekly_report"):
        assert dataset in out
    assert "flowchart LR" in out  # the lineage graph as Mermaid
    assert (tmp_path / "home" / "catalog.db").exists()
    assert any((tmp_path / "home" / "store" / "cas").rglob("*"))
