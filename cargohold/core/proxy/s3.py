"""Presigned S3 URLs through botocore, configured from the store's s3fs options.

Uploads sign ``Content-MD5`` and ``Content-Type`` (S3 rejects a body whose MD5 differs, with
``BadDigest``), ``Content-Length`` when a size is declared (S3 then refuses a body of any other
length: the signature no longer matches) and, when the object does not exist yet,
``If-None-Match: *`` (S3 refuses to overwrite an object created meanwhile, with 412). botocore
comes with s3fs.
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import Mapping
from typing import Any

from cargohold.core.errors import ConfigurationError, StorageError

__all__ = ["S3Presigner", "split_s3_uri"]

CONTENT_TYPE = "application/octet-stream"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key``.

    Raises:
        StorageError: the URI is not an S3 object URI.
    """
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme not in ("s3", "s3a") or not bucket or not key:
        raise StorageError(f"not an S3 object URI: {uri!r}")
    return bucket, key


class S3Presigner:
    """Presigns S3 requests with the credentials and endpoint of a store's s3fs options."""

    def __init__(self, *, options: Mapping[str, Any]) -> None:
        """Build a botocore client from s3fs-style options (``key``, ``secret``, ``token``,
        ``endpoint_url``, ``client_kwargs``); anything missing comes from botocore's usual
        chain (environment, profile, instance role).

        Raises:
            ConfigurationError: botocore is not installed.
        """
        try:  # imported by name: botocore ships no type information
            session_module = importlib.import_module("botocore.session")
            config_module = importlib.import_module("botocore.config")
        except ImportError as exc:  # pragma: no cover - s3fs brings botocore
            raise ConfigurationError(
                "presigned S3 URLs need botocore: pip install 'cargohold[s3]'"
            ) from exc
        client_kwargs = dict(options.get("client_kwargs") or {})
        endpoint = client_kwargs.pop("endpoint_url", None) or options.get("endpoint_url")
        region = client_kwargs.pop("region_name", None) or options.get("region_name")
        style = "path" if endpoint else "auto"
        self._client = session_module.get_session().create_client(
            "s3",
            endpoint_url=endpoint,
            region_name=region or "us-east-1",
            aws_access_key_id=options.get("key"),
            aws_secret_access_key=options.get("secret"),
            aws_session_token=options.get("token"),
            config=config_module.Config(signature_version="s3v4", s3={"addressing_style": style}),
        )

    def _presign(self, operation: str, params: dict[str, Any], seconds: int) -> str:
        try:
            url: str = self._client.generate_presigned_url(
                operation, Params=params, ExpiresIn=seconds
            )
        except Exception as exc:
            raise StorageError(f"could not presign {operation} for {params}: {exc}") from exc
        return url

    def etag(self, uri: str) -> str | None:
        """The object's ETag without quotes (its MD5 hex for single-part uploads), or None
        when it does not exist.

        Raises:
            StorageError: S3 failed for another reason.
        """
        bucket, key = split_s3_uri(uri)
        try:
            head = self._client.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"could not check {uri}: {exc}") from exc
        return str(head.get("ETag", "")).strip('"') or None

    def upload_url(
        self,
        *,
        uri: str,
        seconds: int,
        md5: bytes | None,
        must_not_exist: bool,
        content_length: int | None = None,
    ) -> tuple[str, dict[str, str]]:
        """A presigned PUT of ``uri`` and the headers the uploader must send with it (every one
        of them is signed, ``Content-Length`` included when ``content_length`` is given).

        Raises:
            StorageError: botocore could not presign.
        """
        bucket, key = split_s3_uri(uri)
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ContentType": CONTENT_TYPE}
        headers = {"Content-Type": CONTENT_TYPE}
        if md5 is not None:
            encoded = base64.b64encode(md5).decode()
            params["ContentMD5"] = encoded
            headers["Content-MD5"] = encoded
        if content_length is not None:
            params["ContentLength"] = content_length
            headers["Content-Length"] = str(content_length)
        if must_not_exist:
            params["IfNoneMatch"] = "*"
            headers["If-None-Match"] = "*"
        return self._presign("put_object", params, seconds), headers

    def download_url(self, *, uri: str, seconds: int, filename: str | None = None) -> str:
        """A presigned GET of ``uri`` (with a download file name when given)."""
        bucket, key = split_s3_uri(uri)
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return self._presign("get_object", params, seconds)
