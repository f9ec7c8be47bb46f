"""The CLI through its in-process runner: ``main(argv)`` with captured output."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from cargohold.cli.main import main
from cargohold.core.catalog import Catalog
from cargohold.core.hold import Cargohold
from cargohold.core.proxy import download
from cargohold.web import WebServer as ProxyServer
from tests.cli.conftest import Demo

URL = "cargohold://default/development"


def test_datasets_ls(run: Any) -> None:
    table = run("datasets", "ls")
    assert table.code == 0
    assert table.stdout.splitlines()[0].split() == [
        "PROJECT",
        "DOMAIN",
        "NAME",
        "VERSION",
        "PARTITION",
        "KEYS",
        "CREATED",
    ]
    assert "raw_orders" in table.stdout
    listed = run("datasets", "ls", "--json").json()
    assert [d["name"] for d in listed] == ["clean_orders", "daily_report", "raw_orders"]
    assert run("--json", "datasets", "ls", "--name-prefix", "raw").json()[0]["partition_keys"] == [
        "date"
    ]


def test_artifacts_ls_and_show(run: Any, demo: Demo) -> None:
    page = run("artifacts", "ls", "raw_orders", "-p", "date=2026-11-02", "--json").json()
    assert [a["id"] for a in page["items"]] == [demo.raw[1]]
    everything = run("artifacts", "ls", "--json").json()["items"]
    assert len(everything) == 5
    assert "clean_orders" in run("artifacts", "ls").stdout
    shown = run("artifacts", "show", demo.clean[0], "--json").json()
    assert shown["url"] == f"{URL}/clean_orders@1/date=2026-11-01"
    assert shown["tags"] == ["day-2026-11-01"]
    by_url = run("artifacts", "show", f"{URL}/clean_orders:day-2026-11-01")
    assert by_url.code == 0
    assert demo.clean[0] in by_url.stdout
    assert "airflow etl/c-2026-11-01 clean" in by_url.stdout


def test_query_latest(run: Any, demo: Demo) -> None:
    pinned = run("query", "latest", "clean_orders", "-p", "date=2026-11-01", "--json").json()
    assert pinned["id"] == demo.clean[0]
    newest = run("query", "latest", "default/development/raw_orders", "--json").json()
    assert newest["id"] in demo.raw
    missing = run("query", "latest", "clean_orders", "-p", "date=1999-01-01")
    assert missing.code == 1
    assert missing.stderr.count("\n") == 1
    assert "cargohold artifacts ls" in missing.stderr


def test_get_values(run: Any, demo: Demo) -> None:
    assert run("artifacts", "get", f"{URL}/daily_report").stdout.strip().startswith("{")
    assert json.loads(run("artifacts", "get", f"{URL}/daily_report").stdout) == {"total": 2001}
    value = run("artifacts", "get", demo.clean[1], "--json").json()
    assert value["value"] == 1001
    assert value["metadata"]["inline"] == "true"
    blob = run("artifacts", "get", demo.raw[0])
    assert blob.code == 1
    assert "artifacts download" in blob.stderr


def test_download_with_progress(run: Any, demo: Demo, tmp_path: Path) -> None:
    target = tmp_path / "raw.bin"
    done = run("artifacts", "download", f"{URL}/raw_orders/date=2026-11-01/frame",
               "-o", str(target), "--progress", "--json")  # fmt: skip
    assert done.code == 0, done.stderr
    assert target.read_bytes() == demo.payload + b"2026-11-01"
    assert done.json()["size"] == len(demo.payload) + 10
    assert "100.0%" in done.stderr
    inline = run("artifacts", "download", demo.clean[0])
    assert inline.code == 1
    assert "inline" in inline.stderr


def test_lineage_tree_mermaid_and_json(run: Any, demo: Demo) -> None:
    tree = run("lineage", demo.report).stdout.splitlines()
    assert tree[0].startswith("● daily_report v1")
    assert sum("clean_orders v1" in line for line in tree) == 2
    assert sum("raw_orders v1" in line for line in tree) == 2
    assert "(none recorded)" in tree[-1]
    shallow = run("lineage", demo.report, "--depth", "1").stdout
    assert "raw_orders" not in shallow
    mermaid = run("lineage", demo.clean[0], "--mermaid").stdout.splitlines()
    assert mermaid[0] == "flowchart LR"
    assert sum("-->" in line for line in mermaid) == 2
    graph = run("lineage", demo.raw[0], "--json").json()
    assert graph["root"] == demo.raw[0]
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {
        (demo.raw[0], demo.clean[0]),
        (demo.clean[0], demo.report),
    }


def test_gc_and_cache(run: Any, demo: Demo) -> None:
    from cargohold.core.cache import CacheService, compute_key

    report = run("gc", "--json").json()
    assert report["dry_run"] is True
    assert report["count"] == 0
    assert run("gc", "--grace-hours", "-1").code == 1
    assert run("cache", "ls", "--json").json() == []
    catalog = demo.hold.catalog
    service = CacheService(catalog=catalog)
    for n in range(2):
        key = compute_key(task="etl.features", version="1", inputs={"n": demo.hold.put(n)})
        service.put(key, {"o0": demo.hold.put(b"x" * 70_000 + bytes([n]))})
    catalog.close()
    entries = run("cache", "ls", "--json").json()
    assert [e["task"] for e in entries] == ["etl.features", "etl.features"]
    assert "etl.features" in run("cache", "ls").stdout
    assert run("cache", "rm").code == 1
    removed = run("cache", "rm", entries[0]["id"], "--json").json()
    assert removed == {"removed": [entries[0]["id"]]}
    assert run("cache", "rm", "--task", "etl.features").code == 0
    assert run("cache", "ls", "--json").json() == []


def test_link_and_serve_in_process(run: Any, demo: Demo, tmp_path: Path) -> None:
    with ProxyServer(hold=demo.hold) as server:
        link = run("artifacts", "link", demo.raw[1], "--proxy-url", server.url,
                   "--expires-in", "60", "--json")  # fmt: skip
        assert link.code == 0, link.stderr
        download(url=link.json()["signed_url"], local_path=str(tmp_path / "via-link"))
    assert (tmp_path / "via-link").read_bytes() == demo.payload + b"2026-11-02"
    too_long = run("artifacts", "link", demo.raw[1], "--expires-in", "7200")
    assert too_long.code == 1
    assert "maximum" in too_long.stderr


def test_overrides_init_and_usage(
    run: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh"
    args = ["--store-url", (fresh / "store").as_uri(),
            "--catalog-url", f"sqlite:///{fresh / 'db' / 'catalog.db'}"]  # fmt: skip
    init = run("init", *args, "--json")
    assert init.code == 0, init.stderr
    assert init.json()["revision"]
    assert (fresh / "store").is_dir()
    assert run("datasets", "ls", *args, "--json").json() == []
    assert run("db", "upgrade", *args).stdout.startswith("catalog ")
    assert main(["artifacts", "frobnicate"]) == 2
    assert main(["--help"]) == 0
    assert "usage: cargohold" in capsys.readouterr().out


def test_postgres_catalog(run: Any, postgres_url: str, tmp_path: Path) -> None:
    project = f"cli{uuid.uuid4().hex[:8]}"  # the session's database may be shared
    store = (tmp_path / "pg-store").as_uri()
    args = ["--catalog-url", postgres_url, "--store-url", store, "--project", project]
    assert run("init", *args).code == 0
    hold = Cargohold(catalog_url=postgres_url, store_url=store, project=project)
    from tests.cli.conftest import populate

    catalog = Catalog.from_settings(hold.settings)
    _, clean, report, _ = populate(hold, catalog)
    catalog.close()
    listed = run("datasets", "ls", *args, "--json").json()
    assert [d["name"] for d in listed] == ["clean_orders", "daily_report", "raw_orders"]
    latest = run("query", "latest", "clean_orders", "-p", "date=2026-11-02", *args, "--json")
    assert latest.json()["id"] == clean[1]
    assert "raw_orders v1" in run("lineage", report, *args).stdout
