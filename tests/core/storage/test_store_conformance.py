"""One conformance suite for the store, run on a local directory, memory:// and S3 (moto)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from cargohold import (
    BlobNotFoundError,
    ConfigurationError,
    CorruptDataError,
    PathEscapeError,
    Store,
)
from cargohold.core.storage.hashing import hash_bytes
from tests.support.pagecache import resident_pages
from tests.support.services import S3Server


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "local":
        return Store(f"file://{tmp_path}/store")
    if request.param == "memory":
        return Store(f"memory://cargohold-{uuid.uuid4().hex}")
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.create_bucket()
    return Store(f"s3://{bucket}/root", options=server.options())


def _tamper(store: Store, uri: str, data: bytes) -> None:
    """Overwrite a blob behind the store's back, as a faulty disk or a person would."""
    path = store._path(uri)
    with store.fs.open(path, "wb") as handle:
        handle.write(data)


def test_put_bytes_round_trip(store: Store) -> None:
    info = store.put_bytes(b"hello cargohold")
    assert info.size == 15
    assert info.hash == hash_bytes(b"hello cargohold")
    assert info.uri.startswith(store.url)
    assert store.read_bytes(info.uri, expected_hash=info.hash) == b"hello cargohold"


def test_identical_bytes_are_stored_once(store: Store) -> None:
    first = store.put_bytes(b"same bytes")
    second = store.put_bytes(b"same bytes")
    assert first.uri == second.uri
    assert [blob.hash for blob in store.iter_blobs()] == [first.hash]


def test_a_deduplicated_write_refreshes_a_local_blob(tmp_path: Path) -> None:
    store = Store(f"file://{tmp_path}/store")
    info = store.put_bytes(b"old bytes")
    path = store._path(info.uri)
    os.utime(path, (1_000_000_000, 1_000_000_000))
    store.put_bytes(b"old bytes")
    assert os.path.getmtime(path) > 1_000_000_000  # garbage collection sees it as young


def test_release_cache_keeps_the_blob_and_ignores_what_it_cannot_release(store: Store) -> None:
    info = store.put_bytes(b"x" * 100_000)
    store.release_cache(info.uri)
    store.release_cache(store.blob_uri("ab" * 32))  # gone (or never written): a hint, no error
    store.release_cache("file:///elsewhere/blob")  # outside this store
    assert store.read_bytes(info.uri, expected_hash=info.hash) == b"x" * 100_000


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="posix_fadvise is Linux/BSD only")
def test_release_cache_drops_a_local_blobs_cached_pages(tmp_path: Path) -> None:
    store = Store(f"file://{tmp_path}/store")
    info = store.put_bytes(os.urandom(4 << 20))
    path = store.local_path(info.uri)
    assert resident_pages(path) > 0  # just written (and flushed): still in the page cache
    store.release_cache(info.uri)
    assert resident_pages(path) == 0
    assert store.read_bytes(info.uri, expected_hash=info.hash)


def test_new_blob_commits_content_addressed(store: Store) -> None:
    with store.new_blob() as sink, open(sink.path, "wb") as handle:
        handle.write(b"x" * 1000)
    assert sink.result.size == 1000
    assert store.read_bytes(sink.result.uri, expected_hash=sink.result.hash) == b"x" * 1000


def test_failed_writer_leaves_nothing_visible(store: Store) -> None:
    paths = []

    def write_then_fail() -> None:
        with store.new_blob() as sink:
            paths.append(sink.path)
            with open(sink.path, "wb") as handle:
                handle.write(b"partial data")
            raise RuntimeError("writer failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        write_then_fail()
    assert list(store.iter_blobs()) == []
    assert not os.path.exists(paths[0])


def test_corruption_is_detected(store: Store) -> None:
    info = store.put_bytes(b"original content")
    _tamper(store, info.uri, b"tampered content")
    with pytest.raises(CorruptDataError) as caught:
        store.read_bytes(info.uri, expected_hash=info.hash)
    assert info.uri in str(caught.value)


def test_streamed_read_verifies_at_end(store: Store) -> None:
    info = store.put_bytes(b"a" * 100_000)
    with store.open_blob(info.uri, expected_hash=info.hash) as stream:
        assert stream.read() == b"a" * 100_000
    _tamper(store, info.uri, b"b" * 100_000)
    with (
        store.open_blob(info.uri, expected_hash=info.hash) as stream,
        pytest.raises(CorruptDataError),
    ):
        stream.read()


def test_large_file_streams_in_and_out(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    chunk = os.urandom(1 << 20)
    with source.open("wb") as handle:
        for _ in range(12):
            handle.write(chunk)
    info = store.put_file(str(source))
    assert info.size == 12 << 20
    target = tmp_path / "out" / "big.bin"
    store.download(info.uri, str(target), expected_hash=info.hash)
    assert target.read_bytes() == source.read_bytes()


def test_download_verifies_the_hash(store: Store, tmp_path: Path) -> None:
    info = store.put_bytes(b"c" * 50_000)
    _tamper(store, info.uri, b"d" * 50_000)
    target = tmp_path / "out" / "tampered.bin"
    with pytest.raises(CorruptDataError):
        store.download(info.uri, str(target), expected_hash=info.hash)
    assert not target.exists()  # the bad copy is removed


def test_missing_blob(store: Store) -> None:
    with pytest.raises(BlobNotFoundError):
        store.read_bytes(store.blob_uri("ab" * 32))
    with pytest.raises(FileNotFoundError):  # BlobNotFoundError is also a FileNotFoundError
        store.read_bytes(store.blob_uri("cd" * 32))


@pytest.mark.parametrize(
    "path", ["../outside", "a/../../outside", "/etc/passwd", "s3://other-bucket/key", "a/../.."]
)
def test_paths_escaping_the_root_are_refused(store: Store, path: str) -> None:
    with pytest.raises(PathEscapeError):
        store.exists(path)


def test_file_api(store: Store) -> None:
    store.makedirs("docs/inner")
    with store.open("docs/a.txt", "wb") as handle:
        handle.write(b"aaa")
    with store.open("docs/inner/b.txt", "wb") as handle:
        handle.write(b"bb")
    assert store.exists("docs/a.txt")
    assert store.size("docs/a.txt") == 3
    assert "a.txt" in store.listdir("docs")
    assert store.glob("docs/*.txt") == ["docs/a.txt"]
    store.copy("docs/a.txt", "docs/c.txt")
    with pytest.raises(FileExistsError):
        store.copy("docs/a.txt", "docs/c.txt")
    store.rename("docs/c.txt", "docs/d.txt")
    assert not store.exists("docs/c.txt")
    with store.open("docs/d.txt", "rb") as handle:
        assert handle.read() == b"aaa"
    walked = {directory: files for directory, _, files in store.walk("docs")}
    assert walked["docs"] == ["a.txt", "d.txt"]
    assert walked["docs/inner"] == ["b.txt"]
    store.remove("docs/d.txt")
    assert not store.exists("docs/d.txt")
    with pytest.raises(BlobNotFoundError):
        store.remove("docs/d.txt")
    assert store.uri("docs/a.txt").startswith(store.url)


def test_delete_blob_and_clean_leftovers(store: Store, tmp_path: Path) -> None:
    info = store.put_bytes(b"to delete")
    store.delete_blob(info.hash)
    assert list(store.iter_blobs()) == []
    store.delete_blob(info.hash)  # deleting twice is not an error
    spool = tmp_path / "spool"
    spool.mkdir()
    kept = store.put_bytes(b"committed")
    report = store.clean_leftovers(older_than=timedelta(0), dry_run=False, spool_dir=str(spool))
    assert report.count == 0  # a committed blob is not a leftover
    assert store.read_bytes(kept.uri, expected_hash=kept.hash) == b"committed"


def test_missing_extra_gives_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    """gcsfs made unimportable (the full dev install has it): the error names the extra."""
    import fsspec  # noqa: F401  (its registry module is shadowed by a mapping of the same name)

    known = sys.modules["fsspec.registry"]._registry
    monkeypatch.setitem(sys.modules, "gcsfs", None)
    for protocol in ("gs", "gcs"):  # a class fsspec already imported would be reused
        monkeypatch.delitem(known, protocol, raising=False)
    with pytest.raises(ConfigurationError, match=r"cargohold\[gcs\]"):
        Store("gs://bucket/prefix")


def test_writer_killed_mid_write_leaves_nothing_visible(tmp_path: Path) -> None:
    """A process killed while writing a blob leaves only a temporary file, never a blob."""
    root = tmp_path / "store"
    script = textwrap.dedent(
        f"""
        import os, sys, time
        from cargohold import Store
        store = Store("file://{root}")
        with store.new_blob() as sink:
            with open(sink.path, "wb") as handle:
                handle.write(b"x" * (1 << 20))
                handle.flush()
                print("writing", flush=True)
                time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"writing"
    proc.kill()
    proc.wait()
    store = Store(f"file://{root}")
    assert list(store.iter_blobs()) == []
    report = store.clean_leftovers(
        older_than=timedelta(0), dry_run=False, spool_dir=str(tmp_path / "none")
    )
    assert len(report.temporary_files) == 1
    assert report.bytes == 1 << 20
    assert not any((root / ".tmp").iterdir())
