"""The validation state in the store's metadata graph: which record graphs are validated at which
content (``cmc:validatedSha256``), which are pending (``cmc:validationPending``, written by
ingest), the results still open per record graph (``cmc:openResults``), and the last recorded
run (``cmc:ValidationRun`` with the shapes digest).

Open results are kept on the record graph each is traced to, as N-Triples of the
``sh:ValidationResult`` nodes (like a superseded revision's ``cmc:snapshot``): ingest removes
them with the rest of a superseded graph's metadata, and a run that checks the graph, or the
nodes of a result, writes them anew. Results traced to no record graph are kept on the run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

from ..stores import ChangeSet, Store
from ..stores.terms import from_ox, to_sparql
from ..vocab import CMC, IriMinter
from .results import RecordInfo, ValidationResult, read_results, results_graph
from .shapes import shapes_graph_iri
from .sparql import batches, text_or_none, values_clause

# The validation state's format (the run's cmc:version): since "2", ingest marks every record
# graph it adds or replaces cmc:validationPending until a recorded validation checks it; since
# "3", the open results are kept (cmc:openResults). An older state makes the next run full.
_STATE_VERSION = "3"


def validation_run_iri(minter: IriMinter) -> URIRef:
    return URIRef(minter.base + "graph/meta/validation")


def vocabulary_graph_iri(minter: IriMinter) -> URIRef:
    return URIRef(minter.base + "graph/vocabulary")


@dataclass
class RecordState:
    info: RecordInfo
    content: str | None
    validated: str | None


@dataclass
class StoredResults:
    """The open results kept on one record graph (or the run), with the literals that hold them."""

    literals: list[Literal]
    results: list[ValidationResult]


def record_states(
    store: Store,
    minter: IriMinter,
    *,
    pending: bool = False,
    graphs: Iterable[URIRef] | None = None,
) -> dict[URIRef, RecordState]:
    """Record graphs with their metadata: all; those named; or those ingest marked
    ``cmc:validationPending`` (``pending``: found through that one pattern, so the cost follows
    the change, not the store)."""
    vocabulary = vocabulary_graph_iri(minter)
    wanted = [None] if graphs is None else list(batches(sorted(graphs)))
    selected = "?g cmc:validationPending true ." if pending else "?g a cmc:RecordGraph ."
    states: dict[URIRef, RecordState] = {}
    for batch in wanted:
        values = "" if batch is None else values_clause("g", batch)
        result = store.query(
            "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
            f"SELECT ?g ?id ?path ?hash ?validated WHERE {{ GRAPH "
            f"{to_sparql(minter.metadata_graph)} {{ {values} {selected} "
            "OPTIONAL { ?g cmc:recordId ?id } OPTIONAL { ?g cmc:sourcePath ?path } "
            "OPTIONAL { ?g cmc:contentSha256 ?hash } "
            "OPTIONAL { ?g cmc:validatedSha256 ?validated } } }"
        )
        for g, ident, path, content, validated in result.rows:
            if isinstance(g, URIRef) and g != vocabulary:
                states[g] = RecordState(
                    RecordInfo(g, text_or_none(ident), text_or_none(path)),
                    text_or_none(content),
                    text_or_none(validated),
                )
    return states


def some_record_unchanged(store: Store, minter: IriMinter) -> bool:
    """Whether some record graph is validated at its current content (has no
    ``cmc:validationPending`` mark). An ASK: the store stops at the first one, so when few
    records changed it looks at a few, not at all of them."""
    return bool(
        store.query(
            "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
            f"ASK {{ GRAPH {to_sparql(minter.metadata_graph)} {{ ?g a cmc:RecordGraph . "
            "FILTER NOT EXISTS { ?g cmc:validationPending ?mark } "
            f"FILTER (?g != {to_sparql(vocabulary_graph_iri(minter))}) }} }}"
        ).boolean
    )


def stored_state(store: Store, minter: IriMinter) -> tuple[str | None, bool]:
    """The shapes digest of the last recorded validation (None if there is none), and whether
    its state is current (its ``cmc:version`` is ``_STATE_VERSION``: pending marks and open
    results are kept)."""
    run = to_sparql(validation_run_iri(minter))
    rows = store.query(
        f"SELECT ?digest ?version WHERE {{ GRAPH {to_sparql(minter.metadata_graph)} {{ "
        f"{run} {to_sparql(CMC.shapesSha256)} ?digest "
        f"OPTIONAL {{ {run} {to_sparql(CMC.version)} ?version }} }} }}"
    ).rows
    if not rows:
        return None, False
    return str(rows[0][0]), any(text_or_none(version) == _STATE_VERSION for _, version in rows)


def open_results(store: Store, minter: IriMinter) -> dict[URIRef, StoredResults]:
    """The open results the last recorded runs left, by the record graph (or run) holding them.
    One pattern on one predicate: the cost follows the number of open results."""
    stored: dict[URIRef, StoredResults] = {}
    rows = store.query(
        f"SELECT ?g ?text WHERE {{ GRAPH {to_sparql(minter.metadata_graph)} {{ "
        f"?g {to_sparql(CMC.openResults)} ?text }} }}"
    ).rows
    for g, text in rows:
        if not isinstance(g, URIRef) or not isinstance(text, Literal):
            continue
        triples = [
            (s, p, o)
            for s, p, o in (
                (from_ox(t.subject), from_ox(t.predicate), from_ox(t.object))
                for t in ox.parse(str(text).encode(), format=ox.RdfFormat.N_TRIPLES)
            )
            if s is not None and p is not None and o is not None
        ]
        entry = stored.setdefault(g, StoredResults([], []))
        entry.literals.append(text)
        entry.results += read_results(triples)
    return stored


def holder(result: ValidationResult, minter: IriMinter) -> URIRef:
    """Where an open result is kept: its record graph, else the validation run."""
    return result.source.record_graph or validation_run_iri(minter)


def record_state(
    store: Store,
    minter: IriMinter,
    validated: Mapping[URIRef, RecordState],
    digest: str,
    stored_digest: str | None,
    generated_shapes: Graph,
    results: Iterable[ValidationResult],
    before: Mapping[URIRef, StoredResults],
) -> None:
    """Write what was validated: each record's ``cmc:validatedSha256``, its pending mark
    removed (unless its content changed during the run: then it stays pending), the open
    ``results`` (every result the run reports) where they differ from those kept ``before``,
    and the run."""
    meta = minter.metadata_graph
    changes = ChangeSet()
    for g, state in validated.items():
        if state.content is None or state.validated == state.content:
            continue
        if state.validated is not None:
            changes.remove.append((g, CMC.validatedSha256, Literal(state.validated), meta))
        changes.add.append((g, CMC.validatedSha256, Literal(state.content), meta))
    marks = store.query(
        f"SELECT ?g ?mark ?hash WHERE {{ GRAPH {to_sparql(meta)} {{ "
        f"?g {to_sparql(CMC.validationPending)} ?mark "
        f"OPTIONAL {{ ?g {to_sparql(CMC.contentSha256)} ?hash }} }} }}"
    ).rows
    changes.remove.extend(
        (g, CMC.validationPending, mark, meta)
        for g, mark, content in marks
        if g in validated and validated[g].content == text_or_none(content)
    )
    _record_results(minter, results, before, changes)
    run = validation_run_iri(minter)
    old_run = store.query(
        f"SELECT ?p ?o WHERE {{ GRAPH {to_sparql(meta)} {{ {to_sparql(run)} ?p ?o }} }}"
    ).rows
    changes.remove.extend((run, p, o, meta) for p, o in old_run if p != CMC.openResults)
    now = Literal(datetime.now(UTC).isoformat(timespec="seconds"), datatype=XSD.dateTime)
    changes.add.extend(
        [
            (run, RDF.type, CMC.ValidationRun, meta),
            (run, CMC.shapesSha256, Literal(digest), meta),
            (run, CMC.version, Literal(_STATE_VERSION), meta),
            (run, PROV.endedAtTime, now, meta),
        ]
    )
    if digest != stored_digest:
        shapes_iri = shapes_graph_iri(minter)
        if len(generated_shapes):
            changes.put_graphs[shapes_iri] = generated_shapes
        elif shapes_iri in store.graph_names():
            changes.drop_graphs.append(shapes_iri)
    store.apply(changes)


def _record_results(
    minter: IriMinter,
    results: Iterable[ValidationResult],
    before: Mapping[URIRef, StoredResults],
    changes: ChangeSet,
) -> None:
    """Rewrite the open results of each holder whose set of results changed."""
    meta = minter.metadata_graph
    now: dict[URIRef, list[ValidationResult]] = {}
    for result in results:
        now.setdefault(holder(result, minter), []).append(result)
    for g in sorted(set(now) | set(before), key=str):
        old = before.get(g, StoredResults([], []))
        new = now.get(g, [])
        if {r.key() for r in old.results} == {r.key() for r in new} and len(old.literals) <= 1:
            continue
        changes.remove.extend((g, CMC.openResults, text, meta) for text in old.literals)
        if new:
            text = results_graph(new).serialize(format="nt")
            changes.add.append((g, CMC.openResults, Literal(text), meta))
