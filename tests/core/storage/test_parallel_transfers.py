"""Large S3 blobs move as concurrent parts (moto's server over real HTTP): the round trip, the
hash (the same as a single-stream write's), verification on read, and that a failure, a changed
source or a timeout mid-upload leaves no visible blob and no incomplete multipart upload."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from cargohold import CorruptDataError, StorageError, Store
from cargohold.core.storage import downloads, transfers
from cargohold.core.storage.hashing import hash_bytes
from tests.support.faults import (
    cutting_proxy,
    freezable_moto,
    outcome,
    stalling_proxy,
    trickling_proxy,
)
from tests.support.services import S3Server

PART = transfers.MIN_PART_SIZE  # 5 MiB: small parts keep the test quick


def _client(server: S3Server, timeout: float = 10) -> Any:
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
        config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
    )


def _store(server: S3Server, bucket: str, **kwargs: Any) -> Store:
    options = {**server.options(), "skip_instance_cache": True}
    return Store(f"s3://{bucket}/store", options=options, **kwargs)


def _key(store: Store, uri: str) -> str:
    return store._path(uri).split("/", 1)[1]


def _uploads(server: S3Server, bucket: str) -> list[dict[str, Any]]:
    return list(_client(server).list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_a_large_blob_round_trips_as_parts_with_the_single_stream_hash(
    s3_server: S3Server, tmp_path: Path
) -> None:
    data = os.urandom(4 * PART + 12345)  # five parts, the last one short
    bucket = s3_server.create_bucket()
    parallel = _store(s3_server, bucket, part_size=PART, concurrency=3)
    info = parallel.put_bytes(data)

    single_bucket = s3_server.create_bucket()
    single = _store(s3_server, single_bucket, part_size=64 << 20)
    single_info = single.put_bytes(data)
    assert single_info.hash == info.hash == hash_bytes(data)

    client = _client(s3_server)
    head = client.head_object(Bucket=bucket, Key=_key(parallel, info.uri))
    assert head["ETag"].strip('"').endswith("-5"), head["ETag"]  # a five-part upload
    assert head["ContentLength"] == len(data)
    plain = client.head_object(Bucket=single_bucket, Key=_key(single, single_info.uri))
    assert "-" not in plain["ETag"]  # the single-stream write: one PUT

    assert parallel.read_bytes(info.uri, expected_hash=info.hash) == data
    target = tmp_path / "back.bin"
    parallel.download(info.uri, str(target), expected_hash=info.hash)
    assert target.read_bytes() == data
    assert parallel.read_range(info.uri, offset=PART - 3, length=7) == data[PART - 3 : PART + 4]

    source = tmp_path / "source.bin"
    source.write_bytes(data[: 2 * PART + 1])
    from_file = parallel.put_file(str(source))
    assert from_file.hash == hash_bytes(data[: 2 * PART + 1])
    assert parallel.read_bytes(from_file.uri, expected_hash=from_file.hash) == source.read_bytes()
    assert _uploads(s3_server, bucket) == []

    # already stored: the second write sends nothing (no upload is even started)
    assert parallel.put_bytes(data) == info
    empty = parallel.put_bytes(b"")  # S3 refuses a range of an empty object: read it whole
    assert parallel.read_bytes(empty.uri, expected_hash=empty.hash) == b""


def test_a_write_checks_for_the_blob_with_one_head_request(s3_server: S3Server) -> None:
    # s3fs's exists() follows a missing key with a LIST of it as a prefix: a second round trip
    # (and a request billed as a LIST) that a content-addressed key never needs
    bucket = s3_server.create_bucket()
    store = _store(s3_server, bucket, part_size=PART)
    methods: list[str] = []
    call_s3 = store.fs._call_s3

    async def counted(method: str, *args: Any, **kwargs: Any) -> Any:
        methods.append(method)
        return await call_s3(method, *args, **kwargs)

    store.fs._call_s3 = counted
    info = store.put_bytes(b"one small value")
    assert methods == ["head_object", "put_object"]
    methods.clear()
    assert store.put_bytes(b"one small value") == info  # already stored: nothing is sent
    assert methods == ["head_object"]


def test_a_slow_first_stream_splits_into_ranged_gets_hashed_in_order(
    s3_server: S3Server, tmp_path: Path
) -> None:
    # split_below=inf: every first stream counts as slow, so the object past the first part is
    # shared by ranged GETs (counted on the way to the real server), into memory and a file
    data = os.urandom(9 * PART + 777)
    bucket = s3_server.create_bucket()
    store = _store(s3_server, bucket, part_size=PART, concurrency=4)
    info = store.put_bytes(data)
    path = store._path(info.uri)
    calls: list[dict[str, Any]] = []
    call_s3 = store.fs._call_s3

    async def counted(method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "get_object":
            calls.append(kwargs)
        return await call_s3(method, *args, **kwargs)

    store.fs._call_s3 = counted
    memory = downloads.MemorySink(len(data))
    got = downloads.download(
        store.fs,
        path,
        sink=lambda size: memory,
        part_size=PART,
        concurrency=4,
        split_below=float("inf"),
    )
    assert got == downloads.Download(size=len(data), hash=info.hash)
    assert bytes(memory.buffer) == data
    # the first stream read its probe (and what its last read brought), then kept a quarter of
    # the rest: three ranged GETs, back to back up to the end, each asking for the first
    # answer's ETag
    assert "Range" not in calls[0]
    spans = sorted(
        tuple(int(n) for n in call["Range"].removeprefix("bytes=").split("-")) for call in calls[1:]
    )
    assert len(spans) == 3
    assert spans[-1][1] == len(data) - 1
    assert all(spans[i][1] + 1 == spans[i + 1][0] for i in range(2))
    share = spans[0][1] + 1 - spans[0][0]
    assert (
        downloads.PROBE <= spans[0][0] - share < downloads.PROBE + (1 << 20)
    )  # where the first stream stopped
    assert all(call["IfMatch"] for call in calls[1:])

    target = tmp_path / "back.bin"
    with open(target, "w+b") as handle:
        sink = downloads.FileSink(handle.fileno())
        again = downloads.download(
            store.fs, path, sink=lambda size: sink, part_size=PART, split_below=float("inf")
        )
    assert again.hash == info.hash
    assert target.read_bytes() == data

    # a stream fast enough (split_below=0), or an object of two parts or less: one GET
    calls.clear()
    fast = downloads.download(
        store.fs, path, sink=downloads.MemorySink, part_size=PART, split_below=0.0
    )
    assert fast.hash == info.hash
    small = store.put_bytes(data[: 2 * PART])
    assert store.read_bytes(small.uri, expected_hash=small.hash) == data[: 2 * PART]
    assert [call.get("Range") for call in calls] == [None, None]


class _FailingSink(downloads.MemorySink):
    """A destination whose writes fail past an offset (a full disk)."""

    def write_at(self, offset: int, chunks: list[downloads.Chunk]) -> None:
        if offset >= 2 * PART:
            raise OSError(28, "No space left on device")
        super().write_at(offset, chunks)


@pytest.mark.parametrize("split_below", [0.0, float("inf")], ids=["one-stream", "split"])
def test_a_destination_that_fails_mid_download_raises_its_error(
    s3_server: S3Server, split_below: float
) -> None:
    data = os.urandom(6 * PART)
    bucket = s3_server.create_bucket()
    store = _store(s3_server, bucket, part_size=PART)
    info = store.put_bytes(data)
    with pytest.raises(OSError, match="No space left"):
        downloads.download(
            store.fs,
            store._path(info.uri),
            sink=_FailingSink,
            part_size=PART,
            split_below=split_below,
        )


def test_a_server_that_hangs_up_mid_answer_raises_a_storage_error_and_leaves_nothing(
    s3_server: S3Server, tmp_path: Path
) -> None:
    data = os.urandom(4 * PART)
    bucket = s3_server.create_bucket()
    info = _store(s3_server, bucket, part_size=PART).put_bytes(data)
    with cutting_proxy(s3_server.endpoint_url, cut_after=PART + 12345) as endpoint:
        store = Store(
            f"s3://{bucket}/store",
            options={**S3Server(endpoint).options(), "skip_instance_cache": True},
            part_size=PART,
            retries=0,
        )
        with pytest.raises(StorageError, match=r"reading .* failed"):
            store.read_bytes(info.uri, expected_hash=info.hash)
        target = tmp_path / "back.bin"
        with pytest.raises(StorageError, match=r"downloading .* failed"):
            store.download(info.uri, str(target), expected_hash=info.hash)
        assert not target.exists()  # no partial copy left behind


def test_a_blob_changed_on_the_server_is_refused_on_read(
    s3_server: S3Server, tmp_path: Path
) -> None:
    data = os.urandom(3 * PART)
    bucket = s3_server.create_bucket()
    store = _store(s3_server, bucket, part_size=PART, concurrency=2)
    info = store.put_bytes(data)
    forged = data[:-1] + bytes([data[-1] ^ 1])  # same size, last byte flipped
    _client(s3_server).put_object(Bucket=bucket, Key=_key(store, info.uri), Body=forged)

    with pytest.raises(CorruptDataError):
        store.read_bytes(info.uri, expected_hash=info.hash)
    target = tmp_path / "back.bin"
    with pytest.raises(CorruptDataError):
        store.download(info.uri, str(target), expected_hash=info.hash)
    assert not target.exists()  # nothing unverified is left behind


def test_a_source_that_fails_mid_upload_leaves_no_blob_and_no_upload(
    s3_server: S3Server,
) -> None:
    data = os.urandom(6 * PART)
    bucket = s3_server.create_bucket()
    store = _store(s3_server, bucket, part_size=PART, concurrency=2)
    path = store._blob_path(hash_bytes(data))
    sent: list[int] = []

    def read(offset: int, length: int) -> bytes:
        if offset >= 3 * PART:
            raise OSError("the disk under the spool file failed")
        sent.append(offset)
        return data[offset : offset + length]

    with pytest.raises(OSError, match="disk under the spool"):
        transfers.upload(store.fs, path, size=len(data), read=read, part_size=PART, concurrency=2)
    assert sent == [0, PART, 2 * PART]  # it failed mid-upload, after three parts were read
    assert not store.fs.exists(path)
    assert _uploads(s3_server, bucket) == []


def test_a_source_that_changes_during_its_upload_is_not_committed(
    s3_server: S3Server, tmp_path: Path
) -> None:
    data = os.urandom(3 * PART)
    bucket = s3_server.create_bucket()
    store = _store(s3_server, bucket, part_size=PART, concurrency=2)
    path = store._blob_path(hash_bytes(data))

    with pytest.raises(StorageError, match="changed during its upload"):
        transfers.upload(
            store.fs,
            path,
            size=len(data),
            read=lambda offset, length: data[offset : offset + length],
            unchanged=lambda: False,
            part_size=PART,
        )
    with pytest.raises(StorageError, match="changed during its upload"):
        transfers.upload(  # a source shorter than it was when hashed
            store.fs,
            path,
            size=len(data),
            read=lambda offset, length: data[offset : offset + length - 1],
            part_size=PART,
        )
    assert not store.fs.exists(path)
    assert _uploads(s3_server, bucket) == []


def test_a_server_that_stops_mid_upload_ends_in_a_timeout_and_leaves_nothing_visible(
    tmp_path: Path,
) -> None:
    # The natural fault: moto SIGSTOPped once a part is stored. The parts in flight then wait
    # on a server that neither reads nor answers; one waiting for its "100 Continue" is not
    # bounded by botocore's read timeout (the earlier design hung there in one of two CI runs):
    # the part's deadline ends it. test_a_request_that_stalls_... makes that case certain.
    part, concurrency, rate = 16 << 20, 2, float(16 << 20)
    source = tmp_path / "big.bin"
    with open(source, "wb") as handle:
        for _ in range(4 * part >> 20):
            handle.write(os.urandom(1 << 20))
    with freezable_moto() as moto:
        bucket = moto.server.create_bucket()
        store = Store(
            f"s3://{bucket}/store",
            options={**moto.server.options(), "skip_instance_cache": True},
            connect_timeout=3,
            read_timeout=3,
            retries=0,
            part_size=part,
            concurrency=concurrency,
            min_throughput=rate,
        )
        # one part's deadline: (0 + 1) x (3 + 3 + 16 MiB x 2 / 16 MiB/s) = 8 s; the abort's 6 s
        deadline = transfers.request_deadline(
            store.fs, nbytes=part, concurrency=concurrency, min_throughput=rate
        )
        assert deadline == 8
        watcher = _client(moto.server, timeout=2)
        frozen = threading.Event()

        def freeze() -> None:
            moto.freeze()
            frozen.set()

        thread = _when_a_part_is_stored(moto.server, bucket, freeze)
        started = time.monotonic()
        error = outcome(lambda: store.put_file(str(source)), bound=120)
        elapsed = time.monotonic() - started
        thread.join(5)
        assert frozen.is_set(), f"the upload ended before the server was frozen: {error!r}"
        moto.thaw()

        assert isinstance(error, StorageError), repr(error)
        assert "timed out" in str(error), str(error)
        assert "store_read_timeout" in str(error), str(error)
        # the stalled parts' deadline, then the abort's (6 s): far below the 120 s bound
        assert elapsed < 2 * deadline + 6 + 10, elapsed
        key = store._path(store.blob_uri(hash_bytes(source.read_bytes())))
        assert not store.fs.exists(key)
        # the abort could not reach the frozen server, or did once it woke: either way the
        # leftovers clean-up leaves no incomplete upload behind
        report = store.clean_leftovers(older_than=timedelta(0), dry_run=False)
        assert len(report.multipart_uploads) <= 1
        assert watcher.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        assert not store.fs.exists(key)


def test_a_request_that_stalls_before_its_body_ends_at_its_deadline(s3_server: S3Server) -> None:
    # A proxy that goes silent once part 2's request line passes: that part waits for a
    # "100 Continue" that never comes, a wait botocore's read timeout does not bound (without
    # the deadline this test hangs until its 60 s bound)
    data = os.urandom(4 * PART)
    bucket = s3_server.create_bucket()
    fast = _store(s3_server, bucket, part_size=PART)
    rate = float(16 << 20)
    with stalling_proxy(s3_server.endpoint_url, stall_on=b"partNumber=2") as endpoint:
        store = Store(
            f"s3://{bucket}/store",
            options={**S3Server(endpoint).options(), "skip_instance_cache": True},
            connect_timeout=2,
            read_timeout=2,
            retries=0,
            part_size=PART,
            concurrency=2,
            min_throughput=rate,
        )
        # a part's deadline: 2 + 2 + 5 MiB x 2 / 16 MiB/s = 4.625 s
        started = time.monotonic()
        error = outcome(lambda: store.put_bytes(data), bound=60)
        elapsed = time.monotonic() - started
        assert isinstance(error, StorageError), repr(error)
        assert "timed out" in str(error), str(error)
        assert "part 2 of 4" in str(error), str(error)
        assert "deadline of 4.625 s" in str(error), str(error)
        assert endpoint in str(error), str(error)  # which server did not answer
        assert elapsed < 20, elapsed
    assert not fast.fs.exists(fast._blob_path(hash_bytes(data)))
    assert _uploads(s3_server, bucket) == []  # aborted through the proxy (not that connection)


def test_a_server_that_trickles_ends_each_transfer_at_its_deadline(
    s3_server: S3Server, tmp_path: Path
) -> None:
    # Through a proxy moving 256 KiB/s a connection, both ways: bytes keep coming, so botocore's
    # read timeout never trips, and a part's write blocks; each request's deadline (here 16
    # MiB/s shared by the parts in flight) ends the transfer, which leaves nothing behind.
    data = os.urandom(4 * PART)
    bucket = s3_server.create_bucket()
    fast = _store(s3_server, bucket, part_size=PART)
    stored = fast.put_bytes(os.urandom(3 * PART))
    rate = float(16 << 20)
    with trickling_proxy(s3_server.endpoint_url, bytes_per_second=256 << 10) as endpoint:
        slow = Store(
            f"s3://{bucket}/store",
            options={**S3Server(endpoint).options(), "skip_instance_cache": True},
            connect_timeout=2,
            read_timeout=2,
            retries=0,
            part_size=2 * PART,
            concurrency=2,
            min_throughput=rate,
        )
        # a part: 2 + 2 + 10 MiB x 2 / 16 MiB/s = 5.25 s; the download's one stream 5.875 s
        target = tmp_path / "back.bin"
        for transfer in (
            lambda: slow.download(stored.uri, str(target), expected_hash=stored.hash),
            lambda: slow.put_bytes(data),
        ):
            started = time.monotonic()
            error = outcome(transfer, bound=60)
            elapsed = time.monotonic() - started
            assert isinstance(error, StorageError), repr(error)
            assert "timed out" in str(error), str(error)
            assert "deadline" in str(error), str(error)
            assert elapsed < 20, elapsed
        assert not target.exists()
    assert not fast.fs.exists(fast._blob_path(hash_bytes(data)))
    assert _uploads(s3_server, bucket) == []


class _Interrupted(BaseException):
    """What the test's signal handler raises in the main thread (like KeyboardInterrupt)."""


def _when_a_part_is_stored(server: S3Server, bucket: str, then: Any) -> threading.Thread:
    """Call ``then()`` from a thread as soon as an upload in ``bucket`` has a stored part."""
    watcher = _client(server, timeout=2)

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for upload in watcher.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
                parts = watcher.list_parts(
                    Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )
                if parts.get("Parts"):
                    then()
                    return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_an_interrupted_upload_is_aborted(s3_server: S3Server) -> None:
    data = os.urandom(8 * PART)
    bucket = s3_server.create_bucket()

    def interrupt(signum: int, frame: Any) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGUSR1, interrupt)
    # the last part stalls at the proxy, so the upload cannot complete before the interrupt
    # lands, however slowly the signal is handled (on a loaded machine all eight parts once
    # went through first)
    with stalling_proxy(s3_server.endpoint_url, stall_on=b"partNumber=8") as endpoint:
        store = _store(S3Server(endpoint), bucket, part_size=PART, concurrency=2)
        try:
            thread = _when_a_part_is_stored(
                s3_server, bucket, lambda: os.kill(os.getpid(), signal.SIGUSR1)
            )
            with pytest.raises(_Interrupted):
                store.put_bytes(data)
            thread.join(5)
        finally:
            signal.signal(signal.SIGUSR1, previous)
    direct = _store(s3_server, bucket, part_size=PART)
    assert not direct.fs.exists(direct._blob_path(hash_bytes(data)))
    assert _uploads(s3_server, bucket) == []  # the cancelled upload was aborted


def test_bad_part_settings_are_refused(s3_server: S3Server) -> None:
    from cargohold import ConfigurationError

    bucket = s3_server.create_bucket()
    with pytest.raises(ConfigurationError, match="part_size"):
        _store(s3_server, bucket, part_size=1 << 20)
    with pytest.raises(ConfigurationError, match="concurrency"):
        _store(s3_server, bucket, concurrency=0)
    with pytest.raises(ConfigurationError, match="min_throughput"):
        _store(s3_server, bucket, min_throughput=0.0)
