"""Project vocabularies: a user's own concepts and units, from YAML or SKOS Turtle.

A project vocabulary file (``--vocab FILE``, or ``vocab:`` in a mapping) declares concepts the
bundled term schemes lack and units QUDT lacks (the YAML form and its keys:
``src/cmckg/schemas/vocabulary.schema.json``; the Turtle form uses the properties of
``ontology/terms/*.ttl`` and ``ontology/terms/units.ttl``). Loading validates it against the
bundled terms and the other vocabularies in force, and names the file and line of the first
problem. Ingest stores each vocabulary in a named graph of its own
(``<base>graph/vocabulary/<file stem>``), versioned like any record, so that questions resolve
its concepts and units without the file (``stored_vocabularies``).

The package: this module loads and keeps vocabularies; ``reading`` turns a file into triples,
``checks`` holds the rules a vocabulary must keep, ``listing`` the tables of ``cmckg vocab list``.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDFS

from .. import ntriples
from ..errors import ConfigError
from ..vocab import CMC, IriMinter, vocabulary_scope
from .checks import Checker
from .reading import YamlVocabulary, read_turtle

__all__ = [
    "Vocabulary",
    "load_vocabularies",
    "load_vocabulary",
    "mapping_vocabulary_files",
    "stored_vocabularies",
    "vocabularies_in_force",
]


@dataclass(eq=False)
class Vocabulary:
    """One project vocabulary: its name (the file stem), where it came from, its triples."""

    name: str
    source: str
    graph: Graph
    lines: Mapping[URIRef, int] = field(default_factory=dict)  # subject → line in the file

    @cached_property
    def digest(self) -> str:
        return ntriples.digest(sorted(ntriples.triple_lines(self.graph)))

    def graph_iri(self, minter: IriMinter) -> URIRef:
        return minter.mint("graph", "vocabulary", self.name)


# --- reading files ------------------------------------------------------------------------------


def load_vocabularies(
    paths: Iterable[str | Path], others: Sequence[Vocabulary] = (), base: str | None = None
) -> list[Vocabulary]:
    """Load and validate vocabulary files in order; each is checked against the bundled terms,
    ``others`` (those of another name: stored ones) and the files before it."""
    loaded: list[Vocabulary] = []
    unique: dict[Path, Path] = {}  # a file named twice (relative, absolute) loads once
    for given in paths:
        unique.setdefault(Path(given).resolve(), Path(given))
    for path in unique.values():
        name = path.stem
        same = [v for v in loaded if v.name == name]
        if same:
            raise ConfigError(
                f"two vocabulary files named '{name}' (also {same[0].source}); rename one",
                str(path),
            )
        context = [v for v in others if v.name != name] + loaded
        loaded.append(load_vocabulary(path, context, base))
    return loaded


def load_vocabulary(
    path: str | Path, others: Sequence[Vocabulary] = (), base: str | None = None
) -> Vocabulary:
    """One vocabulary file (``.yaml``/``.yml`` or Turtle), validated; ConfigError naming the
    file and line of the first problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the vocabulary: {exc.strerror}", str(path)) from exc
    minter = IriMinter(base) if base else IriMinter()
    vocab_iri = URIRef(minter.base + "vocabulary/" + quote(path.stem, safe=""))
    if path.suffix.lower() in (".yaml", ".yml"):
        graph, lines, fields = YamlVocabulary(path, text, minter, vocab_iri).read()
    else:
        graph, lines, fields = read_turtle(path, text, vocab_iri)
    vocabulary = Vocabulary(path.stem, str(path), graph, lines)
    Checker(vocabulary, fields, others).check()
    return vocabulary


# --- where vocabularies come from ---------------------------------------------------------------


def mapping_vocabulary_files(mapping: Mapping[str, Any] | None) -> list[Path]:
    """The files a mapping's ``vocab:`` key names (a path or a list), relative to the mapping."""
    if not mapping or mapping.get("vocab") is None:
        return []
    raw = mapping["vocab"]
    names = raw if isinstance(raw, list) else [raw]
    where = mapping.get("__file__")
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise ConfigError("must be a file path or a list of file paths", where, None, "vocab")
    folder = Path(where).parent if where else Path(".")
    return [folder / n for n in names]


_STORED_QUERY = f"""PREFIX cmc: <{CMC}>
PREFIX rdfs: <{RDFS}>
SELECT ?g ?name ?s ?p ?o WHERE {{
  GRAPH ?g {{ ?v a cmc:ProjectVocabulary ; rdfs:label ?name . ?s ?p ?o }}
}}"""

_STORED: weakref.WeakKeyDictionary[Any, tuple[int, list[Vocabulary]]] = weakref.WeakKeyDictionary()


def stored_vocabularies(store: Any) -> list[Vocabulary]:
    """The project vocabularies an ingest stored (each graph holding a cmc:ProjectVocabulary),
    sorted by name; kept per store and revision when every write goes through this store."""
    cacheable = getattr(store, "sole_writer", False)
    kept = _STORED.get(store) if cacheable else None
    if kept is not None and kept[0] == store.revision:
        return kept[1]
    graphs: dict[tuple[Any, str], Graph] = {}
    for g, name, s, p, o in store.query(_STORED_QUERY).rows:
        graphs.setdefault((g, str(name)), Graph()).add((s, p, o))
    found = sorted(
        (
            Vocabulary(name, _stored_source(graph, name), graph)
            for (_, name), graph in graphs.items()
        ),
        key=lambda v: v.name,
    )
    if cacheable:
        _STORED[store] = (store.revision, found)
    return found


def _stored_source(graph: Graph, name: str) -> str:
    """``store:<file name>``: where a stored vocabulary came from, for listings."""
    file_name = next(graph.objects(None, DCTERMS.source), None)
    return f"store:{file_name if file_name is not None else name}"


def merge(stored: Sequence[Vocabulary], given: Sequence[Any]) -> list[Any]:
    """The stored vocabularies, each replaced by a given one of the same name, plus the rest."""
    names = {getattr(v, "name", None) for v in given}
    return [v for v in stored if v.name not in names] + list(given)


@contextmanager
def vocabularies_in_force(
    store: Any, files: Iterable[str | Path] = (), base: str | None = None
) -> Iterator[list[Vocabulary]]:
    """Within the block, terms and units resolve through the store's vocabularies and
    ``files`` (validated; a file replaces the stored vocabulary of its name). Yields the
    vocabularies loaded from ``files``."""
    stored = stored_vocabularies(store)
    given = load_vocabularies(files, stored, base)
    with vocabulary_scope(merge(stored, given)):
        yield given
