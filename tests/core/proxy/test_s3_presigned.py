"""Presigned S3 URLs against moto's S3 server over real HTTP.

moto checks neither signatures, expiry nor Content-MD5, so these tests check what is signed into
the URL (S3 itself enforces it) and what moto does enforce: ``If-None-Match: *``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from cargohold.core.errors import PathExistsError, ProxyError
from cargohold.core.hold import Cargohold
from cargohold.core.proxy import DataProxy, download, upload
from tests.core.proxy.conftest import make_artifact
from tests.support.services import S3Server

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_hold(s3_server: S3Server, s3_store_url: str, tmp_path: Path) -> Cargohold:
    return Cargohold(
        store_url=s3_store_url,
        store_options=s3_server.options(),
        catalog_url=f"sqlite:///{tmp_path / 'catalog.db'}",
    )


def _signed(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_presigned_upload_and_download(s3_hold: Cargohold, tmp_path: Path) -> None:
    proxy = DataProxy(hold=s3_hold)
    assert proxy.presigned
    data = os.urandom(1 << 20)
    md5 = hashlib.md5(data).digest()
    location = proxy.create_upload_location(
        project="p", domain="d", filename="blob.bin", content_md5=md5, expires_in=600
    )
    query = _signed(location.signed_url)
    assert query["X-Amz-Expires"] == ["600"]
    signed_headers = query["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-md5", "content-type", "if-none-match"} <= set(signed_headers)
    assert location.headers["Content-MD5"] == base64.b64encode(md5).decode()
    root = base64.b32encode(md5).decode().rstrip("=").lower()
    assert location.native_url == f"{s3_hold.store.url}/uploads/p/d/{root}/blob.bin"

    upload(url=location.signed_url, headers=location.headers, data=data)
    assert s3_hold.store.read_bytes(location.native_url) == data

    link = proxy.create_download_link(uri=location.native_url, expires_in=120)
    assert _signed(link.signed_url)["X-Amz-Expires"] == ["120"]
    target = tmp_path / "copy.bin"
    assert download(url=link.signed_url, local_path=str(target)) == len(data)
    assert target.read_bytes() == data


def test_existing_objects_are_not_overwritten(s3_hold: Cargohold) -> None:
    proxy = DataProxy(hold=s3_hold)
    data = b"v1"
    md5 = hashlib.md5(data).digest()
    first = proxy.create_upload_location(project="p", domain="d", filename="f", content_md5=md5)
    raced = proxy.create_upload_location(project="p", domain="d", filename="f", content_md5=md5)
    upload(url=first.signed_url, headers=first.headers, data=data)
    # the second upload was signed with If-None-Match: * while the object did not exist yet
    with pytest.raises(ProxyError, match="412"):
        upload(url=raced.signed_url, headers=raced.headers, data=data)
    # the same content again: a location without the condition (idempotent)
    again = proxy.create_upload_location(project="p", domain="d", filename="f", content_md5=md5)
    assert "If-None-Match" not in again.headers
    assert again.native_url == first.native_url
    # other content at a fixed root: refused up front
    named = proxy.create_upload_location(project="p", domain="d", filename="g", filename_root="r")
    upload(url=named.signed_url, headers=named.headers, data=b"one")
    with pytest.raises(PathExistsError):
        proxy.create_upload_location(
            project="p",
            domain="d",
            filename="g",
            filename_root="r",
            content_md5=hashlib.md5(b"two").digest(),
        )
    with pytest.raises(ProxyError, match="maximum"):
        proxy.create_upload_location(project="p", domain="d", filename="h", expires_in=7200)


def test_artifact_links_and_get_data_on_s3(s3_hold: Cargohold, tmp_path: Path) -> None:
    payload = os.urandom(150_000)
    artifact = make_artifact(s3_hold, payload=payload)
    proxy = DataProxy(hold=s3_hold)
    link = proxy.create_download_link(artifact=artifact, output="frame")
    download(url=link.signed_url, local_path=str(tmp_path / "a"))
    assert (tmp_path / "a").read_bytes() == payload
    got = proxy.get_data("cargohold://default/development/orders/date=2026-11-01/frame")
    assert got.data == payload
    assert got.metadata["uri"].startswith("s3://")
    s3_hold.catalog.close()
