"""The proxy (the web application on uvicorn) under idle and stalled clients: 150 idle
connections and 10 uploads whose body stalls do not stop it serving downloads; after its body
timeout it drops the stalled uploads (408, and their spool files); beyond ``limit_concurrency``
a request gets 503 without a thread."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from cargohold.core.hold import Cargohold
from cargohold.core.proxy import download
from cargohold.web import WebServer as ProxyServer


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30)


def _stalled_upload(server: ProxyServer, index: int) -> socket.socket:
    location = server.proxy.create_upload_location(filename=f"stalled-{index}.bin")
    parts = urlsplit(location.signed_url)
    sock = _connect(server.url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    head = f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
    sock.sendall(head.encode() + b"x" * 1000)  # then nothing more
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(1 << 16):
        data += chunk
    return data


def _spool_files(hold: Cargohold) -> list[str]:
    tmp = Path(hold.store.root) / ".tmp"
    return [p.name for p in tmp.iterdir()] if tmp.exists() else []


def test_idle_and_stalled_clients_do_not_stop_downloads(hold: Cargohold, tmp_path: Path) -> None:
    payload = os.urandom(1 << 20)
    blob = hold.store.put_bytes(payload)
    with ProxyServer(hold=hold, body_timeout=5.0) as server:
        link = server.proxy.create_download_link(uri=blob.uri, expires_in=60)
        idle = [_connect(server.url) for _ in range(150)]
        stalled = [_stalled_upload(server, i) for i in range(10)]
        seen: set[str] = set()  # every stalled upload's spool file appears (then goes)
        deadline = time.monotonic() + 30
        while len(seen) < 10:
            assert time.monotonic() < deadline, f"only {len(seen)} stalled uploads started"
            seen.update(_spool_files(hold))
            time.sleep(0.02)
        for n in range(3):
            target = tmp_path / f"copy-{n}.bin"
            assert download(url=link.signed_url, local_path=str(target), timeout=10) == len(payload)
            assert target.read_bytes() == payload
        for sock in stalled:  # dropped after the timeout: the server answers 408 and closes
            answer = _until_closed(sock)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        deadline = time.monotonic() + 30
        while _spool_files(hold):
            assert time.monotonic() < deadline, f"spool files left: {_spool_files(hold)}"
            time.sleep(0.05)
        for sock in idle + stalled:
            sock.close()


def test_connections_beyond_the_bound_get_503_without_a_thread(hold: Cargohold) -> None:
    with ProxyServer(hold=hold, limit_concurrency=20) as server:
        before = threading.active_count()
        held = [_connect(server.url) for _ in range(20)]
        time.sleep(0.5)
        extra = [_connect(server.url) for _ in range(30)]
        for sock in extra:
            sock.sendall(b"GET /api/datasets HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(1 << 16).startswith(b"HTTP/1.1 503")
        assert threading.active_count() - before <= 20
        for sock in held + extra:
            sock.close()
