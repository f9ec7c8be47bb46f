"""The XCom backend's ``purge`` (Airflow calls it on ``XCom.delete`` and when a retry clears its
keys) deletes the XCom's blobs only when no other owner references them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from cargohold import Cargohold
from cargohold.airflow_provider._runtime import reset_runtime
from cargohold.airflow_provider.records import xcom_owner_id
from cargohold.airflow_provider.xcom import OWNER_XCOM, CargoholdXComBackend


@pytest.fixture
def hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cargohold]:
    for key in list(os.environ):
        if key.startswith("CARGOHOLD_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CARGOHOLD_STORE_URL", (tmp_path / "store").as_uri())
    monkeypatch.setenv("CARGOHOLD_CATALOG_URL", f"sqlite:///{tmp_path / 'catalog.db'}")
    reset_runtime()
    the_hold = Cargohold.from_env()
    yield the_hold
    the_hold.catalog.close()
    reset_runtime()


def _xcom(hold: Cargohold, payload: bytes, run_id: str) -> SimpleNamespace:
    literal = hold.put(payload)
    owner = xcom_owner_id(dag_id="d", run_id=run_id, task_id="t", map_index=-1, key="k")
    hold.catalog.register_blob_owner(owner_kind=OWNER_XCOM, owner_id=owner, blobs=[literal])
    return SimpleNamespace(value={**literal.to_dict(), "xcom_owner": owner}, literal=literal)


def test_purge_keeps_a_blob_another_owner_references(hold: Cargohold) -> None:
    payload = os.urandom(100_000)
    first, second = _xcom(hold, payload, "r1"), _xcom(hold, payload, "r2")  # same bytes
    hold.catalog.create_dataset(dataset="kept")
    artifact = hold.catalog.create_artifact(dataset="kept", data={"x": first.literal})
    blob = first.literal.blob
    assert blob is not None

    CargoholdXComBackend.purge(first)
    assert hold.store.exists(blob.uri)  # the second XCom and the artifact still need it
    CargoholdXComBackend.purge(second)
    assert hold.store.exists(blob.uri)  # the artifact still needs it
    assert hold.get(artifact.data["x"]) == payload


def test_purge_deletes_a_blob_nobody_else_references(hold: Cargohold) -> None:
    only = _xcom(hold, os.urandom(100_000), "r1")
    blob = only.literal.blob
    assert blob is not None
    CargoholdXComBackend.purge(only)
    assert not hold.store.exists(blob.uri)
