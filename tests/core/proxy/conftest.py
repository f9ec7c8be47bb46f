"""Fixtures of the proxy tests: a hold on a local store with a SQLite catalog, and a server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cargohold.core.catalog.objects import Artifact
from cargohold.core.hold import Cargohold
from cargohold.web import WebServer as ProxyServer

SECRET = "test-secret-0123456789"


@pytest.fixture
def hold(tmp_path: Path) -> Iterator[Cargohold]:
    """A hold on a fresh local store and SQLite catalog, with a proxy secret."""
    hold = Cargohold(
        store_url=(tmp_path / "store").as_uri(),
        catalog_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        proxy_secret=SECRET,
    )
    yield hold
    hold.catalog.close()


@pytest.fixture
def server(hold: Cargohold) -> Iterator[ProxyServer]:
    """The proxy server of ``hold`` on 127.0.0.1, on a free port."""
    with ProxyServer(hold=hold) as running:
        yield running


def make_artifact(
    hold: Cargohold, *, payload: bytes, name: str = "orders", day: str = "2026-11-01"
) -> Artifact:
    """A partitioned artifact with a blob output ``frame`` and an inline output ``stats``."""
    catalog = hold.catalog
    try:
        catalog.get_dataset(dataset=name)
    except Exception:
        catalog.create_dataset(dataset=name, partition_keys=["date"])
    return catalog.create_artifact(
        dataset=name,
        data={"frame": hold.put(payload), "stats": hold.put({"rows": 3})},
        partitions={"date": day},
        tags=[f"day-{day}"],
    )
