"""The store interface: named graphs in, SPARQL rows out. Knows nothing of biopharma."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from rdflib import Graph, URIRef
from rdflib.term import Identifier, Node

Triple = tuple[Node, Node, Node]
Quad = tuple[Identifier, Identifier, Identifier, URIRef]


@dataclass
class ChangeSet:
    """Everything one ingest writes, applied atomically: graphs dropped, quads removed, added.

    ``put_graphs`` replaces each graph's content with the triples given: an rdflib ``Graph``,
    any iterable of triples, or (what ingest puts) a ``cmckg.ntriples.KeepsLines`` container
    whose N-Triples lines, made once for its hash, the stores write as they are.

    ``outside_union``: IRI prefixes of named graphs kept out of the union copy (the default
    graph the embedded Oxigraph store and ``default_graph: copy`` servers keep; ``stores.update``):
    a graph whose IRI starts with one is written as a named graph only, readers reach it with
    ``GRAPH``, and it does not count as holding a triple when the copy is pruned. Name the
    prefixes on every change set written to a store that holds such graphs. Stores whose
    default graph is the server's or rdflib's own union (``memory:``, ``default_graph:
    union``) keep no copy and show these graphs there as they show any."""

    drop_graphs: list[URIRef] = field(default_factory=list)
    remove: list[Quad] = field(default_factory=list)
    put_graphs: dict[URIRef, Iterable[Triple]] = field(default_factory=dict)
    add: list[Quad] = field(default_factory=list)
    outside_union: set[str] = field(default_factory=set)

    def is_empty(self) -> bool:
        return not (self.drop_graphs or self.remove or self.put_graphs or self.add)

    def added_quads(self) -> Iterator[Quad]:
        for graph_iri, graph in self.put_graphs.items():
            for s, p, o in graph:
                yield s, p, o, graph_iri
        yield from self.add


@dataclass
class QueryResult:
    """SELECT rows as rdflib terms (None for unbound), or a boolean for ASK."""

    columns: list[str]
    rows: list[tuple[Identifier | None, ...]]
    boolean: bool | None = None


class Store(ABC):
    """A quad store. Reads query the union of all named graphs as the default graph."""

    location: str
    read_only: bool = False
    #: Writes attempted through ``apply`` so far: what is derived from the store can be kept
    #: until it changes.
    revision: int = 0
    #: Whether every write to the data goes through this object, so ``revision`` tells when it
    #: changed: true for embedded stores, false for a SPARQL server others may write to.
    sole_writer: bool = True

    def limitation(self) -> str | None:
        """Why cmckg's questions (lineage, analyses, validation, export) cannot be trusted on
        this store, or None: they can. Storing and ingesting are unaffected."""
        return None

    def apply(self, changes: ChangeSet) -> None:
        """Apply a change set atomically: all of it or, on failure, none of it. Counts in
        ``revision`` even when it fails (a backend may have written before failing)."""
        self.check_writable()
        if changes.is_empty():
            return
        try:
            self._apply(changes)
        finally:
            self.revision += 1

    @abstractmethod
    def _apply(self, changes: ChangeSet) -> None:
        """Write a non-empty change set to a writable store, all or nothing."""

    @abstractmethod
    def query(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> QueryResult:
        """Run a SELECT or ASK query; ``bindings`` pre-bind variables to RDF terms."""

    @abstractmethod
    def construct(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        """Run a CONSTRUCT or DESCRIBE query."""

    @abstractmethod
    def graph_names(self) -> set[URIRef]: ...

    @abstractmethod
    def graph(self, graph_iri: URIRef) -> Graph:
        """A copy of one named graph's triples."""

    def graph_ntriples(self, graph_iri: URIRef) -> str:
        """One named graph as N-Triples text (backends may answer without making a Graph)."""
        return self.graph(graph_iri).serialize(format="nt")

    @abstractmethod
    def quads(self) -> Iterator[Quad]: ...

    @abstractmethod
    def count_quads(self) -> int: ...

    def close(self) -> None:  # noqa: B027  (optional for backends)
        """Release files or connections."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_writable(self) -> None:
        from ..errors import StoreError

        if self.read_only:
            raise StoreError("the store is open read-only; refusing to write", self.location)


def graph_quads(graph_iri: URIRef, triples: Iterable[tuple]) -> Iterator[Quad]:
    for s, p, o in triples:
        yield s, p, o, graph_iri
