"""The default backend: an embedded Oxigraph store, on disk or in memory.

Record graphs are named graphs; the store's real default graph holds their set union (the union
copy, kept by every write: cmckg.stores.update) and queries read it. Graphs under the IRI
prefixes a change set names in ``outside_union`` are left out of the copy. A store written
before the union copy existed gets it when first opened for writing; opened read-only, it is
queried through Oxigraph's union default graph instead (a bag: a fact stated in k graphs matches
k times).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Identifier

from .. import ntriples
from ..errors import QueryError, StoreError
from .base import ChangeSet, Quad, QueryResult, Store
from .terms import from_ox, inline_values
from .update import GraphLines, LineChanges, grouped, kept_out, update_text

IN_USE = (
    "the store is in use by another process (Oxigraph locks it); close that program "
    "(a Python session, a 'cmckg serve') and try again"
)


class OxigraphStore(Store):
    def __init__(self, path: str | Path | None = None, read_only: bool = False) -> None:
        self.location = f"oxigraph:{path}" if path else "oxigraph:memory"
        self.read_only = read_only
        if path is not None:
            _check_folder(Path(path), read_only)
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except (OSError, RuntimeError) as exc:  # RocksDB reports some failures as RuntimeError
            if "lock" in str(exc).lower():
                raise StoreError(IN_USE, str(path)) from None
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            hint = (
                "; if another process is writing it, close that process and try again"
                if read_only
                else ""
            )
            raise StoreError(f"cannot open the store: {first}{hint}", str(path)) from None
        if path is not None and not read_only:
            _remove_orphaned_bulk_files(Path(path))
        self.has_union_copy = self._has_union_copy()

    def _has_union_copy(self) -> bool:
        """True when the default graph holds the union of the named graphs; a store written
        before it did (default graph empty, named graphs not) gets it now unless read-only."""
        if next(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph()), None):
            return True
        if next(self._store.quads_for_pattern(None, None, None, None), None) is None:
            return True
        if self.read_only:
            return False
        self._store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
        return True

    @property
    def native(self) -> ox.Store:
        return self._store

    def _apply(self, changes: ChangeSet) -> None:
        """Write a change set as N-Quads text and SPARQL data built from N-Triples lines
        (Oxigraph parses them in Rust, leniently: cmckg.ntriples has validated every IRI and
        language tag).

        New graphs go through the bulk loader when large (about twice as fast as a
        transaction), with the added quads about them (their metadata); everything else —
        drops, removals, replaced graphs, other added quads — is one transaction (``load``
        when it only adds, else one SPARQL update). Every added
        triple also goes into the union copy (not those of graphs under a prefix of
        ``changes.outside_union``), and the update prunes from it what no named graph in the
        copy holds any more. The bulk loader is not transactional: if anything fails, the
        new graphs and quads it loaded (none existed before) are removed again and the union
        copy pruned, so the store is as before.
        """
        try:
            graphs = [(g, ntriples.lines_of(t)) for g, t in changes.put_graphs.items()]
            removed = grouped(changes.remove)
            touched = set(changes.drop_graphs) | {g for g, _ in removed}
            fresh: GraphLines = []  # graphs that do not exist yet: the bulk loader's, when large
            rest: GraphLines = []
            for g, lines in graphs:
                new = g not in touched and not self._store.contains_named_graph(
                    ox.NamedNode(str(g))
                )
                (fresh if new else rest).append((g, lines))
            in_place = bool(changes.drop_graphs or removed or rest)  # else adding only
            if sum(len(lines) for _, lines in fresh) < BULK_THRESHOLD:
                fresh, rest = [], graphs
            about_fresh = self._new_quads_about({g for g, _ in fresh}, changes.add)
            bulk_added = grouped(about_fresh)
            bulk_set = set(about_fresh)
            added = grouped([q for q in changes.add if q not in bulk_set])
            outside = tuple(sorted(changes.outside_union))
        except ValueError as exc:
            raise StoreError(f"write failed, nothing was changed: {exc}", self.location) from exc
        try:
            for chunk in _chunks(fresh + bulk_added, outside):
                self._store.bulk_load(chunk, format=_NQUADS, lenient=True)
            if in_place:
                in_place_changes = LineChanges(
                    list(changes.drop_graphs), removed, rest, added, outside
                )
                self._store.update(update_text(in_place_changes))
            elif rest or added:
                self._store.load(_nquads([*rest, *added], outside), format=_NQUADS, lenient=True)
        except BaseException as exc:
            self._undo_bulk_load(fresh, bulk_added, outside)
            if isinstance(exc, OSError | SyntaxError | ValueError | QueryError):
                raise StoreError(
                    f"write failed, nothing was changed: {exc}", self.location
                ) from exc
            raise

    def _new_quads_about(self, graphs: set[URIRef], quads: list[Quad]) -> list[Quad]:
        """The quads (metadata) about new ``graphs`` the store says nothing about yet: safe to
        bulk-load, since undoing them cannot remove an older fact (one lookup per graph)."""
        unknown = {
            g
            for g in graphs
            if next(self._store.quads_for_pattern(ox.NamedNode(str(g)), None, None), None) is None
        }
        return [q for q in quads if q[0] in unknown]

    def _undo_bulk_load(
        self, fresh: GraphLines, bulk_added: GraphLines, outside: tuple[str, ...]
    ) -> None:
        """Remove the new graphs and quads again, and from the union copy what no other graph
        in it holds (one triple at a time: the failure may have been a failed update). Graphs
        under the ``outside`` prefixes were not copied and hold nothing for the copy."""
        for graph_iri, _ in fresh:
            self._store.remove_graph(ox.NamedNode(str(graph_iri)))
        for graph_iri, lines in bulk_added:
            graph = ox.NamedNode(str(graph_iri))
            for triple in _parsed(lines):
                self._store.remove(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
        copied = [
            line for g, lines in fresh + bulk_added if not kept_out(g, outside) for line in lines
        ]
        for triple in _parsed(copied):
            held = self._store.quads_for_pattern(triple.subject, triple.predicate, triple.object)
            if not any(_in_copy(quad.graph_name, outside) for quad in held):
                self._store.remove(ox.Quad(triple.subject, triple.predicate, triple.object))

    def query(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> QueryResult:
        result = self._run(sparql, bindings)
        if isinstance(result, ox.QueryBoolean):
            return QueryResult([], [], bool(result))
        if not isinstance(result, ox.QuerySolutions):
            raise StoreError("expected a SELECT or ASK query", self.location)
        columns = [v.value for v in result.variables]
        rows = [tuple(map(from_ox, solution)) for solution in result]  # values in column order
        return QueryResult(columns, rows)

    def construct(self, sparql: str, bindings: Mapping[str, Identifier] | None = None) -> Graph:
        result = self._run(sparql, bindings)
        graph = Graph()
        for triple in result:
            graph.add((from_ox(triple.subject), from_ox(triple.predicate), from_ox(triple.object)))
        return graph

    def _run(self, sparql: str, bindings: Mapping[str, Identifier] | None):
        try:
            return self.native_query(inline_values(sparql, dict(bindings or {})))
        except SyntaxError as exc:
            raise StoreError(f"SPARQL syntax error: {exc}", self.location) from exc

    def native_query(self, sparql: str):
        """Oxigraph's own result for ``sparql`` over the union of the record graphs."""
        return self._store.query(sparql, use_default_graph_as_union=not self.has_union_copy)

    def graph_names(self) -> set[URIRef]:
        return {URIRef(g.value) for g in self._store.named_graphs() if isinstance(g, ox.NamedNode)}

    def graph(self, graph_iri: URIRef) -> Graph:
        graph = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph_iri))):
            graph.add((from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
        return graph

    def graph_ntriples(self, graph_iri: URIRef) -> str:
        return self._store.dump(
            format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(str(graph_iri))
        ).decode("utf-8")

    def quads(self) -> Iterator[Quad]:
        """The quads of the named graphs (not the union copy)."""
        for quad in self._named_quads():
            yield (
                from_ox(quad.subject),
                from_ox(quad.predicate),
                from_ox(quad.object),
                URIRef(quad.graph_name.value),
            )

    def _named_quads(self) -> Iterator[ox.Quad]:
        for graph in self._store.named_graphs():
            yield from self._store.quads_for_pattern(None, None, None, graph)

    def count_quads(self) -> int:
        rows = self._store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(next(iter(rows))["n"].value)

    def dump_nquads(self, path: str | Path | None = None) -> bytes | None:
        """The named graphs as N-Quads: returned, or written to ``path``."""
        return ox.serialize(
            self._named_quads(), None if path is None else str(path), format=ox.RdfFormat.N_QUADS
        )

    def close(self) -> None:
        if not self.read_only and hasattr(self, "_store"):
            self._store.flush()
        self._store = None  # type: ignore[assignment]


def is_store_folder(path: Path) -> bool:
    """Whether ``path`` holds an Oxigraph (RocksDB) store."""
    return (path / "CURRENT").is_file()


def _check_folder(path: Path, read_only: bool) -> None:
    """Refuse, with one line, a folder Oxigraph should not open: none there (read-only), no
    parent to create it in, a file, or a non-empty folder that is not a store (Oxigraph would
    write its files among the others)."""
    if path.is_dir() and is_store_folder(path):
        return
    if read_only:
        raise StoreError("no store here; ingest records first (cmckg ingest)", str(path))
    if path.exists() and not path.is_dir():
        raise StoreError("not a folder; give a folder for the store", str(path))
    if path.is_dir() and any(path.iterdir()):
        raise StoreError(
            "the folder holds other files and is not a cmckg store; give a new or empty folder",
            str(path),
        )
    if not path.parent.is_dir():
        raise StoreError(f"the folder {path.parent} does not exist", str(path))


def _remove_orphaned_bulk_files(path: Path) -> None:
    """Delete the files a killed bulk load left behind (``bulk-*.sst``: never part of the
    database, whose own files are numbered). Safe now that this process holds the lock."""
    for orphan in path.glob("bulk-*.sst"):
        orphan.unlink(missing_ok=True)


BULK_THRESHOLD = 20_000  # quads; fewer load faster in one transaction (bulk loads cost ~0.1 s)
BULK_CHUNK = 1_000_000  # quads per bulk-load call: bounds the N-Quads text held at once

_NQUADS = ox.RdfFormat.N_QUADS


def _parsed(lines: list[str]) -> Iterator[ox.Triple]:
    text = "".join(f"{line} .\n" for line in lines).encode("utf-8")
    return ox.parse(text, format=ox.RdfFormat.N_TRIPLES, lenient=True)


def _in_copy(graph_name: object, outside: tuple[str, ...]) -> bool:
    """Whether a quad's graph is a named graph whose triples the union copy holds."""
    return isinstance(graph_name, ox.NamedNode) and not kept_out(graph_name.value, outside)


def _nquads(graphs: GraphLines, outside: tuple[str, ...]) -> bytes:
    """The graphs' quads as N-Quads, each triple also in the default graph (the union copy)
    unless its graph's IRI starts with one of the ``outside`` prefixes."""
    named = "".join(ntriples.nquads(g, lines) for g, lines in graphs)
    copy = "".join(
        f"{line} .\n" for g, lines in graphs if not kept_out(g, outside) for line in lines
    )
    return (named + copy).encode("utf-8")


def _chunks(graphs: GraphLines, outside: tuple[str, ...]) -> Iterator[bytes]:
    """The graphs as N-Quads, about ``BULK_CHUNK`` quads at a time (whole graphs per chunk)."""
    start, size = 0, 0
    for index, (_, lines) in enumerate(graphs):
        size += len(lines)
        if size >= BULK_CHUNK:
            yield _nquads(graphs[start : index + 1], outside)
            start, size = index + 1, 0
    if start < len(graphs):
        yield _nquads(graphs[start:], outside)
