"""A real Oxigraph SPARQL server for the tests (``oxigraph serve`` from the ``oxigraph`` package).

``shared_remote_location()`` backs the "remote" store kind of conftest.STORE_KINDS: one in-memory
server per test session, emptied (DROP ALL) each time a test asks for a location, so every test
starts from an empty dataset without paying for a server start. Tests that stop, kill or restart a
server start their own with ``start_server``.
"""

from __future__ import annotations

import atexit
import socket
import urllib.request
from pathlib import Path

from cmckg.cli.serve import OxigraphServer

_shared: OxigraphServer | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(location: Path | None = None, *, read_only: bool = False,
                 port: int | None = None) -> OxigraphServer:
    """Start ``oxigraph serve`` on a free loopback port (``location`` None: in memory)."""
    server = OxigraphServer(location, port or free_port(), read_only=read_only)
    server.start()
    return server


def shared_remote_location() -> str:
    """The query URL of the session's shared server, emptied first."""
    global _shared
    if _shared is None or _shared.process is None or _shared.process.poll() is not None:
        _shared = start_server()
        atexit.register(_shared.stop)
    request = urllib.request.Request(
        f"{_shared.base_url}/update", data=b"DROP ALL",
        headers={"Content-Type": "application/sparql-update"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass
    return _shared.query_url
