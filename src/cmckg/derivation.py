"""Lot-to-lot lineage derived from runs, whichever records state a run's two sides.

A run's outputs (``lot prov:wasGeneratedBy run``) and its inputs (``run prov:used lot``) may come
from different tables, files and ingests. Every query that walks lineage follows
``prov:wasDerivedFrom`` (explicit steps, no open path over mixed predicates: ontology/MODEL.md),
so ingest keeps, for every run, one derived graph ``{base}graph/derived/run/…`` stating
``output prov:wasDerivedFrom input`` for each pair of the run as the store holds it *after* the
change set. Only runs the change set touches are recomputed (their used/generated statements are
added, replaced or dropped); a derived graph whose run has no pair left is dropped. Derived graphs
are not records: they carry no metadata and no revisions, and are rebuilt, never superseded.

The same pass says where lineage stops: a run with outputs and no known input, and an
intermediate or batch lot with neither a generating run nor a lot it derives from.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF

from . import ntriples
from .mappers.base import RecordTriples
from .stores import ChangeSet, Store
from .stores.terms import rows_for_each, to_sparql
from .vocab import CMC, IriMinter

_USED, _GENERATED_BY, _DERIVED_FROM = PROV.used, PROV.wasGeneratedBy, PROV.wasDerivedFrom
_IDENTIFIER, _LOCATION = CMC.identifier, CMC.sourceLocation
_TRUE = Literal(True)
_MADE_LOTS = frozenset({CMC.IntermediateLot, CMC.DrugSubstanceBatch, CMC.DrugProductBatch})


@dataclass
class _Sides:
    """A run's inputs and outputs, and the record graphs that state them."""

    used: set[URIRef] = field(default_factory=set)
    generated: set[URIRef] = field(default_factory=set)
    graphs: set[URIRef] = field(default_factory=set)


@dataclass(frozen=True)
class LineageGap:
    """Where lineage stops: the record graph that states the stopping node (one this change set
    writes when there is one), the node's source location in it, and what is missing."""

    graph: URIRef
    location: str | None
    message: str


def derived_graph(minter: IriMinter, run: URIRef) -> URIRef:
    """The derived graph of ``run`` (a hash: run IRIs can be long)."""
    digest = hashlib.sha256(str(run).encode()).hexdigest()[:32]
    return URIRef(f"{minter.base}graph/derived/run/{digest}")


def plan_derivations(
    store: Store, minter: IriMinter, changes: ChangeSet, stored_records: bool
) -> list[LineageGap]:
    """Add to ``changes`` the derived graphs of every run it touches; return where lineage
    stops among the runs and lots it touches. ``stored_records=False``: the store holds no
    record yet (nothing to look up)."""
    leaving = set(changes.drop_graphs) | set(changes.put_graphs)
    sides: dict[URIRef, _Sides] = {}
    made: dict[URIRef, URIRef] = {}  # intermediate or batch lot → the new graph typing it
    stated: set[tuple[URIRef, URIRef]] = set()  # (lot, lot) pairs the new graphs state
    for graph_iri, triples in list(changes.put_graphs.items()):
        for s, p, o in _watched(triples):
            if p == 0:
                side = sides.setdefault(s, _Sides())
                side.used.add(o)
                side.graphs.add(graph_iri)
            elif p == 1:
                side = sides.setdefault(o, _Sides())
                side.generated.add(s)
                side.graphs.add(graph_iri)
            elif p == 2:
                stated.add((s, o))
            else:
                made.setdefault(s, graph_iri)
    if stored_records:
        for run in _runs_in(store, sorted(leaving & _stored_graphs(store, minter, leaving))):
            sides.setdefault(run, _Sides())
        _add_stored_sides(store, sides, leaving)
        stated |= _stored_pairs(store, minter, sides, leaving)
    for run in _plan_graphs(store, minter, changes, sides, stated, stored_records):
        # a stored record about a run whose lineage changed is checked again (a drug-product
        # lot's lineage reaching a raw-material lot is a cross-record shape)
        for graph in sorted(sides[run].graphs - leaving):
            changes.add.append((graph, CMC.validationPending, _TRUE, minter.metadata_graph))
    for lot, _ in stated:
        made.pop(lot, None)
    describe = _Describer(changes)
    gaps = [
        *_run_gaps(sides, describe),
        *_lot_gaps(store, made, sides, leaving, stored_records, describe),
    ]
    return sorted(gaps, key=_place)


_WATCH = {f"<{_USED}>": 0, f"<{_GENERATED_BY}>": 1, f"<{_DERIVED_FROM}>": 2}
_TYPE = f"<{RDF.type}>"
_PROV_TEXT, _TYPE_TEXT = f" <{PROV}", f" {_TYPE} "  # in every line _WATCH or a typing matches
_MADE_TEXT = frozenset(f"<{cls}>" for cls in _MADE_LOTS)


def _watched(triples: Iterable[Any]) -> Iterator[tuple[URIRef, int, URIRef]]:
    """(subject, which, object) of the triples derivation watches: 0 prov:used, 1
    prov:wasGeneratedBy, 2 prov:wasDerivedFrom, 3 typed an intermediate or batch lot. Read from
    a record's N-Triples lines (made for its hash already): matching text is far cheaper than
    comparing rdflib terms, and only the few matching lines become terms. A substring test
    passes over the lines that state none of them before any is split."""
    for line in ntriples.lines_of(triples):
        if _PROV_TEXT not in line and _TYPE_TEXT not in line:
            continue
        subject, predicate, obj = line.split(" ", 2)
        which = _WATCH.get(predicate)
        if which is None:
            if predicate != _TYPE or obj not in _MADE_TEXT:
                continue
            which = 3
        if obj.startswith("<"):
            yield URIRef(subject[1:-1]), which, URIRef(obj[1:-1])


class _Describer:
    """A node's identifier and source location, from the new graph that states it."""

    def __init__(self, changes: ChangeSet) -> None:
        self.graphs = changes.put_graphs

    def name(self, node: URIRef, graph: URIRef | None) -> str:
        found = self._value(node, _IDENTIFIER, graph)
        return f"'{found}'" if found is not None else f"<{node}>"

    def location(self, node: URIRef, graph: URIRef | None) -> str | None:
        found = self._value(node, _LOCATION, graph)
        return None if found is None else str(found)

    def _value(self, node: URIRef, predicate: URIRef, graph: URIRef | None) -> object:
        """The object of (node, predicate) in the new graph ``graph``, or None (a scan: only
        for the few nodes a lineage gap names)."""
        triples = self.graphs.get(graph) if graph is not None else None
        return next((o for s, p, o in triples or () if s == node and p == predicate), None)


def _place(gap: LineageGap) -> tuple[tuple[int, ...], str, str]:
    """Gaps in source order: by location with its numbers compared as numbers (row=9 < row=10)."""
    parts = re.split(r"(\d+)", gap.location or "")
    return (tuple(int(p) for p in parts[1::2]), gap.location or "", gap.message)


def _stored_graphs(store: Store, minter: IriMinter, graphs: set[URIRef]) -> set[URIRef]:
    """Which of ``graphs`` are stored record graphs (a new graph has nothing to look up)."""
    where = f"GRAPH {to_sparql(minter.metadata_graph)} {{ ?g a {to_sparql(CMC.RecordGraph)} }}"
    return {row[0] for row in rows_for_each(store, "g", sorted(graphs), "?g", where)}


def _runs_in(store: Store, graphs: list[URIRef]) -> set[URIRef]:
    """Runs whose inputs or outputs the stored content of ``graphs`` states, or whose output's
    ``prov:wasDerivedFrom`` it states (a derived pair is left out while a record states it)."""
    used, generated = to_sparql(_USED), to_sparql(_GENERATED_BY)
    where = (
        f"{{ GRAPH ?g {{ {{ ?run {used} ?lot }} UNION {{ ?lot {generated} ?run }} }} }} "
        f"UNION {{ GRAPH ?g {{ ?lot {to_sparql(_DERIVED_FROM)} ?up }} "
        f"?lot {generated} ?run }}"
    )
    return {row[0] for row in rows_for_each(store, "g", graphs, "DISTINCT ?run", where)}


def _add_stored_sides(store: Store, sides: dict[URIRef, _Sides], leaving: set[URIRef]) -> None:
    """What the graphs that stay state about each run's inputs and outputs."""
    runs = sorted(sides)
    for predicate, inputs in ((_USED, True), (_GENERATED_BY, False)):
        pattern = "?run {p} ?lot" if inputs else "?lot {p} ?run"
        where = f"GRAPH ?g {{ {pattern.format(p=to_sparql(predicate))} }}"
        for run, lot, graph in rows_for_each(store, "run", runs, "?run ?lot ?g", where):
            if graph in leaving:
                continue
            side = sides[run]
            (side.used if inputs else side.generated).add(lot)
            side.graphs.add(graph)


def _stored_pairs(
    store: Store, minter: IriMinter, sides: dict[URIRef, _Sides], leaving: set[URIRef]
) -> set[tuple[URIRef, URIRef]]:
    """The ``prov:wasDerivedFrom`` pairs of the touched runs' outputs that stored records (not
    derived graphs, not graphs this change replaces) state."""
    outputs = sorted({lot for side in sides.values() for lot in side.generated})
    derived = f"{minter.base}graph/derived/"
    where = f"GRAPH ?g {{ ?out {to_sparql(_DERIVED_FROM)} ?into }}"
    return {
        (out, into)
        for out, into, graph in rows_for_each(store, "out", outputs, "?out ?into ?g", where)
        if graph not in leaving and not str(graph).startswith(derived)
    }


def _plan_graphs(
    store: Store,
    minter: IriMinter,
    changes: ChangeSet,
    sides: dict[URIRef, _Sides],
    stated: set[tuple[URIRef, URIRef]],
    stored_records: bool,
) -> list[URIRef]:
    """Put each touched run's derived graph where its pairs changed; drop an emptied one. A
    pair a record states already (one table naming a run's inputs and output) is not
    restated. Returns the runs whose derived graph changed."""
    runs = {derived_graph(minter, run): run for run in sides}
    wanted = {
        graph: {
            (out, into)
            for out in sides[run].generated
            for into in sides[run].used
            if out != into and (out, into) not in stated
        }
        for graph, run in runs.items()
    }
    current: dict[URIRef, set[tuple[URIRef, URIRef]]] = {}
    if stored_records:
        where = f"GRAPH ?g {{ ?out {to_sparql(_DERIVED_FROM)} ?into }}"
        for graph, out, into in rows_for_each(store, "g", sorted(wanted), "?g ?out ?into", where):
            current.setdefault(graph, set()).add((out, into))
    changed = []
    for graph, pairs in wanted.items():
        if pairs == current.get(graph, set()):
            continue
        changed.append(runs[graph])
        if pairs:
            triples = RecordTriples((out, _DERIVED_FROM, into) for out, into in pairs)
            changes.put_graphs[graph] = triples
        else:
            changes.drop_graphs.append(graph)
    return changed


def _run_gaps(sides: dict[URIRef, _Sides], describe: _Describer) -> list[LineageGap]:
    gaps = []
    for run, side in sorted(sides.items()):
        if side.generated and not side.used:
            graph = min(side.graphs, key=lambda g: (g not in describe.graphs, g))
            outputs = ", ".join(sorted(describe.name(lot, graph) for lot in side.generated))
            gaps.append(
                LineageGap(
                    graph,
                    describe.location(run, graph),
                    (
                        f"lineage stops: run {describe.name(run, graph)} made {outputs} "
                        "but no lot it "
                        "used is known (map its inputs, e.g. a run-inputs table, to give the chain)"
                    ),
                )
            )
    return gaps


def _lot_gaps(
    store: Store,
    made: dict[URIRef, URIRef],
    sides: dict[URIRef, _Sides],
    leaving: set[URIRef],
    stored_records: bool,
    describe: _Describer,
) -> list[LineageGap]:
    """Intermediate and batch lots the change set types that nothing generated and that
    derive from nothing (after the change)."""
    linked = {lot for side in sides.values() for lot in side.generated}
    lots = sorted(set(made) - linked)
    if lots and stored_records:
        where = f"GRAPH ?g {{ ?lot {to_sparql(_GENERATED_BY)}|{to_sparql(_DERIVED_FROM)} ?up }}"
        linked |= {
            lot
            for lot, graph in rows_for_each(store, "lot", lots, "DISTINCT ?lot ?g", where)
            if graph not in leaving
        }
    return [
        LineageGap(
            made[lot],
            describe.location(lot, made[lot]),
            (
                f"lineage stops: lot {describe.name(lot, made[lot])} "
                "has no run that made it and no lot it "
                "derives from (map the run that produced it)"
            ),
        )
        for lot in lots
        if lot not in linked
    ]
