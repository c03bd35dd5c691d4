"""A real Oxigraph SPARQL server for the tests (``oxigraph serve`` from the ``oxigraph`` package).

``remote_location()`` backs the "remote" store kind of conftest.STORE_KINDS: every call starts a
fresh in-memory server (about 50 ms, 15 MB) on a free loopback port, so each store is as isolated
as a new Oxigraph directory, however many are open at once and whatever their fixture scope. The
servers a test module started are stopped when the module ends (conftest's autouse fixture);
servers started outside a module (a session-scoped fixture) when the session ends.
"""

from __future__ import annotations

import atexit
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cmckg.stores.server import OxigraphServer

_session_servers: list[OxigraphServer] = []
_module_servers: list[OxigraphServer] | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(location: Path | None = None, *, read_only: bool = False) -> OxigraphServer:
    """Start ``oxigraph serve`` on a free loopback port (``location`` None: in memory)."""
    server = OxigraphServer(location, free_port(), read_only=read_only)
    server.start()
    return server


def remote_location() -> str:
    """The query URL of a new, empty server."""
    server = start_server()
    (_module_servers if _module_servers is not None else _session_servers).append(server)
    return server.query_url


@contextmanager
def module_servers() -> Iterator[None]:
    """Stop, when a test module ends, the servers ``remote_location`` started during it."""
    global _module_servers
    _module_servers = []
    try:
        yield
    finally:
        for server in _module_servers:
            server.stop()
        _module_servers = None


@atexit.register
def _stop_session_servers() -> None:
    for server in _session_servers:
        server.stop()
