"""A change set as the text of ONE SPARQL Update request (the Oxigraph and remote stores' one
builder).

A server executes one update request as one transaction, so sending a whole change set this way
makes it all-or-nothing: graphs dropped, quads removed and quads added together or not at all.

The same request keeps the store's real default graph equal to the set union of its named graphs
(the *union copy*; ontology/MODEL.md, "Named graphs"). cmckg states a shared node's facts in
every record graph that needs them, and a union default graph that is a bag (Oxigraph 0.5,
oxigraph issue #1919) would match such a fact once per graph, so joins over shared nodes blow up
and COUNT/SUM/AVG are weighted. Queries read the union copy instead: each fact once.

The text is built from N-Triples lines (``cmckg.ntriples``: every IRI and language tag checked,
literals escaped), which are SPARQL data as they are; a record's lines are made once, when
ingest hashes it, and reused here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.term import Identifier

from .. import ntriples
from .base import ChangeSet, Quad

#: N-Triples lines (``s p o`` without the closing `` .``) per named graph.
GraphLines = list[tuple[URIRef, list[str]]]


@dataclass
class LineChanges:
    """A change set as N-Triples lines: graphs dropped, lines removed, graphs put (replacing
    their content; a graph with no lines is dropped) and lines added; and the IRI prefixes of
    graphs kept out of the union copy (``ChangeSet.outside_union``)."""

    drop: list[URIRef] = field(default_factory=list)
    removed: GraphLines = field(default_factory=list)
    put: GraphLines = field(default_factory=list)
    added: GraphLines = field(default_factory=list)
    outside_union: tuple[str, ...] = ()

    @classmethod
    def of(cls, changes: ChangeSet) -> LineChanges:
        """The change set's lines; ValueError if a term is no valid IRI or literal."""
        return cls(
            list(changes.drop_graphs),
            grouped(changes.remove),
            [(g, ntriples.lines_of(triples)) for g, triples in changes.put_graphs.items()],
            grouped(changes.add),
            tuple(sorted(changes.outside_union)),
        )

    def in_union(self, graph: URIRef) -> bool:
        """Whether the union copy holds ``graph``'s triples."""
        return not kept_out(graph, self.outside_union)


def kept_out(graph: str, prefixes: tuple[str, ...]) -> bool:
    """Whether ``graph`` starts with one of ``prefixes`` (``str.startswith`` itself: rdflib's
    terms override it and take no tuple)."""
    return str.startswith(graph, prefixes)


def grouped(quads: list[Quad]) -> GraphLines:
    """Quads as N-Triples lines per graph (ValueError if a term is no valid IRI or literal)."""
    by_graph: dict[URIRef, list[tuple[Identifier, Identifier, Identifier]]] = {}
    for s, p, o, g in quads:
        by_graph.setdefault(g, []).append((s, p, o))
    return [(g, ntriples.triple_lines(triples)) for g, triples in by_graph.items()]


def update_text(changes: LineChanges, *, union_copy: bool = True, chunk: int | None = None) -> str:
    """The change set as one SPARQL Update: DROP SILENT GRAPH for dropped graphs (and put
    graphs left with no triples); one DELETE … WHERE emptying the other put graphs (emptied, not
    dropped: in one Oxigraph transaction each DROP costs milliseconds however small its graph —
    1,005 DROPs took 6 s of CPU, this 0.1 s); DELETE DATA; INSERT DATA into the named graphs
    and, with ``union_copy``, the default graph (not the lines of graphs ``outside_union``).
    What the dropped, emptied and removed triples were is stashed first and pruned from the
    union copy last (those of graphs outside it too: a store written before they were kept out
    loses their old copy when they are rewritten).

    ``chunk``: at most that many quads per DELETE DATA / INSERT DATA operation (still one
    request), for servers whose parser cannot take a long block (Virtuoso 7 fails near 5,000
    triples); then put graphs are dropped, and not with ``union_copy``."""
    if chunk is not None and not union_copy:
        return _chunked_text(changes, chunk)
    scratch = scratch_graph()
    put = changes.put
    stash = (
        _stash_for_pruning(
            scratch,
            [ntriples.iri(g) for g in [*changes.drop, *(g for g, _ in put)]],
            [f"{line} ." for _, lines in changes.removed for line in lines],
        )
        if union_copy
        else []
    )
    parts = stash + [f"DROP SILENT GRAPH {ntriples.iri(g)}" for g in changes.drop]
    parts += [f"DROP SILENT GRAPH {ntriples.iri(g)}" for g, lines in put if not lines]
    if any(lines for _, lines in put):
        values = " ".join(ntriples.iri(g) for g, lines in put if lines)
        parts.append(
            "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { VALUES ?g { "
            f"{values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
    if any(lines for _, lines in changes.removed):
        parts.append(f"DELETE DATA {{ {_data_block(changes.removed)} }}")
    inserted = [*put, *changes.added]
    if any(lines for _, lines in inserted):
        copy_lines = {line for g, lines in inserted if changes.in_union(g) for line in lines}
        copy = _LINE_END.join(sorted(copy_lines)) + " ." if union_copy and copy_lines else ""
        parts.append(f"INSERT DATA {{ {_data_block(inserted)}\n{copy} }}")
    if stash:
        parts += _prune_union_copy(scratch, changes.outside_union)
    return " ;\n".join(parts)


def _chunked_text(changes: LineChanges, chunk: int) -> str:
    """The change set in operations of at most ``chunk`` quads or graphs each: the graphs to
    drop or replace are emptied by one DELETE per ``chunk`` of them (a DROP per graph makes a
    request Virtuoso 7 will not compile once there are a few hundred: SQ156)."""
    graphs = [ntriples.iri(g) for g in [*changes.drop, *(g for g, _ in changes.put)]]
    parts = [
        "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { VALUES ?g { "
        f"{' '.join(graphs[i : i + chunk])} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        for i in range(0, len(graphs), chunk)
    ]
    for verb, groups in (("DELETE", changes.removed), ("INSERT", [*changes.put, *changes.added])):
        quads = [(g, line) for g, lines in groups for line in lines]
        for i in range(0, len(quads), chunk):
            block = _grouped_lines(quads[i : i + chunk])
            parts.append(f"{verb} DATA {{ {_data_block(block)} }}")
    return " ;\n".join(parts)


def _grouped_lines(quads: list[tuple[URIRef, str]]) -> GraphLines:
    by_graph: dict[URIRef, list[str]] = {}
    for g, line in quads:
        by_graph.setdefault(g, []).append(line)
    return list(by_graph.items())


def scratch_graph() -> str:
    """A graph name no one else uses, for one update's bookkeeping (dropped at its end)."""
    return f"<urn:cmckg:scratch:{uuid.uuid4()}>"


def _stash_for_pruning(scratch: str, graphs: list[str], triples: list[str]) -> list[str]:
    """Update operations copying what may leave the union copy into ``scratch``: the current
    content of ``graphs`` (SPARQL IRIs) and ``triples`` (``s p o .`` text)."""
    parts = []
    if graphs:
        parts.append(
            f"INSERT {{ GRAPH {scratch} {{ ?s ?p ?o }} }} WHERE {{ "
            f"VALUES ?g {{ {' '.join(graphs)} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
    if triples:
        parts.append(f"INSERT DATA {{ GRAPH {scratch} {{ {' '.join(triples)} }} }}")
    return parts


def _prune_union_copy(scratch: str, outside_union: tuple[str, ...] = ()) -> list[str]:
    """Update operations removing from the default graph each stashed triple that no named
    graph in the copy (not the scratch graph, none under ``outside_union``) holds any more,
    then the scratch graph."""
    kept_out = "".join(
        f" && !STRSTARTS(STR(?g), {ntriples.literal(Literal(prefix))})" for prefix in outside_union
    )
    return [
        f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {scratch} {{ ?s ?p ?o }} FILTER NOT EXISTS "
        f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != {scratch}{kept_out}) }} }}",
        f"DROP SILENT GRAPH {scratch}",
    ]


def _data_block(groups: GraphLines) -> str:
    """Lines as ``GRAPH <g> { s p o . … }`` groups (graphs with no lines left out)."""
    return "\n".join(
        f"GRAPH {ntriples.iri(g)} {{ {_LINE_END.join(lines)} . }}" for g, lines in groups if lines
    )


_LINE_END = " .\n"
