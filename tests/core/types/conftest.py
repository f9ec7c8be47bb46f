from __future__ import annotations

from pathlib import Path

import pytest

from cargohold import Cargohold


@pytest.fixture
def hold(tmp_path: Path) -> Cargohold:
    return Cargohold(
        store_url=f"file://{tmp_path}/store", catalog_url=f"sqlite:///{tmp_path}/catalog.db"
    )
