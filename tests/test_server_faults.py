"""A SPARQL server killed while it applies a change set leaves the old state or the whole change
set, never part of it: one test, run against Oxigraph's server and Virtuoso 7 (skipped where
Virtuoso is not installed). The change set is made large enough that the kill lands before the
server commits, so the test sees the old state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from server import start_server
from virtuoso import virtuoso, virtuoso_location

from cmckg.errors import StoreError
from cmckg.stores import ChangeSet, open_store
from cmckg.stores.remote import RemoteStore

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("no_user_sparql_config")]

EX = "http://example.org/"


def u(name: str) -> URIRef:
    return URIRef(EX + name)


@dataclass
class Server:
    """One server under test: how to reach, kill and restart it, and how large a change set
    and how long a wait put the kill before its commit."""

    query_url: str
    kill: Callable[[], None]
    restart: Callable[[], str]  # the query URL once it has recovered from its log
    graphs: int
    wait: float
    after_setup: Callable[[], None] = lambda: None
    stops: list[Callable[[], None]] = field(default_factory=list)


def _oxigraph(tmp_path: Path) -> Server:
    server = start_server(tmp_path / "db")
    case = Server(server.query_url, server.kill, lambda: "", graphs=100, wait=0.1)

    def restart() -> str:
        restarted = start_server(tmp_path / "db")
        case.stops.append(restarted.stop)
        return restarted.query_url

    case.restart = restart
    return case


def _virtuoso(tmp_path: Path) -> Server:
    location, server = virtuoso_location(), virtuoso()

    def restart() -> str:
        server.start()
        return server.query_url

    return Server(
        location,
        server.kill,
        restart,
        graphs=60,
        wait=1.0,
        after_setup=lambda: server.sql("checkpoint;"),
    )


@pytest.fixture(params=[_oxigraph, _virtuoso], ids=["oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    case = request.param(tmp_path)
    yield case
    for stop in case.stops:
        stop()


class _SignallingStore(RemoteStore):
    """Sets ``sending`` when an update request is about to go out."""

    sending = threading.Event()

    def _call(self, endpoint, send, *, writing=False):  # type: ignore[no-untyped-def]
        if writing:
            self.sending.set()
        return super()._call(endpoint, send, writing=writing)


def graph_of(*triples: tuple[URIRef, URIRef, Literal]) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


def test_server_killed_mid_ingest_leaves_the_old_state_or_the_whole_change_set(
    server: Server,
) -> None:
    store = _SignallingStore(server.query_url)
    old = graph_of(*[(u("lot/A"), u("p"), Literal(i)) for i in range(50)])
    store.apply(
        ChangeSet(
            put_graphs={u("graph/A"): old},
            add=[(u("graph/A"), u("sha"), Literal("old"), u("meta"))],
        )
    )
    server.after_setup()
    # One change set: replace graph A and add record graphs of 2,000 triples each.
    new = [u(f"graph/{n}") for n in range(server.graphs)]
    changes = ChangeSet(
        put_graphs={u("graph/A"): graph_of((u("lot/A"), u("p"), Literal("replaced")))},
        remove=[(u("graph/A"), u("sha"), Literal("old"), u("meta"))],
        add=[
            (u(f"lot/{n}"), u(f"p{i}"), Literal(f"v{i}"), g)
            for n, g in enumerate(new)
            for i in range(2000)
        ]
        + [(g, u("sha"), Literal("new"), u("meta")) for g in [u("graph/A"), *new]],
    )
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            store.apply(changes)
        except BaseException as exc:  # noqa: BLE001 — handed to the test thread
            errors.append(exc)

    store.sending.clear()
    writer = threading.Thread(target=ingest)
    writer.start()
    assert store.sending.wait(30)
    time.sleep(server.wait)
    server.kill()
    writer.join(60)
    assert len(errors) == 1 and isinstance(errors[0], StoreError)
    message = str(errors[0])
    assert message.startswith(f"{store.settings.update}: ") and "\n" not in message
    assert "completely or not at all" in message

    recovered = open_store(server.restart())
    counts = {
        g: int(n)
        for g, n in recovered.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(STRSTARTS(STR(?g), '{EX}')) }} GROUP BY ?g"
        ).rows
    }
    before = {u("graph/A"): 50, u("meta"): 1}
    after = {u("graph/A"): 1, **{g: 2000 for g in new}, u("meta"): server.graphs + 1}
    assert counts in (before, after), counts
    assert counts == before, "the kill came after the commit: make the change set larger"
    assert set(recovered.graph(u("graph/A"))) == set(old)
