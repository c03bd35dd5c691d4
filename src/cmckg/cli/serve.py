"""``cmckg serve``: expose the embedded store as a SPARQL 1.1 endpoint on loopback, with
read-only review pages beside it (``cmckg.present.review``, on the next port by default).

It runs Oxigraph's own server (the ``oxigraph`` program from the ``oxigraph`` package) over the
same store directory. The store's default graph already holds the union of its record graphs
(cmckg keeps that copy), which is what cmckg's queries read. The store must not be open elsewhere
meanwhile: Oxigraph locks its directory. SPARQL clients other than cmckg that write through the
endpoint must keep that copy too (cmckg.stores.update shows how).
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from ..errors import ConfigError, StoreError
from ..stores import default_location
from ..stores.oxigraph import IN_USE, OxigraphStore
from ..stores.server import OxigraphServer
from . import add_command
from .console import err

if TYPE_CHECKING:
    from ..present.review import ReviewServer

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "serve",
        description=(
            "Serve the embedded store as a SPARQL 1.1 endpoint (query at /query, update at "
            "/update, Graph Store Protocol at /store) with Oxigraph's server, so SPARQL clients, "
            "notebooks and BI tools can query it. The default graph is the union of the record "
            "graphs. No authentication: keep it on loopback. Ctrl-C stops it."
        ),
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        default=None,
        help="the Oxigraph store directory (default ./cmckg-store or $CMCKG_STORE)",
    )
    parser.add_argument("--port", type=int, default=7878, help="the port (default 7878)")
    parser.add_argument(
        "--bind",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1, loopback only)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="refuse every update and Graph Store write (HTTP 403)",
    )
    parser.add_argument(
        "--pages-port",
        type=int,
        default=None,
        metavar="PORT",
        help="the port of the read-only review pages (search, lot dossiers, "
        "products, latest validation; default: --port + 1)",
    )
    parser.add_argument(
        "--no-pages",
        action="store_true",
        help="serve the SPARQL endpoint only, without review pages",
    )
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    location = str(args.store or default_location())
    if location.startswith(("http://", "https://")) or location in {"memory:", "oxigraph:memory"}:
        raise ConfigError(f"cmckg serve serves an Oxigraph store directory, not {location!r}")
    path = Path(location.removeprefix("oxigraph:"))
    pages_port = args.port + 1 if args.pages_port is None else args.pages_port
    for name, port in (("--port", args.port), ("--pages-port", pages_port)):
        if not 0 < port < 65536:
            raise ConfigError(f"{name} must be between 1 and 65535, not {port}")
    if not args.no_pages and pages_port == args.port:
        raise ConfigError("--pages-port must differ from --port")
    if args.read_only:
        _check_not_written(path)
    if args.bind not in LOOPBACK:
        err.print(
            f"[yellow]warning:[/yellow] listening on {args.bind}: the endpoint has no "
            "authentication; anyone who can reach this address can "
            + ("read" if args.read_only else "read and change")
            + " the store"
        )
    server = OxigraphServer(
        path,
        args.port,
        args.bind,
        args.read_only,
        union_default_graph=not _union_copy(path, args.read_only),
    )
    pages: ReviewServer | None = None
    with _StopSignals():
        try:
            server.start()
            print(f"SPARQL endpoint: {server.query_url}")
            if not args.read_only:
                print(f"update: {server.base_url}/update   graph store: {server.base_url}/store")
            if not args.no_pages:
                pages = _start_pages(server.query_url, args.bind, pages_port)
                print(f"review pages: {pages.url}")
            # Flushed: scripts wait for these lines before they connect.
            print(
                f"serving {path} {'read-only ' if args.read_only else ''}(Ctrl-C to stop)",
                flush=True,
            )
            assert server.process is not None
            code = server.process.wait()
        except _Stop:
            return 0
        finally:
            if pages is not None:
                pages.stop()
            server.stop()
    if code != 0:
        raise StoreError(f"the Oxigraph server stopped with exit code {code}", str(path))
    return 0


def _start_pages(query_url: str, bind: str, port: int) -> ReviewServer:
    """The review pages over the endpoint (read-only)."""
    from ..kg import KnowledgeGraph
    from ..present.review import ReviewServer, ReviewSite

    site = ReviewSite(KnowledgeGraph.open(query_url, read_only=True))
    pages = ReviewServer(site, bind, port)
    try:
        pages.start()
    except OSError as exc:
        raise StoreError(
            f"the review pages cannot listen on {bind}:{port}: {exc.strerror}; "
            "choose another --pages-port (or --no-pages)"
        ) from None
    return pages


def _union_copy(path: Path, read_only: bool) -> bool:
    """Whether the store's default graph holds the union of its record graphs (a store from
    before cmckg kept that copy gets it now, unless served read-only; then Oxigraph's own
    union default graph stands in for it)."""
    try:
        store = OxigraphStore(path, read_only=read_only)
    except StoreError as exc:
        if "lock" in str(exc).lower():
            raise StoreError(IN_USE, str(path)) from None
        raise
    try:
        return store.has_union_copy
    finally:
        store.close()


def _check_not_written(path: Path) -> None:
    """A read-only server over a store another process is writing is undefined behaviour in
    Oxigraph: refuse while the store's RocksDB lock is held."""
    if not (path / "CURRENT").is_file():
        raise StoreError("no Oxigraph store here (ingest something first)", str(path))
    import fcntl  # POSIX only; imported here so the CLI still loads elsewhere

    lock = path / "LOCK"
    if not lock.exists():
        return
    with lock.open("rb+") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StoreError(
                "the store is open for writing by another process; close it before serving "
                "it read-only",
                str(path),
            ) from None
        fcntl.lockf(handle, fcntl.LOCK_UN)


class _Stop(Exception):
    """Raised from a signal handler to stop serving."""


class _StopSignals:
    """Turn SIGINT, SIGTERM and SIGHUP into ``_Stop`` while serving, so the server child is
    stopped cleanly (and releases the store's lock) however ``cmckg serve`` is ended."""

    SIGNALS = tuple(
        getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
    )

    def __enter__(self) -> _StopSignals:
        self._previous = {s: signal.signal(s, self._raise) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @staticmethod
    def _raise(signum: int, frame: FrameType | None) -> None:
        raise _Stop
