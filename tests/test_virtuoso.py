"""cmckg on a second real SPARQL server, OpenLink Virtuoso 7 (tests/virtuoso.py; skipped where
Virtuoso is not installed): the protocol forms it needs, its profile, ingest parity with the
embedded store, idempotent re-ingest, read-only, and what a server killed mid-ingest leaves.
"""

from __future__ import annotations

import pytest
from question_fixtures import QUESTIONS, load_trig
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from virtuoso import virtuoso_location

from cmckg.cli import main
from cmckg.errors import StoreError
from cmckg.examples import example_groups
from cmckg.kg import KnowledgeGraph
from cmckg.stores import ChangeSet, open_store
from cmckg.stores.remote import VIRTUOSO, RemoteStore

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("no_user_sparql_config")]

EX = "http://example.org/"
TRICKY = [
    Literal('quote " and backslash \\ and brace } ; DROP ALL #'),
    Literal("two\nlines\tand a tab"),
    Literal("viable cell density 1.2e6 µL⁻¹"),
    Literal("Charge", lang="en"),
    Literal("12.5", datatype=XSD.decimal),
    Literal("2021-02-18", datatype=XSD.date),
    Literal("42", datatype=XSD.integer),
]


def u(name: str) -> URIRef:
    return URIRef(EX + name)


def graph_of(*triples: tuple) -> Graph:
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph


def test_the_server_is_recognised_and_its_layout_used() -> None:
    location = virtuoso_location()
    store = open_store(location)
    assert isinstance(store, RemoteStore)
    assert store.count_quads() == 0  # its system graphs (virtrdf# …) are not ours
    assert store.profile is VIRTUOSO
    base = location.rsplit("/", 1)[0]
    assert (store.settings.update, store.settings.store) == (location, f"{base}/sparql-graph-crud")
    assert store.settings.default_graph == "union"


def test_apply_query_graph_and_replace_on_virtuoso() -> None:
    store = open_store(virtuoso_location())
    record = graph_of(*[(u("lot/1"), u(f"p{i}"), value) for i, value in enumerate(TRICKY)])
    meta = [
        (u("graph/1"), RDF.type, u("RecordGraph"), u("meta")),
        (u("graph/1"), u("sha"), Literal("aaa"), u("meta")),
    ]
    store.apply(ChangeSet(put_graphs={u("graph/1"): record}, add=meta))
    expected = {(s, p, o, u("graph/1")) for s, p, o in record} | set(meta)
    assert set(store.quads()) == expected
    assert store.graph_names() == {u("graph/1"), u("meta")}
    assert set(store.graph(u("graph/1"))) == set(record)
    assert len(store.graph(u("no-such-graph"))) == 0
    rows = store.query("SELECT ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p", {"s": u("lot/1")}).rows
    assert [o for _, o in rows] == TRICKY
    store.apply(
        ChangeSet(
            put_graphs={u("graph/1"): graph_of((u("lot/1"), u("p0"), Literal("v2")))},
            remove=[meta[1]],
            add=[(u("graph/1"), u("sha"), Literal("bbb"), u("meta"))],
        )
    )
    assert set(store.quads()) == {
        (u("lot/1"), u("p0"), Literal("v2"), u("graph/1")),
        meta[0],
        (u("graph/1"), u("sha"), Literal("bbb"), u("meta")),
    }


def test_a_record_larger_than_virtuosos_parser_takes_in_one_block_loads() -> None:
    # Virtuoso's SPARQL parser runs out of stack near 5,000 triples in one DATA block.
    store = open_store(virtuoso_location())
    big = graph_of(*[(u(f"s{i}"), u("p"), Literal(i)) for i in range(12_000)])
    store.apply(ChangeSet(put_graphs={u("big"): big}))
    assert store.count_quads() == 12_000


CMC_NS = "https://w3id.org/cmckg/ontology#"


def comparable(quads, meta: URIRef) -> set:
    """Quads without the metadata graph's ingest times and the change-set hashes made from
    them (each store has its own), doubles to the 6 significant digits Virtuoso 7.2 writes in
    its results."""
    timed = {URIRef(CMC_NS + "changeSetSha256"), URIRef(CMC_NS + "previousChangeSetSha256")}
    out = set()
    for s, p, o, g in quads:
        if g == meta and (getattr(o, "datatype", None) == XSD.dateTime or p in timed):
            continue
        if getattr(o, "datatype", None) == XSD.double:
            o = float(f"{float(o):.6g}")
        out.add((s, p, o, g))
    return out


def test_virtuoso_writes_doubles_with_six_significant_digits() -> None:
    """A known Virtuoso 7.2 limitation (README, server table): the value is stored in full
    (STR() gives it back) but results and the Graph Store print 6 significant digits."""
    store = open_store(virtuoso_location())
    value = Literal("12345678.9", datatype=XSD.double)
    store.apply(ChangeSet(put_graphs={u("g"): graph_of((u("s"), u("p"), value))}))
    on_s = {"s": u("s")}
    assert store.query("SELECT ?v WHERE { ?s ?p ?v }", on_s).rows[0][0] == Literal(
        "12345700.0", datatype=XSD.double
    )
    assert store.query("SELECT (STR(?v) AS ?t) WHERE { ?s ?p ?v }", on_s).rows[0][0] == Literal(
        "12345678.9"
    )


def test_a_change_set_over_virtuosos_request_limit_is_refused_before_sending() -> None:
    """Virtuoso refuses an update request over 10 MB (error SR578); cmckg says so up front
    (here with the limit lowered to 2,000 bytes) and the store is left as it was."""
    from dataclasses import replace

    store = open_store(virtuoso_location())
    store.apply(ChangeSet(put_graphs={u("small"): graph_of((u("s"), u("p"), u("o")))}))
    store.profile = replace(VIRTUOSO, max_request_bytes=2000)
    big = graph_of(*[(u(f"s{i}"), u("p"), Literal(i)) for i in range(100)])
    with pytest.raises(StoreError, match=r"over the 0.002 MB virtuoso takes .* nothing was sent"):
        store.apply(ChangeSet(put_graphs={u("big"): big}, drop_graphs=[u("small")]))
    assert store.graph_names() == {u("small")}


def test_mab_ingest_gives_the_embedded_stores_quads_and_twice_changes_nothing() -> None:
    groups = [g for g in example_groups() if g.name.startswith("mAb")]
    meta = URIRef("https://w3id.org/cmckg/id/graph/meta")
    with (
        KnowledgeGraph.open(virtuoso_location()) as remote,
        KnowledgeGraph.open("oxigraph:memory") as embedded,
    ):
        for kg in (remote, embedded):
            for group in groups:
                kg.ingest(group.files, mapping=group.mapping)
        ours = set(remote.store.quads())
        assert comparable(ours, meta) == comparable(embedded.store.quads(), meta)
        assert len(ours) == len(set(embedded.store.quads()))
        for group in groups:
            assert remote.ingest(group.files, mapping=group.mapping).changed == 0
        assert set(remote.store.quads()) == ours
        stats = remote.stats().set_index("what")["count"]
        assert stats["drug-substance batches"] == 42


def test_read_only_refuses_every_write(capsys: pytest.CaptureFixture) -> None:
    location = virtuoso_location()
    assert main(["ingest", "--store", location, "--read-only", str(QUESTIONS / "chain.trig")]) == 2
    assert "read-only" in capsys.readouterr().err
    assert open_store(location).count_quads() == 0


def test_chain_fixture_rows_equal_the_embedded_store() -> None:
    """Same quads, and the same records in the default graph. The analytics layer's series are
    left out of the count: Virtuoso's default graph is the union of every graph, the layer's
    too, while the embedded store keeps the layer out of its union copy (read with GRAPH)."""
    aggregate = (
        (
            "SELECT ?type (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?type } "
            "FILTER(STRSTARTS(STR(?type), 'https://w3id.org/cmckg/') "
            "&& ?type != <https://w3id.org/cmckg/ontology#AnalyticsSeries>) "
            "GROUP BY ?type ORDER BY ?type"
        )
        .replace("} FILTER", "FILTER")
        .replace("GROUP", "} GROUP")
    )
    with (
        KnowledgeGraph.open(virtuoso_location()) as remote,
        KnowledgeGraph.open("oxigraph:memory") as embedded,
    ):
        for kg in (remote, embedded):
            load_trig(kg, QUESTIONS / "chain.trig")
        assert set(remote.store.quads()) == set(embedded.store.quads())
        assert remote.store.query(aggregate).rows == embedded.store.query(aggregate).rows


# -- questions: refused, and why ------------------------------------------------------------


def test_the_lineage_query_returns_no_rows_on_virtuoso() -> None:
    """Why questions are refused on Virtuoso 7.2 (besides the doubles above): cmckg's lineage
    query (a transitive path joined with a UNION) gives rows on Oxigraph and none here."""
    from cmckg import queries

    root = {"root": URIRef("https://w3id.org/cmckg/id/lot/test/B-1")}
    with (
        KnowledgeGraph.open(virtuoso_location()) as remote,
        KnowledgeGraph.open("oxigraph:memory") as embedded,
    ):
        for kg in (remote, embedded):
            load_trig(kg, QUESTIONS / "chain.trig")
        rows = [queries.run(kg.store, "lineage-backward", root).rows for kg in (remote, embedded)]
    assert rows[0] == [] and len(rows[1]) > 5


@pytest.mark.parametrize(
    "command",
    [
        ["lineage", "B-1"],
        ["compare", "-a", "HMW", "--reference", "site=Site-A", "--test", "site=Site-B"],
        ["summary", "-a", "HMW"],
        ["cpv", "HMW", "--product", "P"],
        ["drivers", "--pqa", "HMW"],
        ["validate", "--full"],
        ["export", "--format", "nquads"],
    ],
)
def test_questions_are_refused_on_virtuoso_with_one_line(command, capsys) -> None:
    location = virtuoso_location()
    with KnowledgeGraph.open(location) as kg:
        load_trig(kg, QUESTIONS / "chain.trig")
    assert main([*command, "--store", location]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Virtuoso 7.2 can store and ingest" in lines[0], lines
    assert main(["stats", "--store", location]) == 0  # counting is not refused
