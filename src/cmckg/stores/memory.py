"""In-memory rdflib backend: for tests, small graphs and as the reference for other backends."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from rdflib import Dataset, Graph, URIRef
from rdflib.term import Identifier

from .. import ntriples
from ..errors import StoreError
from .base import ChangeSet, Quad, QueryResult, Store
from .terms import inline_values


class MemoryStore(Store):
    def __init__(self) -> None:
        self.location = "memory:"
        self.dataset = Dataset(default_union=True)

    def _apply(self, changes: ChangeSet) -> None:
        """Check every term first (as the Oxigraph store does: IRIs and literals only), then
        write straight into rdflib's store, one graph at a time; undo on failure."""
        try:
            for triples in changes.put_graphs.values():
                ntriples.lines_of(triples)  # kept by RecordTriples: free when ingest hashed them
            for quads in (changes.remove, changes.add):
                ntriples.triple_lines(quad[:3] for quad in quads)
                for quad in quads:
                    ntriples.iri(quad[3])
        except ValueError as exc:
            raise StoreError(f"write failed, nothing was changed: {exc}", self.location) from exc
        emptied: list[tuple[URIRef, list]] = []  # graphs dropped or replaced, with their triples
        removed: list[Quad] = []
        put: list[URIRef] = []
        added: list[Quad] = []
        store = self.dataset.store
        try:
            for graph_iri in [*changes.drop_graphs, *changes.put_graphs]:
                graph = self.dataset.graph(graph_iri)
                emptied.append((graph_iri, list(graph)))
                self.dataset.remove_graph(graph)
            for quad in changes.remove:
                graph = self.dataset.graph(quad[3])
                if quad[:3] in graph:
                    graph.remove(quad[:3])
                    removed.append(quad)
            for graph_iri, triples in changes.put_graphs.items():
                graph = self.dataset.graph(graph_iri)  # empty now: no membership checks
                put.append(graph_iri)
                add = store.add
                for triple in triples:
                    add(triple, graph, False)
            for quad in changes.add:
                graph = self.dataset.graph(quad[3])
                if quad[:3] not in graph:
                    graph.add(quad[:3])
                    added.append(quad)
        except Exception as exc:
            for s, p, o, g in added:
                self.dataset.graph(g).remove((s, p, o))
            for graph_iri in put:
                self.dataset.remove_graph(self.dataset.graph(graph_iri))
            for s, p, o, g in removed:
                self.dataset.graph(g).add((s, p, o))
            for graph_iri, triples in emptied:
                graph = self.dataset.graph(graph_iri)
                for triple in triples:
                    graph.add(triple)
            raise StoreError(f"write failed, nothing was changed: {exc}", self.location) from exc

    def query(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> QueryResult:
        with _quiet_rdflib():
            result = self._run(sparql, bindings)
            if result.type == "ASK":
                return QueryResult([], [], bool(result.askAnswer))
            columns = [str(v) for v in result.vars]
            return QueryResult(columns, [tuple(row) for row in result])

    def construct(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        graph = Graph()
        with _quiet_rdflib():
            for triple in self._run(sparql, bindings):
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

    def graph_ntriples(self, graph_iri: URIRef) -> str:
        lines = ntriples.triple_lines(self.dataset.graph(graph_iri))
        return "".join(f"{line} .\n" for line in sorted(lines))

    def quads(self) -> Iterator[Quad]:
        for s, p, o, g in self.dataset.quads((None, None, None, None)):
            identifier = getattr(g, "identifier", g)
            yield s, p, o, None if identifier == _DEFAULT else identifier

    def count_quads(self) -> int:
        return sum(1 for _ in self.quads())


_DEFAULT = URIRef("urn:x-rdflib:default")


@contextmanager
def _quiet_rdflib() -> Iterator[None]:
    """rdflib's own SPARQL engine still touches the deprecated Dataset.default_context."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Dataset.default_context", DeprecationWarning)
        yield
