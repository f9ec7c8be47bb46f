"""Opaque keyset page tokens.

A token is URL-safe base64 of a small JSON document: the sort values of the last row returned
and a fingerprint of the query it belongs to. The next page continues strictly after that row,
so rows inserted meanwhile never shift a page (unlike an offset). A token given to a different
query is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from cargohold.core.errors import InvalidArgumentError
from cargohold.core.types.literals import canonical_json, content_hash

__all__ = ["decode_token", "encode_token", "fingerprint"]


def fingerprint(query: Any) -> str:
    """A short hash of a query's filters and sort, stored in its tokens."""
    return content_hash(canonical_json(query))[:16]


def encode_token(*, query: str, last: Sequence[Any]) -> str:
    """The token of the page after the row whose sort values are ``last``."""
    raw = json.dumps({"q": query, "k": list(last)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, *, query: str, size: int) -> list[Any]:
    """The sort values stored in ``token``.

    Raises:
        InvalidArgumentError: the token is malformed or belongs to another query.
    """
    if not isinstance(token, str) or not token:
        raise InvalidArgumentError("page_token must be a token returned as next_token")
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values = data["k"]
        owner = data["q"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidArgumentError(
            "page_token is malformed; pass the next_token of the previous page unchanged"
        ) from exc
    if owner != query:
        raise InvalidArgumentError(
            "page_token belongs to a different query (other filters or sort); "
            "start again without a page_token"
        )
    if not isinstance(values, list) or len(values) != size:
        raise InvalidArgumentError("page_token is malformed")
    return values
