"""Fast checks without running a DAG: provider info, connection settings, partitions, views."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cargohold.airflow_provider import get_provider_info
from cargohold.airflow_provider._runtime import TaskInfo
from cargohold.airflow_provider.hooks import CargoholdHook, settings_overrides
from cargohold.airflow_provider.partitions import task_partitions
from cargohold.airflow_provider.xcom import CargoholdXComBackend, reference_view
from cargohold.core.catalog import partition_by_date, partition_by_key
from cargohold.core.errors import InvalidArgumentError
from cargohold.core.hold import Cargohold


def test_provider_info_names_the_hook_and_connection_type() -> None:
    info = get_provider_info()
    assert info["package-name"] == "cargohold"
    (conn,) = info["connection-types"]
    assert conn == {
        "hook-class-name": "cargohold.airflow_provider.hooks.CargoholdHook",
        "connection-type": "cargohold",
    }
    assert CargoholdHook.conn_type == "cargohold"
    assert CargoholdHook.default_conn_name == "cargohold_default"
    assert CargoholdHook.conn_name_attr == "cargohold_conn_id"


def test_connection_settings() -> None:
    conn = SimpleNamespace(
        host="s3://bucket/cargo",
        schema="postgresql+psycopg://u@h/db",
        login="key",
        password="secret",
        extra_dejson={"domain": "production", "store_options": json.dumps({"anon": False})},
    )
    out = settings_overrides(conn)
    assert out["store_url"] == "s3://bucket/cargo"
    assert out["catalog_url"] == "postgresql+psycopg://u@h/db"
    assert out["store_options"] == {"key": "key", "secret": "secret", "anon": False}
    assert out["domain"] == "production"


def _info(task: Any, *, partition_key: str | None = None, params: Any = None) -> TaskInfo:
    return TaskInfo(
        dag_id="d",
        task_id="t",
        run_id="r",
        map_index=-1,
        try_number=1,
        logical_date=datetime(2026, 11, 5, 6, 0),
        clear_number=0,
        partition_key=partition_key,
        params=params or {},
        task=task,
    )


def test_partitions_from_declarations_and_partition_keys() -> None:
    @partition_by_date(key="date")
    def daily() -> None: ...

    @partition_by_key(key="region")
    @partition_by_date(key="date")
    def regional() -> None: ...

    def plain() -> None: ...

    def as_task(fn: Any) -> Any:
        return SimpleNamespace(python_callable=fn)

    assert task_partitions(_info(as_task(daily))) == {"date": "2026-11-05"}
    assert task_partitions(_info(as_task(daily), partition_key="2026-11-01T00:00:00")) == {
        "date": "2026-11-01"
    }
    assert task_partitions(_info(as_task(regional), partition_key="eu|2026-11-02")) == {
        "region": "eu",
        "date": "2026-11-02",
    }
    assert task_partitions(_info(as_task(regional), params={"region": "us"})) == {
        "region": "us",
        "date": "2026-11-05",
    }
    assert task_partitions(_info(as_task(plain), partition_key="2026-11")) == {
        "partition": "2026-11"
    }
    assert task_partitions(_info(as_task(plain))) == {}
    with pytest.raises(InvalidArgumentError, match="region"):
        task_partitions(_info(as_task(regional)))
    with pytest.raises(InvalidArgumentError, match="2 partition keys"):
        task_partitions(_info(as_task(regional), partition_key="only-one"))


def test_outside_a_task_values_read_without_the_store(tmp_path: Any) -> None:
    hold = Cargohold(store_url=(tmp_path / "s").as_uri(), catalog_url="sqlite://")
    small = hold.put({"a": [1, 2]}).to_dict()
    assert CargoholdXComBackend.deserialize_value(SimpleNamespace(value=small)) == {"a": [1, 2]}
    big = hold.put(b"x" * 200_000).to_dict()
    view = CargoholdXComBackend.deserialize_value(SimpleNamespace(value=json.dumps(big)))
    assert view["cargohold_reference"] is True
    assert view["size"] == big["blob"]["size"]
    assert view["uri"].startswith("file://")
    # values stored by Airflow's own backend still read
    assert CargoholdXComBackend.deserialize_value(SimpleNamespace(value=[1, 2])) == [1, 2]
    assert reference_view(small, reason="x")["value"] == {"a": [1, 2]}


@pytest.mark.slow
def test_airflow_lists_the_provider_and_hook(tmp_path: Any) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from tests.airflow_provider.conftest import base_env

    airflow = str(Path(sys.executable).with_name("airflow"))
    env = base_env(tmp_path, tmp_path / "dags")
    providers = subprocess.run(
        [airflow, "providers", "list"], env=env, capture_output=True, text=True, timeout=120
    )
    assert "cargohold" in providers.stdout
    hooks = subprocess.run(
        [airflow, "providers", "hooks"], env=env, capture_output=True, text=True, timeout=120
    )
    assert "cargohold.airflow_provider.hooks.CargoholdHook" in hooks.stdout


def test_the_runtime_is_kept_when_openlineage_python_aliases_the_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """openlineage-python's client (built by Airflow's provider, or for a configuration cargohold
    hands to it) copies OPENLINEAGE_URL into OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__*:
    the same configuration, so the same Runtime (not a second Cargohold and emitter)."""
    from openlineage.client import OpenLineageClient

    from cargohold.airflow_provider._runtime import reset_runtime, runtime

    for key in list(os.environ):
        if key.startswith("OPENLINEAGE"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("CARGOHOLD_HOME", str(tmp_path))
    monkeypatch.setenv("OPENLINEAGE_URL", "http://127.0.0.1:9")
    reset_runtime()
    try:
        first = runtime()
        OpenLineageClient()
        assert any(key.startswith("OPENLINEAGE__TRANSPORT__") for key in os.environ)
        assert runtime() is first
    finally:
        for key in [k for k in os.environ if k.startswith("OPENLINEAGE__TRANSPORT__")]:
            del os.environ[key]
        reset_runtime()
