"""The default backend: an embedded Oxigraph store, on disk or in memory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Identifier

from ..errors import QueryError, StoreError
from .base import ChangeSet, Quad, QueryResult, Store
from .terms import from_ox, inline_values, to_ox
from .update import update_text


class OxigraphStore(Store):
    def __init__(self, path: str | Path | None = None, read_only: bool = False) -> None:
        self.location = f"oxigraph:{path}" if path else "oxigraph:memory"
        self.read_only = read_only
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store: {exc}", str(path)) from exc

    @property
    def native(self) -> ox.Store:
        return self._store

    def apply(self, changes: ChangeSet) -> None:
        self.check_writable()
        if changes.is_empty():
            return
        additive = not (changes.drop_graphs or changes.remove) and not any(
            self._store.contains_named_graph(ox.NamedNode(str(g))) for g in changes.put_graphs
        )
        try:
            if not additive:
                self._store.update(update_text(changes))
            elif sum(len(g) for g in changes.put_graphs.values()) < BULK_THRESHOLD:
                self._store.extend(_ox_quads(changes))
            else:
                self._bulk_add(changes)
        except (OSError, SyntaxError, ValueError, TypeError, QueryError) as exc:
            raise StoreError(f"write failed, nothing was changed: {exc}", self.location) from exc

    def _bulk_add(self, changes: ChangeSet) -> None:
        """Load new graphs with Oxigraph's bulk loader (several times faster than a transaction).

        The bulk loader is not transactional, so on failure the new graphs and those added
        quads that did not exist before are removed again.
        """
        added = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), to_ox(g)) for s, p, o, g in changes.add]
        fresh = [quad for quad in added if quad not in self._store]
        graph_quads = (
            ox.Quad(to_ox(s), to_ox(p), to_ox(o), to_ox(g))
            for g, triples in changes.put_graphs.items() for s, p, o in triples
        )
        try:
            self._store.bulk_extend(chain(graph_quads, added))
        except BaseException:
            for graph_iri in changes.put_graphs:
                self._store.remove_graph(ox.NamedNode(str(graph_iri)))
            for quad in fresh:
                self._store.remove(quad)
            raise

    def query(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None
    ) -> QueryResult:
        result = self._run(sparql, bindings)
        if isinstance(result, ox.QueryBoolean):
            return QueryResult([], [], bool(result))
        if not isinstance(result, ox.QuerySolutions):
            raise StoreError("expected a SELECT or ASK query", self.location)
        columns = [v.value for v in result.variables]
        rows = [tuple(from_ox(solution[c]) for c in columns) for solution in result]
        return QueryResult(columns, rows)

    def construct(
        self, sparql: str, bindings: Mapping[str, Identifier] | None = None
    ) -> Graph:
        result = self._run(sparql, bindings)
        graph = Graph()
        for triple in result:
            graph.add((from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object)))
        return graph

    def _run(self, sparql: str, bindings: Mapping[str, Identifier] | None):
        try:
            return self._store.query(
                inline_values(sparql, dict(bindings or {})), use_default_graph_as_union=True
            )
        except SyntaxError as exc:
            raise StoreError(f"SPARQL syntax error: {exc}", self.location) from exc

    def graph_names(self) -> set[URIRef]:
        return {URIRef(g.value) for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)}

    def graph(self, graph_iri: URIRef) -> Graph:
        graph = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph_iri))):
            graph.add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
        return graph

    def quads(self) -> Iterator[Quad]:
        for quad in self._store:
            graph = quad.graph_name
            yield (
                from_ox(quad.subject),
                from_ox(quad.predicate),
                from_ox(quad.object),
                URIRef(graph.value) if isinstance(graph, ox.NamedNode) else None,
            )

    def count_quads(self) -> int:
        return len(self._store)

    def dump_nquads(self) -> bytes:
        return self._store.dump(format=ox.RdfFormat.N_QUADS)

    def close(self) -> None:
        if not self.read_only and hasattr(self, "_store"):
            self._store.flush()
        self._store = None  # type: ignore[assignment]


BULK_THRESHOLD = 50_000


def _ox_quads(changes: ChangeSet) -> Iterator[ox.Quad]:
    return (
        ox.Quad(to_ox(s), to_ox(p), to_ox(o), to_ox(g)) for s, p, o, g in changes.added_quads()
    )
