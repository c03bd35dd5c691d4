"""A change set as the text of ONE SPARQL Update request (shared by the Oxigraph and remote stores).

A server executes one update request as one transaction, so sending a whole change set this way
makes it all-or-nothing: graphs dropped, quads removed and quads added together or not at all.

The same request keeps the store's real default graph equal to the set union of its named graphs
(the *union copy*; ontology/MODEL.md, "Named graphs"). cmckg states a shared node's facts in
every record graph that needs them, and a union default graph that is a bag (Oxigraph 0.5,
oxigraph issue #1919) would match such a fact once per graph, so joins over shared nodes blow up
and COUNT/SUM/AVG are weighted. Queries read the union copy instead: each fact once.
"""

from __future__ import annotations

import uuid

from rdflib import URIRef

from .base import ChangeSet, Quad
from .terms import to_sparql


def update_text(changes: ChangeSet, *, union_copy: bool = True, chunk: int | None = None) -> str:
    """DROP SILENT GRAPH for dropped and replaced graphs, then DELETE DATA, then INSERT DATA
    (into the named graphs and, with ``union_copy``, the default graph), then the union copy
    pruned of what no named graph holds any more. ``chunk``: at most that many quads per
    DELETE DATA / INSERT DATA operation (still one request), for servers whose parser cannot
    take a long block (Virtuoso 7 fails near 5,000 triples); not with ``union_copy``."""
    if chunk is not None and not union_copy:
        return _chunked_text(changes, chunk)
    scratch = scratch_graph()
    replaced = [*changes.drop_graphs, *changes.put_graphs]
    stash = (
        []
        if not union_copy
        else stash_for_pruning(
            scratch,
            [to_sparql(g) for g in replaced],
            [_triple(s, p, o) for s, p, o, _ in changes.remove],
        )
    )
    parts = stash + [f"DROP SILENT GRAPH {to_sparql(g)}" for g in replaced]
    if changes.remove:
        parts.append("DELETE DATA { " + quad_block(changes.remove) + " }")
    added = list(changes.added_quads())
    if added:
        copy = " ".join(sorted({_triple(s, p, o) for s, p, o, _ in added})) if union_copy else ""
        parts.append("INSERT DATA { " + quad_block(added) + " " + copy + " }")
    if stash:
        parts += prune_union_copy(scratch)
    return " ;\n".join(parts)


def _chunked_text(changes: ChangeSet, chunk: int) -> str:
    parts = [
        f"DROP SILENT GRAPH {to_sparql(g)}" for g in [*changes.drop_graphs, *changes.put_graphs]
    ]
    for verb, quads in (("DELETE", list(changes.remove)), ("INSERT", list(changes.added_quads()))):
        parts += [
            f"{verb} DATA {{ " + quad_block(quads[i : i + chunk]) + " }"
            for i in range(0, len(quads), chunk)
        ]
    return " ;\n".join(parts)


def scratch_graph() -> str:
    """A graph name no one else uses, for one update's bookkeeping (dropped at its end)."""
    return f"<urn:cmckg:scratch:{uuid.uuid4()}>"


def stash_for_pruning(scratch: str, graphs: list[str], triples: list[str]) -> list[str]:
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


def prune_union_copy(scratch: str) -> list[str]:
    """Update operations removing from the default graph each stashed triple that no named
    graph holds any more, then the scratch graph."""
    return [
        f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {scratch} {{ ?s ?p ?o }} FILTER NOT EXISTS "
        f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != {scratch}) }} }}",
        f"DROP SILENT GRAPH {scratch}",
    ]


def _triple(s, p, o) -> str:
    return f"{to_sparql(s)} {to_sparql(p)} {to_sparql(o)} ."


def quad_block(quads: list[Quad]) -> str:
    """Quads as ``GRAPH <g> { s p o . … }`` groups, terms checked and escaped by ``to_sparql``."""
    by_graph: dict[URIRef, list[str]] = {}
    for s, p, o, g in quads:
        by_graph.setdefault(g, []).append(f"{to_sparql(s)} {to_sparql(p)} {to_sparql(o)} .")
    return "\n".join(
        f"GRAPH {to_sparql(g)} {{ {' '.join(lines)} }}" for g, lines in by_graph.items()
    )
