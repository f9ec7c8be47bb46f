"""Web UI fixtures: a catalog with frames, dates, lineage and a cache entry, and a server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from cargohold.core.cache import CacheService
from cargohold.core.cache.keys import compute_key
from cargohold.core.catalog.objects import ArtifactSource
from cargohold.core.hold import Cargohold
from cargohold.web import WebServer

SECRET = "web-test-secret-0123456789"
DAYS = ("2026-11-01", "2026-11-02", "2026-11-04")


@dataclass
class Demo:
    """raw_orders (3 days, frames) -> clean_orders -> daily_report, plus a cache entry."""

    hold: Cargohold
    raw: list[str]
    clean: list[str]
    report: str
    cache_entry: str


def populate(hold: Cargohold) -> Demo:
    """Fill ``hold``'s catalog (see :class:`Demo`)."""
    catalog = hold.catalog
    for name in ("raw_orders", "clean_orders"):
        catalog.create_dataset(dataset=name, partition_keys=["date"])
    catalog.create_dataset(dataset="daily_report", partition_keys=["region"])
    raw, clean = [], []
    for n, day in enumerate(DAYS):
        frame = pd.DataFrame(
            {
                "order_id": range(n * 100, n * 100 + 60),
                "amount": [1.5 * i for i in range(60)],
                "city": ["Oslo", "Lima", "Pune"] * 20,
            }
        )
        ingest = ArtifactSource(orchestrator="airflow", job="etl", run_id=f"r-{day}", task="ingest")
        r = catalog.create_artifact(
            dataset="raw_orders",
            data={"frame": hold.put(frame)},
            partitions={"date": day},
            source=ingest,
        )
        cleaner = ArtifactSource(orchestrator="airflow", job="etl", run_id=f"r-{day}", task="clean")
        catalog.record_read(artifact_id=r.id, source=cleaner)
        c = catalog.create_artifact(
            dataset="clean_orders",
            data={"frame": hold.put(frame[frame.amount > 10]), "rows": hold.put(len(frame))},
            partitions={"date": day},
            source=cleaner,
            tags=[f"day-{day}"],
        )
        raw.append(r.id)
        clean.append(c.id)
    reporter = ArtifactSource(orchestrator="dagster", job="reports", run_id="rep-1", task="report")
    for c_id in clean:
        catalog.record_read(artifact_id=c_id, source=reporter)
    report = catalog.create_artifact(
        dataset="daily_report",
        data={"summary": hold.put({"total": 2001})},
        partitions={"region": "emea"},
        source=reporter,
    )
    key = compute_key(task="etl.clean", version="1", inputs={"day": hold.put("2026-11-01")})
    entry = CacheService(catalog=catalog).put(key, {"n": hold.put(3)})
    return Demo(hold=hold, raw=raw, clean=clean, report=report.id, cache_entry=entry.artifact_id)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """A populated hold on a local store and a SQLite catalog."""
    hold = Cargohold(
        store_url=(tmp_path / "store").as_uri(),
        catalog_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        proxy_secret=SECRET,
    )
    yield populate(hold)
    hold.catalog.close()


@pytest.fixture
def server(demo: Demo) -> Iterator[WebServer]:
    """The web application of ``demo`` on 127.0.0.1 (free port), linking to both UIs."""
    with WebServer(
        hold=demo.hold, airflow_url="http://airflow.example", dagster_url="http://dagster.example"
    ) as running:
        yield running
