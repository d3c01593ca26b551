"""A TCP relay on 127.0.0.1: ``python tcp_relay.py LISTEN_PORT TARGET_PORT``.

The fault tests put one in front of the session's `mlflow server` and kill it to make the server
unreachable, instead of stopping and restarting a server of their own (about 14 s each on 2 cores).
The client sees what it sees when the server dies: open connections drop, new ones are refused.
Standard library only, so it starts in a few tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time


def cut(pgid: int, port: int, timeout_s: float = 20.0) -> None:
    """Kill the relay's process group and return once its port refuses connections.

    For the processes under test, which cannot wait for a process they did not start.
    """
    os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"the relay on port {port} still answers {timeout_s:.0f} s after SIGTERM")


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()


async def _serve(listen_port: int, target_port: int) -> None:
    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pump(client_reader, server_writer), _pump(server_reader, client_writer))

    server = await asyncio.start_server(relay, "127.0.0.1", listen_port, reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), int(sys.argv[2])))
