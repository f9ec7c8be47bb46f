"""cargohold for Dagster: one IO manager for every type and partitioning, and a resource.

::

    from cargohold.dagster_integration import CargoholdIOManager, CargoholdResource

    io_manager = CargoholdIOManager(store_url="s3://bucket/data", catalog_url="...")
    defs = Definitions(
        assets=[...],
        resources={"io_manager": io_manager, "cargohold": CargoholdResource.of(io_manager)},
    )
    defs.load_asset_value("daily_sales", partition_key="2026-11-01")  # outside a run too

Caching an asset (skip its body when its version and inputs are unchanged): see
:func:`cached_asset`. This package imports Dagster; the core (``cargohold.core``) never does.
"""

from cargohold.dagster_integration.caching import cached_asset
from cargohold.dagster_integration.io_manager import CargoholdIOManager
from cargohold.dagster_integration.naming import (
    PARTITION_COLUMN_METADATA,
    PARTITION_KEY_METADATA,
    dataset_name,
    partition_dimensions,
)
from cargohold.dagster_integration.resource import CargoholdResource

__all__ = [
    "PARTITION_COLUMN_METADATA",
    "PARTITION_KEY_METADATA",
    "CargoholdIOManager",
    "CargoholdResource",
    "cached_asset",
    "dataset_name",
    "partition_dimensions",
]
