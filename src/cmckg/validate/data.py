"""The data pyshacl validates: an in-memory Oxigraph store read through oxrdflib, filled from the
store with the record graphs a run covers and, in an incremental run, their neighbourhood."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from functools import cache

import pyoxigraph as ox
from oxrdflib import OxigraphStore as _RdflibOxigraph
from rdflib import Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import PROV, RDF, RDFS

from ..resources import resource_dir
from ..stores import Store
from ..stores.terms import from_ox, inline_values, to_ox, to_sparql
from ..vocab import CMC, QUDT
from .sparql import batches, values_clause
from .unit_facts import unit_facts

_OUTBOUND_HOPS = 3  # enough for measurement → sample → sample → lot → product
# links into a node that rules follow backwards: its consumers, its outputs, its results
_INBOUND = (PROV.used, PROV.wasGeneratedBy, CMC.onEntity)


class _InlinedBindings(_RdflibOxigraph):
    """oxrdflib's store, with pre-bound variables sent as a VALUES block.

    pyshacl pre-binds ``$this`` for each focus node of a SPARQL constraint; oxrdflib passes it
    as Oxigraph ``substitutions``, which Oxigraph does not use to plan the query: a constraint
    that starts from ``$this`` took 60 ms per focus node instead of 0.2 ms with VALUES."""

    def query(self, query, initNs, initBindings, queryGraph, **kwargs):  # noqa: ANN001, ANN201, N803
        if (
            initBindings
            and isinstance(query, str)
            and all(isinstance(v, URIRef | Literal) for v in initBindings.values())
        ):
            query, initBindings = inline_values(query, dict(initBindings)), {}
        return super().query(query, initNs, initBindings, queryGraph, **kwargs)


class _OxigraphGraph(Graph):
    """An rdflib view of an in-memory Oxigraph store for pyshacl.

    pyshacl tests a data graph's truth value for every result it builds (``datagraph or sg``),
    and rdflib answers through ``len()``, which counts the whole store (oxrdflib with a SPARQL
    count; even Oxigraph's native count walks every quad): a run becomes quadratic in the number
    of results. The graph exists, so it is true, and its length is counted once, when the view is
    made (pyshacl adds only the ontology's axioms after that)."""

    def __init__(self, native: ox.Store) -> None:
        super().__init__(store=_InlinedBindings(store=native), identifier=DATASET_DEFAULT_GRAPH_ID)
        self._length = len(native)

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return self._length


class DataGraph:
    """The triples to validate, in an in-memory Oxigraph store (fast to fill and to query)."""

    def __init__(self) -> None:
        self.native = ox.Store()

    def __len__(self) -> int:
        return len(self.native)

    def construct(self, store: Store, sparql: str) -> list[ox.Triple]:
        """Run a CONSTRUCT on ``store``, add its triples here and return them."""
        native_query = getattr(store, "native_query", None)
        if native_query is not None:
            found = list(native_query(sparql))
        else:
            found = [ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in store.construct(sparql)]
        self.native.extend(ox.Quad(t.subject, t.predicate, t.object) for t in found)
        return found

    def add_graph(self, graph: Graph) -> None:
        self.native.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in graph)

    def select(self, sparql: str) -> list[tuple]:
        return [tuple(from_ox(v) for v in row) for row in self.native.query(sparql)]

    def rdflib_graph(self) -> Graph:
        return _OxigraphGraph(self.native)

    def add_unit_facts(self) -> None:
        """State, for every unit the data mentions, what cmckg.units knows about it."""
        rows = self.select(
            f"SELECT DISTINCT ?u WHERE {{ {{ ?x <{QUDT.unit}> ?u }} "
            f"UNION {{ ?x <{CMC.defaultUnit}> ?u }} FILTER (isIRI(?u)) }}"
        )
        facts = Graph()
        for (unit,) in rows:
            found = unit_facts(unit)
            if not found:
                continue
            facts.add((unit, RDF.type, QUDT.Unit))
            facts.add((unit, QUDT.symbol, Literal(found["symbol"])))
            for kind in found["kinds"]:
                facts.add((unit, QUDT.hasQuantityKind, kind))
            if found["multiplier"] is not None:
                facts.add((unit, QUDT.conversionMultiplier, Literal(found["multiplier"])))
                facts.add((unit, QUDT.conversionOffset, Literal(found["offset"])))
        self.add_graph(facts)

    def add_property_labels(self) -> None:
        """Label every measured AFO property the data mentions (ontology/vendor/afo-terms.csv),
        so messages name the attribute rather than its IRI."""
        rows = self.select(
            f"SELECT DISTINCT ?p WHERE {{ ?x {to_sparql(CMC.measuredProperty)} ?p "
            f"FILTER (isIRI(?p)) }}"
        )
        labels = afo_labels()
        found = Graph()
        for (prop,) in rows:
            if prop in labels:
                found.add((prop, RDFS.label, Literal(labels[prop])))
        self.add_graph(found)

    def typed_record_nodes(self, among: set[URIRef] | None = None) -> set[URIRef]:
        """Nodes with a cmc: class: the focus nodes of the shapes."""
        rows = self.select(
            f"SELECT DISTINCT ?s WHERE {{ ?s a ?type . FILTER (isIRI(?s) && "
            f"STRSTARTS(STR(?type), {Literal(str(CMC)).n3()})) }}"
        )
        found = {row[0] for row in rows}
        return found if among is None else found & among


@cache
def afo_labels() -> dict[URIRef, str]:
    """The labels of the AFO terms cmckg knows (ontology/vendor/afo-terms.csv)."""
    path = resource_dir("ontology") / "vendor" / "afo-terms.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        return {URIRef(row["iri"]): row["label"] for row in csv.DictReader(handle)}


def load_graphs(store: Store, graphs: Sequence[URIRef], data: DataGraph) -> list[ox.Triple]:
    found: list[ox.Triple] = []
    for batch in batches(sorted(graphs)):
        found += data.construct(
            store,
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {values_clause('g', batch)} "
            "GRAPH ?g { ?s ?p ?o } }",
        )
    return found


def load_derived(store: Store, base: str, data: DataGraph) -> list[ox.Triple]:
    """The lot-to-lot steps ingest derives from runs (``{base}graph/derived/run/…``, not record
    graphs): a full run needs them for every lineage rule, as lineage queries do (an
    incremental run reaches them through the neighbourhood)."""
    prefix = Literal(f"{base}graph/derived/run/").n3()
    derived = to_sparql(PROV.wasDerivedFrom)
    return data.construct(
        store,
        f"CONSTRUCT {{ ?s {derived} ?o }} WHERE {{ GRAPH ?g {{ ?s {derived} ?o }} "
        f"FILTER (STRSTARTS(STR(?g), {prefix})) }}",
    )


def _outbound(store: Store, nodes: Iterable[URIRef], data: DataGraph) -> list[ox.Triple]:
    found: list[ox.Triple] = []
    for batch in batches(sorted(nodes)):
        found += data.construct(
            store, f"CONSTRUCT {{ ?n ?p ?o }} WHERE {{ {values_clause('n', batch)} ?n ?p ?o }}"
        )
    return found


def _inbound(store: Store, nodes: Iterable[URIRef], data: DataGraph) -> list[ox.Triple]:
    """The ``_INBOUND`` links into ``nodes``. One VALUES block of (predicate, node) pairs:
    with two separate blocks Oxigraph matched ``?s ?p ?n`` against the whole store first
    (0.9 s for 67 nodes at 4.5 M quads; 3 ms as pairs)."""
    found: list[ox.Triple] = []
    for batch in batches(sorted(nodes)):
        pairs = " ".join(f"({to_sparql(p)} {to_sparql(n)})" for n in batch for p in _INBOUND)
        found += data.construct(
            store, f"CONSTRUCT {{ ?s ?p ?n }} WHERE {{ VALUES (?p ?n) {{ {pairs} }} ?s ?p ?n }}"
        )
    return found


def _upstream(store: Store, nodes: Iterable[URIRef], data: DataGraph) -> None:
    """prov:wasDerivedFrom chains upstream of ``nodes``, with the types and materials of the
    nodes reached."""
    seen = set(nodes)
    frontier = sorted(seen)
    derived, material = to_sparql(PROV.wasDerivedFrom), to_sparql(CMC.ofMaterial)
    while frontier:
        step: list[ox.Triple] = []
        for batch in batches(frontier):
            step += data.construct(
                store,
                f"CONSTRUCT {{ ?n {derived} ?up . ?up a ?type ; {material} ?m }} WHERE {{ "
                f"{values_clause('n', batch)} ?n {derived} ?up . OPTIONAL {{ ?up a ?type }} "
                f"OPTIONAL {{ ?up {material} ?m }} }}",
            )
        reached = {
            URIRef(t.object.value)
            for t in step
            if t.predicate.value == str(PROV.wasDerivedFrom) and isinstance(t.object, ox.NamedNode)
        }
        frontier = sorted(reached - seen)
        seen |= reached


def mentioned(triples: Iterable[ox.Triple]) -> set[URIRef]:
    """Subjects and objects (not classes) that are record nodes rather than vocabulary."""
    rdf_type = str(RDF.type)
    nodes: set[URIRef] = set()
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            nodes.add(URIRef(t.subject.value))
        if isinstance(t.object, ox.NamedNode) and t.predicate.value != rdf_type:
            nodes.add(URIRef(t.object.value))
    return {n for n in nodes if _is_record_node(n)}


def _is_record_node(node: URIRef) -> bool:
    """Nodes worth fetching: not a class, term, unit or quantity kind."""
    return not str(node).startswith(
        (
            "http://qudt.org/",
            "https://w3id.org/cmckg/terms",
            "https://w3id.org/cmckg/ontology#",
            "http://www.w3.org/",
        )
    )


def add_neighbourhood(store: Store, core: set[URIRef], data: DataGraph) -> None:
    """Add everything the shapes look at around the ``core`` nodes: their triples in every
    graph; the runs that used them, the lots they generated and the results about them, with
    those nodes' own triples (not followed further: a raw-material lot used by hundreds of runs
    must not pull in their whole neighbourhood); a few hops of the nodes they reference; and the
    upstream lineage (types and materials) of the derived lots among them."""
    inbound = mentioned(_inbound(store, core, data)) - core
    _outbound(store, inbound, data)
    fetched = set(inbound)
    frontier = set(core)
    for _ in range(_OUTBOUND_HOPS):
        step = _outbound(store, frontier, data)
        fetched |= frontier
        frontier = mentioned(step) - fetched
        if not frontier:
            break
    rows = data.select(
        f"SELECT DISTINCT ?lot WHERE {{ ?lot {to_sparql(PROV.wasDerivedFrom)} ?input }}"
    )
    derived = {row[0] for row in rows} & core
    if derived:
        _upstream(store, derived, data)
