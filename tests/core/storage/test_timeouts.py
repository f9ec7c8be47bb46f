"""Every wait on the store's server is bounded: an S3 endpoint that accepts TCP and never
answers, and a moto server frozen with SIGSTOP, each end in a StorageError naming the endpoint
and the settings that bound the wait."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from cargohold import Cargohold
from cargohold.core.errors import StorageError
from cargohold.core.storage.filesystems import bounded_options
from cargohold.core.storage.store import Store
from tests.support.faults import black_hole, freezable_moto, outcome

SETTINGS = ("store_read_timeout", "CARGOHOLD_STORE_READ_TIMEOUT", "store_retries")


def _s3_options(endpoint: str) -> dict[str, Any]:
    return {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        # a fresh s3fs instance per test: fsspec caches instances by their options
        "skip_instance_cache": True,
    }


def _assert_named(error: BaseException, endpoint: str) -> None:
    assert isinstance(error, StorageError), repr(error)
    message = str(error)
    assert endpoint in message, message
    for setting in SETTINGS:
        assert setting in message, message


@pytest.mark.parametrize("operation", ["put", "read", "exists"])
def test_a_black_hole_s3_endpoint_ends_in_a_storage_error(operation: str) -> None:
    with black_hole() as port:
        endpoint = f"http://127.0.0.1:{port}"
        store = Store(
            "s3://bucket/store",
            options=_s3_options(endpoint),
            connect_timeout=1,
            read_timeout=1,
            retries=0,
        )
        calls: dict[str, Callable[[], Any]] = {
            "put": lambda: store.put_bytes(b"x" * 100),
            "read": lambda: store.read_bytes("cas/ab/" + "ab" * 32),
            "exists": lambda: store.exists("anything"),
        }
        error = outcome(calls[operation], bound=60)
    _assert_named(error, endpoint)


def test_a_frozen_moto_server_ends_put_and_get_in_a_storage_error(tmp_path: Any) -> None:
    payload = os.urandom(200_000)  # over the inline limit: a blob on S3
    with freezable_moto() as moto:
        bucket = moto.server.create_bucket()
        hold = Cargohold(
            store_url=f"s3://{bucket}/store",
            catalog_url=f"sqlite:///{tmp_path}/catalog.db",
            store_options=_s3_options(moto.server.endpoint_url),
            store_read_timeout=1,
            store_connect_timeout=1,
            store_retries=1,
        )
        literal = hold.put(payload)
        assert hold.get(literal) == payload
        moto.freeze()
        put_error = outcome(lambda: hold.put(os.urandom(200_000)), bound=60)
        get_error = outcome(lambda: hold.get(literal), bound=60)
        moto.thaw()
        assert hold.get(literal) == payload  # the store works again once the server does
    _assert_named(put_error, moto.server.endpoint_url)
    _assert_named(get_error, moto.server.endpoint_url)


def test_options_the_caller_sets_win_and_ftp_gets_a_timeout() -> None:
    mine = bounded_options("s3", {"config_kwargs": {"read_timeout": 99}}, 1, 2, 3)
    assert mine["config_kwargs"] == {
        "read_timeout": 99,
        "connect_timeout": 1,
        "retries": {"total_max_attempts": 4, "mode": "standard"},
    }
    assert bounded_options("ftp", {}, 5, 2, 3) == {"timeout": 5}
    assert bounded_options("file", {}, 5, 2, 3) == {}
