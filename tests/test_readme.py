"""README.md is executable documentation: its Python blocks run as pasted, its tables are whole."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
# (section, block index) of blocks that need data a pipeline wrote first: the Dagster section's
# downstream query reads the `daily_sales` the example pipelines (or the demo) materialize.
NEEDS_DATA = {("Dagster", 1)}


def _sections() -> list[tuple[str, str]]:
    parts = re.split(r"^## (.+)$", README, flags=re.MULTILINE)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def _python_blocks() -> list[tuple[str, int, str]]:
    blocks = []
    for title, body in _sections():
        for index, match in enumerate(re.finditer(r"^```python\n(.*?)^```$", body, re.S | re.M)):
            blocks.append((title, index, match.group(1)))
    return blocks


def _runnable() -> list[tuple[str, int, str]]:
    return [b for b in _python_blocks() if (b[0], b[1]) not in NEEDS_DATA]


def test_readme_has_python_blocks_to_run() -> None:
    titles = {title for title, _, _ in _runnable()}
    assert {"Quick start", "Airflow", "Dagster", "Lineage"} <= titles


@pytest.mark.parametrize(("section", "index", "code"), _runnable(), ids=lambda v: str(v)[:20])
def test_python_block_runs_as_pasted(section: str, index: int, code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGOHOLD_", "AIRFLOW"))}
    env.update(
        PYTHONPATH=str(REPO),
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        OPENLINEAGE_DISABLED="true",
    )
    # the README's blocks keep their files under /tmp/cargohold-demo: here, under this test's own
    # folder (a catalog left there by another cargohold version would be refused, rightly)
    code = code.replace("/tmp/cargohold-demo", str(tmp_path / "cargohold-demo"))
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,  # an empty folder, as a newcomer would start
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"README {section} block {index}:\n{done.stderr[-4000:]}"


def test_setup_section_gives_exactly_the_two_commands() -> None:
    (body,) = [b for title, b in _sections() if title.startswith("Set-up")]
    commands = [line.strip() for line in body.splitlines() if line.startswith("    ")]
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    for command in commands:
        assert (REPO / command.split()[1]).is_file()


def test_configuration_table_lists_every_variable() -> None:
    used = set()
    for path in (REPO / "cargohold").rglob("*.py"):
        used |= set(re.findall(r"CARGOHOLD_[A-Z][A-Z_]*[A-Z]", path.read_text()))
    (body,) = [b for title, b in _sections() if title == "Configuration"]
    listed = set(re.findall(r"`(CARGOHOLD_[A-Z_]+)`", body))
    assert used - listed == set(), "variables the package reads but README does not list"
    assert listed - used == set(), "variables README lists but the package never reads"


def test_install_table_lists_every_extra() -> None:
    extras = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    (body,) = [b for title, b in _sections() if title == "Install"]
    listed = set(re.findall(r"^\| `([a-z0-9-]+)`", body, re.M))
    listed |= set(re.findall(r"^\| `[a-z0-9-]+`, `([a-z0-9-]+)`", body, re.M))
    listed |= set(re.findall(r"^\| `[a-z0-9-]+` / `([a-z0-9-]+)`", body, re.M))
    assert extras - {"dev"} == listed
