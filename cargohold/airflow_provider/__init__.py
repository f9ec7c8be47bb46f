"""The Airflow provider of cargohold: XCom backend, hook, operators and sensors.

Airflow finds it through the ``apache_airflow_provider`` entry point, which calls
:func:`get_provider_info`. Importing this package imports nothing of Airflow.
"""

from __future__ import annotations

from typing import Any

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """The provider metadata Airflow reads (``airflow providers list``)."""
    return {
        "package-name": "cargohold",
        "name": "cargohold",
        "description": "Typed, versioned, partitioned data passing with lineage.",
        "versions": ["0.1.0"],
    }
