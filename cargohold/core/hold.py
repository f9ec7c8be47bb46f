"""The facade users call: ``Cargohold`` puts values into literals and gets them back.

from cargohold import Cargohold

hold = Cargohold.from_env()                    # or Cargohold(store_url=..., catalog_url=...)
lit = hold.put(frame)                          # a Literal: inline, or a reference to a blob
frame = hold.get(lit, columns=["a", "b"])      # the value, reading only two columns
same = Literal.from_json(lit.to_json())        # literals travel as small JSON documents
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargohold.core.config import Settings
from cargohold.core.storage.store import Store
from cargohold.core.types.engine import TypeEngine
from cargohold.core.types.literals import Literal
from cargohold.core.types.transformer import TransformContext

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from cargohold.core.catalog import Catalog

__all__ = ["Cargohold"]


class Cargohold:
    """Typed values in, literals out, and back: the store, the type engine and the catalog."""

    def __init__(
        self,
        *,
        store_url: str | None = None,
        catalog_url: str | None = None,
        settings: Settings | None = None,
        engine: TypeEngine | None = None,
        **overrides: Any,
    ) -> None:
        """Build from explicit settings; anything not given comes from the environment.

        ``overrides`` are any :class:`Settings` field (``inline_limit``, ``allow_pickle``,
        ``table_format``, ``store_options``, ...).

        Raises:
            ConfigurationError: a setting is malformed.
        """
        base = settings if settings is not None else Settings.from_env()
        self.settings = base.with_changes(store_url=store_url, catalog_url=catalog_url, **overrides)
        self.engine = engine if engine is not None else TypeEngine.default()
        self._store: Store | None = None
        self._catalog: Catalog | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Cargohold:
        """Build from ``CARGOHOLD_*`` environment variables (see :mod:`cargohold.core.config`)."""
        return cls(settings=Settings.from_env(environ, **overrides))

    def __repr__(self) -> str:
        return (
            f"Cargohold(store_url={self.settings.store_url!r}, "
            f"catalog_url={self.settings.catalog_url!r})"
        )

    @property
    def store(self) -> Store:
        """The object store (opened on first use)."""
        if self._store is None:
            self._store = Store(
                self.settings.store_url,
                options=self.settings.store_options,
                connect_timeout=self.settings.store_connect_timeout,
                read_timeout=self.settings.store_read_timeout,
                retries=self.settings.store_retries,
            )
            self._store.lease = self._lease_blob
        return self._store

    def _lease_blob(self, content_hash: str) -> None:
        self.catalog.lease_blob(content_hash=content_hash)

    @property
    def catalog(self) -> Catalog:
        """The catalog (connected on first use)."""
        if self._catalog is None:
            from cargohold.core.catalog import Catalog

            self._catalog = Catalog.from_settings(self.settings)
        return self._catalog

    def with_catalog(self, catalog: Catalog) -> Cargohold:
        """This hold with ``catalog`` as its catalog (the same store, engine and settings)."""
        other = Cargohold(settings=self.settings, engine=self.engine)
        other._store = self._store
        other._catalog = catalog
        return other

    def with_raw_output_prefix(self, store_url: str) -> Cargohold:
        """A Cargohold writing to another store URL (the per-run raw output prefix)."""
        other = Cargohold(
            settings=self.settings.with_changes(store_url=store_url), engine=self.engine
        )
        other._catalog = self._catalog
        return other

    def context(self, *, columns: Sequence[str] | None = None) -> TransformContext:
        """The context transformers run in, for this hold's store and settings."""
        return TransformContext(
            engine=self.engine,
            store=self.store,
            inline_limit=self.settings.inline_limit,
            table_format=self.settings.table_format,
            allow_pickle=self.settings.allow_pickle,
            columns=columns,
            allowed_types=self.settings.allowed_types,
        )

    def put(self, value: Any, *, python_type: Any = None) -> Literal:
        """Turn ``value`` into a :class:`Literal`; large values are written to the store.

        ``python_type`` declares the type (``Optional[int]``, ``list[date]``); by default the
        value's own type is used.

        Raises:
            UnsupportedTypeError: no transformer for the type, and the pickle fallback is off.
            TypeMismatchError: the value does not match ``python_type``.
            StorageError: the store failed (nothing partial is visible).
        """
        return self.engine.to_literal(value, self.context(), python_type)

    def get(
        self,
        literal: Literal | str,
        *,
        as_type: Any = None,
        columns: Sequence[str] | None = None,
    ) -> Any:
        """The value of a literal (or of its JSON document).

        ``as_type`` picks the Python type to load as (a Parquet table as ``pyarrow.Table`` or
        ``polars.DataFrame``); ``columns`` reads only those columns of a table. A class the
        literal names (an Enum, a dataclass, a pydantic model) is used only when it is
        ``as_type``, registered with the type engine, or allowed by ``allowed_types`` and
        already imported (see :mod:`cargohold.core.types.trust`); nothing is imported.

        Raises:
            CorruptDataError: stored bytes fail their hash or size check.
            BlobNotFoundError: the referenced blob is missing.
            UntrustedTypeError: the literal names a class that is not trusted here.
            SerializationError: the literal is malformed or cannot be read as ``as_type``.
        """
        if isinstance(literal, str):
            literal = Literal.from_json(literal)
        return self.engine.to_python(literal, self.context(columns=columns), as_type)
