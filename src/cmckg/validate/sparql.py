"""Small SPARQL text helpers shared by the validation modules (terms go through to_sparql;
``VALUES`` blocks and their batching are the stores' one helper)."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Identifier

from ..stores.terms import batches, values_clause

__all__ = ["batches", "sparql_constraint", "sparql_target", "text_or_none", "values_clause"]


def text_or_none(term: Identifier | None) -> str | None:
    return None if term is None else str(term)


def sparql_target(graph: Graph, shape: URIRef, select: str) -> None:
    """Give ``shape`` a SHACL-AF SPARQL target ``select`` (a node with an IRI under the shape's)."""
    target = URIRef(f"{shape}/target")
    graph.add((shape, SH.target, target))
    graph.add((target, RDF.type, SH.SPARQLTarget))
    graph.add((target, SH.select, Literal(select)))


def sparql_constraint(graph: Graph, shape: URIRef, select: str) -> None:
    """Give ``shape`` a SPARQL constraint ``select`` (a node with an IRI under the shape's)."""
    constraint = URIRef(f"{shape}/constraint")
    graph.add((shape, SH.sparql, constraint))
    graph.add((constraint, RDF.type, SH.SPARQLConstraint))
    graph.add((constraint, SH.select, Literal(select)))
