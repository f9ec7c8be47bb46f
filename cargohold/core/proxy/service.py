"""The data proxy: signed, expiring upload locations and download links; ``cargohold://`` reads.

It follows Flyte's DataProxyService (CreateUploadLocation, CreateDownloadLink, GetData)::

    proxy = DataProxy(hold=Cargohold.from_env())
    up = proxy.create_upload_location(filename="orders.csv", content_md5=md5_digest)
    # PUT the bytes to up.signed_url with up.headers; they land at up.native_url
    link = proxy.create_download_link(artifact="cargohold://default/development/orders/date=...")
    data = proxy.get_data("cargohold://default/development/orders:latest").data

On an S3 store the URLs are presigned by botocore and S3 itself enforces them. On any other store
(a local directory by default) they are HMAC-signed URLs of the proxy server (``cargohold serve``,
:class:`cargohold.web.WebServer`) at ``base_url``, with the secret
``CARGOHOLD_PROXY_SECRET``.

Upload locations are ``{upload_prefix}/{project}/{domain}/{root}/{filename}`` inside the store,
where ``root`` is ``filename_root`` if given, else the unpadded lower-case base32 of the MD5, else
a random id: MD5 plus file name give the same location every time. An existing object with other
content is never overwritten: asking for its location raises :class:`PathExistsError`, and the
upload itself is refused (409 on the proxy server, 412 on S3).

A location created without an MD5 holds at most ``max_upload_bytes`` (the setting
``proxy_max_upload_bytes``, ``CARGOHOLD_PROXY_MAX_UPLOAD_BYTES``). The proxy server enforces it
on the body (413). On S3 the caller declares the size (``content_length``): a larger one is
refused when the location is created, and the declared ``Content-Length`` is signed into the
presigned PUT, so S3 refuses a body of any other length (403 ``SignatureDoesNotMatch``; S3 needs
a ``Content-Length`` on every PUT). A presigned POST with a ``content-length-range`` policy would
not need the size up front, but S3 takes no ``If-None-Match`` on POST uploads, so it would lose
the no-overwrite guarantee; the signed PUT keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cargohold.core.errors import CorruptDataError, PathEscapeError, PathExistsError, ProxyError
from cargohold.core.proxy.outputs import describe, pick_output
from cargohold.core.proxy.s3 import S3Presigner
from cargohold.core.proxy.signing import (
    DEFAULT_MAX_EXPIRES_IN,
    UrlSigner,
    expiry_seconds,
    normalize_md5,
)
from cargohold.core.proxy.urls import CargoholdURL
from cargohold.core.storage.filesystems import storage_errors
from cargohold.core.storage.hashing import verify_bytes
from cargohold.core.types.literals import BlobRef, Literal, canonical_json

if TYPE_CHECKING:
    from cargohold.core.catalog.objects import Artifact
    from cargohold.core.hold import Cargohold
    from cargohold.core.storage.store import Store

__all__ = [
    "DEFAULT_GET_DATA_LIMIT",
    "resolve_inside",
    "DEFAULT_PROXY_URL",
    "DataProxy",
    "DataResponse",
    "DownloadLink",
    "UploadLocation",
]

DEFAULT_PROXY_URL = "http://127.0.0.1:8787"
DEFAULT_GET_DATA_LIMIT = 256 << 20
_S3 = ("s3", "s3a")
_CHUNK = 4 << 20


@dataclass(frozen=True, kw_only=True)
class UploadLocation:
    """Where to PUT bytes: the signed URL, the headers to send (all of them: on S3 they are
    signed, ``Content-Length`` included when a size was declared), and where they will live."""

    signed_url: str
    native_url: str
    headers: Mapping[str, str]
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "signed_url": self.signed_url,
            "native_url": self.native_url,
            "headers": dict(self.headers),
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, kw_only=True)
class DownloadLink:
    """A signed URL to GET, valid until ``expires_at``."""

    signed_url: str
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"signed_url": self.signed_url, "expires_at": self.expires_at.isoformat()}


@dataclass(frozen=True, kw_only=True)
class DataResponse:
    """The bytes of an artifact's output (a blob's bytes, or an inline value's canonical JSON)
    and metadata describing them (all strings, like the seed's ``GetDataResponse``)."""

    data: bytes
    metadata: Mapping[str, str]
    literal: Literal
    artifact: Artifact = field(repr=False)


class DataProxy:
    """Signed access to a hold's store, and resolution of ``cargohold://`` URLs.

    Args:
        hold: the :class:`~cargohold.core.hold.Cargohold` whose store and catalog are served.
        base_url: the proxy server's URL for non-S3 stores (default the setting
            ``proxy_url``: ``CARGOHOLD_PROXY_URL`` or ``http://127.0.0.1:8787``).
        secret: the signing secret (default ``hold.settings.proxy_secret``); needed for
            non-S3 stores only.
        max_expires_in: the longest a URL may live (one hour by default).
        max_upload_bytes: the largest upload location created without an MD5 (default the
            setting ``proxy_max_upload_bytes``, ``CARGOHOLD_PROXY_MAX_UPLOAD_BYTES``).
        upload_prefix: the store folder upload locations go under.
        clock: the current Unix time (tests pass a fake).
    """

    def __init__(
        self,
        *,
        hold: Cargohold,
        base_url: str | None = None,
        secret: str | None = None,
        max_expires_in: timedelta = DEFAULT_MAX_EXPIRES_IN,
        max_upload_bytes: int | None = None,
        upload_prefix: str = "uploads",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.hold = hold
        self.base_url = (base_url or hold.settings.proxy_url or DEFAULT_PROXY_URL).rstrip("/")
        self.max_expires_in = max_expires_in
        self.max_upload_bytes = _byte_count(
            hold.settings.proxy_max_upload_bytes if max_upload_bytes is None else max_upload_bytes,
            what="max_upload_bytes",
        )
        self.upload_prefix = _check_part(upload_prefix, what="upload_prefix")
        self._secret = secret if secret is not None else hold.settings.proxy_secret
        self._clock = clock
        self._signer: UrlSigner | None = None
        self._presigner: S3Presigner | None = None

    def __repr__(self) -> str:
        return f"DataProxy(store={self.hold.settings.store_url!r}, base_url={self.base_url!r})"

    @property
    def presigned(self) -> bool:
        """True when the store is S3 and URLs are presigned by botocore."""
        return self.hold.store.protocol in _S3

    @property
    def signer(self) -> UrlSigner:
        """The HMAC signer of proxy-server URLs.

        Raises:
            ConfigurationError: no secret is configured.
        """
        if self._signer is None:
            self._signer = UrlSigner(
                secret=self._secret, clock=self._clock, max_expires_in=self.max_expires_in
            )
        return self._signer

    def _s3(self) -> S3Presigner:
        if self._presigner is None:
            self._presigner = S3Presigner(options=self.hold.store.options)
        return self._presigner

    def _expires_at(self, seconds: int) -> datetime:
        now = self._clock() if self._clock is not None else datetime.now(UTC).timestamp()
        return datetime.fromtimestamp(int(now) + seconds, tz=UTC)

    # -- uploads ------------------------------------------------------------------------------

    def upload_path(
        self,
        *,
        project: str,
        domain: str,
        filename: str,
        content_md5: bytes | str | None = None,
        filename_root: str | None = None,
    ) -> str:
        """The store-relative path an upload goes to (deterministic given MD5 or root).

        Raises:
            ProxyError: a part is empty or holds ``/``, ``..`` or control characters.
        """
        md5 = normalize_md5(content_md5)
        if filename_root:
            root = _check_part(filename_root, what="filename_root")
        elif md5 is not None:
            root = base64.b32encode(md5).decode().rstrip("=").lower()
        else:
            root = uuid.uuid4().hex
        parts = [
            self.upload_prefix,
            _check_part(project, what="project"),
            _check_part(domain, what="domain"),
            root,
            _check_part(filename, what="filename"),
        ]
        return "/".join(parts)

    def create_upload_location(
        self,
        *,
        filename: str,
        project: str | None = None,
        domain: str | None = None,
        expires_in: timedelta | float | None = None,
        content_md5: bytes | str | None = None,
        filename_root: str | None = None,
        content_length: int | None = None,
    ) -> UploadLocation:
        """A signed URL to PUT one file to, expiring after ``expires_in`` (default: the max).

        ``content_md5`` (16 raw bytes, hex or base64) is signed into the URL: an upload whose
        bytes have another MD5 is rejected and nothing is stored. Without it the upload holds at
        most :attr:`max_upload_bytes`: on S3 ``content_length`` (the file's size in bytes) is
        then required, checked against that cap here and signed into the URL, so S3 accepts a
        body of exactly that length only; on the proxy server it is optional (checked here when
        given; the server refuses a larger body with 413). ``content_length`` may accompany an
        MD5 too (on S3 it is signed then as well). The headers to send include
        ``Content-Length`` when it was given. ``project`` and ``domain`` default to the hold's
        settings.

        Raises:
            ProxyError: ``expires_in`` exceeds the maximum; no ``content_md5`` and
                ``content_length`` is above ``max_upload_bytes`` (or, on S3, missing); or a
                malformed argument.
            PathExistsError: the location already holds other content (never overwritten).
            ConfigurationError: a non-S3 store and no proxy secret.
            StorageError: the store failed while checking the location.
        """
        settings = self.hold.settings
        md5 = normalize_md5(content_md5)
        size = (
            None if content_length is None else _byte_count(content_length, what="content_length")
        )
        relpath = self.upload_path(
            project=project or settings.project,
            domain=domain or settings.domain,
            filename=filename,
            content_md5=md5,
            filename_root=filename_root,
        )
        seconds = expiry_seconds(expires_in, maximum=self.max_expires_in)
        if md5 is None:
            self._check_upload_size(size)
        native = self.hold.store.uri(relpath)
        existing = self._existing_md5(relpath, native)
        if existing is not None and (md5 is None or existing != md5.hex()):
            raise PathExistsError(
                f"{native} already exists with other content and is never overwritten; upload "
                f"under another filename or filename_root (or pass the file's content_md5)"
            )
        if self.presigned:
            url, headers = self._s3().upload_url(
                uri=native,
                seconds=seconds,
                md5=md5,
                must_not_exist=existing is None,
                content_length=size,
            )
            return UploadLocation(
                signed_url=url,
                native_url=native,
                headers=headers,
                expires_at=self._expires_at(seconds),
            )
        url, expires = self.signer.sign(
            base_url=self.base_url, method="PUT", path=relpath, seconds=seconds, md5=md5
        )
        headers = {"Content-Type": "application/octet-stream"}
        if md5 is not None:
            headers["Content-MD5"] = base64.b64encode(md5).decode()
        if size is not None:
            headers["Content-Length"] = str(size)
        return UploadLocation(
            signed_url=url,
            native_url=native,
            headers=headers,
            expires_at=datetime.fromtimestamp(expires, tz=UTC),
        )

    def _check_upload_size(self, size: int | None) -> None:
        """Refuse an MD5-less upload location whose declared size is above the cap, or (on S3,
        where the signed length is the only bound) whose size is not declared."""
        limit = self.max_upload_bytes
        if size is None:
            if self.presigned:
                raise ProxyError(
                    f"an S3 upload location without content_md5 needs content_length (the "
                    f"file's size, at most {limit} bytes: proxy_max_upload_bytes, "
                    f"CARGOHOLD_PROXY_MAX_UPLOAD_BYTES); S3 then accepts exactly that many bytes"
                )
            return
        if size > limit:
            raise ProxyError(
                f"an upload location without content_md5 may hold at most {limit} bytes "
                f"(proxy_max_upload_bytes, CARGOHOLD_PROXY_MAX_UPLOAD_BYTES), not {size}; pass "
                f"the file's content_md5 to upload more"
            )

    def _existing_md5(self, relpath: str, native: str) -> str | None:
        """The MD5 hex of what lives at ``relpath``, ``"?"`` if unknown, None if nothing."""
        if self.presigned:
            etag = self._s3().etag(native)
            if etag is None:
                return None
            return etag if len(etag) == 32 else "?"
        store = self.hold.store
        if not store.exists(relpath):
            return None
        digest = hashlib.md5(usedforsecurity=False)
        with store.open(relpath, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    # -- downloads ----------------------------------------------------------------------------

    def create_download_link(
        self,
        *,
        artifact: Artifact | str | None = None,
        uri: str | None = None,
        output: str | None = None,
        expires_in: timedelta | float | None = None,
    ) -> DownloadLink:
        """A signed URL to GET a blob: an artifact's output, or a ``uri`` inside the store.

        ``artifact`` is an :class:`Artifact`, an artifact id or a ``cargohold://`` URL;
        ``output`` names its data entry (optional when it has one).

        Raises:
            ProxyError: neither or both of artifact and uri, the output is an inline value (read
                it with :meth:`get_data`), or ``expires_in`` exceeds the maximum.
            PathEscapeError: ``uri`` is not inside the store.
            NotFoundError: the artifact does not exist.
            ConfigurationError: a non-S3 store and no proxy secret.
        """
        if (artifact is None) == (uri is None):
            raise ProxyError("create_download_link needs exactly one of artifact or uri")
        if artifact is not None:
            if output is None and isinstance(artifact, str) and "://" in artifact:
                output = CargoholdURL.parse(artifact).output
            found = self.resolve_artifact(artifact)
            name, literal = pick_output(found, output)
            if literal.blob is None:
                raise ProxyError(
                    f"output {name!r} of artifact {found.id} is an inline value, not a blob; "
                    f"read it with get_data (or `cargohold artifacts get`)"
                )
            uri = literal.blob.uri
        assert uri is not None
        seconds = expiry_seconds(expires_in, maximum=self.max_expires_in)
        relpath = self.relative_path(uri)
        if self.presigned:
            url = self._s3().download_url(uri=self.hold.store.uri(relpath), seconds=seconds)
            return DownloadLink(signed_url=url, expires_at=self._expires_at(seconds))
        url, expires = self.signer.sign(
            base_url=self.base_url, method="GET", path=relpath, seconds=seconds
        )
        return DownloadLink(signed_url=url, expires_at=datetime.fromtimestamp(expires, tz=UTC))

    def relative_path(self, uri: str) -> str:
        """The path of ``uri`` relative to the store's root.

        Raises:
            PathEscapeError: ``uri`` is not inside the store, or (on a local store) resolves
                outside its root through a symbolic link.
        """
        store = self.hold.store
        prefix = store.url.rstrip("/") + "/"
        if "://" not in uri or not uri.startswith(prefix):
            raise PathEscapeError(f"{uri} is not inside this store ({store.url})")
        relpath = uri[len(prefix) :]
        store.uri(relpath)  # refuses '..' and friends
        resolve_inside(store, relpath)
        return relpath

    # -- cargohold:// -------------------------------------------------------------------------

    def resolve_artifact(self, ref: Artifact | str) -> Artifact:
        """The artifact an :class:`Artifact`, an artifact id or a ``cargohold://`` URL names.

        Raises:
            ProxyError: a malformed ``cargohold://`` URL.
            NotFoundError: no such artifact or dataset.
        """
        if not isinstance(ref, str):
            return ref
        catalog = self.hold.catalog
        if "://" not in ref:
            return catalog.get_artifact(artifact_id=ref)
        parsed = CargoholdURL.parse(ref)
        if parsed.tag is not None:
            return catalog.get_artifact(dataset=parsed.dataset_id, tag=parsed.tag)
        return catalog.get_artifact(
            dataset=parsed.dataset_id, partitions=parsed.partitions, version=parsed.version
        )

    def get_data(self, url: str, *, max_bytes: int = DEFAULT_GET_DATA_LIMIT) -> DataResponse:
        """The data of the artifact output a ``cargohold://`` URL names, and its metadata.

        A blob's bytes are read whole and verified against its content hash and its recorded
        size; an inline value comes back as canonical JSON. ``max_bytes`` bounds what is read,
        whatever the literal claims: at most ``max_bytes + 1`` bytes are ever read.

        Raises:
            ProxyError: a malformed URL, an ambiguous or unknown output, or a blob larger than
                ``max_bytes`` (download it through :meth:`create_download_link` instead).
            NotFoundError: no such artifact or dataset.
            CorruptDataError: the blob's bytes do not match its hash or its recorded size.
            PathEscapeError: the blob lies (or, through a link, resolves) outside the store.
            StorageError: the store failed.
        """
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
            raise ProxyError(f"max_bytes must be a non-negative integer, got {max_bytes!r}")
        parsed = CargoholdURL.parse(url)
        artifact = self.resolve_artifact(url)
        name, literal = pick_output(artifact, parsed.output)
        meta = describe(artifact, name, literal)
        if literal.blob is None:
            data = canonical_json(literal.value)
            meta["content_type"] = "application/json"
        else:
            if literal.blob.size > max_bytes:
                raise ProxyError(
                    f"{url} is {literal.blob.size} bytes, more than get_data's limit of "
                    f"{max_bytes}; download it through a link (create_download_link or "
                    f"`cargohold artifacts download`)"
                )
            data = self._read_bounded(literal.blob, url=url, max_bytes=max_bytes)
            meta["content_type"] = "application/octet-stream"
        return DataResponse(data=data, metadata=meta, literal=literal, artifact=artifact)

    def _read_bounded(self, blob: BlobRef, *, url: str, max_bytes: int) -> bytes:
        """A blob's bytes, reading at most ``max_bytes + 1``, checked for size and hash."""
        store = self.hold.store
        resolve_inside(store, self.relative_path(blob.uri))
        with storage_errors(f"reading {blob.uri}"), store.open_blob(blob.uri) as stream:
            data = stream.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ProxyError(
                f"{url} is more than get_data's limit of {max_bytes} bytes; download it "
                f"through a link (create_download_link or `cargohold artifacts download`)"
            )
        if len(data) != blob.size:
            raise CorruptDataError(
                blob.uri, f"{blob.hash} of {blob.size} bytes", f"{len(data)} bytes"
            )
        verify_bytes(data, uri=blob.uri, expected_hash=blob.hash)
        return data


def resolve_inside(store: Store, relpath: str) -> str:
    """On a local store: the real path of ``relpath``, refused when it resolves (symbolic links
    followed) outside the store's root. Elsewhere (object stores have no links) the store's
    path. The proxy serves and writes only paths that pass this check.

    Raises:
        PathEscapeError: ``relpath`` escapes the root, lexically or through a link.
    """
    native = store.uri(relpath)
    if not store.is_local:
        return native
    root = os.path.realpath(store.root)
    real = os.path.realpath(native.removeprefix("file://"))
    if os.path.commonpath([root, real]) != root:
        raise PathEscapeError(
            f"{relpath} resolves outside the store's root {store.root} (through a symbolic "
            f"link); the proxy serves only what lies inside the store"
        )
    return real


def _byte_count(value: int, *, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProxyError(f"{what} must be a non-negative integer (bytes), got {value!r}")
    return value


def _check_part(value: str, *, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProxyError(f"{what} must be a non-empty string")
    if "/" in value or "\\" in value or value in (".", "..") or ".." in value:
        raise ProxyError(f"{what} {value!r} must not contain '/', '\\' or '..'")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ProxyError(f"{what} {value!r} must not contain control characters")
    return value
