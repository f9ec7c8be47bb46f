"""Real services for tests and benchmarks: moto's S3 server over HTTP, and PostgreSQL.

In CI (``CI=true``) a missing service fails the run; elsewhere tests skip with the reason.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

POSTGRES_ADMIN_URL = os.environ.get(
    "CARGOHOLD_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test because what it needs is missing; in CI, fail it instead (CI
    provides everything, so a skip there would hide a test that never ran)."""
    import pytest

    if in_ci():
        pytest.fail(f"{reason}; CI must run this test")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def options(self) -> dict[str, object]:
        """fsspec/s3fs options that reach this server."""
        return {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": self.endpoint_url, "region_name": "us-east-1"},
        }

    def create_bucket(self, name: str | None = None) -> str:
        import boto3

        bucket = name or f"cargohold-{uuid.uuid4().hex[:12]}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=bucket)
        return bucket


@contextmanager
def moto_s3(
    *, separate_process: bool = False, server_script: Path | None = None
) -> Iterator[S3Server]:
    """Run moto's S3 server on 127.0.0.1 (in a thread, or in its own process for benchmarks;
    there ``server_script`` may name a script that starts it instead of ``moto.server``)."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if separate_process:
        port = free_port()
        start = [str(server_script)] if server_script else ["-m", "moto.server"]
        proc = subprocess.Popen(
            [sys.executable, *start, "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port)
            yield S3Server(f"http://127.0.0.1:{port}")
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        return
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers at 127.0.0.1:5432, else the reason it does not."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return None
    except OSError as exc:
        return f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})"


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is down; in CI, fail it instead."""

    reason = postgres_reachable()
    if reason is not None:
        unavailable(reason)


@contextmanager
def postgres_database(
    *, prefix: str = "cargohold_test_", drop_timeout: float | None = None
) -> Iterator[str]:
    """Create a fresh database (named ``prefix`` + random hex) on the local server, yield its
    SQLAlchemy URL, drop it after.

    ``drop_timeout`` (seconds) bounds the ``DROP DATABASE`` (PostgreSQL's ``statement_timeout``):
    a drop waits for every backend of the server to absorb a signal barrier, which a backend
    inside a long ``COPY ... FROM STDIN`` of another session does not do until its copy ends.

    Raises:
        sqlalchemy.exc.OperationalError: the drop ran past ``drop_timeout`` (the database is
            left behind; the message names it).
    """
    import sqlalchemy as sa

    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            if drop_timeout is not None:
                conn.execute(sa.text(f"SET statement_timeout = {int(drop_timeout * 1000)}"))
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
