"""Servers that fail the way real ones do: a black hole that accepts TCP and never answers, and
moto's S3 server in its own process, which a test can freeze with SIGSTOP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from tests.support.services import S3Server, _wait_for_port, free_port


@contextmanager
def black_hole() -> Iterator[int]:
    """Listen on a loopback port, accept every connection and never send a byte; yield the port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(256)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        listener.close()
        for conn in accepted:
            conn.close()
        thread.join(timeout=5)


@dataclass
class FreezableS3:
    """moto's S3 server in a child process."""

    server: S3Server
    process: subprocess.Popen[bytes]

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


@contextmanager
def freezable_moto() -> Iterator[FreezableS3]:
    """Start moto's S3 server in its own process; stop it (thawed first) afterwards."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    frozen = FreezableS3(S3Server(f"http://127.0.0.1:{port}"), process)
    try:
        _wait_for_port(port)
        yield frozen
    finally:
        frozen.thaw()
        process.terminate()
        process.wait(timeout=10)


def outcome(call: Callable[[], Any], bound: float) -> BaseException:
    """Run ``call`` in a thread; return what it raised. Fails the test if it is still waiting
    after ``bound`` seconds (the timeout under test did not bound the wait) or if it returned."""
    result: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            result.append(exc)
        else:
            result.append(AssertionError("the call returned instead of failing"))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(bound)
    assert not thread.is_alive(), f"still waiting after {bound} s: the wait is not bounded"
    return result[0]


@contextmanager
def trickling_proxy(target: str, *, bytes_per_second: float) -> Iterator[str]:
    """A TCP proxy on loopback in front of ``target`` (``http://host:port``) that moves each
    connection's bytes, both ways, in 16 KiB pieces at ``bytes_per_second``: a server that keeps
    answering, too slowly for a read timeout to trip, and reads what it is sent as slowly (its
    receive buffer is 64 KiB, so a client's write blocks). Yields the proxy's URL."""
    with _proxy(target, bytes_per_second=bytes_per_second) as url:
        yield url


@contextmanager
def stalling_proxy(target: str, *, stall_on: bytes) -> Iterator[str]:
    """A TCP proxy on loopback in front of ``target`` that forwards every connection until the
    client sends ``stall_on`` (say, a request line's ``partNumber=2``), then forwards nothing more
    on that connection either way and keeps it open: a server that stopped mid-request (before
    its ``100 Continue``, which botocore's read timeout does not bound). Yields the proxy's URL."""
    with _proxy(target, stall_on=stall_on) as url:
        yield url


@contextmanager
def cutting_proxy(target: str, *, cut_after: int) -> Iterator[str]:
    """A TCP proxy on loopback in front of ``target`` that closes each connection once the
    server has sent ``cut_after`` bytes on it: a server that hangs up in the middle of an
    answer's body. Yields the proxy's URL."""
    with _proxy(target, cut_after=cut_after) as url:
        yield url


@contextmanager
def _proxy(
    target: str,
    *,
    bytes_per_second: float = 0.0,
    stall_on: bytes | None = None,
    cut_after: int | None = None,
) -> Iterator[str]:
    host, _, port = target.split("://", 1)[1].rpartition(":")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    stop = threading.Event()
    sockets: list[socket.socket] = []
    threads: list[threading.Thread] = []
    piece = 16 << 10 if bytes_per_second else 1 << 20

    def pump(
        source: socket.socket, sink: socket.socket, stalled: threading.Event, request: bool
    ) -> None:
        sent = 0
        try:
            while not stop.is_set() and not stalled.is_set():
                data = source.recv(piece)
                if not data:
                    break
                if not request and cut_after is not None and sent + len(data) >= cut_after:
                    sink.sendall(data[: cut_after - sent])
                    break  # hang up: both ends are shut below
                sent += len(data)
                if request and stall_on is not None and stall_on in data:
                    stalled.set()
                    break
                if stalled.is_set():
                    break
                sink.sendall(data)
                if bytes_per_second:
                    stop.wait(len(data) / bytes_per_second)
        except OSError:
            pass
        if stalled.is_set():
            stop.wait()  # hold the connection open, silent, until the proxy stops
            return
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(60)
            upstream = socket.create_connection((host, int(port)), timeout=60)
            sockets.extend((client, upstream))
            stalled = threading.Event()
            for pair in ((client, upstream, stalled, True), (upstream, client, stalled, False)):
                thread = threading.Thread(target=pump, args=pair, daemon=True)
                thread.start()
                threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        acceptor.join(timeout=5)
        listener.close()
        for sock in sockets:
            sock.close()
        for thread in threads:
            thread.join(timeout=5)
