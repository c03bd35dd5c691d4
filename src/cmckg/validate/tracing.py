"""Tracing results to their source: the record graph, source file and location (CSV row, JSON
pointer, XPath) of each result's focus node, and the order reports list results in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from rdflib import URIRef

from ..stores import Store
from ..stores.terms import to_sparql
from ..vocab import CMC, IriMinter
from .results import RecordInfo, Source, ValidationResult
from .sparql import batches, values_clause
from .state import record_states


def trace(
    store: Store,
    minter: IriMinter,
    results: list[ValidationResult],
    known: Mapping[URIRef, RecordInfo],
) -> list[ValidationResult]:
    """Attach to each result the record graph, source file and location of its focus node.

    The record chosen is the same whatever the run covered: the graph holding the offending
    triple (focus, path, value) if there is one, else a graph where the focus node is typed,
    else the first graph (by IRI) that locates it.
    """
    focus = sorted({r.focus for r in results if isinstance(r.focus, URIRef)})
    located: dict[URIRef, list[tuple[URIRef, str, bool]]] = {}
    for batch in batches(focus):
        rows = store.query(
            f"SELECT ?s ?g ?loc ?typed WHERE {{ {values_clause('s', batch)} GRAPH ?g {{ "
            f"?s {to_sparql(CMC.sourceLocation)} ?loc . "
            "BIND (EXISTS { ?s a ?type } AS ?typed) } }"
        ).rows
        for s, g, loc, typed in rows:
            located.setdefault(s, []).append((g, str(loc), bool(typed and typed.toPython())))
    holding = _graphs_holding(store, results)
    chosen = []
    for result in results:
        candidates = sorted(located.get(result.focus, []), key=lambda c: (not c[2], str(c[0])))
        preferred = [c for c in candidates if c[0] in holding.get(_triple_of(result), set())]
        chosen.append((preferred or candidates or [None])[0])
    records = dict(known)
    missing = {c[0] for c in chosen if c is not None} - set(records)
    if missing:
        records.update((g, s.info) for g, s in record_states(store, minter, graphs=missing).items())
    traced = []
    for result, choice in zip(results, chosen, strict=True):
        if choice is None:
            traced.append(result)
            continue
        graph, location, _ = choice
        info = records.get(graph, RecordInfo(graph, None, None))
        traced.append(
            replace(result, source=Source(graph, info.record_id, info.source_path, location))
        )
    return traced


def _triple_of(result: ValidationResult) -> tuple | None:
    if isinstance(result.path, URIRef) and result.value is not None:
        return (result.focus, result.path, result.value)
    return None


def _graphs_holding(store: Store, results: list[ValidationResult]) -> dict[tuple, set[URIRef]]:
    triples = sorted({t for r in results if (t := _triple_of(r)) is not None}, key=str)
    holding: dict[tuple, set[URIRef]] = {}
    for batch in batches(triples):
        values = " ".join(f"({' '.join(to_sparql(t) for t in triple)})" for triple in batch)
        rows = store.query(
            f"SELECT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p ?o) {{ {values} }} "
            "GRAPH ?g { ?s ?p ?o } }"
        ).rows
        for s, p, o, g in rows:
            holding.setdefault((s, p, o), set()).add(g)
    return holding


def sort_key(result: ValidationResult) -> tuple:
    source = result.source
    return (
        -result.severity,
        source.path or "~",
        _location_order(source.location),
        str(result.focus),
        result.shape_name,
        str(result.value),
    )


def _location_order(location: str | None) -> tuple:
    if location and location.startswith("row="):
        digits = location[4:]
        if digits.isdigit():
            return (0, int(digits), "")
    return (1, 0, location or "")
