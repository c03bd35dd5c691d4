"""The remote SPARQL 1.1 store against a real Oxigraph server, its faults, and ``cmckg serve``.

The shared store, lineage, ingest … tests run on the server too through the "remote" kind of
conftest.STORE_KINDS; this file covers what only a remote store has: endpoints and credentials,
retries and timeouts, a server killed mid-write, 401s, and serving the embedded store.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import store_location
from question_fixtures import QUESTIONS, load_trig
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from server import free_port, start_server
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from cmckg.cli import main
from cmckg.cli.serve import OxigraphServer
from cmckg.errors import ConfigError, StoreError
from cmckg.kg import KnowledgeGraph
from cmckg.stores import ChangeSet, open_store
from cmckg.stores.oxigraph import OxigraphStore
from cmckg.stores.remote import EndpointSettings, RemoteStore

pytestmark = pytest.mark.server

EX = "http://example.org/"
CMC = "https://w3id.org/cmckg/ontology#"
NO_CONFIG = {"XDG_CONFIG_HOME": "/nonexistent"}


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a developer's own ~/.config/cmckg/sparql.yaml and CMCKG_SPARQL_* out of the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in list(os.environ):
        if name.startswith("CMCKG_SPARQL_"):
            monkeypatch.delenv(name)


def u(name: str) -> URIRef:
    return URIRef(EX + name)


def graph_of(*triples: tuple) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


# Literals that must survive the trip through SPARQL Update text and JSON results unchanged.
TRICKY = [
    Literal('quote " and backslash \\ and brace } ; DROP ALL #'),
    Literal("two\nlines\tand a tab"),
    Literal("viable cell density 1.2e6 µL⁻¹"),
    Literal("Charge", lang="en"),
    Literal("12.5", datatype=XSD.decimal),
    Literal("2021-02-18", datatype=XSD.date),
    Literal("42", datatype=XSD.integer),
]


# -- store contract on a real server ----------------------------------------------------------


def test_apply_query_graph_and_replace_on_the_server(tmp_path: Path) -> None:
    store = open_store(store_location("remote", tmp_path))
    assert isinstance(store, RemoteStore)
    record = graph_of(*[(u("lot/1"), u(f"p{i}"), value) for i, value in enumerate(TRICKY)])
    meta = [
        (u("graph/1"), RDF.type, u("RecordGraph"), u("meta")),
        (u("graph/1"), u("sha"), Literal("aaa"), u("meta")),
    ]
    store.apply(ChangeSet(put_graphs={u("graph/1"): record}, add=meta))

    expected = {(s, p, o, u("graph/1")) for s, p, o in record} | set(meta)
    assert set(store.quads()) == expected
    assert store.count_quads() == len(TRICKY) + 2
    assert store.graph_names() == {u("graph/1"), u("meta")}
    assert set(store.graph(u("graph/1"))) == set(record)
    assert len(store.graph(u("no-such-graph"))) == 0

    # The default graph is the union of the named graphs, and bound values stay values.
    rows = store.query("SELECT ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p", {"s": u("lot/1")}).rows
    assert [o for _, o in rows] == TRICKY
    found = store.query("SELECT ?p WHERE { ?s ?p ?o }", {"o": TRICKY[0]}).rows
    assert found == [(u("p0"),)]
    assert store.query("ASK { ?g a ?t }", {"t": u("RecordGraph")}).boolean is True
    constructed = store.construct(
        "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }", {"g": u("graph/1")}
    )
    assert set(constructed) == set(record)

    # Replace the record and its metadata in one change set.
    new_record = graph_of((u("lot/1"), u("p0"), Literal("v2")))
    store.apply(
        ChangeSet(
            put_graphs={u("graph/1"): new_record},
            remove=[meta[1]],
            add=[(u("graph/1"), u("sha"), Literal("bbb"), u("meta"))],
        )
    )
    assert set(store.quads()) == {
        (u("lot/1"), u("p0"), Literal("v2"), u("graph/1")),
        meta[0],
        (u("graph/1"), u("sha"), Literal("bbb"), u("meta")),
    }
    store.apply(ChangeSet(drop_graphs=[u("graph/1")]))
    assert store.graph_names() == {u("meta")}


def test_each_remote_location_is_its_own_dataset(tmp_path: Path) -> None:
    first, second = (open_store(store_location("remote", tmp_path)) for _ in range(2))
    first.apply(ChangeSet(put_graphs={u("g"): graph_of((u("s"), u("p"), u("o")))}))
    assert (first.count_quads(), second.count_quads()) == (1, 0)


def test_a_wrong_graph_store_url_is_an_error_not_an_empty_graph(tmp_path: Path) -> None:
    location = store_location("remote", tmp_path)
    store = open_store(location)
    store.apply(ChangeSet(put_graphs={u("g"): graph_of((u("s"), u("p"), u("o")))}))
    wrong = replace(store.settings, store=location.replace("/query", "/no-graph-store-here"))
    with pytest.raises(StoreError, match="set CMCKG_SPARQL_STORE"):
        RemoteStore(location, settings=wrong).graph(u("g"))
    assert len(RemoteStore(location, settings=wrong).graph(u("absent"))) == 0


def test_the_same_rows_as_the_embedded_store(tmp_path: Path) -> None:
    """The lineage fixture loaded into both; every quad and an aggregate agree."""
    aggregate = (
        "SELECT ?type (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?type } GROUP BY ?type ORDER BY ?type"
    )
    with (
        KnowledgeGraph.open(store_location("remote", tmp_path)) as remote,
        KnowledgeGraph.open(store_location("oxigraph", tmp_path)) as embedded,
    ):
        for kg in (remote, embedded):
            load_trig(kg, QUESTIONS / "chain.trig", layer=False)  # the fixture's quads alone
        assert set(remote.store.quads()) == set(embedded.store.quads())
        assert remote.store.query(aggregate).rows == embedded.store.query(aggregate).rows
        dataset = Dataset()
        dataset.parse(QUESTIONS / "chain.trig", format="trig")
        assert remote.store.count_quads() == sum(
            len(g) for g in dataset.graphs() if g.identifier != dataset.default_graph.identifier
        )


def test_ingest_twice_through_the_server_changes_nothing_the_second_time(tmp_path: Path) -> None:
    with KnowledgeGraph.open(store_location("remote", tmp_path)) as kg:
        kg.ingest([])  # the ontology and term schemes, versioned like any record
        quads = set(kg.store.quads())
        assert kg.ingest([]).changed == 0
        assert set(kg.store.quads()) == quads
        names = kg.store.graph_names()
    assert URIRef("https://w3id.org/cmckg/id/graph/vocabulary") in names


def test_read_only_refuses_every_write(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    location = store_location("remote", tmp_path)
    store = open_store(location, read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        store.apply(ChangeSet(put_graphs={u("g"): graph_of((u("s"), u("p"), u("o")))}))
    assert main(["ingest", "--store", location, "--read-only", str(QUESTIONS / "chain.trig")]) == 2
    assert "read-only" in capsys.readouterr().err
    assert open_store(location).count_quads() == 0


def test_named_graphs_missing_from_the_default_graph_are_refused(tmp_path: Path) -> None:
    """Told the server's default graph is the union (so cmckg writes no copy), on a server where
    it is not: the first query stops with the error rather than answering from nothing."""
    server = OxigraphServer(None, free_port(), union_default_graph=False)
    server.start()
    try:
        settings = replace(EndpointSettings.resolve(server.query_url), default_graph="union")
        store = RemoteStore(server.query_url, settings=settings)
        store.apply(ChangeSet(put_graphs={u("g"): graph_of((u("s"), u("p"), u("o")))}))
        with pytest.raises(StoreError, match="not the union of its named graphs"):
            store.query("SELECT * WHERE { ?s ?p ?o }")
    finally:
        server.stop()


# -- faults -----------------------------------------------------------------------------------


class _SignallingStore(RemoteStore):
    """Sets ``sending`` when an update request is about to go out."""

    sending = threading.Event()

    def _call(self, endpoint, send, *, writing=False):
        if writing:
            self.sending.set()
        return super()._call(endpoint, send, writing=writing)


def test_server_killed_mid_ingest_leaves_no_partial_graph(tmp_path: Path) -> None:
    server = start_server(tmp_path / "db")
    store = _SignallingStore(server.query_url)
    old = graph_of(*[(u("lot/A"), u("p"), Literal(i)) for i in range(50)])
    store.apply(
        ChangeSet(
            put_graphs={u("graph/A"): old},
            add=[(u("graph/A"), u("sha"), Literal("old"), u("meta"))],
        )
    )
    # One change set: replace graph A, add 100 record graphs of 2,000 triples each (the server
    # needs about 2 s to apply it on a 2-core machine; it is killed 0.1 s after it is sent).
    new = [u(f"graph/{n}") for n in range(100)]
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
    time.sleep(0.1)
    server.kill()
    writer.join(30)
    assert len(errors) == 1 and isinstance(errors[0], StoreError)
    message = str(errors[0])
    assert message.startswith(f"{server.base_url}/update: ") and "\n" not in message
    assert "completely or not at all" in message

    restarted = start_server(tmp_path / "db")
    try:
        store = open_store(restarted.query_url)
        per_graph = dict(
            store.query(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
            ).rows
        )
        counts = {g: int(n) for g, n in per_graph.items()}
        # All or nothing: either the old state exactly, or the whole change set.
        before = {u("graph/A"): 50, u("meta"): 1}
        after = {u("graph/A"): 1, **{g: 2000 for g in new}, u("meta"): 101}
        assert counts in (before, after)
        assert counts == before, "the kill came after the commit: make the change set larger"
        assert set(store.graph(u("graph/A"))) == set(old)
    finally:
        restarted.stop()


def test_unreachable_server_exits_2_with_one_line(capsys: pytest.CaptureFixture) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    assert main(["stats", "--store", url]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert captured.err == (
        f"cmckg stats: error: {url}: cannot connect: connection refused "
        "(is the SPARQL server running?)\n"
    )


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers from a script of (status, body) and records each request's Authorization."""

    script: list[tuple[int, bytes]] = []
    seen: list[str | None] = []
    delay = 0.0

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        type(self).seen.append(self.headers.get("Authorization"))
        time.sleep(self.delay)
        status, body = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="cmc"')
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_server() -> Iterator[tuple[str, type[_Recorder]]]:
    handler = type("Handler", (_Recorder,), {"script": [], "seen": [], "delay": 0.0})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/query", handler
    httpd.shutdown()
    httpd.server_close()


ONE_ROW = json.dumps(
    {
        "head": {"vars": ["n"]},
        "results": {
            "bindings": [
                {
                    "n": {
                        "type": "literal",
                        "value": "7",
                        "datatype": "http://www.w3.org/2001/XMLSchema#integer",
                    }
                }
            ]
        },
    }
).encode()


def test_401_is_a_one_line_auth_error(fake_server, capsys, monkeypatch) -> None:
    url, handler = fake_server
    handler.script = [(401, b"<html>\nUnauthorized\n</html>")]
    assert main(["stats", "--store", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"cmckg stats: error: {url}: authentication failed (HTTP 401)")
    assert "CMCKG_SPARQL_USER" in err

    monkeypatch.setenv("CMCKG_SPARQL_USER", "qa-reader")
    monkeypatch.setenv("CMCKG_SPARQL_PASSWORD", "Secr3t-pw")
    assert main(["stats", "--store", url]) == 2
    captured = capsys.readouterr()
    assert "the server rejected the credentials" in captured.err
    assert "Secr3t-pw" not in captured.err + captured.out
    assert handler.seen[-1] == "Basic " + base64.b64encode(b"qa-reader:Secr3t-pw").decode()


def test_a_bearer_token_is_sent_and_never_shown(fake_server, monkeypatch) -> None:
    url, handler = fake_server
    handler.script = [(200, ONE_ROW)]
    monkeypatch.setenv("CMCKG_SPARQL_TOKEN", "tok-123")
    store = open_store(url)
    assert store.count_quads() == 7
    assert handler.seen[-1] == "Bearer tok-123"
    assert "tok-123" not in repr(store) + repr(store.settings)


def test_reads_are_retried_a_bounded_number_of_times_writes_never(fake_server) -> None:
    url, handler = fake_server
    # server=generic: no identifying request before the one counted here
    settings = replace(EndpointSettings.resolve(url, NO_CONFIG), backoff=0.01, server="generic")
    handler.script = [(503, b"busy"), (503, b"busy"), (200, ONE_ROW)]
    store = RemoteStore(url, settings=settings)
    assert store.count_quads() == 7
    assert len(handler.seen) == 3

    handler.script, handler.seen[:] = [(503, b"still busy")], []
    with pytest.raises(StoreError, match=r"HTTP 503: still busy$"):
        store.count_quads()
    assert len(handler.seen) == 3  # one try and two retries

    handler.seen[:] = []
    with pytest.raises(StoreError, match="HTTP 503"):
        store.apply(ChangeSet(put_graphs={u("g"): graph_of((u("s"), u("p"), u("o")))}))
    assert len(handler.seen) == 1


def test_a_slow_server_times_out_with_the_endpoint_named(fake_server, monkeypatch) -> None:
    url, handler = fake_server
    handler.script, handler.delay = [(200, ONE_ROW)], 3.0
    monkeypatch.setenv("CMCKG_SPARQL_TIMEOUT", "0.3")
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        open_store(url).count_quads()
    assert time.monotonic() - started < 2.5
    assert str(caught.value).startswith(f"{url}: no answer within 0.3 s")
    assert len(handler.seen) == 1


# -- endpoint settings ------------------------------------------------------------------------


def test_update_and_store_endpoints_are_derived_or_configured(tmp_path: Path) -> None:
    oxigraph = EndpointSettings.resolve("http://h:7878/query", NO_CONFIG)
    assert (oxigraph.update, oxigraph.store) == ("http://h:7878/update", "http://h:7878/store")
    fuseki = EndpointSettings.resolve("http://h:3030/cmc/sparql", NO_CONFIG)
    assert (fuseki.update, fuseki.store) == ("http://h:3030/cmc/update", "http://h:3030/cmc/store")
    graphdb = EndpointSettings.resolve("https://g.example/repositories/cmc", NO_CONFIG)
    assert graphdb.update == graphdb.store == "https://g.example/repositories/cmc"

    config = tmp_path / "sparql.yaml"
    config.write_text(
        "https://g.example/repositories/cmc:\n"
        "  update: https://g.example/repositories/cmc/statements\n"
        "  store: https://g.example/repositories/cmc/rdf-graphs/service\n"
        "  user: reader\n  password: pw-from-file\n  timeout: 5\n",
        encoding="utf-8",
    )
    environ = {"CMCKG_SPARQL_CONFIG": str(config)}
    settings = EndpointSettings.resolve("https://g.example/repositories/cmc", environ)
    assert settings.update == "https://g.example/repositories/cmc/statements"
    assert settings.store == "https://g.example/repositories/cmc/rdf-graphs/service"
    assert (settings.user, settings.password, settings.timeout) == ("reader", "pw-from-file", 5.0)
    assert "pw-from-file" not in repr(settings)
    # The environment overrides the file.
    settings = EndpointSettings.resolve(
        "https://g.example/repositories/cmc", {**environ, "CMCKG_SPARQL_PASSWORD": "pw-from-env"}
    )
    assert settings.password == "pw-from-env"


def test_a_server_profile_fills_only_what_was_not_given() -> None:
    url = "http://h:8890/sparql"
    given = {
        **NO_CONFIG,
        "CMCKG_SPARQL_SERVER": "virtuoso",
        "CMCKG_SPARQL_STORE": "http://h:8890/my-gsp",
    }
    store = RemoteStore(url, settings=EndpointSettings.resolve(url, given))
    assert (store.settings.update, store.settings.store, store.settings.default_graph) == (
        url,
        "http://h:8890/my-gsp",
        "union",
    )
    plain = EndpointSettings.resolve(url, NO_CONFIG)
    assert (plain.update, plain.store, plain.query_form, plain.update_form) == (
        "http://h:8890/update",
        "http://h:8890/store",
        "form",
        "direct",
    )


def test_credentials_in_the_url_are_taken_out_of_it() -> None:
    store = RemoteStore(
        "http://alice:s%40cret@127.0.0.1:9/query",
        settings=EndpointSettings.resolve("http://alice:s%40cret@127.0.0.1:9/query", NO_CONFIG),
    )
    assert store.location == "http://127.0.0.1:9/query"
    assert (store.settings.user, store.settings.password) == ("alice", "s@cret")
    assert store.settings.update == "http://127.0.0.1:9/update"


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        ("http://h/query:\n  colour: blue\n", {}, "unknown setting 'colour'"),
        ("http://h/query:\n  timeout: soon\n", {}, "field 'timeout': 'soon' is not a number"),
        (
            "http://h/query:\n  token: t\n",
            {"CMCKG_SPARQL_USER": "a", "CMCKG_SPARQL_PASSWORD": "b"},
            "either a bearer token or a user and password",
        ),
        ("http://h/query:\n  user: a\n", {}, "needs both a user and a password"),
        ("[unclosed\n", {}, "not valid YAML"),
        ("", {"CMCKG_SPARQL_RETRIES": "many"}, "CMCKG_SPARQL_RETRIES, field 'retries': 'many'"),
        (
            "",
            {"CMCKG_SPARQL_TIMEOUT": "0"},
            "CMCKG_SPARQL_TIMEOUT, field 'timeout': must be positive",
        ),
        (
            "http://h/query:\n  query_form: get\n",
            {},
            "field 'query_form': 'get' is not one of form",
        ),
        ("", {"CMCKG_SPARQL_SERVER": "fuseki"}, "'fuseki' is not one of auto, generic, virtuoso"),
    ],
)
def test_bad_settings_are_config_errors(tmp_path, text, environ, message) -> None:
    config = tmp_path / "sparql.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        EndpointSettings.resolve("http://h/query", {"CMCKG_SPARQL_CONFIG": str(config), **environ})


def test_a_missing_config_file_named_by_the_environment_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        EndpointSettings.resolve("http://h/query", {"CMCKG_SPARQL_CONFIG": str(tmp_path / "x")})


# -- cmckg serve ------------------------------------------------------------------------------


def _serve(store: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from cmckg.cli import main; sys.exit(main())",
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_until_served(process: subprocess.Popen[bytes], url: str) -> None:
    """cmckg serve prints the endpoint once the server answers (or exits with an error)."""
    assert process.stdout is not None
    first = process.stdout.readline().decode()
    assert first == f"SPARQL endpoint: {url}\n", process.communicate()
    while "(Ctrl-C to stop)" not in process.stdout.readline().decode():
        assert process.poll() is None, process.communicate()
    with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=5) as response:
        assert response.status == 200


@pytest.fixture
def built_store(tmp_path: Path) -> Path:
    """An embedded store built by an ingest (the vocabulary) plus the lineage fixture."""
    path = tmp_path / "store"
    with KnowledgeGraph.open(path) as kg:
        kg.ingest([])
        load_trig(kg, QUESTIONS / "chain.trig")
    return path


def test_serve_exposes_the_store_to_sparql_clients(built_store: Path) -> None:
    # The five raw-material lots drawn in the header of chain.trig.
    raw_lots = {
        URIRef(f"https://w3id.org/cmckg/id/lot/test/{lot}")
        for lot in ("api-5-2", "api-7-2", "lac-2", "lac-3", "smcc-7")
    }
    port = free_port()
    process = _serve(built_store, port)
    try:
        _wait_until_served(process, f"http://127.0.0.1:{port}/query")
        client = SPARQLWrapper(f"http://127.0.0.1:{port}/query")
        client.setReturnFormat(JSON)
        client.setQuery(f"SELECT ?lot WHERE {{ ?lot a <{CMC}RawMaterialLot> }}")
        rows = client.queryAndConvert()["results"]["bindings"]
        assert {URIRef(r["lot"]["value"]) for r in rows} == raw_lots
        updater = SPARQLWrapper(
            f"http://127.0.0.1:{port}/query", updateEndpoint=f"http://127.0.0.1:{port}/update"
        )
        updater.setMethod(POST)
        updater.setQuery(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> 1 }} }}")
        updater.query()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    # Stopped cleanly: the store is unlocked and holds the write made through the endpoint.
    with OxigraphStore(built_store) as store:
        assert set(store.graph(u("g"))) == {(u("s"), u("p"), Literal(1))}


def test_serve_read_only_refuses_updates(built_store: Path) -> None:
    port = free_port()
    process = _serve(built_store, port, "--read-only")
    try:
        url = f"http://127.0.0.1:{port}/query"
        _wait_until_served(process, url)
        count = open_store(url).count_quads()
        with pytest.raises(StoreError, match=r"denied \(HTTP 403\): The server is read-only"):
            open_store(url).apply(ChangeSet(drop_graphs=[u("anything")]))
        updater = SPARQLWrapper(url, updateEndpoint=f"http://127.0.0.1:{port}/update")
        updater.setMethod(POST)
        updater.setQuery("CLEAR ALL")
        with pytest.raises((SPARQLWrapperException, OSError)):
            updater.query()
        assert open_store(url).count_quads() == count > 0
    finally:
        process.terminate()
        process.communicate(timeout=20)
    assert process.returncode == 0


@pytest.mark.parametrize("extra", [[], ["--read-only"]])
def test_serve_a_store_open_elsewhere_is_a_clear_error(built_store: Path, extra, capsys) -> None:
    holder = start_server(built_store)  # another process holding Oxigraph's lock on the store
    try:
        assert main(["serve", "--store", str(built_store), "--port", str(free_port()), *extra]) == 2
    finally:
        holder.stop()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cmckg serve: error: ")
    assert "another process" in err
