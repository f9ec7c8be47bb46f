"""The Airflow hook of cargohold: :class:`CargoholdHook`, over a ``cargohold`` connection.

The connection's fields are described in :mod:`cargohold.airflow_provider.connection`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.hook import BaseHook

from cargohold.airflow_provider._runtime import runtime
from cargohold.airflow_provider.connection import hold_from_connection, settings_overrides

if TYPE_CHECKING:
    from cargohold.core.catalog import Catalog
    from cargohold.core.hold import Cargohold
    from cargohold.core.storage.store import Store

__all__ = ["CargoholdHook", "hold_from_connection", "settings_overrides"]


class CargoholdHook(BaseHook):
    """Access to cargohold's store and catalog through an Airflow connection.

    Args:
        cargohold_conn_id: the ``cargohold`` connection; when it does not exist the
            ``CARGOHOLD_*`` environment alone configures the hook.
    """

    conn_name_attr = "cargohold_conn_id"
    default_conn_name = "cargohold_default"
    conn_type = "cargohold"
    hook_name = "Cargohold"

    def __init__(self, *, cargohold_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cargohold_conn_id = cargohold_conn_id
        self._hold: Cargohold | None = None

    def get_conn(self) -> Cargohold:
        """The configured :class:`~cargohold.core.hold.Cargohold` (built once per hook).

        Raises:
            ConfigurationError: the connection or environment is malformed.
        """
        if self._hold is None:
            found = hold_from_connection(conn_id=self.cargohold_conn_id, missing_ok=True)
            self._hold = found if found is not None else runtime().hold
        return self._hold

    @property
    def store(self) -> Store:
        """The object store."""
        return self.get_conn().store

    @property
    def catalog(self) -> Catalog:
        """The catalog."""
        return self.get_conn().catalog

    def test_connection(self) -> tuple[bool, str]:
        """Check that the store and the catalog answer (the connection form's Test button)."""
        try:
            hold = self.get_conn()
            hold.store.exists("")
            hold.catalog.list_datasets(limit=1)
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, "store and catalog reachable"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """How the connection form labels its fields."""
        return {
            "hidden_fields": ["port"],
            "relabeling": {
                "host": "Store URL",
                "schema": "Catalog URL",
                "login": "Store key (optional)",
                "password": "Store secret (optional)",
            },
            "placeholders": {
                "host": "s3://bucket/cargohold",
                "schema": "postgresql+psycopg://user@host:5432/catalog",
                "extra": json.dumps(
                    {"aws_conn_id": "aws_default", "domain": "production", "store_options": {}}
                ),
            },
        }
