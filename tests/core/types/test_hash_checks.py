"""Reads that must check what they read: a lazy File fetch verifies the content hash, and an
Arrow IPC table read honours ``columns=`` (the Dagster IO manager's default on local stores)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from cargohold import Cargohold, CorruptDataError, File, Literal


def test_a_lazy_file_fetch_verifies_the_hash(hold: Cargohold, tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(os.urandom(100_000))
    literal = hold.put(File(source))
    assert literal.blob is not None
    stored = Path(hold.store._path(literal.blob.uri))
    stored.write_bytes(b"\0" * 100_000)  # same size, other bytes
    loaded = hold.get(Literal.from_json(literal.to_json()))
    with pytest.raises(CorruptDataError):
        os.fspath(loaded)


def test_columns_are_honoured_on_an_arrow_ipc_read(tmp_path: Path) -> None:
    hold = Cargohold(
        store_url=(tmp_path / "store").as_uri(),
        catalog_url=f"sqlite:///{tmp_path / 'catalog.db'}",
        table_format="arrow",
    )
    frame = pd.DataFrame({"a": range(10_000), "b": [0.5] * 10_000, "c": ["x"] * 10_000})
    literal = hold.put(frame)
    assert literal.blob is not None
    assert literal.blob.format == "arrow"
    only = hold.get(literal, columns=["c", "a"])
    assert list(only.columns) == ["c", "a"]
    pd.testing.assert_frame_equal(only, frame[["c", "a"]])
