"""Signing, expiry caps, MD5 forms and the cargohold:// grammar (no network)."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from cargohold.core.errors import ConfigurationError, ProxyError
from cargohold.core.proxy import CargoholdURL, UrlSigner
from cargohold.core.proxy.signing import expiry_seconds, normalize_md5


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_sign_and_verify_round_trip() -> None:
    signer = UrlSigner(secret="k", clock=lambda: 1000.0)
    url, expires = signer.sign(base_url="http://h", method="GET", path="cas/ab/x", seconds=60)
    assert expires == 1060
    request = signer.verify(method="GET", path="cas/ab/x", query=_query(url))
    assert request.expires == 1060
    assert request.md5 is None


@pytest.mark.parametrize(
    ("method", "path", "change"),
    [
        ("PUT", "cas/ab/x", {}),
        ("GET", "cas/ab/y", {}),
        ("GET", "cas/ab/x", {"expires": "999999"}),
        ("GET", "cas/ab/x", {"sig": "AAAA"}),
        ("GET", "cas/ab/x", {"md5": "00" * 16}),
    ],
)
def test_any_change_breaks_the_signature(method: str, path: str, change: dict[str, str]) -> None:
    signer = UrlSigner(secret="k", clock=lambda: 1000.0)
    url, _ = signer.sign(base_url="http://h", method="GET", path="cas/ab/x", seconds=60)
    query = _query(url) | change
    with pytest.raises(ProxyError, match="signature"):
        signer.verify(method=method, path=path, query=query)


def test_another_secret_does_not_verify() -> None:
    url, _ = UrlSigner(secret="a").sign(base_url="http://h", method="GET", path="p", seconds=9)
    with pytest.raises(ProxyError):
        UrlSigner(secret="b").verify(method="GET", path="p", query=_query(url))


def test_expired_and_unsigned() -> None:
    now = [1000.0]
    signer = UrlSigner(secret="k", clock=lambda: now[0])
    url, _ = signer.sign(base_url="http://h", method="GET", path="p", seconds=5)
    now[0] = 1005.0
    with pytest.raises(ProxyError, match="expired"):
        signer.verify(method="GET", path="p", query=_query(url))
    with pytest.raises(ProxyError, match="not a signed"):
        signer.verify(method="GET", path="p", query={})


def test_no_secret_says_what_to_do() -> None:
    with pytest.raises(ConfigurationError, match="CARGOHOLD_PROXY_SECRET"):
        UrlSigner(secret=None)


def test_expiry_is_capped() -> None:
    hour = timedelta(hours=1)
    assert expiry_seconds(None, maximum=hour) == 3600
    assert expiry_seconds(timedelta(minutes=5), maximum=hour) == 300
    assert expiry_seconds(0.2, maximum=hour) == 1
    with pytest.raises(ProxyError, match="exceeds the maximum"):
        expiry_seconds(timedelta(hours=2), maximum=hour)
    with pytest.raises(ProxyError, match="positive"):
        expiry_seconds(-1, maximum=hour)


def test_md5_forms() -> None:
    digest = hashlib.md5(b"abc").digest()
    assert normalize_md5(digest) == digest
    assert normalize_md5(digest.hex()) == digest
    assert normalize_md5(base64.b64encode(digest).decode()) == digest
    assert normalize_md5(None) is None
    with pytest.raises(ProxyError, match="MD5"):
        normalize_md5("nope")


def test_url_grammar_round_trips() -> None:
    text = "cargohold://proj/dev/orders@3/date=2026-11-01/region=eu%2Fwest/frame"
    url = CargoholdURL.parse(text)
    assert (url.project, url.domain, url.dataset, url.version) == ("proj", "dev", "orders", 3)
    assert url.partitions == {"date": "2026-11-01", "region": "eu/west"}
    assert url.output == "frame"
    assert CargoholdURL.parse(str(url)) == url
    tagged = CargoholdURL.parse("cargohold://p/d/model:champion/weights?dataset_version=2")
    assert (tagged.tag, tagged.output, tagged.dataset_version) == ("champion", "weights", "2")
    assert str(tagged) == "cargohold://p/d/model:champion/weights?dataset_version=2"
    assert CargoholdURL.parse("cargohold://p/d/ds").version is None


@pytest.mark.parametrize(
    "bad",
    [
        "s3://bucket/key",
        "cargohold://p/d",
        "cargohold://p/d/ds@x",
        "cargohold://p/d/ds/out/date=1",
        "cargohold://p/d/ds:tag/date=1",
    ],
)
def test_url_grammar_errors(bad: str) -> None:
    with pytest.raises(ProxyError):
        CargoholdURL.parse(bad)
