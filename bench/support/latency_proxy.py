"""A TCP proxy that adds a fixed one-way delay to every byte it forwards (like toxiproxy).

It models the round trip to a real object store (S3 answers in tens of milliseconds) in front of
moto's server on loopback, where a request answers in about a millisecond. Bandwidth is not
limited unless asked: chunks are released ``delay`` after they arrived, in order, so a stream stays
a stream, and at most a window of them waits (a sender is held back, as TCP holds it).
``--connection-mbps`` caps each connection's rate in each direction, as real object stores cap
one connection (tens of MB/s on S3), which is what parallel transfers work around.

    python bench/support/latency_proxy.py --listen 18080 --target 127.0.0.1:5000 --delay-ms 10
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

_READ = 256 << 10
_WINDOW = 16  # reads in flight per direction (at most 4 MiB): a TCP window, not a spool


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, rate: float = 0.0
) -> None:
    """Forward ``reader`` to ``writer``, each read released ``delay`` after it arrived. At most
    :data:`_WINDOW` reads wait, so a sender is held back as TCP holds it (a server does not
    push a whole object into the proxy's memory), and when the receiving side goes away the
    forwarding stops instead of draining the sender to its end."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=_WINDOW)

    async def receive() -> None:
        while chunk := await reader.read(_READ):
            await queue.put((time.monotonic() + delay, chunk))
        await queue.put((time.monotonic() + delay, b""))

    async def send() -> None:
        free_at = 0.0  # with a rate cap: when the connection may send again
        while True:
            due, chunk = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                break
            if rate:
                now = time.monotonic()
                if free_at > now:
                    await asyncio.sleep(free_at - now)
                free_at = max(free_at, now) + len(chunk) / rate
            writer.write(chunk)
            await writer.drain()

    receiving = asyncio.create_task(receive())
    try:
        await send()
    finally:
        receiving.cancel()
        await asyncio.gather(receiving, return_exceptions=True)
        writer.close()


async def _serve(listen: int, host: str, port: int, delay: float, rate: float = 0.0) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            _pipe(client_r, server_w, delay, rate),
            _pipe(server_r, client_w, delay, rate),
            return_exceptions=True,  # one side reset: the other pipe ends on its own
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


def start_proxy(
    target: str, one_way_ms: float, connection_mbps: float = 0.0
) -> tuple[subprocess.Popen[bytes], str]:
    """Run this proxy in its own process in front of ``target`` (an http://host:port URL) on a
    free loopback port; returns the process (the caller terminates it) and the proxy's URL.

    Raises:
        RuntimeError: it did not accept connections within 30 s.
    """
    # imported here: the proxy itself runs as a plain script, without the repository on its path
    from tests.support.services import free_port

    port = free_port()
    proxy = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--listen",
            str(port),
            "--target",
            target.split("://", 1)[1],
            "--delay-ms",
            str(one_way_ms),
            "--connection-mbps",
            str(connection_mbps),
        ],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proxy, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proxy.terminate()
    raise RuntimeError("the latency proxy did not start within 30 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--target", required=True, help="host:port of the real server")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="one-way delay")
    parser.add_argument(
        "--connection-mbps", type=float, default=0.0, help="cap per connection and direction"
    )
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")
    rate = args.connection_mbps * (1 << 20)
    asyncio.run(_serve(args.listen, host, int(port), args.delay_ms / 1000, rate))


if __name__ == "__main__":
    main()
