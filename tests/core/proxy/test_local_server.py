"""The proxy server over real HTTP on 127.0.0.1: upload, download, expiry, tamper, MD5, paths."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cargohold.core.errors import (
    ConfigurationError,
    PathEscapeError,
    PathExistsError,
    ProxyError,
)
from cargohold.core.hold import Cargohold
from cargohold.core.proxy import DataProxy, download, upload
from cargohold.web import WebServer as ProxyServer
from tests.core.proxy.conftest import make_artifact


def _request(
    method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        conn.request(method, f"{parts.path}?{parts.query}", body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _store_files(hold: Cargohold, under: str) -> list[str]:
    root = Path(hold.store.root) / under
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_upload_then_download(server: ProxyServer, hold: Cargohold, tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    location = server.proxy.create_upload_location(
        project="p", domain="d", filename="orders.bin", content_md5=_md5(data)
    )
    assert location.headers["Content-MD5"] == base64.b64encode(_md5(data)).decode()
    answer = upload(url=location.signed_url, headers=location.headers, data=data)
    assert answer["status"] == 201
    native = location.native_url
    assert native.startswith(hold.store.url + "/uploads/p/d/")
    assert hold.store.read_bytes(native) == data

    link = server.proxy.create_download_link(uri=native, expires_in=60)
    seen: list[int] = []
    target = tmp_path / "copy.bin"
    assert download(
        url=link.signed_url, local_path=str(target), progress=lambda d, t: seen.append(d)
    ) == len(data)
    assert target.read_bytes() == data
    assert seen[-1] == len(data)
    status, body = _request("HEAD", link.signed_url)
    assert (status, body) == (200, b"")


def test_deterministic_path_and_no_overwrite(server: ProxyServer, hold: Cargohold) -> None:
    proxy = server.proxy
    data = b"first version"
    one = proxy.create_upload_location(
        project="p", domain="d", filename="f.csv", content_md5=_md5(data)
    )
    two = proxy.create_upload_location(
        project="p", domain="d", filename="f.csv", content_md5=_md5(data).hex()
    )
    assert one.native_url == two.native_url
    root = base64.b32encode(_md5(data)).decode().rstrip("=").lower()
    assert one.native_url.endswith(f"/uploads/p/d/{root}/f.csv")
    other = proxy.create_upload_location(
        project="p", domain="d", filename="g.csv", content_md5=_md5(data)
    )
    assert other.native_url != one.native_url
    assert upload(url=one.signed_url, headers=one.headers, data=data)["status"] == 201
    # identical bytes again: accepted, idempotent
    assert upload(url=two.signed_url, headers=two.headers, data=data)["status"] == 200
    # a fixed root with other content: refused up front, and by the server
    named = proxy.create_upload_location(project="p", domain="d", filename="x", filename_root="r")
    upload(url=named.signed_url, headers=named.headers, data=b"one")
    with pytest.raises(PathExistsError):
        proxy.create_upload_location(project="p", domain="d", filename="x", filename_root="r")
    late = proxy.create_upload_location(project="p", domain="d", filename="y", filename_root="r")
    Path(hold.store.root, "uploads/p/d/r/y").write_bytes(b"someone else")
    with pytest.raises(ProxyError, match="409"):
        upload(url=late.signed_url, headers=late.headers, data=b"mine")
    assert Path(hold.store.root, "uploads/p/d/r/y").read_bytes() == b"someone else"


def test_md5_mismatch_stores_nothing(server: ProxyServer, hold: Cargohold) -> None:
    location = server.proxy.create_upload_location(
        project="p", domain="d", filename="a.bin", content_md5=_md5(b"expected")
    )
    with pytest.raises(ProxyError, match="BadDigest"):
        upload(url=location.signed_url, headers=location.headers, data=b"something else")
    assert _store_files(hold, "uploads") == []
    assert _store_files(hold, ".tmp") == []
    # a Content-MD5 header that disagrees with the signed MD5 is refused too
    wrong = dict(location.headers, **{"Content-MD5": base64.b64encode(_md5(b"x")).decode()})
    status, _ = _request("PUT", location.signed_url, body=b"x", headers=wrong)
    assert status == 403
    assert _store_files(hold, "uploads") == []


def test_expired_links_get_403(hold: Cargohold, server: ProxyServer) -> None:
    blob = hold.store.put_bytes(b"payload")
    past = DataProxy(hold=hold, base_url=server.url, clock=lambda: time.time() - 3600)
    link = past.create_download_link(uri=blob.uri, expires_in=60)
    status, body = _request("GET", link.signed_url)
    assert status == 403
    assert "expired" in json.loads(body)["error"]
    with pytest.raises(ProxyError, match="403"):
        download(url=link.signed_url, local_path=str(Path(hold.store.root).parent / "x"))
    location = past.create_upload_location(
        project="p", domain="d", filename="late.bin", expires_in=60
    )
    status, _ = _request("PUT", location.signed_url, body=b"late", headers=dict(location.headers))
    assert status == 403
    assert _store_files(hold, "uploads") == []


def test_short_links_expire_in_real_time(hold: Cargohold, server: ProxyServer) -> None:
    blob = hold.store.put_bytes(b"soon gone")
    link = server.proxy.create_download_link(uri=blob.uri, expires_in=1)
    assert _request("GET", link.signed_url) == (200, b"soon gone")
    time.sleep(max(0.0, link.expires_at.timestamp() - time.time()) + 0.05)
    assert _request("GET", link.signed_url)[0] == 403


@pytest.mark.parametrize("part", ["path", "expires", "sig", "method", "secret"])
def test_tampered_links_get_403(hold: Cargohold, server: ProxyServer, part: str) -> None:
    one = hold.store.put_bytes(b"one")
    two = hold.store.put_bytes(b"two")
    link = server.proxy.create_download_link(uri=one.uri).signed_url
    if part == "path":
        link = link.replace(one.hash, two.hash)
    elif part == "expires":
        head, _, tail = link.partition("expires=")
        link = head + "expires=9" + tail
    elif part == "sig":
        link = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    elif part == "secret":
        link = (
            DataProxy(hold=hold, base_url=server.url, secret="guess")
            .create_download_link(uri=one.uri)
            .signed_url
        )
    method = "PUT" if part == "method" else "GET"
    status, body = _request(method, link, body=b"x" if method == "PUT" else None)
    assert status == 403, body
    assert hold.store.read_bytes(one.uri) == b"one"


def test_unknown_route_missing_file_and_escape(hold: Cargohold, server: ProxyServer) -> None:
    assert _request("GET", f"{server.url}/elsewhere?x=1")[0] == 404
    link = server.proxy.signer.sign(base_url=server.url, method="GET", path="nope/x", seconds=60)[0]
    assert _request("GET", link)[0] == 404
    with pytest.raises(PathEscapeError):
        server.proxy.create_download_link(uri="file:///etc/passwd")
    escape = server.proxy.signer.sign(base_url=server.url, method="GET", path="../x", seconds=60)[0]
    assert _request("GET", escape)[0] == 400
    with pytest.raises(ProxyError):
        server.proxy.create_upload_location(project="p", domain="d", filename="../../evil")


def test_links_to_artifacts_and_get_data(
    hold: Cargohold, server: ProxyServer, tmp_path: Path
) -> None:
    payload = os.urandom(200_000)
    artifact = make_artifact(hold, payload=payload)
    proxy = server.proxy
    url = "cargohold://default/development/orders/date=2026-11-01"
    link = proxy.create_download_link(artifact=f"{url}/frame")
    download(url=link.signed_url, local_path=str(tmp_path / "f"))
    assert (tmp_path / "f").read_bytes() == payload
    by_id = proxy.create_download_link(artifact=artifact.id, output="frame")
    assert _request("GET", by_id.signed_url) == (200, payload)
    with pytest.raises(ProxyError, match="inline"):
        proxy.create_download_link(artifact=artifact, output="stats")
    with pytest.raises(ProxyError, match="outputs"):
        proxy.get_data(url)

    blob = proxy.get_data(f"{url}/frame")
    assert blob.data == payload
    assert blob.metadata["artifact_id"] == artifact.id
    assert blob.metadata["size"] == str(len(payload))
    assert blob.metadata["url"] == "cargohold://default/development/orders@1/date=2026-11-01/frame"
    inline = proxy.get_data("cargohold://default/development/orders:day-2026-11-01/stats")
    assert json.loads(inline.data) == {"rows": 3}
    assert inline.metadata["inline"] == "true"
    assert proxy.get_data(blob.metadata["url"]).data == payload
    with pytest.raises(ProxyError, match="limit"):
        proxy.get_data(f"{url}/frame", max_bytes=10)


def test_server_needs_a_secret(tmp_path: Path) -> None:
    bare = Cargohold(store_url=(tmp_path / "s").as_uri(), catalog_url="sqlite://")
    with pytest.raises(ConfigurationError, match="CARGOHOLD_PROXY_SECRET"):
        ProxyServer(hold=bare)


@pytest.mark.parametrize("size", [0, 1, (1 << 20) + 1, 2 << 20])
def test_download_sizes_around_the_slice_size(
    server: ProxyServer, hold: Cargohold, tmp_path: Path, size: int
) -> None:
    """The local GET sends 1 MiB slices of a memory map: every byte arrives, an empty file
    included, whether or not the size is a multiple of the slice."""
    data = os.urandom(size)
    source = tmp_path / "blob.bin"
    source.write_bytes(data)
    blob = hold.store.put_file(str(source))
    link = server.proxy.create_download_link(uri=blob.uri, expires_in=60)
    assert _request("GET", link.signed_url) == (200, data)


def test_a_client_leaving_mid_download_does_not_stop_the_server(
    server: ProxyServer, hold: Cargohold, tmp_path: Path
) -> None:
    data = os.urandom(8 << 20)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    blob = hold.store.put_file(str(source))
    link = server.proxy.create_download_link(uri=blob.uri, expires_in=60)
    parts = urlsplit(link.signed_url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    conn.request("GET", f"{parts.path}?{parts.query}")
    response = conn.getresponse()
    assert response.read(1000) == data[:1000]
    conn.close()  # gone after 1000 bytes of 8 MiB
    assert _request("GET", link.signed_url) == (200, data)
