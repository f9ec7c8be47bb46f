"""Presigned S3 URLs against moto's S3 server over real HTTP.

moto checks neither signatures, expiry nor Content-MD5, so these tests check what is signed into
the URL (S3 itself enforces it), that the signature commits to it (recomputed the way S3 checks
it, with botocore's own signer), and what moto does enforce: ``If-None-Match: *``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

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


def _s3_accepts(url: str, headers: dict[str, str]) -> bool:
    """Whether S3 would accept a PUT of ``url`` sent with ``headers``: the SigV4 query
    signature recomputed over the request as sent (what S3 does; moto does not)."""
    query = _signed(url)
    unsigned = url.split("&X-Amz-Signature=", 1)[0]
    request = AWSRequest(method="PUT", url=unsigned, headers=headers)
    request.headers["Host"] = urlsplit(url).netloc
    request.context["timestamp"] = query["X-Amz-Date"][0]
    auth = S3SigV4QueryAuth(Credentials("testing", "testing"), "s3", "us-east-1")
    names = set(query["X-Amz-SignedHeaders"][0].split(";"))
    for name in list(request.headers.keys()):
        if name.lower() not in names:
            del request.headers[name]
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    return bool(expected == query["X-Amz-Signature"][0])


def _listing(hold: Cargohold) -> list[str]:
    return sorted(hold.store.fs.find(hold.store.uri("uploads")))


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
    named = proxy.create_upload_location(
        project="p", domain="d", filename="g", filename_root="r", content_length=3
    )
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


@pytest.fixture
def capped(s3_server: S3Server, s3_store_url: str, tmp_path: Path) -> Iterator[DataProxy]:
    """A proxy on an S3 store whose MD5-less uploads hold at most 1000 bytes."""
    hold = Cargohold(
        store_url=s3_store_url,
        store_options=s3_server.options(),
        catalog_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        proxy_max_upload_bytes=1000,
    )
    yield DataProxy(hold=hold)
    hold.catalog.close()


def test_an_upload_without_md5_within_the_cap_arrives(capped: DataProxy) -> None:
    assert capped.max_upload_bytes == 1000
    data = os.urandom(1000)
    fits = capped.create_upload_location(
        project="p", domain="d", filename="fits.bin", content_length=len(data)
    )
    assert "content-length" in _signed(fits.signed_url)["X-Amz-SignedHeaders"][0].split(";")
    assert fits.headers["Content-Length"] == "1000"
    assert _s3_accepts(fits.signed_url, dict(fits.headers))
    # the signature commits to the length: S3 refuses a body of any other size
    assert not _s3_accepts(fits.signed_url, {**fits.headers, "Content-Length": "1001"})
    upload(url=fits.signed_url, headers=fits.headers, data=data)
    assert capped.hold.store.read_bytes(fits.native_url) == data
    assert _listing(capped.hold) == [fits.native_url.removeprefix("s3://")]


def test_an_upload_without_md5_over_the_cap_is_refused(capped: DataProxy, tmp_path: Path) -> None:
    with pytest.raises(ProxyError, match="CARGOHOLD_PROXY_MAX_UPLOAD_BYTES"):
        capped.create_upload_location(
            project="p", domain="d", filename="big.bin", content_length=1001
        )
    # no size declared: refused too (on S3 the signed length is the only bound)
    with pytest.raises(ProxyError, match="needs content_length"):
        capped.create_upload_location(project="p", domain="d", filename="big.bin")
    with pytest.raises(ProxyError, match="non-negative"):
        capped.create_upload_location(
            project="p", domain="d", filename="big.bin", content_length=-1
        )
    # more bytes than declared: cargohold's client sends nothing (and S3 refuses the signature)
    small = capped.create_upload_location(
        project="p", domain="d", filename="small.bin", content_length=10
    )
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1001))
    with pytest.raises(ProxyError, match="created for 10"):
        upload(url=small.signed_url, headers=small.headers, path=str(big))
    with pytest.raises(ProxyError, match="created for 10"):
        upload(url=small.signed_url, headers=small.headers, data=os.urandom(1001))
    assert _listing(capped.hold) == []


def test_an_upload_with_md5_is_not_capped(capped: DataProxy, tmp_path: Path) -> None:
    pinned = os.urandom(5000)
    md5 = hashlib.md5(pinned).digest()
    location = capped.create_upload_location(
        project="p", domain="d", filename="pinned.bin", content_md5=md5
    )
    assert "Content-Length" not in location.headers
    assert "content-length" not in _signed(location.signed_url)["X-Amz-SignedHeaders"][0]
    assert _s3_accepts(location.signed_url, dict(location.headers))
    source = tmp_path / "pinned.bin"
    source.write_bytes(pinned)
    upload(url=location.signed_url, headers=location.headers, path=str(source))
    assert capped.hold.store.read_bytes(location.native_url) == pinned
