"""The proxy at the trust boundary: links never reach outside the store, the expiry cap holds at
verification, MD5-less uploads are capped, and ``get_data`` bounds what it reads (issue 12)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import http.client
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings

from cargohold.core.errors import CargoholdError, PathEscapeError, ProxyError, SerializationError
from cargohold.core.hold import Cargohold
from cargohold.core.proxy import DataProxy, UrlSigner, upload
from cargohold.core.proxy.urls import CargoholdURL
from cargohold.core.types.literals import Literal
from cargohold.web import WebServer as ProxyServer
from tests.core.proxy.conftest import SECRET
from tests.support import hostile


def _get(url: str) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_a_symlink_out_of_the_store_is_not_served(
    server: ProxyServer, hold: Cargohold, tmp_path: Path
) -> None:
    secret_file = tmp_path / "outside" / "secret.txt"
    secret_file.parent.mkdir()
    secret_file.write_text("do not serve")
    inside = Path(hold.store.root) / "uploads" / "p" / "d" / "r"
    inside.mkdir(parents=True)
    (inside / "link.txt").symlink_to(secret_file)
    (inside / "plain.txt").write_text("fine")
    url, _ = server.proxy.signer.sign(
        base_url=server.url, method="GET", path="uploads/p/d/r/link.txt", seconds=60
    )
    status, body = _get(url)
    assert status == 403, body
    assert b"do not serve" not in body
    plain, _ = server.proxy.signer.sign(
        base_url=server.url, method="GET", path="uploads/p/d/r/plain.txt", seconds=60
    )
    assert _get(plain) == (200, b"fine")
    with pytest.raises(PathEscapeError, match="outside the store"):
        server.proxy.create_download_link(uri=hold.store.uri("uploads/p/d/r/link.txt"))


def test_an_upload_through_a_symlinked_folder_is_refused(
    server: ProxyServer, hold: Cargohold, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (Path(hold.store.root) / "uploads").mkdir(parents=True)
    (Path(hold.store.root) / "uploads" / "p").symlink_to(outside, target_is_directory=True)
    data = b"payload"
    location = server.proxy.create_upload_location(
        project="p", domain="d", filename="x.bin", content_md5=hashlib.md5(data).digest()
    )
    with pytest.raises(ProxyError, match="403"):
        upload(url=location.signed_url, headers=location.headers, data=data)
    assert list(outside.rglob("*")) == []


def test_the_expiry_cap_is_enforced_when_verifying(server: ProxyServer, hold: Cargohold) -> None:
    path = hold.store.put_bytes(b"blob").uri
    relpath = server.proxy.relative_path(path)
    generous = UrlSigner(secret=SECRET, max_expires_in=server.proxy.max_expires_in * 10)
    url, _ = generous.sign(base_url=server.url, method="GET", path=relpath, seconds=5 * 3600)
    status, body = _get(url)
    assert status == 403
    assert b"beyond the cap" in body
    capped, _ = generous.sign(base_url=server.url, method="GET", path=relpath, seconds=3600)
    assert _get(capped) == (200, b"blob")
    query = dict(part.split("=", 1) for part in urlsplit(url).query.split("&"))
    with pytest.raises(ProxyError, match="beyond the cap"):
        server.proxy.signer.verify(method="GET", path=relpath, query=query)


def test_uploads_without_md5_are_capped(hold: Cargohold) -> None:
    with ProxyServer(hold=hold, max_upload_bytes=10) as server:
        big = server.proxy.create_upload_location(project="p", domain="d", filename="big.bin")
        with pytest.raises(ProxyError, match="413"):
            upload(url=big.signed_url, headers=big.headers, data=b"x" * 100)
        assert not hold.store.exists(server.proxy.relative_path(big.native_url))
        # a Content-MD5 header the uploader adds is not the signed MD5: the cap still holds
        body = b"x" * 100
        own_md5 = {
            **big.headers,
            "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        }
        with pytest.raises(ProxyError, match="413"):
            upload(url=big.signed_url, headers=own_md5, data=body)
        assert not hold.store.exists(server.proxy.relative_path(big.native_url))
        # a declared size above the cap is refused when the location is asked for
        assert server.proxy.max_upload_bytes == 10
        with pytest.raises(ProxyError, match="CARGOHOLD_PROXY_MAX_UPLOAD_BYTES"):
            server.proxy.create_upload_location(
                project="p", domain="d", filename="big.bin", content_length=11
            )
        sized = server.proxy.create_upload_location(
            project="p", domain="d", filename="sized.bin", content_length=10
        )
        assert sized.headers["Content-Length"] == "10"
        with pytest.raises(ProxyError, match="created for 10"):
            upload(url=sized.signed_url, headers=sized.headers, data=b"x" * 11)
        assert upload(url=sized.signed_url, headers=sized.headers, data=b"x" * 10)["status"] == 201
        small = server.proxy.create_upload_location(project="p", domain="d", filename="s.bin")
        assert upload(url=small.signed_url, headers=small.headers, data=b"x" * 10)["status"] == 201
        data = b"y" * 100
        pinned = server.proxy.create_upload_location(
            project="p", domain="d", filename="pinned.bin", content_md5=hashlib.md5(data).digest()
        )
        assert upload(url=pinned.signed_url, headers=pinned.headers, data=data)["status"] == 201
    assert hold.settings.proxy_max_upload_bytes == 1 << 30


def _artifact_url(hold: Cargohold, literal: Literal) -> str:
    name = f"ds{uuid.uuid4().hex[:8]}"
    hold.catalog.create_dataset(dataset=name)
    artifact = hold.catalog.create_artifact(dataset=name, data={"out": literal})
    return str(CargoholdURL.for_artifact(artifact, output="out"))


@pytest.mark.parametrize("claimed", [-1, 0, 10])
def test_get_data_reads_no_more_than_max_bytes(hold: Cargohold, claimed: int) -> None:
    """The issue's case: ``size: -1`` made ``get_data(max_bytes=1 MiB)`` return 8 MiB."""
    literal = hold.put(os.urandom(8 << 20))
    assert literal.blob is not None
    lying = dataclasses.replace(literal, blob=dataclasses.replace(literal.blob, size=claimed))
    proxy = DataProxy(hold=hold)
    if claimed < 0:  # refused when the catalog row is read back as a literal
        with pytest.raises(SerializationError, match="non-negative"):
            proxy.get_data(_artifact_url(hold, lying), max_bytes=1 << 20)
        return
    url = _artifact_url(hold, lying)
    with pytest.raises(ProxyError, match="limit of 1048576"):
        proxy.get_data(url, max_bytes=1 << 20)
    with pytest.raises(CargoholdError, match=f"{claimed} bytes"):
        proxy.get_data(url, max_bytes=16 << 20)  # read whole: the size does not match


def test_get_data_reads_honest_blobs(hold: Cargohold) -> None:
    data = os.urandom(3 << 20)
    url = _artifact_url(hold, hold.put(data))
    assert DataProxy(hold=hold).get_data(url, max_bytes=4 << 20).data == data
    with pytest.raises(ProxyError, match="max_bytes"):
        DataProxy(hold=hold).get_data(url, max_bytes=-1)


def test_fuzz_get_data(hold: Cargohold, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile literals recorded in the catalog: get_data succeeds within its limit or raises a
    CargoholdError; no new import; nothing written outside; bounded time."""
    hostile.warm_up()
    valid = [hold.put(value).to_dict() for value in (b"x" * 100_000, {"a": 1}, 3, "s")]
    uris = sorted({blob.uri for doc in valid for blob in Literal.from_dict(doc).blobs()})
    outside, cwd = tmp_path / "outside", tmp_path / "cwd"
    outside.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    proxy = DataProxy(hold=hold)
    hold.catalog.create_dataset(dataset="fuzzed")

    @settings(
        max_examples=150,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
        database=None,
    )
    @given(document=hostile.documents(valid, outside, uris))
    def fuzz(document: Any) -> None:
        with hostile.watched(outside=outside, cwd=cwd, bound=20.0) as check:
            try:
                literal = Literal.from_json(hostile.as_text(document))
                artifact = hold.catalog.create_artifact(dataset="fuzzed", data={"out": literal})
                url = str(CargoholdURL.for_artifact(artifact, output="out"))
                response = proxy.get_data(url, max_bytes=50_000)
                assert len(response.data) <= 50_000 or literal.blob is None
            except CargoholdError:
                pass
            check()

    fuzz()
