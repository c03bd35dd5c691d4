"""Namespaces, deterministic IRI minting, and term lookup (site name or alias → concept)."""

from __future__ import annotations

import copy
import difflib
import json
import os
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import yaml
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

from .errors import MappingError
from .resources import term_files

if TYPE_CHECKING:
    from .stores import Store

_TERM_CACHE: dict[tuple[str, str], URIRef] = {}


class CachedNamespace(Namespace):
    """An rdflib Namespace whose ``NS.name`` terms are built once (mappers use them per value)."""

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):
            raise AttributeError(name)
        key = (str(self), name)
        term = _TERM_CACHE.get(key)
        if term is None:
            term = _TERM_CACHE[key] = URIRef(key[0] + name)
        return term

    def __getitem__(self, name: str) -> URIRef:
        """``NS[name]``, cached like ``NS.name`` (mappers name classes per row)."""
        key = (str(self), name)
        term = _TERM_CACHE.get(key)
        if term is None:
            term = _TERM_CACHE[key] = super().__getitem__(name)
        return term


CMC = CachedNamespace("https://w3id.org/cmckg/ontology#")
CMCT = CachedNamespace("https://w3id.org/cmckg/terms#")
QUDT = CachedNamespace("http://qudt.org/schema/qudt/")
UNIT = CachedNamespace("http://qudt.org/vocab/unit/")
QUANTITYKIND = CachedNamespace("http://qudt.org/vocab/quantitykind/")
SOSA = CachedNamespace("http://www.w3.org/ns/sosa/")
AFR = CachedNamespace("http://purl.allotrope.org/ontologies/result#")
IOF_CONSTRUCT = CachedNamespace("https://spec.industrialontologies.org/ontology/construct/")

DEFAULT_BASE_IRI = "https://w3id.org/cmckg/id/"

PREFIXES: dict[str, Namespace] = {
    "cmc": CMC,
    "cmct": CMCT,
    "prov": PROV,
    "qudt": QUDT,
    "unit": UNIT,
    "quantitykind": QUANTITYKIND,
    "sosa": SOSA,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
}

__all__ = [
    "AFR",
    "CMC",
    "CMCT",
    "DEFAULT_BASE_IRI",
    "IriMinter",
    "PREFIXES",
    "QUANTITYKIND",
    "QUDT",
    "SOSA",
    "UNIT",
    "Term",
    "TermIndex",
    "VocabularyGraph",
    "active_vocabularies",
    "aliases_from_store",
    "bind_prefixes",
    "bundled_term_index",
    "normalise_label",
    "term_index",
    "term_index_with_aliases",
    "vocabulary_scope",
]


def bind_prefixes(graph: Graph) -> Graph:
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


@dataclass(frozen=True)
class IriMinter:
    """Mint the same IRI for the same (kind, issuer, local id), wherever it is named."""

    base: str = field(default_factory=lambda: os.environ.get("CMCKG_BASE_IRI", DEFAULT_BASE_IRI))

    def __post_init__(self) -> None:
        if not self.base.endswith(("/", "#")):
            object.__setattr__(self, "base", self.base + "/")

    def mint(self, kind: str, issuer: str, *local_id: object) -> URIRef:
        """The IRI; the same object again for the same text parts (mappers mint the same lot
        or material on many rows, and an identical term is a cheap set and dict key)."""
        key = (self.base, kind, issuer, local_id)
        try:
            iri = _MINTED.get(key)
        except TypeError:  # an unhashable part: minted from its text, not kept
            iri = None
        if iri is not None:
            return iri
        texts = [str(part).strip() for part in local_id]
        if not texts or "" in texts:
            raise ValueError(f"cannot mint a {kind} IRI without a local id")
        iri = URIRef(self.base + "/".join(map(_segment, [kind, issuer, *texts])))
        # only text parts are kept: 1, 1.0 and True are equal keys but mint different IRIs
        if type(kind) is str and type(issuer) is str and all(type(p) is str for p in local_id):
            if len(_MINTED) >= _MINTED_LIMIT:
                _MINTED.clear()
            _MINTED[key] = iri
        return iri

    @cached_property
    def metadata_graph(self) -> URIRef:
        """The graph of record metadata (one object: ingest names it in every metadata quad)."""
        return URIRef(self.base + "graph/meta")


_MINTED: dict[tuple[str, str, str, tuple[object, ...]], URIRef] = {}
_MINTED_LIMIT = 1 << 16  # then start again: a bounded cache, not an index


@lru_cache(maxsize=1 << 16)
def _segment(part: str) -> str:
    return quote(part, safe="")


def normalise_label(label: str) -> str:
    """Case-, space-, and micro-sign-insensitive form of a label for lookup."""
    text = unicodedata.normalize("NFKC", label).replace("\u03bc", "\u00b5").casefold()
    return " ".join(text.replace("_", " ").replace("-", " ").split())


@dataclass(frozen=True)
class Term:
    """A canonical concept from the term schemes."""

    iri: URIRef
    label: str
    scheme: URIRef | None
    default_unit: URIRef | None
    exact_matches: tuple[URIRef, ...] = ()


@dataclass
class TermIndex:
    """Label and alias lookup over the SKOS concept schemes in ``ontology/terms``."""

    graph: Graph
    _by_label: dict[str, set[URIRef]] = field(default_factory=dict, init=False)
    _terms: dict[URIRef, Term] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        g = self.graph
        for concept in set(g.subjects(RDF.type, SKOS.Concept)):
            if not isinstance(concept, URIRef):
                continue
            pref = g.value(concept, SKOS.prefLabel)
            label = str(pref) if pref is not None else concept.split("#")[-1]
            self._terms[concept] = Term(
                iri=concept,
                label=label,
                scheme=g.value(concept, SKOS.inScheme),
                default_unit=g.value(concept, CMC.defaultUnit),
                exact_matches=tuple(sorted(o for o in g.objects(concept, SKOS.exactMatch))),
            )
            names = [label, concept.split("#")[-1]]
            names += [str(o) for o in g.objects(concept, SKOS.altLabel)]
            names += [str(o) for o in g.objects(concept, SKOS.notation)]
            for name in names:
                self._by_label.setdefault(normalise_label(name), set()).add(concept)

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> TermIndex:
        graph = Graph()
        for path in paths:
            graph.parse(path, format="turtle")
        return cls(graph)

    def __contains__(self, iri: object) -> bool:
        return iri in self._terms

    def get(self, iri: URIRef) -> Term:
        return self._terms[iri]

    def default_unit(self, iri: URIRef) -> URIRef | None:
        """The unit a value of concept ``iri`` is in when its source names none (or None)."""
        term = self._terms.get(iri)
        return None if term is None else term.default_unit

    def terms(self, scheme: URIRef | None = None) -> list[Term]:
        return [t for t in self._terms.values() if scheme is None or t.scheme == scheme]

    def candidates(self, label: str, scheme: URIRef | None = None) -> set[URIRef]:
        found = self._by_label.get(normalise_label(label), set())
        if scheme is not None:
            found = {iri for iri in found if self._terms[iri].scheme == scheme}
        return found

    def nearest_labels(self, label: str, n: int = 3, scheme: URIRef | None = None) -> list[str]:
        """Known labels closest to ``label`` (of ``scheme``'s concepts only, if given), never
        ``label`` itself: a hint must name something the field accepts."""
        wanted = normalise_label(label)
        names = [
            name
            for name, iris in self._by_label.items()
            if name != wanted
            and (
                scheme is None
                or any(self._terms[i].scheme == scheme for i in iris if i in self._terms)
            )
        ]
        return difflib.get_close_matches(wanted, names, n=n)

    def resolve(
        self,
        label: str,
        scheme: URIRef | None = None,
        *,
        source: str | None = None,
        location: str | None = None,
        field_name: str | None = None,
    ) -> Term:
        """Return the one concept named ``label``, or raise a MappingError naming the nearest.

        A label that is one concept's prefLabel and another's altLabel names the first.
        """
        if isinstance(label, str) and label.startswith(str(CMCT)):
            iri = URIRef(label)
            if iri in self._terms:
                return self._terms[iri]
        found = self.candidates(label, scheme)
        if len(found) > 1:
            preferred = {
                i for i in found if normalise_label(self._terms[i].label) == normalise_label(label)
            }
            found = preferred if len(preferred) == 1 else found
        if len(found) == 1:
            return self._terms[next(iter(found))]
        if found:
            names = ", ".join(sorted(self._terms[i].label for i in found))
            raise MappingError(
                f"term '{label}' is ambiguous: it names {names}", source, location, field_name
            )
        near = self.nearest_labels(label, scheme=scheme)
        hint = f"; nearest known labels: {', '.join(near)}" if near else ""
        if not near and scheme is not None and len(self.terms(scheme)) <= 12:
            hint = "; known labels: " + ", ".join(sorted(t.label for t in self.terms(scheme)))
        raise MappingError(
            f"unknown term '{label}'{hint}{self.declare_hint(label, scheme)}",
            source,
            location,
            field_name,
        )

    def declare_hint(self, label: str, scheme: URIRef | None) -> str:
        """How to declare ``label`` in a project vocabulary (the YAML to add), for an error."""
        if scheme is None:
            return ""
        pref = self.graph.value(scheme, SKOS.prefLabel)
        name = str(pref) if pref is not None else scheme.split("#")[-1]
        name = name.removeprefix("testing ")
        measured = scheme in (CMCT.QualityAttributes, CMCT.ProcessParameters)
        extra = ", quantity_kind: <QUDT kind>, unit: <unit>" if measured else ""
        return (
            f"; to declare it, add to a vocabulary YAML (--vocab or the mapping's vocab:): "
            f"concepts: [{{label: {_yaml_text(label)}, scheme: {name}, "
            f"definition: <what it is>{extra}}}]"
        )

    def add_alias(self, concept: URIRef, alias: str) -> None:
        """Register a source's local name for a concept (from a mapping's nomenclature)."""
        self._by_label.setdefault(normalise_label(alias), set()).add(concept)

    def with_aliases(self, aliases: Iterable[tuple[str, URIRef]]) -> TermIndex:
        """A copy that also knows ``(local name, concept)`` aliases; this index is unchanged.

        Aliases of concepts the term schemes do not define are skipped.
        """
        index = copy.copy(self)
        index._by_label = {label: set(iris) for label, iris in self._by_label.items()}
        for name, concept in aliases:
            if concept in self._terms:
                index.add_alias(concept, name)
        return index


def _yaml_text(text: str) -> str:
    """``text`` as a YAML flow scalar: plain when that reads back the same, else JSON-quoted."""
    if not any(c in text for c in _FLOW_SPECIAL):
        try:
            if yaml.safe_load(text) == text:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text, ensure_ascii=False)


_FLOW_SPECIAL = ":#,[]{}&*!|>'\"%@`"


def aliases_from_store(store: Store, issuer: str | None = None) -> list[tuple[str, URIRef, str]]:
    """The sources' local names in ``store`` as ``(local name, concept, issuer)``, sorted.

    Table mappings write them as ``cmc:LocalTerm`` nodes (``ontology/MODEL.md``), read by the
    saved query ``local-terms``; pass ``issuer`` to keep only one source's nomenclature.
    """
    from . import queries  # queries reads the store; this module is below it

    rows = queries.run(store, "local-terms").rows
    return sorted(
        (str(name), URIRef(str(concept)), str(by))
        for _, name, by, concept in rows
        if by is not None and (issuer is None or str(by) == issuer)
    )


def term_index_with_aliases(store: Store, issuer: str | None = None) -> TermIndex:
    """The term index (bundled terms, the project vocabularies ``store`` holds and those in
    scope) plus the local names stored in ``store``, so a user can ask with the names they
    know (``dissolution_av``, ``lactose``, a project concept's alias)."""
    from .uservocab import merge, stored_vocabularies  # uservocab builds on this module

    pairs = [(name, concept) for name, concept, _ in aliases_from_store(store, issuer)]
    active = list(_ACTIVE.get())
    with vocabulary_scope(merge(stored_vocabularies(store), active)):
        return term_index().with_aliases(pairs)


class VocabularyGraph(Protocol):
    """A project vocabulary as the term index needs it: its triples and a content digest."""

    @property
    def graph(self) -> Graph: ...

    @property
    def digest(self) -> str: ...


_ACTIVE: ContextVar[tuple[VocabularyGraph, ...]] = ContextVar("cmckg_vocabularies", default=())
_EXTENDED: dict[tuple[str, ...], TermIndex] = {}


def active_vocabularies() -> tuple[VocabularyGraph, ...]:
    """The project vocabularies in force here (see ``vocabulary_scope``)."""
    return _ACTIVE.get()


@contextmanager
def vocabulary_scope(vocabularies: Sequence[VocabularyGraph]) -> Iterator[None]:
    """Within the block, ``term_index()`` and the unit lookups also know ``vocabularies``
    (project vocabularies: their concepts and units), in this thread or task only."""
    token = _ACTIVE.set(tuple(vocabularies))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


@cache
def bundled_term_index() -> TermIndex:
    """The term index built from the bundled term schemes (cached per process)."""
    return TermIndex.from_files(term_files())


def term_index() -> TermIndex:
    """The term index: the bundled term schemes plus the project vocabularies in scope."""
    active = _ACTIVE.get()
    if not active:
        return bundled_term_index()
    key = tuple(v.digest for v in active)
    index = _EXTENDED.get(key)
    if index is None:
        graph = Graph()
        graph += bundled_term_index().graph
        for vocabulary in active:
            graph += vocabulary.graph
        if len(_EXTENDED) >= 16:
            _EXTENDED.clear()
        index = _EXTENDED[key] = TermIndex(graph)
    return index
