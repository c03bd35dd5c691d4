"""The validation state in the store's metadata graph: which record graphs are validated at which
content (``cmc:validatedSha256``), which are pending (``cmc:validationPending``, written by
ingest), and the last recorded run (``cmc:ValidationRun`` with the shapes digest)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

from ..stores import ChangeSet, Store
from ..stores.terms import to_sparql
from ..vocab import CMC, IriMinter
from .results import RecordInfo
from .shapes import shapes_graph_iri
from .sparql import batches, text_or_none, values_clause


def validation_run_iri(minter: IriMinter) -> URIRef:
    return URIRef(minter.base + "graph/meta/validation")


# The validation state's format (the run's cmc:version): since "2", ingest marks every record
# graph it adds or replaces cmc:validationPending until a recorded validation checks it.
_STATE_VERSION = "2"


def vocabulary_graph_iri(minter: IriMinter) -> URIRef:
    return URIRef(minter.base + "graph/vocabulary")



@dataclass
class RecordState:
    info: RecordInfo
    content: str | None
    validated: str | None


def record_states(
    store: Store, minter: IriMinter, *, pending: bool = False, changed_only: bool = False,
    graphs: Iterable[URIRef] | None = None,
) -> dict[URIRef, RecordState]:
    """Record graphs with their metadata: all; those named; those ingest marked
    ``cmc:validationPending`` (``pending``: found through that one pattern, so the cost follows
    the change, not the store); or those not validated at their current content
    (``changed_only``: looks at every record graph, for a state recorded before the marks; the
    filter runs in the store, so a big store sends back few rows)."""
    vocabulary = vocabulary_graph_iri(minter)
    wanted = [None] if graphs is None else list(batches(sorted(graphs)))
    selected = "?g cmc:validationPending true ." if pending else "?g a cmc:RecordGraph ."
    states: dict[URIRef, RecordState] = {}
    for batch in wanted:
        values = "" if batch is None else values_clause("g", batch)
        condition = "FILTER (!BOUND(?validated) || ?validated != ?hash)" if changed_only else ""
        result = store.query(
            "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
            f"SELECT ?g ?id ?path ?hash ?validated WHERE {{ GRAPH "
            f"{to_sparql(minter.metadata_graph)} {{ {values} {selected} "
            "OPTIONAL { ?g cmc:recordId ?id } OPTIONAL { ?g cmc:sourcePath ?path } "
            "OPTIONAL { ?g cmc:contentSha256 ?hash } "
            f"OPTIONAL {{ ?g cmc:validatedSha256 ?validated }} }} {condition} }}"
        )
        for g, ident, path, content, validated in result.rows:
            if isinstance(g, URIRef) and g != vocabulary:
                states[g] = RecordState(
                    RecordInfo(g, text_or_none(ident), text_or_none(path)),
                    text_or_none(content), text_or_none(validated),
                )
    return states


def some_record_unchanged(store: Store, minter: IriMinter, *, marked: bool) -> bool:
    """Whether some record graph is validated at its current content: one without a
    ``cmc:validationPending`` mark (``marked``), else one whose ``cmc:validatedSha256`` is its
    ``cmc:contentSha256``. An ASK: the store stops at the first one, so when few records
    changed it looks at a few, not at all of them."""
    unchanged = ("FILTER NOT EXISTS { ?g cmc:validationPending ?mark }" if marked
                 else "?g cmc:contentSha256 ?hash ; cmc:validatedSha256 ?hash .")
    return bool(store.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
        f"ASK {{ GRAPH {to_sparql(minter.metadata_graph)} {{ ?g a cmc:RecordGraph . "
        f"{unchanged} FILTER (?g != {to_sparql(vocabulary_graph_iri(minter))}) }} }}"
    ).boolean)

def stored_state(store: Store, minter: IriMinter) -> tuple[str | None, bool]:
    """The shapes digest of the last recorded validation (None if there is none), and whether
    its state is kept by ``cmc:validationPending`` marks (its ``cmc:version`` is
    ``_STATE_VERSION``; a state recorded before the marks existed has no version)."""
    run = to_sparql(validation_run_iri(minter))
    rows = store.query(
        f"SELECT ?digest ?version WHERE {{ GRAPH {to_sparql(minter.metadata_graph)} {{ "
        f"{run} {to_sparql(CMC.shapesSha256)} ?digest "
        f"OPTIONAL {{ {run} {to_sparql(CMC.version)} ?version }} }} }}"
    ).rows
    if not rows:
        return None, False
    return str(rows[0][0]), any(text_or_none(version) == _STATE_VERSION for _, version in rows)

def record_state(
    store: Store,
    minter: IriMinter,
    validated: Mapping[URIRef, RecordState],
    digest: str,
    stored_digest: str | None,
    spec_shapes: Graph,
) -> None:
    """Write what was validated: each record's ``cmc:validatedSha256``, its pending mark
    removed (unless its content changed during the run: then it stays pending), and the run."""
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
        (g, CMC.validationPending, mark, meta) for g, mark, content in marks
        if g in validated and validated[g].content == text_or_none(content)
    )
    run = validation_run_iri(minter)
    old_run = store.query(
        f"SELECT ?p ?o WHERE {{ GRAPH {to_sparql(meta)} {{ {to_sparql(run)} ?p ?o }} }}"
    ).rows
    changes.remove.extend((run, p, o, meta) for p, o in old_run)
    now = Literal(datetime.now(UTC).isoformat(timespec="seconds"), datatype=XSD.dateTime)
    changes.add.extend([
        (run, RDF.type, CMC.ValidationRun, meta),
        (run, CMC.shapesSha256, Literal(digest), meta),
        (run, CMC.version, Literal(_STATE_VERSION), meta),
        (run, PROV.endedAtTime, now, meta),
    ])
    if digest != stored_digest:
        shapes_iri = shapes_graph_iri(minter)
        if len(spec_shapes):
            changes.put_graphs[shapes_iri] = spec_shapes
        elif shapes_iri in store.graph_names():
            changes.drop_graphs.append(shapes_iri)
    store.apply(changes)


