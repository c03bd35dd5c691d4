"""A change set as the text of ONE SPARQL Update request (shared by the Oxigraph and remote stores).

A server executes one update request as one transaction, so sending a whole change set this way
makes it all-or-nothing: graphs dropped, quads removed and quads added together or not at all.
"""

from __future__ import annotations

from rdflib import URIRef

from .base import ChangeSet, Quad
from .terms import to_sparql


def update_text(changes: ChangeSet) -> str:
    """DROP SILENT GRAPH for dropped and replaced graphs, then DELETE DATA, then INSERT DATA."""
    parts = [f"DROP SILENT GRAPH {to_sparql(g)}" for g in changes.drop_graphs]
    parts += [f"DROP SILENT GRAPH {to_sparql(g)}" for g in changes.put_graphs]
    if changes.remove:
        parts.append("DELETE DATA { " + quad_block(changes.remove) + " }")
    added = list(changes.added_quads())
    if added:
        parts.append("INSERT DATA { " + quad_block(added) + " }")
    return " ;\n".join(parts)


def quad_block(quads: list[Quad]) -> str:
    """Quads as ``GRAPH <g> { s p o . … }`` groups, terms checked and escaped by ``to_sparql``."""
    by_graph: dict[URIRef, list[str]] = {}
    for s, p, o, g in quads:
        by_graph.setdefault(g, []).append(f"{to_sparql(s)} {to_sparql(p)} {to_sparql(o)} .")
    return "\n".join(
        f"GRAPH {to_sparql(g)} {{ {' '.join(lines)} }}" for g, lines in by_graph.items()
    )
