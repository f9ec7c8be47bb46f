"""The configuration shared by the IO manager and the resource, and the per-process core objects.

Both :class:`~cargohold.dagster_integration.CargoholdIOManager` and
:class:`~cargohold.dagster_integration.CargoholdResource` take the same typed fields. Nothing is
built at construction: the :class:`~cargohold.core.hold.Cargohold` (store + catalog) and the
lineage emitter are made on first use, once per process. Under Dagster's multiprocess executor
every step process rebuilds them from the configuration; no in-process state crosses steps.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from cargohold.core.config import Settings
from cargohold.core.errors import ConfigurationError
from cargohold.core.hold import Cargohold
from cargohold.core.lineage import LineageEmitter

__all__ = ["CargoholdBase", "parse_store_options"]


def parse_store_options(value: object) -> dict[str, Any] | None:
    """``store_options`` as a dict: a dict as is, a JSON object string parsed, None/"" as None.

    Raises:
        ConfigurationError: a string that is not a JSON object, or another type.
    """
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"store_options must be a JSON object such as "
                f'\'{{"key": "...", "secret": "..."}}\', got {value!r:.80}: {exc}'
            ) from exc
        if not isinstance(parsed, dict):
            raise ConfigurationError(
                f"store_options must be a JSON object, got {type(parsed).__name__}"
            )
        return parsed
    raise ConfigurationError(
        f"store_options must be a dict or a JSON object string, got {type(value).__name__}"
    )


class CargoholdBase(ConfigurableResource):  # type: ignore[type-arg]
    """Typed configuration of cargohold inside Dagster; unset fields come from ``CARGOHOLD_*``."""

    store_url: str | None = Field(
        default=None,
        description=(
            "Root URL of the object store blobs are written to (file://..., s3://bucket/prefix, "
            "gs://..., memory://). Default: CARGOHOLD_STORE_URL, else ./.cargohold/store."
        ),
    )
    store_options: Any = Field(
        default=None,
        description=(
            "fsspec options of the store (credentials, endpoint_url in client_kwargs, ...), as a "
            "dict or a JSON object string. Default: CARGOHOLD_STORE_OPTIONS, else none."
        ),
    )
    catalog_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the catalog database (sqlite:///catalog.db, "
            "postgresql+psycopg://user@host/db). Default: CARGOHOLD_CATALOG_URL, else SQLite "
            "in ./.cargohold."
        ),
    )
    table_format: str | None = Field(
        default=None,
        description=(
            "File format of tables and data frames: 'auto' (default: Arrow IPC on a local "
            "store, where the downstream load is a memory map with nothing to decode, and "
            "Parquet on object stores, where the smaller file wins), 'arrow' or 'parquet'. "
            "Default: CARGOHOLD_TABLE_FORMAT, else 'auto'."
        ),
    )
    inline_limit: int | None = Field(
        default=None,
        description=(
            "Values whose JSON is at most this many bytes stay inline in the catalog; larger "
            "ones are written to the store. Default: CARGOHOLD_INLINE_LIMIT, else 65536."
        ),
    )
    lineage_namespace: str | None = Field(
        default=None,
        description=(
            "OpenLineage job namespace of the materializations. Default: OPENLINEAGE_NAMESPACE "
            "(the one Airflow's provider uses too), else CARGOHOLD_LINEAGE_NAMESPACE, else "
            "'default'. Where events go is the standard "
            "OpenLineage configuration (OPENLINEAGE_URL, openlineage.yml, ...); none means off."
        ),
    )
    _hold: Cargohold | None = PrivateAttr(default=None)
    _emitter: LineageEmitter | None = PrivateAttr(default=None)
    _pid: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def settings(self) -> Settings:
        """The settings these fields give, on top of ``CARGOHOLD_*`` variables.

        Raises:
            ConfigurationError: a field or variable is malformed.
        """
        return Settings.from_env().with_changes(
            store_url=self.store_url,
            store_options=parse_store_options(self.store_options),
            catalog_url=self.catalog_url,
            table_format=self.table_format or os.environ.get("CARGOHOLD_TABLE_FORMAT") or "auto",
            inline_limit=self.inline_limit,
            lineage_namespace=self.lineage_namespace,
        )

    def hold(self) -> Cargohold:
        """This process's :class:`Cargohold` (built on first use, rebuilt after a fork).

        Raises:
            ConfigurationError: a field or variable is malformed.
        """
        with self._lock:
            self._check_pid()
            if self._hold is None:
                self._hold = Cargohold(settings=self.settings())
            return self._hold

    def emitter(self) -> LineageEmitter:
        """This process's lineage emitter (off unless OpenLineage is configured).

        Raises:
            LineageError: lineage is configured but openlineage-python is missing or invalid.
        """
        settings = self.hold().settings
        with self._lock:
            if self._emitter is None:
                self._emitter = LineageEmitter.from_env(
                    settings=settings, namespace=settings.lineage_namespace
                )
            return self._emitter

    def _check_pid(self) -> None:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._hold = None
            self._emitter = None
