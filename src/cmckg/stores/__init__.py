"""Store backends behind one interface; ``open_store`` picks one from a location string.

- ``memory:``                      rdflib in memory
- ``oxigraph:PATH`` or a plain PATH embedded Oxigraph on disk (the default)
- ``oxigraph:memory``              embedded Oxigraph in memory
- ``http(s)://…``                  a SPARQL 1.1 server (see ``stores.remote``)
"""

from __future__ import annotations

import os
from pathlib import Path

from .base import ChangeSet, Quad, QueryResult, Store

DEFAULT_STORE = "./cmckg-store"


def default_location() -> str:
    return os.environ.get("CMCKG_STORE", DEFAULT_STORE)


def open_store(location: str | Path | None = None, *, read_only: bool = False) -> Store:
    location = str(location) if location is not None else default_location()
    if location == "memory:":
        from .memory import MemoryStore

        return MemoryStore()
    if location.startswith(("http://", "https://")):
        from .remote import RemoteStore

        return RemoteStore(location, read_only=read_only)
    from .oxigraph import OxigraphStore

    path = location.removeprefix("oxigraph:")
    return OxigraphStore(None if path == "memory" else Path(path), read_only=read_only)


__all__ = ["ChangeSet", "Quad", "QueryResult", "Store", "default_location", "open_store"]
