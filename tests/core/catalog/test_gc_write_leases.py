"""GC against deduplication, driven step by step on a local store and on S3 (moto), with a
SQLite and a PostgreSQL catalog: a blob a writer has deduplicated against (or is about to) is
never deleted before the writer records it, and no object modification time is involved (the
collector runs with a grace period of zero)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cargohold import Cargohold
from cargohold.core.storage.store import BlobInfo, Store
from tests.support.services import S3Server

NO_GRACE = timedelta(0)


@pytest.fixture(params=["local", "s3"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return (tmp_path / "store").as_uri()
    server: S3Server = request.getfixturevalue("s3_server")
    return f"s3://{server.create_bucket()}/store"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    from tests.support.services import postgres_database, require_postgres

    require_postgres()
    with postgres_database() as url:
        yield url


def _options(store_url: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    if not store_url.startswith("s3://"):
        return {}
    server: S3Server = request.getfixturevalue("s3_server")
    return server.options()


@pytest.fixture
def holds(
    store_url: str, catalog_url: str, request: pytest.FixtureRequest
) -> Iterator[tuple[Cargohold, Cargohold, Store]]:
    """A writer's hold, a collector's hold (own catalog connection), and a bare store (no
    leases) that plants an unreferenced blob, as a crashed or finished earlier writer leaves."""
    options = _options(store_url, request)
    writer = Cargohold(store_url=store_url, catalog_url=catalog_url, store_options=options)
    collector = Cargohold(store_url=store_url, catalog_url=catalog_url, store_options=options)
    writer.catalog.create_dataset(dataset="d")
    yield writer, collector, Store(store_url, options=options)
    writer.catalog.close()
    collector.catalog.close()


def test_gc_between_dedup_and_record_keeps_the_blob(
    holds: tuple[Cargohold, Cargohold, Store],
) -> None:
    writer, collector, bare = holds
    payload = os.urandom(100_000)
    planted = bare.put_bytes(payload)  # an old, unreferenced blob with these bytes
    literal = writer.put(payload)  # deduplicated against it: nothing is written
    assert [b.hash for b in literal.blobs()] == [planted.hash]

    report = collector.catalog.collect_garbage(store=collector.store, grace=NO_GRACE, dry_run=False)
    assert planted.hash not in report.blob_hashes

    artifact = writer.catalog.create_artifact(dataset="d", data={"x": literal})
    assert writer.get(artifact.data["x"]) == payload
    # once recorded, the artifact's reference keeps it and the lease is gone
    again = collector.catalog.collect_garbage(store=collector.store, grace=NO_GRACE, dry_run=False)
    assert planted.hash not in again.blob_hashes
    assert writer.get(artifact.data["x"]) == payload


def test_an_orphan_blob_is_still_collected(holds: tuple[Cargohold, Cargohold, Store]) -> None:
    _, collector, bare = holds
    orphan = bare.put_bytes(os.urandom(1000))
    report = collector.catalog.collect_garbage(store=collector.store, grace=NO_GRACE, dry_run=False)
    assert report.blob_hashes == (orphan.hash,)
    assert not bare.exists(orphan.uri)


class PausingStore:
    """The collector's view of a store, pausing before its first delete until told to go."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.deciding = threading.Event()
        self.go = threading.Event()

    def iter_blobs(self) -> Iterator[BlobInfo]:
        return self.store.iter_blobs()

    def delete_blob(self, content_hash: str) -> None:
        self.deciding.set()
        assert self.go.wait(60)
        self.store.delete_blob(content_hash)


def test_a_write_during_gcs_delete_waits_then_writes_the_blob_again(
    holds: tuple[Cargohold, Cargohold, Store],
) -> None:
    writer, collector, bare = holds
    payload = os.urandom(100_000)
    planted = bare.put_bytes(payload)
    pausing = PausingStore(collector.store)
    reports: list[Any] = []
    gc = threading.Thread(
        target=lambda: reports.append(
            collector.catalog.collect_garbage(store=pausing, grace=NO_GRACE, dry_run=False)
        )
    )
    gc.start()
    assert pausing.deciding.wait(60)  # the collector chose the blob and is about to delete it

    literals: list[Any] = []
    write = threading.Thread(target=lambda: literals.append(writer.put(payload)))
    write.start()
    time.sleep(0.5)
    assert write.is_alive(), "the writer's lease must wait for the collector's transaction"
    pausing.go.set()
    gc.join(60)
    write.join(60)
    assert reports[0].blob_hashes == (planted.hash,)
    artifact = writer.catalog.create_artifact(dataset="d", data={"x": literals[0]})
    assert writer.get(artifact.data["x"]) == payload  # the writer stored the bytes again
