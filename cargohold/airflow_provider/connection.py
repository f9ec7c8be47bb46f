"""The ``cargohold`` connection type: from an Airflow connection to a configured Cargohold.

A ``cargohold`` connection (default id ``cargohold_default``) holds:

* ``host``: the store URL (``s3://bucket/prefix``, ``file:///data/cargohold``), or extra
  ``store_url``;
* ``schema``: the catalog URL (``postgresql+psycopg://user@host/db``), or extra ``catalog_url``;
* ``login`` / ``password``: store credentials (the S3 key and secret), optional;
* extra ``store_options``: fsspec options (a JSON object), merged over the above;
* extra ``aws_conn_id``: an ``aws`` connection whose login, password and extra ``endpoint_url`` /
  ``region_name`` give the S3 credentials instead;
* extra ``project``, ``domain``, ``inline_limit``: the matching cargohold settings.

Anything not set comes from the ``CARGOHOLD_*`` environment.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk.bases.hook import BaseHook

from cargohold.core.errors import ConfigurationError

if TYPE_CHECKING:
    from cargohold.core.hold import Cargohold

__all__ = ["hold_from_connection", "settings_overrides"]

log = logging.getLogger(__name__)


def _extra(conn: Any) -> dict[str, Any]:
    extra = getattr(conn, "extra_dejson", None)
    return dict(extra) if isinstance(extra, Mapping) else {}


def _aws_options(conn_id: str) -> dict[str, Any]:
    aws = BaseHook.get_connection(conn_id)
    extra = _extra(aws)
    options: dict[str, Any] = {}
    if aws.login:
        options["key"] = aws.login
    if aws.password:
        options["secret"] = aws.password
    client: dict[str, Any] = {}
    for name in ("endpoint_url", "region_name"):
        if extra.get(name):
            client[name] = extra[name]
    if client:
        options["client_kwargs"] = client
    return options


def settings_overrides(conn: Any) -> dict[str, Any]:
    """The :class:`~cargohold.core.config.Settings` fields a ``cargohold`` connection sets.

    Raises:
        ConfigurationError: ``store_options`` is not a JSON object, or ``inline_limit`` is not an
            integer.
    """
    extra = _extra(conn)
    out: dict[str, Any] = {}
    store_url = extra.get("store_url") or conn.host
    catalog_url = extra.get("catalog_url") or conn.schema
    if store_url:
        out["store_url"] = str(store_url)
    if catalog_url:
        out["catalog_url"] = str(catalog_url)
    options: dict[str, Any] = {}
    if extra.get("aws_conn_id"):
        options.update(_aws_options(str(extra["aws_conn_id"])))
    elif conn.login or conn.password:
        options.update(key=conn.login, secret=conn.password)
    raw = extra.get("store_options")
    if isinstance(raw, str) and raw.strip():
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigurationError(f"store_options must be a JSON object: {exc}") from exc
    if raw:
        if not isinstance(raw, Mapping):
            raise ConfigurationError("the connection's store_options must be a JSON object")
        options.update(raw)
    if options:
        out["store_options"] = options
    for name in ("project", "domain"):
        if extra.get(name):
            out[name] = str(extra[name])
    if extra.get("inline_limit") not in (None, ""):
        try:
            out["inline_limit"] = int(extra["inline_limit"])
        except (TypeError, ValueError) as exc:
            raise ConfigurationError("the connection's inline_limit must be an integer") from exc
    return out


def hold_from_connection(*, conn_id: str, missing_ok: bool = False) -> Cargohold | None:
    """A Cargohold configured by the ``cargohold`` connection ``conn_id`` over the environment.

    With ``missing_ok`` a connection that does not exist (or no connection source, as in a plain
    script) gives None instead of an error.

    Raises:
        ConfigurationError: the connection is malformed, or (without ``missing_ok``) missing.
    """
    from cargohold.core.hold import Cargohold

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException, or no secrets source in this process
        if missing_ok:
            log.debug("no %s connection (%s); using the CARGOHOLD_* environment", conn_id, exc)
            return None
        raise ConfigurationError(f"cannot read Airflow connection {conn_id!r}: {exc}") from exc
    return Cargohold.from_env(**settings_overrides(conn))
