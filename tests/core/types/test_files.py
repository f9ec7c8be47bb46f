"""File and Directory: uploaded once, downloaded lazily, streamed without a download."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cargohold import BlobNotFoundError, Cargohold, Directory, File, Literal


def test_file_is_lazy_and_streams(hold: Cargohold, tmp_path: Path) -> None:
    source = tmp_path / "report.csv"
    source.write_bytes(b"a,b\n1,2\n" * 1000)
    literal = hold.put(File(source))
    assert literal.blob is not None
    assert literal.blob.format == "file"
    loaded = hold.get(Literal.from_json(literal.to_json()))
    assert isinstance(loaded, File)
    assert loaded.name == "report.csv"
    assert not loaded.is_downloaded
    with loaded.open() as stream:
        assert stream.read(4) == b"a,b\n"
    assert not loaded.is_downloaded
    local = os.fspath(loaded)
    assert loaded.is_downloaded
    assert Path(local).read_bytes() == source.read_bytes()
    assert Path(local).name == "report.csv"


def test_file_from_the_store_is_not_uploaded_again(hold: Cargohold, tmp_path: Path) -> None:
    source = tmp_path / "x.bin"
    source.write_bytes(b"payload")
    first = hold.put(File(source))
    loaded = hold.get(first)
    second = hold.put(loaded)
    assert second.blob == first.blob
    assert not loaded.is_downloaded


def test_directory_round_trip(hold: Cargohold, tmp_path: Path) -> None:
    root = tmp_path / "model"
    (root / "weights").mkdir(parents=True)
    (root / "config.json").write_text('{"layers": 3}')
    (root / "weights" / "w.bin").write_bytes(b"\x00" * 4096)
    literal = hold.put(Directory(root))
    assert {ref.format for ref in literal.blobs()} == {"file"}
    loaded = hold.get(Literal.from_json(literal.to_json()))
    assert isinstance(loaded, Directory)
    assert loaded.files() == ["config.json", "weights/w.bin"]
    with loaded.open("config.json") as stream:
        assert stream.read() == b'{"layers": 3}'
    local = Path(os.fspath(loaded))
    assert (local / "weights" / "w.bin").read_bytes() == b"\x00" * 4096
    with pytest.raises(BlobNotFoundError):
        loaded.file("missing.txt")


def test_missing_local_file_is_reported(hold: Cargohold, tmp_path: Path) -> None:
    with pytest.raises(BlobNotFoundError, match=r"nope\.txt"):
        hold.put(File(tmp_path / "nope.txt"))
