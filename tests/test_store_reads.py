"""What cmckg derives from store reads: Oxigraph terms come back as the rdflib terms they are,
and the reference names (products, sites, materials…) every lineage call needs are kept only
until the store is written. Runs on each backend in conftest.STORE_KINDS.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import STORE_KINDS, store_location
from question_fixtures import QUESTIONS, load_trig
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDFS, XSD

from cmckg import queries
from cmckg.errors import QueryError, StoreError
from cmckg.kg import KnowledgeGraph
from cmckg.stores import ChangeSet, open_store
from cmckg.stores.terms import from_ox

ID = "https://w3id.org/cmckg/id/"
LAC = URIRef(ID + "material/test/LAC")  # chain.trig: rdfs:label "Lactose monohydrate"
MATERIALS = URIRef(ID + "graph/test/materials")
LAC_2 = ID + "lot/test/lac-2"
OLD_LABEL = "Lactose monohydrate"
NEW_LABEL = "Lactose, spray-dried"  # sorts after OLD_LABEL: a stale or doubled label shows


@pytest.fixture(params=STORE_KINDS)
def kg(request, tmp_path):
    graph = KnowledgeGraph.open(store_location(request.param, tmp_path))
    load_trig(graph, QUESTIONS / "chain.trig")
    yield graph
    graph.close()


def relabel(store, old: str, new: str) -> None:
    store.apply(
        ChangeSet(
            remove=[(LAC, RDFS.label, Literal(old), MATERIALS)],
            add=[(LAC, RDFS.label, Literal(new), MATERIALS)],
        )
    )


def material_of_lactose_lot(kg: KnowledgeGraph) -> str:
    return kg.lineage("B-1").nodes.set_index("iri").loc[LAC_2, "material"]


def count_reference_queries(store, monkeypatch) -> list[str]:
    """Record each reference-nodes query the store is asked."""
    asked: list[str] = []
    query, text = store.query, queries.get_query("reference-nodes").text

    def counting(sparql, bindings=None):
        if sparql == text:
            asked.append(sparql)
        return query(sparql, bindings)

    monkeypatch.setattr(store, "query", counting)
    return asked


def test_lineage_names_follow_a_write_through_the_store(kg):
    assert material_of_lactose_lot(kg) == OLD_LABEL
    before = kg.store.revision
    relabel(kg.store, OLD_LABEL, NEW_LABEL)
    assert kg.store.revision == before + 1
    assert material_of_lactose_lot(kg) == NEW_LABEL
    assert kg.lineage("2", material=NEW_LABEL, direction="forward").root == LAC_2


def test_names_are_read_once_per_write_except_from_a_server(kg, monkeypatch):
    asked = count_reference_queries(kg.store, monkeypatch)
    kg.lineage("B-1")
    kg.lineage("3", direction="forward")
    embedded = not kg.store.location.startswith("http")
    assert len(asked) == (1 if embedded else 2)
    relabel(kg.store, OLD_LABEL, NEW_LABEL)
    kg.lineage("B-1")
    assert len(asked) == (2 if embedded else 3)


def test_a_failed_write_also_counts(kg):
    before = kg.store.revision
    with pytest.raises((StoreError, QueryError)):
        kg.store.apply(ChangeSet(add=[(LAC, RDFS.label, 5, MATERIALS)]))  # 5 is no RDF term
    assert kg.store.revision == before + 1


@pytest.mark.parametrize("kind", ["remote"])
def test_a_server_written_by_another_client_is_asked_again(kind, tmp_path):
    with KnowledgeGraph.open(store_location(kind, tmp_path)) as kg:
        load_trig(kg, QUESTIONS / "chain.trig")
        assert material_of_lactose_lot(kg) == OLD_LABEL
        other = open_store(kg.store.location)
        relabel(other, OLD_LABEL, NEW_LABEL)
        other.close()
        assert kg.store.sole_writer is False
        assert material_of_lactose_lot(kg) == NEW_LABEL


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        (ox.NamedNode("https://w3id.org/cmckg/id/lot/test/lac-2"), URIRef(LAC_2)),
        (ox.Literal("B-1"), Literal("B-1")),
        (ox.Literal("B-1", datatype=ox.NamedNode(str(XSD.string))), Literal("B-1")),
        (ox.Literal("Laktose", language="de"), Literal("Laktose", lang="de")),
        (ox.Literal("7", datatype=ox.NamedNode(str(XSD.integer))), Literal(7)),
        (
            ox.Literal("2.5E0", datatype=ox.NamedNode(str(XSD.double))),
            Literal("2.5E0", datatype=XSD.double),
        ),
        (
            ox.Literal("2024-03-01", datatype=ox.NamedNode(str(XSD.date))),
            Literal("2024-03-01", datatype=XSD.date),
        ),
        (ox.BlankNode("b1"), BNode("b1")),
    ],
)
def test_oxigraph_terms_become_the_same_rdflib_terms(term, expected):
    converted = from_ox(term)
    assert type(converted) is type(expected)
    assert converted == expected
    assert converted.n3() == expected.n3()
    assert hash(converted) == hash(expected)


def test_oxigraph_term_conversion_edges():
    assert from_ox(None) is None
    assert from_ox(ox.Literal("7", datatype=ox.NamedNode(str(XSD.integer)))).toPython() == 7
    assert from_ox(ox.Literal("x")).datatype is None
    with pytest.raises(TypeError):
        from_ox(5)
