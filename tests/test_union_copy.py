"""The union copy: the default graph holds the SET union of the named graphs on every backend, so
a fact stated in several record graphs matches once (Oxigraph 0.5's own union default graph is a
bag, oxigraph issue #1919), and every write keeps the copy exact — replacements, drops, removals
and failed writes included."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import store_location
from rdflib import Literal, URIRef

from cmckg.errors import StoreError
from cmckg.mappers.base import RecordTriples
from cmckg.stores import ChangeSet, Store, open_store
from cmckg.stores.oxigraph import BULK_THRESHOLD, OxigraphStore

EX = "https://example.org/"
P, Q = URIRef(EX + "p"), URIRef(EX + "q")
PRODUCT = URIRef(EX + "product/mAb-1")


class FailingUpdate:
    """An Oxigraph store whose SPARQL updates fail (a full disk), everything else as it is."""

    def __init__(self, real: ox.Store) -> None:
        self.real = real

    def __getattr__(self, name: str):
        if name == "update":
            raise OSError("disk full (simulated)")
        return getattr(self.real, name)


def g(name: str) -> URIRef:
    return URIRef(f"{EX}graph/{name}")


def s(i: object) -> URIRef:
    return URIRef(f"{EX}s/{i}")


def shared_product_records(count: int) -> dict[URIRef, RecordTriples]:
    """``count`` record graphs, each restating the product's identifier (as mappers do)."""
    return {
        g(f"r{i}"): RecordTriples([(s(i), P, PRODUCT), (PRODUCT, Q, Literal("mAb-1"))])
        for i in range(count)
    }


def default_triples(store: Store) -> set[tuple]:
    """What a query without GRAPH sees, one row per solution (duplicates kept)."""
    rows = store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }").rows
    assert len(rows) == len(set(rows)), "the default graph repeats a triple"
    return set(rows)


def named_triples(store: Store) -> set[tuple]:
    return {(s_, p, o) for s_, p, o, _ in store.quads()}


@pytest.fixture
def store(store_kind: str, tmp_path) -> Store:
    opened = open_store(store_location(store_kind, tmp_path))
    yield opened
    opened.close()


def test_a_fact_in_many_record_graphs_counts_once(store: Store):
    store.apply(ChangeSet(put_graphs=shared_product_records(5)))
    count = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ <{PRODUCT}> ?p ?o }}").rows
    assert int(count[0][0]) == 1
    # three joins on the shared node: 1 row, not 5 × 5 × 5
    rows = store.query(f"SELECT ?a ?b ?c WHERE {{ <{PRODUCT}> {Q.n3()} ?a, ?b, ?c }}").rows
    assert rows == [(Literal("mAb-1"),) * 3]
    assert store.count_quads() == 10
    assert default_triples(store) == named_triples(store)


def test_the_copy_follows_replacements_drops_and_removals(store: Store):
    records = shared_product_records(3)
    store.apply(ChangeSet(put_graphs=records, add=[(g("r0"), P, Literal("meta"), g("meta"))]))
    # r0 no longer states the product's identifier; r1, r2 still do
    store.apply(ChangeSet(put_graphs={g("r0"): RecordTriples([(s(0), P, Literal(0))])}))
    assert (PRODUCT, Q, Literal("mAb-1")) in default_triples(store)
    assert (s(0), P, PRODUCT) not in default_triples(store)
    store.apply(ChangeSet(drop_graphs=[g("r1")]))
    assert (PRODUCT, Q, Literal("mAb-1")) in default_triples(store)
    store.apply(ChangeSet(drop_graphs=[g("r2")], remove=[(g("r0"), P, Literal("meta"), g("meta"))]))
    assert default_triples(store) == named_triples(store) == {(s(0), P, Literal(0))}


def test_a_failed_bulk_load_leaves_no_copy_behind(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    store.apply(ChangeSet(put_graphs={g("old"): RecordTriples([(PRODUCT, Q, Literal("mAb-1"))])}))
    big = RecordTriples((s(i), P, Literal(i)) for i in range(30_000))
    big.add((PRODUCT, Q, Literal("mAb-1")))  # held by the old graph too: stays in the copy
    real = store.native
    store._store = FailingUpdate(real)
    with pytest.raises(StoreError, match="simulated"):
        # a new graph (bulk-loaded) and a replaced one (the update that fails)
        store.apply(
            ChangeSet(put_graphs={g("big"): big, g("old"): RecordTriples([(s(0), P, Literal(0))])})
        )
    store._store = real
    copy = {
        (t.subject.value, t.predicate.value, t.object.value)
        for t in real.quads_for_pattern(None, None, None, ox.DefaultGraph())
    }
    assert copy == {(str(PRODUCT), str(Q), "mAb-1")}
    store.close()


def test_a_store_without_the_copy_gets_it_when_opened_for_writing(tmp_path):
    """Stores written before the union copy existed: queried through Oxigraph's own union
    (a bag) when opened read-only, given the copy when opened for writing."""
    raw = ox.Store(str(tmp_path / "store"))
    for i in range(3):
        raw.add(
            ox.Quad(
                ox.NamedNode(str(PRODUCT)),
                ox.NamedNode(str(Q)),
                ox.Literal("mAb-1"),
                ox.NamedNode(str(g(f"r{i}"))),
            )
        )
    raw.flush()
    del raw
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ <{PRODUCT}> ?p ?o }}"
    read_only = OxigraphStore(tmp_path / "store", read_only=True)
    assert int(read_only.query(query).rows[0][0]) == 3
    read_only.close()
    del read_only
    writable = OxigraphStore(tmp_path / "store")
    assert int(writable.query(query).rows[0][0]) == 1
    assert writable.count_quads() == 3
    writable.close()


def test_default_graph_mode_is_checked_and_read_from_the_environment():
    from cmckg.errors import ConfigError
    from cmckg.stores.remote import EndpointSettings

    url = "http://127.0.0.1:9/query"
    assert EndpointSettings.resolve(url, {}).default_graph == "copy"
    environ = {"CMCKG_SPARQL_DEFAULT_GRAPH": "union"}
    assert EndpointSettings.resolve(url, environ).default_graph == "union"
    with pytest.raises(ConfigError, match="'bag' is not one of copy, union"):
        EndpointSettings.resolve(url, {"CMCKG_SPARQL_DEFAULT_GRAPH": "bag"})


# --- graphs kept out of the union copy (ChangeSet.outside_union) -------------------------------

KEPT_OUT = f"{EX}graph/derived/layer/"


def layer(name: str) -> URIRef:
    return URIRef(f"{KEPT_OUT}{name}")


def outside(**fields: object) -> ChangeSet:
    """A change set naming KEPT_OUT as outside the union copy."""
    return ChangeSet(outside_union={KEPT_OUT}, **fields)  # type: ignore[arg-type]


@pytest.fixture(params=["oxigraph", "remote"])
def copying_store(request: pytest.FixtureRequest, tmp_path) -> Store:
    """The backends that keep a union copy (memory: and default_graph: union servers show every
    named graph in their default graph, kept out or not)."""
    opened = open_store(store_location(request.param, tmp_path))
    yield opened
    opened.close()


def test_graphs_outside_the_union_are_named_graphs_only(copying_store: Store):
    store = copying_store
    shared, own = (PRODUCT, Q, Literal("mAb-1")), (s("row"), P, Literal(7))
    store.apply(
        outside(
            put_graphs={
                g("r"): RecordTriples([shared, (s(1), P, PRODUCT)]),
                layer("a"): RecordTriples([shared, own]),
            },
            add=[(s("row"), Q, Literal("added"), layer("a"))],
        )
    )
    assert default_triples(store) == {shared, (s(1), P, PRODUCT)}
    found = store.query(f"SELECT ?o WHERE {{ GRAPH <{layer('a')}> {{ <{s('row')}> ?p ?o }} }}")
    assert set(found.rows) == {(Literal(7),), (Literal("added"),)}
    assert store.count_quads() == 5
    # replaced in place (the SPARQL update path), a quad removed: the copy does not move
    store.apply(
        outside(
            put_graphs={layer("a"): RecordTriples([own, (s("row"), Q, Literal("again"))])},
            remove=[(s("row"), Q, Literal("added"), layer("a"))],
        )
    )
    assert default_triples(store) == {shared, (s(1), P, PRODUCT)}
    assert (s("row"), Q, Literal("again"), layer("a")) in set(store.quads())


def test_dropping_a_graph_outside_the_union_leaves_the_copy_untouched(copying_store: Store):
    store = copying_store
    shared = (PRODUCT, Q, Literal("mAb-1"))
    records = {g("r"): RecordTriples([shared]), g("t"): RecordTriples([(s(2), P, Literal(2))])}
    store.apply(outside(put_graphs={**records, layer("a"): RecordTriples([shared])}))
    store.apply(outside(drop_graphs=[layer("a")]))
    assert default_triples(store) == {shared, (s(2), P, Literal(2))}
    assert layer("a") not in store.graph_names()
    # and a graph outside the copy does not keep a triple in it once no record graph holds it
    store.apply(outside(put_graphs={layer("a"): RecordTriples([shared])}))
    store.apply(outside(drop_graphs=[g("r")]))
    assert default_triples(store) == {(s(2), P, Literal(2))}
    assert set(store.graph(layer("a"))) == {shared}


def test_rewriting_a_graph_once_copied_removes_its_old_copy(copying_store: Store):
    """A store written before the graphs were kept out holds their copy: rewriting or dropping
    them with ``outside_union`` takes it out (a triple a record graph holds stays)."""
    store = copying_store
    shared, old, new = (
        (PRODUCT, Q, Literal("mAb-1")),
        (s("a"), P, Literal(1)),
        (s("b"), P, Literal(2)),
    )
    store.apply(
        ChangeSet(
            put_graphs={
                g("r"): RecordTriples([shared]),
                layer("a"): RecordTriples([shared, old]),
                layer("b"): RecordTriples([new]),
            }
        )
    )
    assert default_triples(store) == {shared, old, new}
    store.apply(
        outside(
            put_graphs={layer("a"): RecordTriples([shared, (s("a"), P, Literal(3))])},
            drop_graphs=[layer("b")],
        )
    )
    assert default_triples(store) == {shared}


def test_a_server_whose_sampled_quad_is_kept_out_still_answers(tmp_path):
    """The remote store's check that the server keeps the union copy samples a quad with IRIs
    only: here only the kept-out graph has one, and the check must not take that for a server
    without the copy."""
    location = store_location("remote", tmp_path)
    writer = open_store(location)
    writer.apply(
        outside(
            put_graphs={
                layer("a"): RecordTriples([(s("row"), P, PRODUCT)]),
                g("r"): RecordTriples([(PRODUCT, Q, Literal("mAb-1"))]),
            }
        )
    )
    reader = open_store(location)  # a new store object checks the server again
    assert default_triples(reader) == {(PRODUCT, Q, Literal("mAb-1"))}


def test_a_large_graph_outside_the_union_is_bulk_loaded_without_a_copy(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    big = RecordTriples((s(i), P, Literal(i)) for i in range(BULK_THRESHOLD + 1))
    store.apply(
        outside(put_graphs={layer("big"): big, g("r"): RecordTriples([(s(0), Q, PRODUCT)])})
    )
    assert default_triples(store) == {(s(0), Q, PRODUCT)}
    assert store.count_quads() == BULK_THRESHOLD + 2
    store.close()


def test_a_failed_write_with_graphs_outside_the_union_changes_nothing(tmp_path):
    """The bulk loader loads the new graphs, the update that follows fails: everything it
    loaded is undone, and a triple a kept-out graph held before does not stay in the copy."""
    store = OxigraphStore(tmp_path / "store")
    shared = (PRODUCT, Q, Literal("mAb-1"))
    store.apply(
        outside(
            put_graphs={
                g("old"): RecordTriples([(s(0), P, Literal(0))]),
                layer("old"): RecordTriples([shared]),
            }
        )
    )
    before = everything(store.native)
    big = RecordTriples((s(i), P, Literal(i)) for i in range(BULK_THRESHOLD))
    big.add(shared)  # copied with the new record graph; only a kept-out graph held it before
    kept_out = RecordTriples((s(f"k{i}"), P, Literal(i)) for i in range(BULK_THRESHOLD))
    real = store.native
    store._store = FailingUpdate(real)
    with pytest.raises(StoreError, match="simulated"):
        store.apply(
            outside(
                put_graphs={
                    g("big"): big,
                    layer("big"): kept_out,
                    g("old"): RecordTriples([(s(0), P, Literal(1))]),  # the failing update
                }
            )
        )
    store._store = real
    assert everything(real) == before
    store.close()


def everything(native: ox.Store) -> set[tuple[str, ...]]:
    """Every quad, the default graph's included, as text."""
    return {
        (str(q.subject), str(q.predicate), str(q.object), str(q.graph_name))
        for q in native.quads_for_pattern(None, None, None)
    }
