"""Environments for lineage tests of Airflow runs: the plugin's entry point, a hidden provider.

* :func:`plugin_entry_point_dir`: a folder holding a ``*.dist-info`` that declares cargohold's
  ``airflow.plugins`` entry point (what ``pip install cargohold`` declares in pyproject.toml), for
  a virtualenv whose editable install predates it. Airflow deduplicates plugins by name, so it is
  harmless where the real entry point exists.
* :func:`without_provider_dir`: a folder with a ``sitecustomize`` that makes Airflow's OpenLineage
  provider look uninstalled in the process: its modules cannot be imported and its distribution
  (hence its provider and plugin entry points) is not listed.

Put the folders on the subprocess's ``PYTHONPATH``.
"""

from __future__ import annotations

from pathlib import Path

PROVIDER_DIST = "apache-airflow-providers-openlineage"

_SITECUSTOMIZE = '''
"""Make apache-airflow-providers-openlineage look uninstalled (tests only)."""
import importlib.abc
import sys

_HIDDEN = "airflow.providers.openlineage"


class _HideProvider(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == _HIDDEN or name.startswith(_HIDDEN + "."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _HideProvider())


def _hide(module):
    original = module.distributions

    def distributions(**kwargs):
        for dist in original(**kwargs):
            name = (dist.metadata["Name"] or "").lower().replace("_", "-")
            if name != "@DIST@":
                yield dist

    module.distributions = distributions


import importlib.metadata

_hide(importlib.metadata)
try:
    import importlib_metadata
except ImportError:
    pass
else:
    _hide(importlib_metadata)
'''.replace("@DIST@", PROVIDER_DIST)


def plugin_entry_point_dir(root: Path) -> Path:
    """A folder declaring cargohold's ``airflow.plugins`` entry point (see the module doc)."""
    folder = root / "entry-points"
    info = folder / "cargohold_lineage_plugin-0.0.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cargohold-lineage-plugin\nVersion: 0.0.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[airflow.plugins]\ncargohold = cargohold.airflow_provider.lineage:CargoholdLineagePlugin\n"
    )
    return folder


def without_provider_dir(root: Path) -> Path:
    """A folder whose ``sitecustomize`` hides the OpenLineage provider (see the module doc)."""
    folder = root / "no-openlineage-provider"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE)
    return folder
