"""The data proxy: signed, expiring upload locations and download links, ``cargohold://`` URLs.

* :class:`DataProxy`: ``create_upload_location``, ``create_download_link``, ``get_data`` (the
  seed's DataProxyService). Presigned by botocore on S3; HMAC-signed for the proxy server
  elsewhere.
* :class:`CargoholdURL`: the ``cargohold://`` grammar (see :mod:`.urls`).
* :func:`upload` / :func:`download`: use a signed URL with the standard library.
"""

from cargohold.core.proxy.client import download, upload
from cargohold.core.proxy.service import (
    DEFAULT_PROXY_URL,
    DataProxy,
    DataResponse,
    DownloadLink,
    UploadLocation,
)
from cargohold.core.proxy.signing import DEFAULT_MAX_EXPIRES_IN, UrlSigner
from cargohold.core.proxy.urls import CargoholdURL

__all__ = [
    "DEFAULT_MAX_EXPIRES_IN",
    "DEFAULT_PROXY_URL",
    "CargoholdURL",
    "DataProxy",
    "DataResponse",
    "DownloadLink",
    "UploadLocation",
    "UrlSigner",
    "download",
    "upload",
]
