"""The tiers README's test command leaves to scripts/test-deploy.sh are marked as such."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _module_marks(path: Path) -> set[str]:
    """The ``pytest.mark.<name>`` names in a module's ``pytestmark`` assignment."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return {
                n.attr
                for n in ast.walk(node.value)
                if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Attribute)
                and n.value.attr == "mark"
            }
    return set()


def test_every_deployment_module_is_in_the_deploy_tier() -> None:
    modules = sorted((TESTS / "deploy").glob("test_*.py"))
    assert modules
    unmarked = [m.name for m in modules if "deploy" not in _module_marks(m)]
    assert not unmarked, f"add pytest.mark.deploy to pytestmark in {unmarked}"
