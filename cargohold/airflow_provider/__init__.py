"""The Airflow provider of cargohold: XCom backend, hook, operators and sensors.

Airflow finds it through the ``apache_airflow_provider`` entry point, which calls
:func:`get_provider_info`. Importing this package imports nothing of Airflow; import the
submodules for the classes:

* ``cargohold.airflow_provider.xcom.CargoholdXComBackend`` - the XCom backend
* ``cargohold.airflow_provider.hooks.CargoholdHook`` - connection type ``cargohold``
* ``cargohold.airflow_provider.operators`` - ``PublishArtifactOperator``, ``LoadArtifactOperator``
* ``cargohold.airflow_provider.sensors`` - ``ArtifactSensor`` (deferrable), ``ArtifactTrigger``
* ``cargohold.airflow_provider.caching`` - ``cached_task`` for ``@task`` functions
* ``cargohold.airflow_provider.lineage.CargoholdLineagePlugin`` - the plugin whose listener emits
  each task's START / COMPLETE / FAIL when Airflow's OpenLineage provider does not (entry point
  ``airflow.plugins``; also listed here under ``plugins``)
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_provider_info"]

_PACKAGE = "cargohold.airflow_provider"


def get_provider_info() -> dict[str, Any]:
    """The provider metadata Airflow reads (``airflow providers list``, the connection form)."""
    return {
        "package-name": "cargohold",
        "name": "cargohold",
        "description": "Typed, versioned, partitioned data passing with lineage.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "Cargohold",
                "external-doc-url": "https://github.com/cargohold/cargohold",
                "tags": ["software"],
            }
        ],
        "hooks": [{"integration-name": "Cargohold", "python-modules": [f"{_PACKAGE}.hooks"]}],
        "operators": [
            {"integration-name": "Cargohold", "python-modules": [f"{_PACKAGE}.operators"]}
        ],
        "sensors": [{"integration-name": "Cargohold", "python-modules": [f"{_PACKAGE}.sensors"]}],
        "triggers": [{"integration-name": "Cargohold", "python-modules": [f"{_PACKAGE}.sensors"]}],
        "connection-types": [
            {"hook-class-name": f"{_PACKAGE}.hooks.CargoholdHook", "connection-type": "cargohold"}
        ],
        "plugins": [
            {"name": "cargohold", "plugin-class": f"{_PACKAGE}.plugin.CargoholdPlugin"},
            {
                "name": "cargohold_lineage",
                "plugin-class": f"{_PACKAGE}.lineage.CargoholdLineagePlugin",
            },
        ],
    }
