"""Benchmark: the web UI over a large PostgreSQL catalog, and a 200-node lineage graph in Chromium.

1. Seeds a throw-away PostgreSQL database with bench/catalog's COPY seeder (1,000,000 artifacts
   over 1,000 datasets x 365 daily partitions at ``--scale 1``), serves it with
   ``cargohold.web.WebServer`` (uvicorn) and measures, over real HTTP, the median server time
   (the app's ``Server-Timing: app;dur=`` header: time to the response's first byte inside the
   application) and the median round trip of: the datasets list (first page, a search, a later
   keyset page), a dataset page (HTML with its calendar, and its JSON), an artifact page.
2. Builds a SQLite catalog whose lineage graph around one artifact has 200 nodes (one artifact
   read by 99 tasks that each wrote one artifact: 100 artifacts + 100 jobs) and measures in
   headless Chromium the time from navigation start to the graph's first frame on the canvas
   (``data-painted-ms``: cytoscape's first ``render`` event), with its parts.

Bars (issue 16): list and dataset page <= 150 ms server time; the 200-node graph <= 1 s.
Usage::

    .venv/bin/python bench/web/run.py [--scale 1] [--repeat 30] [--skip-browser]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from cargohold.core.catalog import upgrade_schema  # noqa: E402
from cargohold.core.catalog.objects import ArtifactSource  # noqa: E402
from cargohold.core.hold import Cargohold  # noqa: E402
from cargohold.web import WebServer  # noqa: E402

SECRET = "bench-web-secret-0123456789"


def _catalog_bench() -> Any:
    spec = importlib.util.spec_from_file_location("catalog_bench", REPO / "bench/catalog/run.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("bench/catalog/run.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(client: httpx.Client, path: str, repeat: int) -> tuple[float, float, int]:
    """Median server ms, median round-trip ms and the body size of GET ``path``."""
    server, total = [], []
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path)
        total.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
        timing = answer.headers["server-timing"]
        server.append(float(timing.split("dur=")[1]))
        size = len(answer.content)
    return statistics.median(server), statistics.median(total), size


def catalog_pages(args: argparse.Namespace) -> list[tuple[str, float, float, int]]:
    bench = _catalog_bench()
    datasets = max(1, round(1000 * args.scale))
    db = args.database or f"cargohold_webbench_{uuid.uuid4().hex[:8]}"
    url = f"{args.server}/{db}"
    keep = args.keep or bool(args.database)
    if not args.database:
        with psycopg.connect(
            f"{args.server}/postgres", connect_timeout=10, autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{db}"')
    rows: list[tuple[str, float, float, int]] = []
    try:
        if args.database:
            with psycopg.connect(url, connect_timeout=10) as conn:
                found = conn.execute(
                    "SELECT id, name FROM catalog_datasets ORDER BY name"
                ).fetchall()
            names = [(str(u), str(n)) for u, n in found]
            print(f"reusing {db}: {len(names):,} datasets")
        else:
            upgrade_schema(url)
            start = time.perf_counter()
            names = bench.seed(url, datasets=datasets)
            print(
                f"seeded {datasets * bench.PER_DATASET:,} artifacts over {datasets:,} datasets "
                f"with COPY in {time.perf_counter() - start:.1f} s into {db}"
            )
        with tempfile.TemporaryDirectory() as tmp:
            hold = Cargohold(
                store_url=Path(tmp).as_uri(),
                catalog_url=url,
                project="bench",
                domain="production",
                proxy_secret=SECRET,
            )
            with (
                WebServer(hold=hold) as server,
                httpx.Client(base_url=server.url, timeout=60) as client,
            ):
                first = client.get("/api/datasets?limit=5").json()
                token = first["next_token"]
                middle = names[len(names) // 2][1]
                ds_path = f"/datasets/bench/production/{middle}/1"
                artifact = client.get("/api" + ds_path).json()["artifacts"][0]["id"]
                cases = [
                    ("datasets list, first page (HTML)", "/"),
                    ("datasets list, search (HTML)", f"/?q={middle[:-1]}"),
                    (
                        "datasets list, 2nd keyset page (JSON)",
                        f"/api/datasets?limit=5&page_token={token}",
                    ),
                    ("dataset page, 100 artifacts + calendar (HTML)", ds_path),
                    ("dataset page (JSON)", "/api" + ds_path),
                    ("artifact page (HTML)", f"/artifacts/{artifact}"),
                ]
                for _, path in cases:  # warm caches once
                    client.get(path)
                for label, path in cases:
                    rows.append((label, *timed(client, path, args.repeat)))
            hold.catalog.close()
    finally:
        if not keep:
            with psycopg.connect(
                f"{args.server}/postgres", connect_timeout=10, autocommit=True
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    return rows


def lineage_in_browser(repeat: int) -> tuple[int, float, list[float], dict[str, float]]:
    """Nodes drawn, the median ms from navigation start to the 200-node graph's first frame on
    the canvas (and the samples), and the medians of its parts: the page's first byte, its graph
    JSON parsed, cytoscape built and laid out, and the graph API's server ms."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.web.browser import FLAGS

    with tempfile.TemporaryDirectory() as tmp:
        hold = Cargohold(
            store_url=(Path(tmp) / "store").as_uri(),
            catalog_url=f"sqlite:///{tmp}/c.db",
            proxy_secret=SECRET,
        )
        catalog = hold.catalog
        catalog.create_dataset(dataset="source")
        catalog.create_dataset(dataset="derived", partition_keys=["n"])
        root = catalog.create_artifact(
            dataset="source",
            data={"v": hold.put(0)},
            source=ArtifactSource(orchestrator="airflow", job="etl", run_id="r0", task="load"),
        )
        for n in range(99):
            src = ArtifactSource(orchestrator="airflow", job="etl", run_id="r1", task=f"t{n:02d}")
            catalog.record_read(artifact_id=root.id, source=src)
            catalog.create_artifact(
                dataset="derived", data={"v": hold.put(n)}, partitions={"n": str(n)}, source=src
            )
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for flag in FLAGS:
            options.add_argument(flag)
        driver = webdriver.Chrome(
            service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
            options=options,
        )
        samples: list[float] = []
        ready: list[float] = []
        first_byte: list[float] = []
        fetched: list[float] = []
        api: list[float] = []
        nodes = 0
        try:
            with WebServer(hold=hold) as server:
                for _ in range(repeat + 1):
                    driver.get(f"{server.url}/lineage/artifacts/{root.id}?max_nodes=500")
                    WebDriverWait(driver, 60).until(
                        lambda d: d.find_element("id", "graph").get_attribute("data-painted-ms")
                    )
                    graph = driver.find_element("id", "graph")
                    nodes = int(graph.get_attribute("data-nodes") or 0)
                    samples.append(float(graph.get_attribute("data-painted-ms") or "nan"))
                    ready.append(float(graph.get_attribute("data-ready-ms") or "nan"))
                    fetched.append(float(graph.get_attribute("data-fetched-ms") or "nan"))
                    first_byte.append(
                        float(
                            driver.execute_script(
                                "return performance.getEntriesByType('navigation')[0].responseStart"
                            )
                        )
                    )
                    answer = httpx.get(
                        f"{server.url}/api/lineage/artifacts/{root.id}?max_nodes=500", timeout=60
                    )
                    api.append(float(answer.headers["server-timing"].split("dur=")[1]))
        finally:
            driver.quit()
            catalog.close()
        samples = samples[1:]  # the first load also starts the browser's caches
        parts = {
            "first byte": statistics.median(first_byte[1:]),
            "graph JSON parsed": statistics.median(fetched[1:]),
            "cytoscape laid out": statistics.median(ready[1:]),
            "API server ms": statistics.median(api[1:]),
        }
        return nodes, statistics.median(samples), samples, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--database", help="reuse this seeded database (from --keep)")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--only-browser", action="store_true", help="skip the catalog pages")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    rows = [] if args.only_browser else catalog_pages(args)
    print(f"\n{'page':<48}{'server ms':>10}{'round trip ms':>15}{'bytes':>9}  bar 150 ms")
    for label, server_ms, total_ms, size in rows:
        verdict = "ok" if server_ms <= 150 else "ABOVE"
        print(f"{label:<48}{server_ms:>10.1f}{total_ms:>15.1f}{size:>9}  {verdict}")
    if not args.skip_browser:
        nodes, median, samples, parts = lineage_in_browser(max(3, args.repeat // 5))
        verdict = "ok" if median <= 1000 else "ABOVE"
        print(
            f"\nlineage page, {nodes}-node graph in Chromium: median {median:.0f} ms from "
            f"navigation start to its first frame drawn (samples {[round(s) for s in samples]}); "
            f"bar 1000 ms: {verdict}\n  medians, ms after navigation start: "
            + ", ".join(f"{k} {v:.0f}" for k, v in parts.items())
        )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
