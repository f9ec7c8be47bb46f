"""The application over real HTTP (uvicorn on 127.0.0.1): JSON API, safety defaults, paging."""

from __future__ import annotations

import httpx
import pytest

from cargohold.core.errors import ConfigurationError
from cargohold.web import WebServer
from tests.web.conftest import Demo


def _get(server: WebServer, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(server.url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_every_page_has_a_json_twin(server: WebServer, demo: Demo) -> None:
    datasets = _get(server, "/api/datasets?q=raw").json()
    assert [d["name"] for d in datasets["datasets"]] == ["raw_orders"]
    ds = _get(server, datasets["datasets"][0]["path"].replace("/datasets", "/api/datasets")).json()
    assert sorted(a["partitions"]["date"] for a in ds["artifacts"]) == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-04",
    ]
    assert [m["label"] for m in ds["calendar"]] == ["November 2026"]
    art = _get(server, f"/api/artifacts/{demo.clean[0]}").json()
    frame = next(o for o in art["data"] if o["name"] == "frame")
    assert frame["rows"] == 53
    assert frame["content_hash"]
    assert frame["size"] > 0
    assert frame["preview"]["columns"] == ["order_id", "amount", "city"]
    assert art["reads"][0]["source"]["url"] == "http://dagster.example/runs/rep-1"
    preview = _get(server, f"/api/artifacts/{demo.raw[0]}/preview?rows=2&columns=1").json()
    assert preview["columns"] == ["order_id"]
    assert preview["rows"] == [[0], [1]]
    graph = _get(server, f"/api/lineage/artifacts/{demo.raw[0]}").json()
    kinds = sorted({n["kind"] for n in graph["nodes"]})
    assert kinds == ["artifact", "job"]
    assert graph["edges"]
    cache = _get(server, "/api/cache").json()
    assert [e["id"] for e in cache["entries"]] == [demo.cache_entry]
    run = _get(server, "/api/runs/etl/r-2026-11-01?task=clean").json()
    assert [a["id"] for a in run["written"]] == [demo.clean[0]]
    assert [a["id"] for a in run["read"]] == [demo.raw[0]]
    found = _get(
        server, "/api/resolve?url=cargohold://default/development/clean_orders:day-2026-11-02"
    )
    assert found.json()["artifact_id"] == demo.clean[1]


def test_errors_are_json_with_status(server: WebServer, demo: Demo) -> None:
    missing = _get(server, "/api/artifacts/nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["error"]
    bad = _get(server, f"/api/artifacts/{demo.raw[0]}/preview?rows=100000")
    assert bad.status_code == 400
    assert "rows" in bad.json()["error"]
    depth = _get(server, f"/api/lineage/artifacts/{demo.raw[0]}?depth=99")
    assert depth.status_code == 400
    assert _get(server, "/api/datasets?page_token=garbage").status_code == 400


def test_keyset_paging_of_datasets(server: WebServer, demo: Demo) -> None:
    seen: list[str] = []
    token = ""
    while True:
        page = _get(server, f"/api/datasets?limit=2&page_token={token}").json()
        seen += [d["name"] for d in page["datasets"]]
        token = page["next_token"]
        if not token:
            break
    assert sorted(seen) == sorted(set(seen))
    assert {"raw_orders", "clean_orders", "daily_report", "cache.etl.clean"} == set(seen)


def test_pages_are_read_only(server: WebServer, demo: Demo) -> None:
    for path in ("/", f"/artifacts/{demo.raw[0]}", "/api/cache"):
        answer = httpx.post(server.url + path, timeout=10)
        assert answer.status_code == 405
    headers = _get(server, "/").headers
    assert "script-src 'self'" in headers["content-security-policy"]


def test_binding_beyond_loopback_needs_a_token(demo: Demo) -> None:
    with pytest.raises(ConfigurationError, match="CARGOHOLD_UI_TOKEN"):
        WebServer(hold=demo.hold, host="0.0.0.0")
    WebServer(hold=demo.hold, host="0.0.0.0", token="t0k3n").stop()


def test_token_gate(demo: Demo) -> None:
    with WebServer(hold=demo.hold, token="s3cret") as server:
        assert _get(server, "/api/datasets").status_code == 401
        assert (
            _get(server, "/api/datasets", headers={"Authorization": "Bearer nope"}).status_code
            == 401
        )
        ok = _get(server, "/api/datasets", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        with httpx.Client(base_url=server.url, timeout=10, follow_redirects=True) as browser:
            page = browser.get("/?token=s3cret")
            assert page.status_code == 200
            assert "raw_orders" in page.text
            assert str(page.url) == server.url + "/"
            assert browser.get("/cache").status_code == 200  # the cookie carries it
        link = server.proxy.create_download_link(artifact=demo.raw[0], output="frame")
        assert httpx.get(link.signed_url, timeout=10).status_code == 200  # signed, no token


def _walk_one_by_one(
    demo: Demo, root: str, depth: int, max_nodes: int
) -> tuple[set[str], set[tuple[str, str]], bool]:
    """The lineage walk with a catalog call per artifact and direction (the reference)."""
    catalog = demo.hold.catalog
    seen, edges, truncated = {root}, set(), False
    queue = [(root, 0)]
    while queue:
        current, hops = queue.pop(0)
        if hops >= depth:
            continue
        near = [(u.id, (u.id, current)) for u in catalog.upstream(artifact_id=current)]
        near += [(d.id, (current, d.id)) for d in catalog.downstream(artifact_id=current)]
        for other, edge in near:
            if other not in seen:
                if len(seen) >= max_nodes:
                    truncated = True
                    continue
                seen.add(other)
                queue.append((other, hops + 1))
            edges.add(edge)
    return seen, edges, truncated


@pytest.mark.parametrize(("depth", "max_nodes"), [(0, 200), (1, 200), (3, 200), (3, 4), (2, 1)])
def test_lineage_graph_matches_the_one_by_one_walk(
    server: WebServer, demo: Demo, depth: int, max_nodes: int
) -> None:
    root = demo.clean[0]
    graph = _get(
        server, f"/api/lineage/artifacts/{root}?depth={depth}&max_nodes={max_nodes}"
    ).json()
    seen, edges, truncated = _walk_one_by_one(demo, root, depth, max_nodes)
    artifacts = {
        n["id"].removeprefix("artifact:") for n in graph["nodes"] if n["kind"] == "artifact"
    }
    assert artifacts == seen
    assert graph["truncated"] is truncated
    links = {(e["source"], e["target"]) for e in graph["edges"]}
    for up, _down in edges:  # every upstream artifact feeds the job (or artifact) below it
        assert any(source == f"artifact:{up}" for source, _ in links)
    page = _get(server, f"/lineage/artifacts/{root}?depth={depth}&max_nodes={max_nodes}").text
    assert '<script type="application/json" id="graph-data">' in page  # drawn without a refetch
