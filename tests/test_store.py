"""The store contract, the same cases on every backend (conftest.STORE_KINDS), through the Store
interface only: named graphs in, rows out, change sets all-or-nothing, bound values inert."""

from __future__ import annotations

import pytest
from conftest import store_location, store_snapshot
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from cmckg.errors import QueryError, StoreError
from cmckg.mappers.base import RecordTriples
from cmckg.stores import ChangeSet, Store, open_store

EX = "https://example.org/"
G1, G2, G3, META = (URIRef(EX + name) for name in ("graph/1", "graph/2", "graph/3", "meta"))
P, NAME = URIRef(EX + "p"), URIRef(EX + "name")
INJECTION = '"} ; DROP ALL #'


def s(i: object) -> URIRef:
    return URIRef(f"{EX}s/{i}")


def triples(*items: tuple) -> RecordTriples:
    return RecordTriples(items)


def graph_set(store: Store, graph: URIRef) -> set:
    return set(store.graph(graph))


@pytest.fixture
def store(store_kind: str, tmp_path) -> Store:
    opened = open_store(store_location(store_kind, tmp_path))
    yield opened
    opened.close()


@pytest.fixture
def filled(store: Store) -> Store:
    """Two graphs and a metadata quad."""
    store.apply(
        ChangeSet(
            put_graphs={
                G1: triples(
                    (s(1), P, Literal(1)),
                    (s(1), NAME, Literal("alpha")),
                    (s(1), RDF.type, URIRef(EX + "Lot")),
                ),
                G2: triples(
                    (s(2), P, Literal(2.5, datatype=XSD.double)),
                    (s(2), NAME, Literal("beta", lang="en")),
                ),
            },
            add=[(G1, URIRef(EX + "source"), Literal("a.csv"), META)],
        )
    )
    return store


def test_put_graphs_and_read_them_back(filled: Store):
    assert {G1, G2, META} <= filled.graph_names()
    assert graph_set(filled, G1) == {
        (s(1), P, Literal(1)),
        (s(1), NAME, Literal("alpha")),
        (s(1), RDF.type, URIRef(EX + "Lot")),
    }
    assert filled.count_quads() == 6
    assert len(store_snapshot(filled)) == 6
    assert {q[3] for q in filled.quads()} == {G1, G2, META}


def test_replacing_a_graph_drops_its_old_triples_only(filled: Store):
    new = {(s(1), P, Literal(10)), (s(9), NAME, Literal("gamma"))}
    filled.apply(ChangeSet(put_graphs={G1: RecordTriples(new)}))
    assert graph_set(filled, G1) == new
    assert graph_set(filled, G2) == {
        (s(2), P, Literal(2.5, datatype=XSD.double)),
        (s(2), NAME, Literal("beta", lang="en")),
    }
    assert filled.count_quads() == 2 + 2 + 1


def test_drop_graph_and_remove_quads(filled: Store):
    filled.apply(
        ChangeSet(drop_graphs=[G2], remove=[(G1, URIRef(EX + "source"), Literal("a.csv"), META)])
    )
    assert G2 not in filled.graph_names()
    assert graph_set(filled, META) == set()
    assert filled.count_quads() == 3


def test_a_change_set_that_fails_partway_changes_nothing(filled: Store):
    before = store_snapshot(filled)
    bad = (s(3), P, 5, META)  # 5 is not an RDF term: the write fails after the good parts
    changes = ChangeSet(
        drop_graphs=[G2],
        remove=[(G1, URIRef(EX + "source"), Literal("a.csv"), META)],
        put_graphs={G1: triples((s(1), P, Literal(99))), G3: triples((s(3), P, Literal(3)))},
        add=[(s(3), NAME, Literal("good"), META), bad],
    )
    with pytest.raises((StoreError, QueryError)):
        filled.apply(changes)
    assert store_snapshot(filled) == before


def test_a_large_new_graph_that_fails_partway_changes_nothing(filled: Store):
    """Large additions take Oxigraph's bulk loader, which is not transactional: the backend
    must undo what it loaded before the failure."""
    before = store_snapshot(filled)
    big = RecordTriples((s(i), P, Literal(i)) for i in range(60_000))
    big.add((s(3), NAME, 5))  # not an RDF term, somewhere inside the graph's triples
    big.add((s(1), NAME, Literal("alpha")))  # also in G1: must survive the undo
    changes = ChangeSet(
        put_graphs={G3: big},
        add=[
            (G3, URIRef(EX + "source"), Literal("big.csv"), META),
            (G1, URIRef(EX + "source"), Literal("a.csv"), META),
        ],
    )
    with pytest.raises((StoreError, QueryError)):
        filled.apply(changes)
    assert store_snapshot(filled) == before


def test_query_binds_typed_terms(filled: Store):
    found = filled.query("SELECT ?s WHERE { ?s ?p ?name }", {"name": Literal("alpha")})
    assert found.columns == ["s"]
    assert found.rows == [(s(1),)]
    found = filled.query("SELECT ?name WHERE { ?s ?p ?name }", {"s": s(2), "p": NAME})
    assert found.rows == [(Literal("beta", lang="en"),)]
    assert filled.query("ASK { ?s ?p ?o }", {"o": Literal(2.5, datatype=XSD.double)}).boolean


def test_injection_through_a_bound_literal_matches_nothing_and_changes_nothing(filled: Store):
    before = store_snapshot(filled)
    for query in (
        "SELECT ?s WHERE { ?s ?p ?name }",
        "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?name } }",
    ):
        assert filled.query(query, {"name": Literal(INJECTION)}).rows == []
    assert (
        len(
            filled.construct(
                "CONSTRUCT { ?s ?p ?name } WHERE { ?s ?p ?name }", {"name": Literal(INJECTION)}
            )
        )
        == 0
    )
    assert store_snapshot(filled) == before
    filled.apply(ChangeSet(add=[(s(7), NAME, Literal(INJECTION), G3)]))
    found = filled.query("SELECT ?s WHERE { ?s ?p ?name }", {"name": Literal(INJECTION)})
    assert found.rows == [(s(7),)]  # the value is only ever data: it matches itself


def test_injection_through_a_bound_iri_is_rejected(filled: Store):
    before = store_snapshot(filled)
    with pytest.raises(QueryError):
        filled.query("SELECT ?p WHERE { ?s ?p ?o }", {"s": URIRef(EX + "x> } ; DROP ALL #")})
    with pytest.raises(QueryError):
        filled.query("SELECT ?p WHERE { ?s ?p ?o }", {"s; DROP ALL": s(1)})
    assert store_snapshot(filled) == before


def test_an_empty_change_set_is_a_no_op(filled: Store):
    before = store_snapshot(filled)
    filled.apply(ChangeSet())
    assert store_snapshot(filled) == before
