"""N-Triples text of terms (what ingest hashes and the embedded store loads) and the embedded
store's bulk path: every term reads back as itself through Oxigraph's own parser, nothing can
break out of its place in the text, content hashes are those of rdflib's N-Triples lines, and a
bulk load that fails after writing leaves the store exactly as before."""

from __future__ import annotations

import hashlib

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from cmckg import KnowledgeGraph, ntriples
from cmckg.errors import MappingError, QueryError, StoreError
from cmckg.ingest import content_sha256
from cmckg.mappers.base import RecordGraph, RecordTriples
from cmckg.stores import ChangeSet, open_store
from cmckg.stores.terms import to_sparql

EX = "https://example.org/"
S, P, G, META = (URIRef(EX + n) for n in ("s", "p", "g", "meta"))

TERMS = [
    URIRef("https://example.org/a%20b?x=1#frag"),
    URIRef("urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"),
    URIRef("https://example.org/µg/mL"),
    Literal("plain"),
    Literal(""),
    Literal('say "hi"'),
    Literal("back\\slash \\n not a newline"),
    Literal("two\nlines\r\nand a tab\tand a bell\x07"),
    Literal('"""triple quotes"""'),
    Literal('ends in a quote"'),
    Literal("Žagar µ μ 你好 😀"),
    Literal("chat", lang="fr"),
    Literal("colour", lang="en-GB"),
    Literal(3),
    Literal(2.5, datatype=XSD.double),
    Literal("0.10", datatype=XSD.decimal),
    Literal("2024-05-01T10:00:00", datatype=XSD.dateTime),
    Literal("x", datatype=URIRef("https://example.org/my-type")),
]


def _expected(term: URIRef | Literal) -> ox.NamedNode | ox.Literal:
    """The Oxigraph term built directly from the rdflib term's parts (no text involved)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


@pytest.mark.parametrize("term", TERMS, ids=repr)
def test_each_term_reads_back_as_itself(term):
    text = ntriples.nquads(G, ntriples.triple_lines([(S, P, term)]))
    (quad,) = ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS)
    assert quad.object == _expected(term)
    assert quad.graph_name == ox.NamedNode(str(G))


@pytest.mark.parametrize(
    "bad",
    [
        "https://example.org/x> <https://example.org/p> <https://example.org/o> .\n<https://e.org/y",
        "https://example.org/with space",
        "https://example.org/{x}",
        "no-scheme",
        "",
        "http://host:port/",  # no ASCII character a text could break on: Oxigraph's IRI check
        "https://example.org/a%zz",
    ],
)
def test_an_iri_that_could_break_the_text_is_refused(bad):
    with pytest.raises(ValueError):
        ntriples.triple_lines([(URIRef(bad), P, Literal(1))])
    with pytest.raises(ValueError):
        ntriples.nquads(bad, ['<https://example.org/s> <https://example.org/p> "1"'])


def test_a_language_tag_oxigraph_refuses_is_refused():
    with pytest.raises(ValueError):
        ntriples.triple_lines([(S, P, Literal("x", lang="abcdefghi"))])  # subtag > 8 letters


def test_blank_nodes_and_non_terms_are_refused():
    with pytest.raises(ValueError):
        ntriples.triple_lines([(BNode(), P, Literal(1))])
    with pytest.raises(ValueError):
        ntriples.triple_lines([(S, P, 5)])


def test_a_literal_cannot_escape_its_quotes():
    sneaky = Literal('x" <https://example.org/evil> <https://example.org/g> .\n<a> <b> "y')
    text = ntriples.nquads(G, ntriples.triple_lines([(S, P, sneaky)]))
    quads = list(ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == 1 and quads[0].object == ox.Literal(str(sneaky))


def test_content_hash_is_sha256_of_sorted_ntriples_lines():
    triples = [(S, P, t) for t in TERMS if "\n" not in t] + [(URIRef(EX + "z"), P, S)]
    # rdflib's n3() is N-Triples for IRIs and single-line literals
    document = "\n".join(sorted(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in triples))
    expected = hashlib.sha256(document.encode()).hexdigest()
    assert content_sha256(triples) == expected
    assert content_sha256(RecordTriples(reversed(triples))) == expected
    assert content_sha256([]) == hashlib.sha256(b"").hexdigest()


def test_record_lines_follow_changes():
    triples = RecordTriples([(S, P, Literal(1))])
    first = content_sha256(triples)
    triples.add((S, P, Literal(2)))
    assert content_sha256(triples) != first
    triples.remove((S, P, Literal(2)))
    assert content_sha256(triples) == first


def test_an_invalid_iri_in_a_record_is_a_mapping_error_and_writes_nothing(tmp_path):
    record = RecordGraph(
        URIRef(EX + "graph/r1"),
        "r1",
        "made-in-code",
        RecordTriples([(URIRef(EX + "lot one"), P, Literal(1))]),
    )
    with KnowledgeGraph.open(f"oxigraph:{tmp_path / 'store'}") as kg:
        with pytest.raises(MappingError, match="r1"):
            kg.ingest_records([record])
        assert kg.store.count_quads() == 0


class _FailingStore:
    """Wraps an ox.Store whose method ``fail_on`` raises, after writing its data if
    ``writes_first`` (the bulk loader is not transactional; ``load`` is)."""

    def __init__(self, real: ox.Store, fail_on: str, writes_first: bool) -> None:
        self.real, self.fail_on, self.writes_first = real, fail_on, writes_first

    def __getattr__(self, name: str):
        method = getattr(self.real, name)
        if name != self.fail_on:
            return method

        def fail(*args, **kwargs):
            if self.writes_first:
                method(*args, **kwargs)
            raise OSError("disk full (simulated)")

        return fail


def _snapshot(store) -> list[tuple]:
    return sorted(tuple(t.n3() if t is not None else "" for t in q) for q in store.quads())


@pytest.mark.parametrize(("fail_on", "writes_first"), [("bulk_load", True), ("load", False)])
def test_a_failed_bulk_load_leaves_the_store_as_before(tmp_path, fail_on, writes_first):
    store = open_store(f"oxigraph:{tmp_path / 'store'}")
    old = URIRef(EX + "graph/old")
    store.apply(
        ChangeSet(
            put_graphs={old: RecordTriples([(S, P, Literal("kept"))])},
            add=[(old, URIRef(EX + "source"), Literal("a.csv"), META)],
        )
    )
    before = _snapshot(store)
    big = RecordTriples((URIRef(f"{EX}s/{i}"), P, Literal(i)) for i in range(60_000))
    big.add((S, P, Literal("kept")))  # also in the old graph: must survive the undo
    store._store = _FailingStore(store.native, fail_on, writes_first)
    with pytest.raises(StoreError, match="simulated"):
        # the new graph and its metadata are bulk-loaded; the quad about the old graph is
        # written in the transaction after it
        store.apply(
            ChangeSet(
                put_graphs={G: big},
                add=[
                    (G, URIRef(EX + "source"), Literal("big.csv"), META),
                    (old, URIRef(EX + "seen"), Literal("again"), META),
                ],
            )
        )
    store._store = store._store.real
    assert _snapshot(store) == before
    store.close()


def test_a_failed_update_after_a_bulk_load_leaves_the_store_as_before(tmp_path):
    """New graphs are bulk-loaded before the transaction that replaces existing ones; when that
    transaction fails, the new graphs go again."""
    store = open_store(f"oxigraph:{tmp_path / 'store'}")
    old = URIRef(EX + "graph/old")
    store.apply(ChangeSet(put_graphs={old: RecordTriples([(S, P, Literal("kept"))])}))
    before = _snapshot(store)
    big = RecordTriples((URIRef(f"{EX}s/{i}"), P, Literal(i)) for i in range(30_000))
    store._store = _FailingStore(store.native, "update", writes_first=False)
    with pytest.raises(StoreError, match="simulated"):
        store.apply(ChangeSet(put_graphs={G: big, old: RecordTriples([(S, P, Literal("new"))])}))
    store._store = store._store.real
    assert _snapshot(store) == before
    store.apply(ChangeSet(put_graphs={G: big, old: RecordTriples([(S, P, Literal("new"))])}))
    assert set(store.graph(old)) == {(S, P, Literal("new"))}
    assert len(store.graph(G)) == 30_000
    store.close()


# IRIREF in the N-Triples and SPARQL 1.1 grammars: '<' ([^#x00-#x20<>"{}|^`\] | UCHAR)* '>'.
# Every excluded character, then ones the grammar allows that a "\s" check got wrong.
IRIREF_EXCLUDED = [chr(c) for c in range(0x21)] + list('<>"{}|^`\\')
IRIREF_ALLOWED_UNICODE_SPACES = ["\u00a0", "\u2028", "\u3000"]  # ucschar in RFC 3987


@pytest.mark.parametrize("char", IRIREF_EXCLUDED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_character_iriref_excludes_is_refused_for_text_and_queries(char):
    value = f"https://example.org/a{char}b"
    with pytest.raises(ValueError):
        ntriples.iri(value)
    with pytest.raises(QueryError, match="not a valid absolute IRI"):
        to_sparql(URIRef(value))


@pytest.mark.parametrize("space", IRIREF_ALLOWED_UNICODE_SPACES, ids=lambda c: f"U+{ord(c):04X}")
def test_unicode_spaces_the_grammar_allows_bind_and_read_back(space):
    iri = URIRef(f"https://example.org/a{space}b")
    assert to_sparql(iri) == ntriples.iri(iri) == f"<{iri}>"
    store = open_store("memory:")
    store.apply(ChangeSet(add=[(iri, P, Literal(1), G)]))
    rows = store.query("SELECT ?p WHERE { ?s ?p ?o }", {"s": iri}).rows
    assert rows == [(P,)]


def test_a_literal_binds_as_its_ntriples_text():
    text = to_sparql(Literal("two\nlines", lang="en"))
    assert text == '"two\\nlines"@en'
    with pytest.raises(QueryError):
        to_sparql(Literal("x", lang="abcdefghi"))
    with pytest.raises(QueryError, match="cannot bind a BNode"):
        to_sparql(BNode())
