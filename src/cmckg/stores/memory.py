"""In-memory rdflib backend: for tests, small graphs and as the reference for other backends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from rdflib import Dataset, Graph, URIRef
from rdflib.term import Identifier

from ..errors import StoreError
from .base import ChangeSet, Quad, QueryResult, Store
from .terms import inline_values


class MemoryStore(Store):
    def __init__(self) -> None:
        self.location = "memory:"
        self.dataset = Dataset(default_union=True)

    def apply(self, changes: ChangeSet) -> None:
        self.check_writable()
        undo_remove: list[Quad] = []
        undo_add: list[Quad] = []
        try:
            for graph_iri in [*changes.drop_graphs, *changes.put_graphs]:
                graph = self.dataset.graph(graph_iri)
                undo_add.extend((s, p, o, graph_iri) for s, p, o in graph)
                self.dataset.remove_graph(graph)
            for quad in changes.remove:
                if quad in self.dataset:
                    self.dataset.remove(quad)
                    undo_add.append(quad)
            for quad in changes.added_quads():
                if quad not in self.dataset:
                    self.dataset.add(quad)
                    undo_remove.append(quad)
        except Exception as exc:
            for quad in undo_remove:
                self.dataset.remove(quad)
            for quad in undo_add:
                self.dataset.add(quad)
            raise StoreError(f"write failed, nothing was changed: {exc}", self.location) from exc

    def query(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None
    ) -> QueryResult:
        result = self._run(sparql, bindings)
        if result.type == "ASK":
            return QueryResult([], [], bool(result.askAnswer))
        columns = [str(v) for v in result.vars]
        return QueryResult(columns, [tuple(row) for row in result])

    def construct(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None
    ) -> Graph:
        result = self._run(sparql, bindings)
        graph = Graph()
        for triple in result:
            graph.add(triple)
        return graph

    def _run(self, sparql: str, bindings: Mapping[str, Identifier] | None):
        try:
            return self.dataset.query(inline_values(sparql, dict(bindings or {})))
        except Exception as exc:  # rdflib raises pyparsing errors for bad SPARQL
            if type(exc).__name__ in {"ParseException", "ParseSyntaxException"}:
                raise StoreError(f"SPARQL syntax error: {exc}", self.location) from exc
            raise

    def graph_names(self) -> set[URIRef]:
        return {
            g.identifier
            for g in self.dataset.graphs()
            if isinstance(g.identifier, URIRef) and len(g) and g.identifier != _DEFAULT
        }

    def graph(self, graph_iri: URIRef) -> Graph:
        copy = Graph()
        for triple in self.dataset.graph(graph_iri):
            copy.add(triple)
        return copy

    def quads(self) -> Iterator[Quad]:
        for s, p, o, g in self.dataset.quads((None, None, None, None)):
            identifier = getattr(g, "identifier", g)
            yield s, p, o, None if identifier == _DEFAULT else identifier

    def count_quads(self) -> int:
        return sum(1 for _ in self.quads())


_DEFAULT = URIRef("urn:x-rdflib:default")
