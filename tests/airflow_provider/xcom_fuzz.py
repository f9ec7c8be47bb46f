"""The XCom backend's ``deserialize_value`` under hostile documents, as a callable the
``untrusted_types`` DAG runs inside a task and the tests run outside one."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import fsspec.core
from hypothesis import HealthCheck, given, settings

from cargohold.airflow_provider.xcom import CargoholdXComBackend, is_cargohold_document
from cargohold.core.errors import CargoholdError
from tests.support import hostile

VALID: list[dict[str, Any]] = [
    {"cargohold": 1, "type": {"kind": "int"}, "value": 3},
    {"cargohold": 1, "type": {"kind": "json"}, "value": {"a": [1, 2]}},
    {"cargohold": 1, "type": {"kind": "enum", "name": "os:system"}, "value": "id"},
    {
        "cargohold": 1,
        "type": {"kind": "bytes"},
        "blob": {
            "uri": "s3://bucket/store/cas/ab/" + "ab" * 32,
            "size": 5,
            "hash": "ab" * 32,
            "format": "bytes",
            "python_type": "bytes",
        },
        "artifact": {"dataset": "d.t.return_value", "version": 1, "id": "nope"},
    },
]


def fuzz_deserialize(*, examples: int) -> int:
    """Feed hostile documents (as dicts and as JSON text) to ``deserialize_value``: each call
    returns or raises a ``CargoholdError``, imports nothing new, writes nothing outside a
    temporary folder, and ends within a bound. Returns how many documents were tried."""
    hostile.warm_up()
    # a valid blob document on s3:// legitimately opens the store's filesystem (s3fs and the
    # botocore stack it imports): have it loaded before watching, whatever ran before in the task
    fsspec.core.url_to_fs(str(VALID[-1]["blob"]["uri"]), anon=True)
    work = Path(tempfile.mkdtemp(prefix="xcom-fuzz-"))
    outside, cwd = work / "outside", work / "cwd"
    outside.mkdir()
    cwd.mkdir()
    tried = [0]
    uris = [str(doc["blob"]["uri"]) for doc in VALID if "blob" in doc]

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(document=hostile.documents(VALID, outside, uris))
    def fuzz(document: Any) -> None:
        text = hostile.as_text(document)
        value = hostile.as_value(document)
        ours = [text] if text.startswith("{") and '"cargohold"' in text else []
        if is_cargohold_document(value):
            ours.append(value)  # other values take Airflow's own path, not ours
        for stored in ours:
            with hostile.watched(outside=outside, cwd=cwd, bound=30.0) as check:
                with contextlib.suppress(CargoholdError):
                    CargoholdXComBackend.deserialize_value(SimpleNamespace(value=stored))
                check()
        tried[0] += 1

    fuzz()
    return tried[0]
