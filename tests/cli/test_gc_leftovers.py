"""``cargohold gc --apply`` removes what a writer killed with SIGKILL leaves (a temporary file in
a local store; a spool file and an incomplete multipart upload for S3) and nothing live; every
recorded artifact still loads afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cargohold import Cargohold
from tests.support.faults import freezable_moto
from tests.support.services import S3Server

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, time
    from cargohold import Cargohold
    hold = Cargohold.from_env()
    size = int(sys.argv[1])
    with hold.store.new_blob() as sink:
        with open(sink.path, "wb") as handle:
            for _ in range(size >> 20):
                handle.write(b"leftover" * (1 << 17))
            handle.flush()
        print("written", flush=True)
        if hold.store.is_local:
            time.sleep(120)  # killed here, before the commit
    time.sleep(120)
    """
)


@pytest.fixture
def moto() -> Iterator[S3Server]:
    with freezable_moto() as server:
        yield server.server


def _env(tmp_path: Path, store_url: str, options: dict[str, Any]) -> dict[str, str]:
    spool = tmp_path / "spool"
    spool.mkdir(exist_ok=True)
    return dict(
        os.environ,
        PYTHONPATH=str(REPO),
        TMPDIR=str(spool),
        CARGOHOLD_STORE_URL=store_url,
        CARGOHOLD_CATALOG_URL=f"sqlite:///{tmp_path / 'catalog.db'}",
        CARGOHOLD_STORE_OPTIONS=json.dumps(options),
    )


def _kill_writer(env: dict[str, str], size: int, ready: Any) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(size)], env=env, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"written"
        deadline = time.monotonic() + 60
        while not ready():
            assert time.monotonic() < deadline, "the writer never reached its commit"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()


def _gc(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "cargohold.cli", "gc", "--apply", "--grace-hours", "0", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _recorded(env: dict[str, str]) -> tuple[Cargohold, Any, bytes]:
    hold = Cargohold.from_env(env)
    hold.catalog.create_dataset(dataset="kept")
    payload = os.urandom(300_000)
    artifact = hold.catalog.create_artifact(dataset="kept", data={"x": hold.put(payload)})
    return hold, artifact, payload


def _live_spool(env: dict[str, str]) -> Path:
    """A spool file of a live process (this one), old by its modified time: gc must keep it."""
    live = Path(env["TMPDIR"]) / f"cargohold-spool-{os.getpid()}-live"
    live.write_bytes(b"in use")
    os.utime(live, (time.time() - 86_400, time.time() - 86_400))
    return live


def test_local_store_kill9_leftovers_are_collected(tmp_path: Path) -> None:
    store = tmp_path / "store"
    env = _env(tmp_path, store.as_uri(), {})
    hold, artifact, payload = _recorded(env)
    live = _live_spool(env)
    tmp_dir = store / ".tmp"
    _kill_writer(env, 8 << 20, ready=lambda: any(tmp_dir.iterdir()))
    assert sum(f.stat().st_size for f in tmp_dir.iterdir()) == 8 << 20

    report = _gc(env)
    assert len(report["leftovers"]["temporary_files"]) == 1
    assert report["leftovers"]["bytes"] == 8 << 20
    assert list(tmp_dir.iterdir()) == []
    assert live.exists()
    assert hold.get(artifact.data["x"]) == payload
    hold.catalog.close()


def test_s3_store_kill9_leftovers_are_collected(tmp_path: Path, moto: S3Server) -> None:
    import boto3

    bucket = moto.create_bucket()
    env = _env(tmp_path, f"s3://{bucket}/store", moto.options())
    client = boto3.client(
        "s3",
        endpoint_url=moto.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )

    def uploads() -> list[Any]:
        return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))

    hold, artifact, payload = _recorded(env)
    live = _live_spool(env)
    spool = Path(env["TMPDIR"])
    _kill_writer(env, 110 << 20, ready=lambda: bool(uploads()))
    assert len(uploads()) == 1
    assert len([p for p in spool.iterdir() if p != live]) == 1

    report = _gc(env)
    assert len(report["leftovers"]["multipart_uploads"]) == 1
    assert len(report["leftovers"]["spool_files"]) == 1
    assert uploads() == []
    assert list(spool.iterdir()) == [live]
    assert hold.get(artifact.data["x"]) == payload
    hold.catalog.close()
