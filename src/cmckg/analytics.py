"""The derived analytics layer: every measured value as one JSON row of a series, kept by ingest.

Every analysis asks the same thing: the values of an attribute on the batches of a product, with
each batch's site, process version and date, and the values measured upstream of each batch.
Asked of the records, that is about eight index lookups per value (measurement → entity →
sample → lot → class → product → run → site …) and a lineage walk per batch. The layer states
the answer once, in derived named graphs ``{base}graph/derived/analytics/…`` in a small
vocabulary (``ontology/cmckg.ttl``, ``ontology/MODEL.md`` "Analytics layer"):

- a ``cmc:AnalyticsSeries`` per key (measured property as stated and local term, lot kind,
  product, site, process version, material, testing stage), in a graph of its own, its IRI
  a hash of the key;
- per lot or run with values, one graph with ``lot cmc:inSeries series`` and, per value,
  ``series cmc:seriesRow "{…}"^^rdf:JSON`` (``cmc:seriesCensoredRow`` for "<0.5"): lot,
  measurement, values in the concept's canonical unit where they convert, units, stages, the
  lot's identifiers and dates, the records stating the value;
- on a drug-substance or drug-product batch, in its graph: its kind, product, site, process
  version, scale, ``cmc:rowData`` (those facts as JSON) and ``cmc:upstream`` for every
  raw-material lot, intermediate lot and run upstream of it (``prov:wasDerivedFrom+`` or
  ``prov:wasDerivedFrom*/prov:wasGeneratedBy``).

A series' values are one index scan (no lookup per value), so an analysis costs the few series
it matches plus a scan; ``cmckg.series_rows`` reads the answers back. This module is the
layer's layout and its upkeep in one: both are made of the same ``Facts`` and the same
``lot_layer``, and a change to what a lot's graph says is a change to what ingest must watch.

Kept in step like derived lineage (``derivation.py``): ingest calls ``plan_analytics`` after
``plan_derivations``, in the same change set. It finds the triples the change set really
changes in the store's set union (new content not stated elsewhere, leaving content no other
graph states), the lots and runs whose rows or summary those can change (and the batches
downstream of a changed lineage step or type), recomputes their graphs from the store as it will
be after the change (stored graphs that stay, plus the new ones) and writes only the graphs that
differ. ``rebuild`` (``cmckg reindex``) makes the whole layer from the records.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD
from rdflib.term import Identifier

from . import units
from .errors import TermError
from .mappers.base import RecordTriples
from .stores import ChangeSet, Store
from .stores.terms import rows_for_each, to_sparql
from .vocab import CMC, CMCT, LOT_KINDS, QUDT, IriMinter, bundled_term_index

LOT_CLASSES = tuple(kind.iri for kind in LOT_KINDS)
BATCH_CLASSES = frozenset(kind.iri for kind in LOT_KINDS if kind.batch)
UPSTREAM_CLASSES = frozenset({CMC.RawMaterialLot, CMC.IntermediateLot, CMC.ProcessRun})
ROW_CLASSES = frozenset({*LOT_CLASSES, CMC.ProcessRun})
PREFIX = "graph/derived/analytics/"

#: Lot facts (on the lot), run facts, sample and measurement statements the layer reads.
LOT_FACTS = (
    CMC.identifier,
    CMC.ofProduct,
    CMC.atSite,
    CMC.manufactureDate,
    CMC.ofMaterial,
    PROV.wasGeneratedBy,
)
RUN_FACTS = (CMC.atSite, CMC.processVersion, PROV.startedAtTime)
MEASUREMENT_FACTS = (
    CMC.measuredProperty,
    CMC.localTerm,
    QUDT.numericValue,
    QUDT.unit,
    CMC.stage,
    CMC.onEntity,
    CMC.resultQualifier,
    CMC.censoringLimit,
)
WATCHED = frozenset(
    {
        RDF.type,
        *LOT_FACTS,
        *RUN_FACTS,
        *MEASUREMENT_FACTS,
        PROV.wasDerivedFrom,
        CMC.sampleOf,
    }
)
_LINEAGE = frozenset({PROV.wasDerivedFrom, PROV.wasGeneratedBy})

Triple = tuple[Identifier, Identifier, Identifier]
#: The watched statements of bound subjects or graphs: a FILTER, which Oxigraph applies to each
#: quad it finds; a VALUES block of predicates beside the bound subjects costs 30 times more.
_WATCHED_QUADS = (
    "GRAPH ?g { ?s ?p ?o } FILTER(?p IN (" + ", ".join(to_sparql(p) for p in sorted(WATCHED)) + "))"
)


# Terms read in the hot loops, looked up once (a namespace attribute costs a call).
_CMC_AnalyticsSeries = CMC.AnalyticsSeries
_CMC_ProcessRun = CMC.ProcessRun
_CMC_atSite = CMC.atSite
_CMC_censoringLimit = CMC.censoringLimit
_CMC_identifier = CMC.identifier
_CMC_inSeries = CMC.inSeries
_CMC_localTerm = CMC.localTerm
_CMC_manufactureDate = CMC.manufactureDate
_CMC_measuredProperty = CMC.measuredProperty
_CMC_ofMaterial = CMC.ofMaterial
_CMC_ofProduct = CMC.ofProduct
_CMC_onEntity = CMC.onEntity
_CMC_processVersion = CMC.processVersion
_CMC_resultQualifier = CMC.resultQualifier
_CMC_rowData = CMC.rowData
_CMC_rowLotKind = CMC.rowLotKind
_CMC_rowProcessVersion = CMC.rowProcessVersion
_CMC_rowProduct = CMC.rowProduct
_CMC_rowScale = CMC.rowScale
_CMC_rowSite = CMC.rowSite
_CMC_sampleOf = CMC.sampleOf
_CMC_seriesRow = CMC.seriesRow
_CMC_seriesCensoredRow = CMC.seriesCensoredRow
_CMC_seriesLocalTerm = CMC.seriesLocalTerm
_CMC_seriesLotKind = CMC.seriesLotKind
_CMC_seriesMaterial = CMC.seriesMaterial
_CMC_seriesProcessVersion = CMC.seriesProcessVersion
_CMC_seriesProduct = CMC.seriesProduct
_CMC_seriesProperty = CMC.seriesProperty
_CMC_seriesSite = CMC.seriesSite
_CMC_seriesStage = CMC.seriesStage
_CMC_stage = CMC.stage
_CMC_upstream = CMC.upstream
_CMCT_BatchSize = CMCT.BatchSize
_PROV_startedAtTime = PROV.startedAtTime
_PROV_wasDerivedFrom = PROV.wasDerivedFrom
_PROV_wasGeneratedBy = PROV.wasGeneratedBy
_QUDT_numericValue = QUDT.numericValue
_QUDT_unit = QUDT.unit
_RDF_type = RDF.type
_BACKWARD = frozenset({_CMC_sampleOf, _CMC_onEntity, _PROV_wasGeneratedBy, _PROV_wasDerivedFrom})


def analytics_graph(minter: IriMinter, node: URIRef) -> URIRef:
    """The derived graph holding the rows of ``node`` (a lot or run) and, for a batch, its
    facts and upstream closure (a hash: lot IRIs can be long)."""
    return URIRef(f"{layer_prefix(minter)}{_digest(node)}")


def _digest(*parts: object) -> str:
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:32]


def _watched(triples: Iterable[Any]) -> Iterator[Triple]:
    for s, p, o in triples:
        if _is_watched(p, o):
            yield s, p, o


@dataclass
class Facts:
    """Watched statements by subject (and, for the reverse steps, by object), with the graphs
    that state each: what the layer is computed from."""

    forward: dict[Identifier, dict[Identifier, dict[Identifier, set[URIRef]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(dict))
    )
    backward: dict[tuple[Identifier, Identifier], set[Identifier]] = field(
        default_factory=lambda: defaultdict(set)
    )

    def add(self, s: Identifier, p: Identifier, o: Identifier, graph: URIRef) -> None:
        self.forward[s][p].setdefault(o, set()).add(graph)
        if p in _BACKWARD:
            self.backward[(o, p)].add(s)

    def objects(self, s: Identifier, p: Identifier) -> list[Identifier]:
        found = self.forward.get(s)
        return list(found[p]) if found and p in found else []

    def subjects(self, p: Identifier, o: Identifier) -> list[Identifier]:
        return list(self.backward.get((o, p), ()))

    def graphs(self, s: Identifier, p: Identifier, o: Identifier) -> set[URIRef]:
        """The graphs stating (s, p, o) (none: not stated)."""
        found = self.forward.get(s)
        return found[p].get(o, set()) if found and p in found else set()

    def types(self, node: Identifier) -> list[Identifier]:
        return self.objects(node, _RDF_type)


def _key(term: Identifier) -> tuple[str, str, str]:
    """A total order over terms of any kind (rdflib orders literals by value, which can fail)."""
    return (type(term).__name__, str(term), str(getattr(term, "datatype", "") or ""))


class _AfterState:
    """The watched statements as the store will hold them after a change set: new graphs in
    memory, stored graphs that stay read on demand (``store`` None: nothing stored)."""

    def __init__(
        self, store: Store | None, leaving: set[URIRef], new: Iterable[tuple[Triple, URIRef]]
    ) -> None:
        self.store, self.leaving = store, leaving
        self.facts = Facts()
        for (s, p, o), graph in new:
            self.facts.add(s, p, o, graph)
        self._subjects: set[Identifier] = set()
        self._objects: dict[Identifier, set[Identifier]] = defaultdict(set)

    def load_subjects(self, nodes: Iterable[Identifier]) -> None:
        """Read the stored watched statements about ``nodes`` (once per node)."""
        wanted = sorted({n for n in nodes if isinstance(n, URIRef)} - self._subjects)
        self._subjects.update(wanted)
        if self.store is None or not wanted:
            return
        where = _WATCHED_QUADS
        for s, p, o, g in rows_for_each(self.store, "s", wanted, "?s ?p ?o ?g", where):
            if g not in self.leaving and not _derived_analytics(g) and _is_watched(p, o):
                self.facts.add(s, p, o, g)

    def load_objects(self, predicate: URIRef, nodes: Iterable[Identifier]) -> None:
        """Read the stored ``?s predicate node`` statements (once per node)."""
        wanted = sorted({n for n in nodes if isinstance(n, URIRef)} - self._objects[predicate])
        self._objects[predicate].update(wanted)
        if self.store is None or not wanted:
            return
        where = f"GRAPH ?g {{ ?s {to_sparql(predicate)} ?o }}"
        for o, s, g in rows_for_each(self.store, "o", wanted, "?o ?s ?g", where):
            if g not in self.leaving:
                self.facts.add(s, predicate, o, g)


def _is_watched(p: Identifier, o: Identifier) -> bool:
    """A statement the layer is computed from (of the types, only the row classes)."""
    return p in WATCHED and (p != _RDF_type or o in ROW_CLASSES)


def _derived_analytics(graph: object) -> bool:
    return PREFIX in str(graph)


# --- what one lot's graph says ------------------------------------------------------------


@cache
def _concept_of() -> dict[URIRef, URIRef]:
    """Each exact-match IRI (AFO) → the bundled concept that names it."""
    index = bundled_term_index()
    found: dict[URIRef, set[URIRef]] = defaultdict(set)
    for term in index.terms():
        for match in term.exact_matches:
            found[match].add(term.iri)
    return {match: concepts.pop() for match, concepts in found.items() if len(concepts) == 1}


def canonical_unit(properties: Iterable[Identifier]) -> URIRef | None:
    """The bundled default unit of the one concept a measurement's properties name (None: no
    concept, several, or no default unit). The bundled terms only: a project vocabulary in
    force at ingest may not be at query time, and the analyses convert what is left."""
    index = bundled_term_index()
    concepts = set()
    for prop in properties:
        if not isinstance(prop, URIRef):
            continue
        if prop in index:
            concepts.add(prop)
        elif prop in _concept_of():
            concepts.add(_concept_of()[prop])
    if len(concepts) != 1:
        return None
    return index.get(concepts.pop()).default_unit


def _in_unit(
    value: Identifier, unit: list[Identifier], target: URIRef | None
) -> tuple[Literal, list[Identifier]]:
    """``value`` as an xsd:double in ``target`` when its one unit converts there."""
    number = float(value.toPython()) if isinstance(value, Literal) else float(str(value))
    if target is not None and len(unit) == 1 and unit[0] != target:
        try:
            return Literal(units.convert(number, str(unit[0]), str(target)), datatype=XSD.double), [
                target
            ]
        except TermError:
            pass
    return Literal(number, datatype=XSD.double), unit


@dataclass
class _LotFacts:
    """The facts every row of a lot repeats (several values: several statements)."""

    identifiers: list[Identifier]
    materials: list[Identifier]
    products: list[Identifier]
    sites: list[Identifier]
    process_versions: list[Identifier]
    dates: list[Identifier]


def _lot_facts(facts: Facts, lot: Identifier) -> _LotFacts:
    """``lot``'s facts: its own site and date, else those of the runs that generated it."""
    runs = facts.objects(lot, _PROV_wasGeneratedBy)
    run_values = {p: list({o for r in runs for o in facts.objects(r, p)}) for p in RUN_FACTS}
    return _LotFacts(
        identifiers=facts.objects(lot, _CMC_identifier),
        materials=facts.objects(lot, _CMC_ofMaterial),
        products=facts.objects(lot, _CMC_ofProduct),
        sites=facts.objects(lot, _CMC_atSite) or run_values[_CMC_atSite],
        process_versions=run_values[_CMC_processVersion],
        dates=facts.objects(lot, _CMC_manufactureDate) or run_values[_PROV_startedAtTime],
    )


def _measurements(facts: Facts, lot: Identifier) -> list[Identifier]:
    entities = [lot, *facts.subjects(_CMC_sampleOf, lot)]
    return list({m for e in entities for m in facts.subjects(_CMC_onEntity, e)})


def lot_layer(
    minter: IriMinter, facts: Facts, lot: URIRef
) -> tuple[set[Triple], dict[URIRef, set[Triple]]]:
    """``lot``'s analytics graph, and each series its rows are in with the series' own
    triples (what its graph under ``series/`` holds)."""
    kinds = _ordered([k for k in facts.types(lot) if k in ROW_CLASSES])
    if not kinds:
        return set(), {}
    shared = _lot_facts(facts, lot)
    rows = [(m, row) for m in _measurements(facts, lot) if (row := _row(facts, m)) is not None]
    triples: set[Triple] = set()
    series: dict[URIRef, set[Triple]] = {}
    for measurement, row in rows:
        described = _series_triples(minter, row, kinds, shared)
        node = URIRef(next(iter(described))[0])
        series[node] = described
        triples.add((lot, _CMC_inSeries, node))
        predicate = _CMC_seriesRow if row.values else _CMC_seriesCensoredRow
        triples.add((node, predicate, _json(row.data(lot, measurement, shared))))
    if BATCH_CLASSES & set(kinds):
        scale = {v for _, row in rows if _CMCT_BatchSize in row.properties for v in row.values}
        triples |= {(lot, _CMC_rowLotKind, kind) for kind in kinds}
        triples |= {(lot, _CMC_rowProduct, o) for o in shared.products}
        triples |= {(lot, _CMC_rowSite, o) for o in shared.sites}
        triples |= {(lot, _CMC_rowProcessVersion, o) for o in shared.process_versions}
        triples |= {(lot, _CMC_rowScale, v) for v in scale}
        triples |= {(lot, _CMC_upstream, node) for node in upstream(facts, lot)}
        triples.add((lot, _CMC_rowData, _json(_batch_data(lot, kinds, shared))))
    return triples, series


@dataclass
class _Row:
    """One measurement's own part of its rows: what it measured (as stated), its numbers in
    the concept's canonical unit where they convert, and what the row's JSON carries."""

    properties: list[Identifier]
    local_terms: list[Identifier]
    values: list[Literal]
    limits: list[Literal]
    qualifiers: list[Identifier]
    units: list[Identifier]
    stages: list[Identifier]
    records: list[Identifier]

    def data(self, lot: URIRef, measurement: Identifier, shared: _LotFacts) -> dict[str, object]:
        """The row's JSON (``cmc:seriesRow``; the fields are listed in ``ontology/MODEL.md``)."""
        return {
            "lot": str(lot),
            "measurement": str(measurement),
            "values": [float(v) for v in self.values],
            "limits": [float(v) for v in self.limits],
            "qualifiers": _texts(self.qualifiers),
            "units": _texts(self.units),
            "stages": _texts(self.stages),
            "identifiers": _texts(shared.identifiers),
            "dates": _texts(shared.dates),
            "records": [str(r) for r in self.records],
        }


def _batch_data(lot: URIRef, kinds: list[Identifier], shared: _LotFacts) -> dict[str, object]:
    """A batch's JSON (``cmc:rowData``): its facts, in one literal a join reads once."""
    return {
        "lot": str(lot),
        "kinds": [str(k) for k in kinds],
        "identifiers": _texts(shared.identifiers),
        "dates": _texts(shared.dates),
        "products": _texts(shared.products),
        "sites": _texts(shared.sites),
        "process_versions": _texts(shared.process_versions),
    }


def _ordered(terms: list[Identifier]) -> list[Identifier]:
    """``terms`` in a fixed order (the store returns them in any): what a graph, a JSON row
    or a series' hash is made of must come out the same however its facts were read."""
    return terms if len(terms) < 2 else sorted(terms, key=_key)


def _texts(terms: list[Identifier]) -> list[str]:
    return [str(term) for term in _ordered(terms)]


def _json(data: dict[str, object]) -> Literal:
    return Literal(json.dumps(data, separators=(",", ":"), ensure_ascii=False), datatype=RDF.JSON)


def _series_triples(
    minter: IriMinter, row: _Row, kinds: list[Identifier], shared: _LotFacts
) -> set[Triple]:
    """The series a row is in (what it measured, on which kind of lot of which product, site,
    process version and material) as the series node's triples; the node's IRI is a hash of
    them, so every row of the same key names the same node."""
    columns = (
        (_CMC_seriesProperty, row.properties),
        (_CMC_seriesLocalTerm, row.local_terms),
        (_CMC_seriesLotKind, kinds),
        (_CMC_seriesProduct, shared.products),
        (_CMC_seriesSite, shared.sites),
        (_CMC_seriesProcessVersion, shared.process_versions),
        (_CMC_seriesMaterial, shared.materials),
        (_CMC_seriesStage, row.stages),
    )
    key = (c for _, cs in columns for c in [*_ordered(cs), "|"])
    node = URIRef(f"{minter.base}analytics/series/{_digest(*key)}")
    triples: set[Triple] = {(node, _RDF_type, _CMC_AnalyticsSeries)}
    triples |= {(node, predicate, o) for predicate, objects in columns for o in objects}
    return triples


def series_graph(minter: IriMinter, series: URIRef) -> URIRef:
    """The derived graph holding one series node's triples."""
    return URIRef(f"{layer_prefix(minter)}series/{_digest(series)}")


def _row(facts: Facts, measurement: Identifier) -> _Row | None:
    """One measurement's own part of its rows, or None: not a numeric or censored result."""
    values = facts.objects(measurement, _QUDT_numericValue)
    limits = facts.objects(measurement, _CMC_censoringLimit)
    qualifiers = facts.objects(measurement, _CMC_resultQualifier)
    if not values and not (limits and qualifiers):
        return None
    properties = facts.objects(measurement, _CMC_measuredProperty)
    local = facts.objects(measurement, _CMC_localTerm)
    if not properties and not local:
        return None
    unit = facts.objects(measurement, _QUDT_unit)
    target = canonical_unit(properties)
    stated = values or limits
    converted = [_in_unit(v, unit, target) for v in stated]
    numbers = sorted({v for v, _ in converted}, key=_key)
    predicate = _QUDT_numericValue if values else _CMC_censoringLimit
    return _Row(
        properties=properties,
        local_terms=local,
        values=numbers if values else [],
        limits=[] if values else numbers,
        qualifiers=[] if values else qualifiers,
        units=sorted({u for _, shown in converted for u in shown}, key=_key),
        stages=facts.objects(measurement, _CMC_stage),
        records=sorted(
            {g for v in stated for g in facts.graphs(measurement, predicate, v)}, key=_key
        ),
    )


def upstream(facts: Facts, batch: Identifier) -> list[Identifier]:
    """Raw-material lots, intermediate lots and runs upstream of ``batch``: reached by
    ``prov:wasDerivedFrom+`` or by ``prov:wasDerivedFrom*`` then one ``prov:wasGeneratedBy``."""
    lots, frontier = {batch}, [batch]
    while frontier:
        frontier = [
            up
            for node in frontier
            for up in facts.objects(node, _PROV_wasDerivedFrom)
            if up not in lots
        ]
        lots.update(frontier)
    derived = lots - {batch} | {
        up for lot in lots for up in facts.objects(lot, _PROV_wasDerivedFrom)
    }
    runs = {run for lot in lots for run in facts.objects(lot, _PROV_wasGeneratedBy)}
    return [n for n in derived | runs if UPSTREAM_CLASSES & set(facts.types(n))]


# --- keeping it in step --------------------------------------------------------------------


def plan_analytics(
    store: Store, minter: IriMinter, changes: ChangeSet, stored_records: bool
) -> None:
    """Add to ``changes`` the analytics graphs its records change (see the module doc): a
    new graph whole, the difference to a stored one as quads removed and added (adding values
    to a batch then only adds), an emptied one dropped. The layer's graphs are kept out of the
    union copy: its readers use GRAPH."""
    changes.outside_union.add(layer_prefix(minter))
    leaving = set(changes.drop_graphs) | set(changes.put_graphs)
    new = [
        (triple, graph)
        for graph, triples in changes.put_graphs.items()
        if not _derived_analytics(graph)
        for triple in _watched(triples)
    ]
    state = _AfterState(store if stored_records else None, leaving, new)
    changed = _changed_triples(state, new)
    if not changed:
        return
    nodes = _affected(state, changed)
    current = _current(store, minter, nodes) if stored_records else {}
    series: dict[URIRef, set[Triple]] = {}
    for node in nodes:
        graph = analytics_graph(minter, node)
        triples, in_series = lot_layer(minter, state.facts, node)
        series.update(in_series)
        stored = current.get(graph)
        if stored is None:
            if triples:
                changes.put_graphs[graph] = RecordTriples(triples)
        elif not triples:
            changes.drop_graphs.append(graph)
        else:
            changes.remove += [(*triple, graph) for triple in stored - triples]
            changes.add += [(*triple, graph) for triple in triples - stored]
    known = _stored_series(store, minter, series) if stored_records else set()
    for node, triples in series.items():
        if node not in known:
            changes.put_graphs[series_graph(minter, node)] = RecordTriples(triples)


def layer_prefix(minter: IriMinter) -> str:
    """The IRI prefix of every graph of the layer."""
    return f"{minter.base}{PREFIX}"


def _stored_series(store: Store, minter: IriMinter, series: Iterable[URIRef]) -> set[URIRef]:
    """The series among ``series`` whose graph the store holds (a series never changes: its
    IRI is a hash of its triples; one no row names any more stays until ``rebuild``)."""
    graphs = {series_graph(minter, node): node for node in series}
    where = "GRAPH ?g { ?s a <" + str(_CMC_AnalyticsSeries) + "> }"
    return {graphs[g] for (g,) in rows_for_each(store, "g", sorted(graphs), "?g", where)}


def _changed_triples(state: _AfterState, new: list[tuple[Triple, URIRef]]) -> set[Triple]:
    """Watched triples in the set union after the change and not before, or before and not
    after."""
    added = {triple for triple, _ in new}
    if state.store is None:
        return added
    old: dict[Triple, set[URIRef]] = defaultdict(set)
    stored_leaving = sorted(g for g in state.leaving if not _derived_analytics(g))
    where = _WATCHED_QUADS
    for g, s, p, o in rows_for_each(state.store, "g", stored_leaving, "?g ?s ?p ?o", where):
        if _is_watched(p, o):
            old[(s, p, o)].add(g)
    candidates = (added - set(old)) | (set(old) - added)
    state.load_subjects({s for s, _, _ in candidates})
    # in exactly one of the two unions when no graph that stays states it
    written = {g for _, g in new}
    return {t for t in candidates if not (state.facts.graphs(*t) - written)}


def _affected(state: _AfterState, changed: set[Triple]) -> set[URIRef]:
    """The lots and runs whose analytics graph ``changed`` can change."""
    facts = state.facts
    seeds: set[Identifier] = set()
    for s, p, o in changed:
        seeds.add(s)
        if p in (_CMC_sampleOf, _CMC_onEntity):
            seeds.add(o)
    state.load_subjects(seeds)
    # entities of measurements, lots of samples, lots of runs (before or after: stored too)
    measured = [s for s in seeds if facts.objects(s, _CMC_onEntity)]
    entities = {e for m in measured for e in facts.objects(m, _CMC_onEntity)}
    state.load_subjects(entities)
    sampled = {lot for e in entities | seeds for lot in facts.objects(e, _CMC_sampleOf)}
    state.load_subjects(sampled)
    untyped = {s for s, p, _ in changed if p == _RDF_type}
    lots = _row_nodes(facts, seeds | entities | sampled, untyped)
    # a run's facts (site, version, start) are its lots' too
    runs = {n for n in lots if _CMC_ProcessRun in facts.types(n) or n in untyped}
    state.load_objects(_PROV_wasGeneratedBy, runs)
    lots |= {
        made
        for run in runs
        for made in facts.subjects(_PROV_wasGeneratedBy, run)
        if isinstance(made, URIRef)
    }
    # lineage steps and types that changed: every batch downstream of them
    moved = {s for s, p, o in changed if p in _LINEAGE or p == _RDF_type}
    moved |= {o for s, p, o in changed if p == _PROV_wasGeneratedBy}
    downstream = _downstream(state, moved)
    state.load_subjects(downstream)
    lots = _row_nodes(facts, lots | downstream, untyped)
    _load_for_graphs(state, lots)
    return lots


def _row_nodes(facts: Facts, nodes: set[Identifier], untyped: set[Identifier]) -> set[URIRef]:
    """The lots and runs among ``nodes`` (their subjects loaded): typed with a row class, or
    untyped by this change (their graph goes)."""
    return {n for n in nodes if isinstance(n, URIRef) and (facts.types(n) or n in untyped)}


def _downstream(state: _AfterState, nodes: set[Identifier]) -> set[Identifier]:
    """``nodes`` and everything derived from them or generated by them, transitively."""
    seen, frontier = set(nodes), set(nodes)
    while frontier:
        state.load_objects(_PROV_wasDerivedFrom, frontier)
        state.load_objects(_PROV_wasGeneratedBy, frontier)
        frontier = {
            down for node in frontier for p in _LINEAGE for down in state.facts.subjects(p, node)
        } - seen
        seen |= frontier
    return seen


def _load_for_graphs(state: _AfterState, lots: set[URIRef]) -> None:
    """Read every stored statement the graphs of ``lots`` are computed from."""
    facts = state.facts
    state.load_subjects(lots)
    state.load_objects(_CMC_sampleOf, lots)
    samples = {s for lot in lots for s in facts.subjects(_CMC_sampleOf, lot)}
    state.load_objects(_CMC_onEntity, lots | samples)
    state.load_subjects({m for e in lots | samples for m in facts.subjects(_CMC_onEntity, e)})
    state.load_subjects({r for lot in lots for r in facts.objects(lot, _PROV_wasGeneratedBy)})
    frontier: set[Identifier] = {lot for lot in lots if BATCH_CLASSES & set(facts.types(lot))}
    seen = set(frontier)
    while frontier:  # the upstream walk of each batch
        state.load_subjects(frontier)
        frontier = {
            up for node in frontier for p in _LINEAGE for up in facts.objects(node, p)
        } - seen
        seen |= frontier
    state.load_subjects(seen)


def _current(store: Store, minter: IriMinter, nodes: set[URIRef]) -> dict[URIRef, set[Triple]]:
    """The stored analytics graphs of ``nodes``."""
    graphs = sorted(analytics_graph(minter, n) for n in nodes)
    current: dict[URIRef, set[Triple]] = defaultdict(set)
    for g, s, p, o in rows_for_each(store, "g", graphs, "?g ?s ?p ?o", "GRAPH ?g { ?s ?p ?o }"):
        current[g].add((s, p, o))
    return current


def rebuild(
    store: Store, minter: IriMinter, progress: Callable[[str, int, int], None] | None = None
) -> tuple[int, int]:
    """The whole layer made again from the records, written as one change set. Returns (graphs
    written, graphs dropped)."""
    store.check_writable()
    facts = Facts()
    watched: list[tuple[Any, ...]] = store.query(
        f"SELECT ?s ?p ?o ?g WHERE {{ {_WATCHED_QUADS} }}"
    ).rows
    for s, p, o, g in watched:
        if not _derived_analytics(g) and _is_watched(p, o):
            facts.add(s, p, o, g)
    stale = {g for g in store.graph_names() if _derived_analytics(g)}
    nodes = sorted(
        s for s, by in facts.forward.items() if isinstance(s, URIRef) and _RDF_type in by
    )
    changes = ChangeSet(outside_union={layer_prefix(minter)})
    series: dict[URIRef, set[Triple]] = {}
    for index, node in enumerate(nodes):
        if progress and index % 1000 == 0:
            progress("analytics", index, len(nodes))
        triples, in_series = lot_layer(minter, facts, node)
        series.update(in_series)
        if triples:
            changes.put_graphs[analytics_graph(minter, node)] = RecordTriples(triples)
    for node, triples in series.items():
        changes.put_graphs[series_graph(minter, node)] = RecordTriples(triples)
    if progress:
        progress("analytics", len(nodes), len(nodes))
    dropped = sorted(stale - set(changes.put_graphs))
    changes.drop_graphs.extend(dropped)
    store.apply(changes)
    return len(changes.put_graphs), len(dropped)
