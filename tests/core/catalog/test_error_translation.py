"""A SQLite catalog whose directory cannot be created fails with a CatalogError naming it."""

from __future__ import annotations

import pytest

from cargohold.core.catalog import Catalog
from cargohold.core.errors import CatalogError


def test_sqlite_catalog_under_proc_is_a_catalog_error() -> None:
    catalog = Catalog(url="sqlite:////proc/nope/x.db")
    with pytest.raises(CatalogError, match="/proc/nope") as caught:
        catalog.list_datasets()
    assert isinstance(caught.value.__cause__, OSError)
