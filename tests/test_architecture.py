"""The house's import rules, checked on every run: imports run downward, and no two modules
import each other.

The floors are the import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``): the
command line over the adapters over the web app over the core, and inside the core the query API
and services over the ``Cargohold`` facade over the catalog and lineage over the types, the
store, the configuration and the errors; the deployment tests (``tests/deploy``) over the shared
test support (``tests/support``), and the package never importing its tests. A pair of modules
that import each other (in the package or its tests) is found with grimp's graph directly, so an
import inside a function or under ``TYPE_CHECKING`` counts too.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_imports_run_downward(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert code == 0, f"an import-linter contract is broken:\n{report}"


def mutual_imports(graph: grimp.ImportGraph) -> list[str]:
    """Every pair of modules that import each other (at module level or inside functions)."""
    pairs = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if importer < imported and importer in graph.find_modules_directly_imported_by(
                imported
            ):
                lines = sorted(
                    f"{d['importer']}:{d['line_number']}"
                    for a, b in ((importer, imported), (imported, importer))
                    for d in graph.get_import_details(importer=a, imported=b)
                )
                pairs.append(f"{importer} <-> {imported} ({', '.join(lines)})")
    return pairs


def test_no_two_modules_import_each_other() -> None:
    graph = grimp.build_graph("cargohold", "tests", cache_dir=None)
    pairs = mutual_imports(graph)
    assert not pairs, (
        "modules that import each other; move the piece both need into a lower module "
        "(a Protocol, a data type, a registry) instead of importing inside a function:\n  "
        + "\n  ".join(pairs)
    )
