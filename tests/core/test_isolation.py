"""The core imports neither Airflow nor Dagster, and importing cargohold does no heavy work."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"airflow", "dagster"}:
                raise ImportError(f"the core must not import {name}")
            return None

    sys.meta_path.insert(0, Block())
    """
)


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_core_imports_neither_airflow_nor_dagster() -> None:
    result = run(
        """
        import pkgutil, importlib, cargohold, cargohold.core
        for info in pkgutil.walk_packages(cargohold.core.__path__, "cargohold.core."):
            if ".migrations." in info.name:
                continue
            importlib.import_module(info.name)
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_is_light() -> None:
    result = run(
        """
        import sys, cargohold
        heavy = sorted(m for m in ("pandas", "pyarrow", "polars", "sqlalchemy", "openlineage")
                       if m in sys.modules)
        print(",".join(heavy))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
