"""HMAC-signed, expiring URLs for the local proxy server (``cargohold serve``).

A signed URL is ``{base}/v1/data/{path}?expires={unix seconds}[&md5={hex}]&sig={signature}``
where ``path`` is relative to the store's root and the signature is HMAC-SHA256, keyed by the
proxy secret (``CARGOHOLD_PROXY_SECRET``), over the method, the path, the expiry and the declared
MD5. Changing any of them (or the signature) makes the URL invalid; the server answers 403.
Verification also enforces the expiry cap: a link that expires further ahead than the signer's
``max_expires_in`` is refused even when its signature is valid (the cap is not only a rule of
whoever creates links).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode

from cargohold.core.errors import ConfigurationError, ProxyError

__all__ = [
    "DATA_ROUTE",
    "DEFAULT_MAX_EXPIRES_IN",
    "SignedRequest",
    "UrlSigner",
    "expiry_seconds",
    "normalize_md5",
]

DATA_ROUTE = "/v1/data/"
DEFAULT_MAX_EXPIRES_IN = timedelta(hours=1)
_VERSION = b"cargohold-proxy-v1"
_SECRET_HINT = (
    "set CARGOHOLD_PROXY_SECRET to a long random string shared by `cargohold serve` and the "
    "processes that create links, e.g. "
    "export CARGOHOLD_PROXY_SECRET=$(python -c 'import secrets; print(secrets.token_hex(32))')"
)


def normalize_md5(content_md5: bytes | str | None) -> bytes | None:
    """The 16-byte MD5 digest from raw bytes, 32 hex digits, or base64 (a Content-MD5 header).

    Raises:
        ProxyError: the value is none of these.
    """
    if content_md5 is None or content_md5 in (b"", ""):
        return None
    if isinstance(content_md5, bytes):
        if len(content_md5) == 16:
            return content_md5
        content_md5 = content_md5.decode("ascii", errors="replace")
    text = content_md5.strip()
    if len(text) == 32:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        digest = base64.b64decode(text, validate=True)
    except ValueError:
        digest = b""
    if len(digest) != 16:
        raise ProxyError(
            f"content_md5 must be an MD5 digest (16 bytes, 32 hex digits or base64 as in a "
            f"Content-MD5 header), got {content_md5!r:.60}"
        )
    return digest


def expiry_seconds(expires_in: timedelta | float | None, *, maximum: timedelta) -> int:
    """Seconds a link lives: ``expires_in`` (default: the maximum), at least one second.

    Raises:
        ProxyError: ``expires_in`` is not positive or exceeds ``maximum``.
    """
    limit = maximum.total_seconds()
    if expires_in is None:
        seconds = limit
    elif isinstance(expires_in, timedelta):
        seconds = expires_in.total_seconds()
    elif isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
        seconds = float(expires_in)
    else:
        raise ProxyError(f"expires_in must be a timedelta or seconds, got {expires_in!r}")
    if seconds <= 0:
        raise ProxyError(f"expires_in must be positive, got {seconds:g} s")
    if seconds > limit:
        raise ProxyError(
            f"expires_in {seconds:g} s exceeds the maximum of {limit:g} s; ask for a shorter "
            f"link (or build the DataProxy with a larger max_expires_in)"
        )
    return max(1, math.ceil(seconds))


@dataclass(frozen=True, kw_only=True)
class SignedRequest:
    """What a verified URL allows: ``method`` on ``path`` until ``expires``, with ``md5``."""

    method: str
    path: str
    expires: int
    md5: bytes | None


class UrlSigner:
    """Signs and verifies proxy URLs with one secret.

    Args:
        secret: the shared secret (``CARGOHOLD_PROXY_SECRET``).
        clock: the source of the current Unix time (tests pass a fake).
        max_expires_in: the longest a link may still be valid when it is verified.

    Raises:
        ConfigurationError: no secret was given.
    """

    def __init__(
        self,
        *,
        secret: str | None,
        clock: Callable[[], float] | None = None,
        max_expires_in: timedelta = DEFAULT_MAX_EXPIRES_IN,
    ) -> None:
        if not secret:
            raise ConfigurationError(f"the data proxy needs a secret to sign URLs: {_SECRET_HINT}")
        self._key = secret.encode()
        self._clock = clock or time.time
        self.max_expires_in = max_expires_in

    def now(self) -> float:
        """The signer's current Unix time."""
        return self._clock()

    def _signature(self, method: str, path: str, expires: int, md5: bytes | None) -> str:
        message = b"\n".join(
            [
                _VERSION,
                method.upper().encode(),
                path.encode(),
                str(expires).encode(),
                (md5 or b"").hex().encode(),
            ]
        )
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(
        self, *, base_url: str, method: str, path: str, seconds: int, md5: bytes | None = None
    ) -> tuple[str, int]:
        """A signed URL allowing ``method`` on store path ``path`` for ``seconds``.

        Returns:
            ``(url, expires)`` with ``expires`` in Unix seconds.
        """
        expires = math.ceil(self.now()) + seconds
        query: dict[str, str] = {"expires": str(expires)}
        if md5 is not None:
            query["md5"] = md5.hex()
        query["sig"] = self._signature(method, path, expires, md5)
        url = f"{base_url.rstrip('/')}{DATA_ROUTE}{quote(path)}?{urlencode(query)}"
        return url, expires

    def verify(self, *, method: str, path: str, query: Mapping[str, str]) -> SignedRequest:
        """Check a request's signature and expiry.

        Raises:
            ProxyError: the URL is unsigned, tampered with (any byte of path, expiry, MD5 or
                signature changed), expired, or valid for longer than ``max_expires_in``.
        """
        try:
            expires = int(query["expires"])
            signature = query["sig"]
            md5 = bytes.fromhex(query["md5"]) if query.get("md5") else None
        except (KeyError, ValueError) as exc:
            raise ProxyError("the URL is not a signed cargohold link; ask for a new one") from exc
        expected = self._signature(method, path, expires, md5)
        if not hmac.compare_digest(expected, signature):
            raise ProxyError("the URL's signature does not match (tampered?); ask for a new link")
        now = self.now()
        if now >= expires:
            raise ProxyError("the link has expired; ask for a new one")
        cap = math.ceil(self.max_expires_in.total_seconds())
        if expires > math.ceil(now) + cap:
            raise ProxyError(
                f"the link expires {expires - math.ceil(now)} s from now, beyond the cap of "
                f"{cap} s; ask for a new one"
            )
        return SignedRequest(method=method.upper(), path=path, expires=expires, md5=md5)
