"""Fuzzing ``Literal.from_json`` and ``Cargohold.get`` with hostile and malformed documents.

Whatever the document: the call succeeds or raises a ``CargoholdError``; no module is imported
that was not imported before; nothing is written outside the temporary folder reads download
into; every call ends within a bound (a hang detector, far above any real read).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import tempfile
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from cargohold import Cargohold, Directory, File, Literal
from cargohold.core.errors import CargoholdError
from tests.core.types._elsewhere import Badge, Shade, Spot
from tests.support import hostile

BOUND = 20.0


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A hold with real literals of every kind, an empty 'outside' folder and an empty cwd."""
    hostile.warm_up()
    root = tmp_path_factory.mktemp("fuzz")
    hold = Cargohold(
        store_url=(root / "store").as_uri(),
        catalog_url=f"sqlite:///{root / 'catalog.db'}",
        allowed_types=("tests.core.types._elsewhere.*",),
    )
    source = root / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("a")
    (source / "sub" / "b.txt").write_text("b")
    values: list[Any] = [
        1,
        2.5,
        "s",
        b"bytes",
        bytearray(b"x" * 70_000),
        None,
        True,
        dt.date(2026, 1, 1),
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        dt.timedelta(1),
        decimal.Decimal("1.5"),
        uuid.uuid4(),
        {"a": [1, 2]},
        [1, "a", None],
        {1: "x"},
        (1, "a"),
        {1, 2},
        frozenset("ab"),
        Shade.DARK,
        Spot(x=1, label="a"),
        Badge(name="n"),
        list(range(20_000)),
        File(str(source / "a.txt")),
        Directory(str(source)),
        np.arange(5),
        pd.DataFrame({"a": [1, 2]}),
    ]
    valid = [hold.put(value).to_dict() for value in values]
    uris = sorted({blob.uri for doc in valid for blob in Literal.from_dict(doc).blobs()})
    outside = root / "outside"
    outside.mkdir()
    cwd = root / "cwd" / "deeper"
    cwd.mkdir(parents=True)
    downloads = root / "downloads"
    downloads.mkdir()
    yield {
        "hold": hold,
        "valid": valid,
        "uris": uris,
        "outside": outside,
        "cwd": cwd,
        "downloads": downloads,
    }
    hold.catalog.close()


def _strategy(arena: dict[str, Any]) -> Any:
    return hostile.documents(arena["valid"], arena["outside"], arena["uris"])


def _read(hold: Cargohold, text: str) -> None:
    value = hold.get(text)
    if isinstance(value, File | Directory):
        os.fspath(value)  # downloads: names and entries must stay in the temporary folder


def test_valid_documents_still_read(arena: dict[str, Any]) -> None:
    for document in arena["valid"]:
        _read(arena["hold"], hostile.as_text(document))


def test_fuzz_from_json_and_get(arena: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(arena["cwd"])
    monkeypatch.setattr(tempfile, "tempdir", str(arena["downloads"]))
    hold: Cargohold = arena["hold"]

    @settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(document=_strategy(arena))
    def fuzz(document: Any) -> None:
        text = hostile.as_text(document)
        with hostile.watched(outside=arena["outside"], cwd=arena["cwd"], bound=BOUND) as check:
            with contextlib.suppress(CargoholdError):
                Literal.from_json(text)
            with contextlib.suppress(CargoholdError):
                _read(hold, text)
            check()

    fuzz()
