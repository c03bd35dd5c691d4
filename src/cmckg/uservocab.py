"""Project vocabularies: a user's own concepts and units, from YAML or SKOS Turtle.

A project vocabulary file (``--vocab FILE``, or ``vocab:`` in a mapping) declares concepts the
bundled term schemes lack and units QUDT lacks (the YAML form and its keys:
``src/cmckg/schemas/vocabulary.schema.json``; the Turtle form uses the properties of
``ontology/terms/*.ttl`` and ``ontology/terms/units.ttl``). Loading validates it against the
bundled terms and the other vocabularies in force, and names the file and line of the first
problem. Ingest stores each vocabulary in a named graph of its own
(``<base>graph/vocabulary/<file stem>``), versioned like any record, so that questions resolve
its concepts and units without the file (``stored_vocabularies``).
"""

from __future__ import annotations

import difflib
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from . import ntriples
from .errors import ConfigError, MappingError
from .schemas import KeyPath, load_yaml_with_lines, validate_document
from .units import UnitTable, bundled_unit_table, units_declared_in
from .vocab import (
    CMC,
    CMCT,
    QUANTITYKIND,
    QUDT,
    IriMinter,
    TermIndex,
    bundled_term_index,
    normalise_label,
    vocabulary_scope,
)

__all__ = [
    "Vocabulary",
    "concept_table",
    "unit_declarations_table",
    "load_vocabularies",
    "load_vocabulary",
    "mapping_vocabulary_files",
    "stored_vocabularies",
    "vocabularies_in_force",
]

_ATTRIBUTE_SCHEMES = frozenset({CMCT.QualityAttributes, CMCT.ProcessParameters})


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
        graph, lines, fields = _YamlVocabulary(path, text, minter, vocab_iri).read()
    else:
        graph, lines, fields = _read_turtle(path, text, vocab_iri)
    vocabulary = Vocabulary(path.stem, str(path), graph, lines)
    _Checker(vocabulary, fields, others).check()
    return vocabulary


def _read_turtle(
    path: Path, text: str, vocab_iri: URIRef
) -> tuple[Graph, dict[URIRef, int], dict[tuple[URIRef, str], int]]:
    graph = Graph()
    try:
        graph.parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises several parser exception types
        raise ConfigError(f"not valid Turtle: {exc}".splitlines()[0], str(path)) from exc
    graph.add((vocab_iri, RDF.type, CMC.ProjectVocabulary))
    graph.add((vocab_iri, RDFS.label, Literal(path.stem)))
    graph.add((vocab_iri, DCTERMS.source, Literal(path.name)))
    text_lines = text.splitlines()
    lines: dict[URIRef, int] = {}
    subjects = set(graph.subjects(RDF.type, SKOS.Concept)) | set(
        graph.subjects(RDF.type, QUDT.Unit)
    )
    for subject in (s for s in subjects if isinstance(s, URIRef)):
        local = re.split(r"[#/:]", str(subject))[-1]
        for number, line in enumerate(text_lines, 1):
            if local and local in line and not line.lstrip().startswith(("#", "@prefix")):
                lines[subject] = number
                break
    return graph, lines, {}


class _YamlVocabulary:
    """The YAML form → SKOS/QUDT triples, with the line of every concept, unit and key."""

    def __init__(self, path: Path, text: str, minter: IriMinter, vocab_iri: URIRef) -> None:
        self.path, self.text, self.minter, self.vocab_iri = path, text, minter, vocab_iri
        self.graph = Graph()
        self.lines: dict[URIRef, int] = {}
        self.fields: dict[tuple[URIRef, str], int] = {}

    def read(self) -> tuple[Graph, dict[URIRef, int], dict[tuple[URIRef, str], int]]:
        try:
            document, key_lines = load_yaml_with_lines(self.text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else None
            raise ConfigError(
                f"not valid YAML: {getattr(exc, 'problem', exc)}", str(self.path), where
            ) from exc
        validate_document(document, "vocabulary", str(self.path), key_lines)
        namespace = document.get("namespace") or (
            f"{self.minter.base}terms/{quote(self.path.stem, safe='')}#"
        )
        g = self.graph
        g.add((self.vocab_iri, RDF.type, CMC.ProjectVocabulary))
        g.add((self.vocab_iri, RDFS.label, Literal(self.path.stem)))
        g.add((self.vocab_iri, DCTERMS.source, Literal(self.path.name)))
        labels = {
            normalise_label(str(c["label"])): _concept_iri(namespace, str(c["label"]))
            for c in document.get("concepts") or []
        }
        for index, concept in enumerate(document.get("concepts") or []):
            self.concept(concept, namespace, ("concepts", index), key_lines, labels)
        for index, unit in enumerate(document.get("units") or []):
            self.unit(unit, namespace, ("units", index), key_lines)
        return g, self.lines, self.fields

    def place(
        self, iri: URIRef, path: KeyPath, key_lines: Mapping[KeyPath, int], keys: Iterable[str]
    ) -> None:
        self.lines.setdefault(iri, key_lines.get(path, 0))
        for key in keys:
            if (*path, key) in key_lines:
                self.fields[(iri, key)] = key_lines[(*path, key)]

    def concept(
        self,
        raw: Mapping[str, Any],
        namespace: str,
        path: KeyPath,
        key_lines: Mapping[KeyPath, int],
        labels: Mapping[str, URIRef],
    ) -> None:
        label = str(raw["label"])
        iri = _concept_iri(namespace, label)
        if iri in self.lines:
            raise ConfigError(
                f"concept '{label}' is declared twice",
                str(self.path),
                f"line {key_lines.get(path, 0)}",
                "label",
            )
        self.place(iri, path, key_lines, raw)
        g = self.graph
        g.add((iri, RDF.type, SKOS.Concept))
        g.add((iri, RDFS.isDefinedBy, self.vocab_iri))
        g.add((iri, SKOS.prefLabel, Literal(label, lang="en")))
        g.add((iri, SKOS.definition, Literal(str(raw["definition"]), lang="en")))
        scheme = _scheme(str(raw["scheme"]))
        if scheme is None:
            raise ConfigError(
                f"unknown scheme '{raw['scheme']}'; known: {_scheme_names()}",
                str(self.path),
                f"line {self.fields[(iri, 'scheme')]}",
                "scheme",
            )
        g.add((iri, SKOS.inScheme, scheme))
        for alias in raw.get("alt_labels") or []:
            g.add((iri, SKOS.altLabel, Literal(str(alias), lang="en")))
        if raw.get("quantity_kind"):
            g.add((iri, QUDT.hasQuantityKind, _kind_iri(str(raw["quantity_kind"]))))
        if raw.get("unit") is not None:
            g.add((iri, CMC.defaultUnit, Literal(str(raw["unit"]))))  # resolved by the checker
        if raw.get("broader"):
            text = str(raw["broader"])
            g.add((iri, SKOS.broader, labels.get(normalise_label(text), Literal(text))))
        if raw.get("exact_match"):
            g.add((iri, SKOS.exactMatch, URIRef(str(raw["exact_match"]))))
        if raw.get("cqa") is not None:
            g.add((iri, CMC.isCQA, Literal(bool(raw["cqa"]))))
        plausible = raw.get("plausible") or {}
        for key, prop in (("min", CMC.plausibleMinimum), ("max", CMC.plausibleMaximum)):
            if plausible.get(key) is not None:
                g.add((iri, prop, Literal(float(plausible[key]), datatype=XSD.double)))

    def unit(
        self,
        raw: Mapping[str, Any],
        namespace: str,
        path: KeyPath,
        key_lines: Mapping[KeyPath, int],
    ) -> None:
        symbol = str(raw["symbol"])
        iri = URIRef(namespace + "unit-" + _unit_slug(symbol))
        if iri in self.lines:
            raise ConfigError(
                f"unit '{symbol}' is declared twice",
                str(self.path),
                f"line {key_lines.get(path, 0)}",
                "symbol",
            )
        self.place(iri, path, key_lines, raw)
        g = self.graph
        g.add((iri, RDF.type, QUDT.Unit))
        g.add((iri, RDFS.isDefinedBy, self.vocab_iri))
        g.add((iri, QUDT.symbol, Literal(symbol)))
        g.add((iri, RDFS.label, Literal(str(raw.get("label") or symbol), lang="en")))
        g.add((iri, QUDT.hasQuantityKind, _kind_iri(str(raw["quantity_kind"]))))
        conversion = raw.get("conversion")
        if conversion:
            g.add((iri, CMC.conversionUnit, Literal(str(conversion["unit"]))))  # resolved later
            g.add(
                (
                    iri,
                    CMC.conversionMultiplier,
                    Literal(float(conversion.get("multiplier", 1.0)), datatype=XSD.double),
                )
            )
            g.add(
                (
                    iri,
                    CMC.conversionOffset,
                    Literal(float(conversion.get("offset", 0.0)), datatype=XSD.double),
                )
            )


def _concept_iri(namespace: str, label: str) -> URIRef:
    words = re.findall(r"\w+", label)
    local = "".join(w[:1].upper() + w[1:] for w in words) or quote(label, safe="")
    return URIRef(namespace + local)


def _unit_slug(symbol: str) -> str:
    text = symbol.replace("/", "-PER-").replace("·", "-").replace("*", "-").replace(" ", "")
    return quote(text, safe="-_.")


def _kind_iri(text: str) -> URIRef:
    return URIRef(text) if text.startswith(("http://", "https://")) else QUANTITYKIND[text]


def _schemes() -> dict[str, URIRef]:
    """Every bundled concept scheme by its normalised label and IRI local name
    (``testing stages`` is also ``stages``)."""
    graph = bundled_term_index().graph
    found: dict[str, URIRef] = {}
    for scheme in graph.subjects(RDF.type, SKOS.ConceptScheme):
        local = str(scheme).rsplit("#", 1)[-1]
        names = [re.sub(r"(?<!^)(?=[A-Z])", " ", local), str(scheme)]
        label = graph.value(scheme, SKOS.prefLabel)
        if label is not None:
            names += [str(label), str(label).removeprefix("testing ")]
        for name in names:
            found[normalise_label(name)] = URIRef(str(scheme))
    return found


def _scheme(text: str) -> URIRef | None:
    return _schemes().get(normalise_label(text))


def _scheme_names() -> str:
    graph = bundled_term_index().graph
    return ", ".join(
        sorted(
            str(graph.value(s, SKOS.prefLabel)).removeprefix("testing ")
            for s in set(_schemes().values())
        )
    )


# --- validation ---------------------------------------------------------------------------------


class _Checker:
    """The rules a vocabulary must keep before it is used: known schemes, quantity kinds, units
    and broader concepts; no label or alias that already names another concept."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        fields: Mapping[tuple[URIRef, str], int],
        others: Sequence[Vocabulary],
    ) -> None:
        self.vocabulary = vocabulary
        self.fields = fields
        graph = Graph()
        graph += bundled_term_index().graph
        for other in others:
            graph += other.graph
        self.known = TermIndex(graph)
        self.others = others

    def fail(self, subject: URIRef, message: str, key: str) -> ConfigError:
        line = self.fields.get((subject, key)) or self.vocabulary.lines.get(subject)
        return ConfigError(message, self.vocabulary.source, f"line {line}" if line else None, key)

    def check(self) -> None:
        table = self.units()
        g = self.vocabulary.graph
        mine = TermIndex(g)
        for concept in sorted(mine.terms(), key=lambda t: self.vocabulary.lines.get(t.iri, 0)):
            self.concept(concept.iri, table, mine)

    def units(self) -> UnitTable:
        """Resolve conversion units written as text, then build the unit table with these
        units (a symbol clash or an impossible conversion is an error on its unit)."""
        g = self.vocabulary.graph
        table = bundled_unit_table().extended(
            [u for o in self.others for u in units_declared_in(o.graph)]
        )
        for unit in sorted(
            {u for u in g.subjects(RDF.type, QUDT.Unit) if isinstance(u, URIRef)}, key=str
        ):
            kind = g.value(unit, QUDT.hasQuantityKind)
            if kind is None:
                raise self.fail(
                    unit,
                    f"unit '{g.value(unit, QUDT.symbol)}' has no quantity kind",
                    "quantity_kind",
                )
            self.quantity_kind(unit, kind)
            target = g.value(unit, CMC.conversionUnit)
            if isinstance(target, Literal):
                key = table.lookup(str(target))
                if key is None:
                    raise self.fail(unit, f"unknown unit '{target}' to convert to", "conversion")
                g.set((unit, CMC.conversionUnit, table.info(key).iri))
        try:
            return table.extended(units_declared_in(g))
        except MappingError as exc:
            symbol = re.search(r"'([^']*)'", exc.message)
            units = (
                [
                    u
                    for u in g.subjects(QUDT.symbol, Literal(symbol.group(1)))
                    if isinstance(u, URIRef)
                ]
                if symbol
                else []
            )
            raise (
                self.fail(units[0], exc.message, exc.field or "symbol")
                if units
                else ConfigError(exc.message, self.vocabulary.source)
            ) from exc

    def quantity_kind(self, subject: URIRef, kind: Any) -> None:
        name = str(kind).removeprefix(str(QUANTITYKIND))
        kinds = bundled_unit_table().data["quantity_kinds"]
        if name not in kinds:
            near = difflib.get_close_matches(name, list(kinds), n=3)
            hint = f"; nearest QUDT kinds: {', '.join(near)}" if near else ""
            raise self.fail(subject, f"unknown quantity kind '{name}'{hint}", "quantity_kind")

    def concept(self, iri: URIRef, table: UnitTable, mine: TermIndex) -> None:
        g = self.vocabulary.graph
        label = str(g.value(iri, SKOS.prefLabel) or "")
        if not label:
            raise self.fail(iri, f"concept {iri} has no skos:prefLabel", "label")
        if g.value(iri, SKOS.definition) is None:
            raise self.fail(iri, f"concept '{label}' has no definition", "definition")
        scheme = g.value(iri, SKOS.inScheme)
        if scheme not in set(_schemes().values()):
            raise self.fail(
                iri, f"concept '{label}' is in no known scheme; known: {_scheme_names()}", "scheme"
            )
        kind = g.value(iri, QUDT.hasQuantityKind)
        unit = g.value(iri, CMC.defaultUnit)
        if unit is not None and kind is None:
            raise self.fail(
                iri,
                f"concept '{label}' has a unit but no quantity_kind (the QUDT "
                "quantity kind its values are, e.g. MassConcentration)",
                "quantity_kind",
            )
        if kind is not None:
            self.quantity_kind(iri, kind)
        if unit is not None:
            self.unit(iri, label, unit, kind, table)
        self.names(iri, label, scheme, mine)
        broader = g.value(iri, SKOS.broader)
        if broader is not None and broader not in mine:
            in_scheme = URIRef(str(scheme))
            found = (
                self.known.candidates(str(broader), in_scheme)
                if isinstance(broader, Literal)
                else ({broader} if broader in self.known else set())
            )
            if len(found) != 1:
                raise self.fail(
                    iri,
                    f"unknown broader concept '{broader}' (a label or IRI of a "
                    "concept of the same scheme)",
                    "broader",
                )
            g.set((iri, SKOS.broader, next(iter(found))))

    def unit(self, iri: URIRef, label: str, unit: Any, kind: Any, table: UnitTable) -> None:
        key = table.lookup(str(unit))
        if key is None:
            near = table.nearest(str(unit))
            hint = f"; nearest known symbols: {', '.join(near)}" if near else ""
            raise self.fail(iri, f"unknown unit '{unit}'{hint}; declare it under units:", "unit")
        name = str(kind).removeprefix(str(QUANTITYKIND))
        if not table.has_kind(key, name):
            raise self.fail(
                iri,
                f"unit '{table.info(key).symbol}' of concept '{label}' is not a {name} unit",
                "unit",
            )
        self.vocabulary.graph.set((iri, CMC.defaultUnit, table.info(key).iri))

    def names(self, iri: URIRef, label: str, scheme: Any, mine: TermIndex) -> None:
        """Every label and alias names only this concept, here and in the known terms of the
        same scheme (quality attributes and process parameters count as one)."""
        g = self.vocabulary.graph
        group = _ATTRIBUTE_SCHEMES if scheme in _ATTRIBUTE_SCHEMES else {scheme}
        line = self.vocabulary.lines.get(iri, 0)
        before = {
            t.iri
            for t in mine.terms()
            if (self.vocabulary.lines.get(t.iri, 0), str(t.iri)) < (line, str(iri))
        }
        aliases = sorted(map(str, g.objects(iri, SKOS.altLabel)))
        for name, key in [(label, "label")] + [(a, "alt_labels") for a in aliases]:
            for index, among in ((self.known, None), (mine, before)):
                clash = {c for s in group for c in index.candidates(name, s)} - {iri}
                clash = clash if among is None else clash & among
                if clash:
                    other = index.get(next(iter(sorted(clash))))
                    raise self.fail(
                        iri,
                        f"'{name}' of concept '{label}' already names "
                        f"'{other.label}' ({other.iri})",
                        key,
                    )


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


# --- what resolves to what (cmckg vocab list) ----------------------------------------------------

CONCEPT_COLUMNS = ["name", "kind", "concept", "iri", "scheme", "unit", "quantity_kind", "source"]
UNIT_COLUMNS = [
    "symbol",
    "iri",
    "label",
    "quantity_kind",
    "converts_to",
    "multiplier",
    "offset",
    "source",
]


def _sources(vocabularies: Sequence[Vocabulary]) -> list[tuple[str, Graph]]:
    return [("bundled", bundled_term_index().graph)] + [(v.source, v.graph) for v in vocabularies]


def _short(graph: Graph, iri: Any) -> str:
    if iri is None:
        return ""
    label = graph.value(iri, SKOS.prefLabel)
    return str(label) if label is not None else str(iri)


def concept_table(vocabularies: Sequence[Vocabulary], scheme: str | None = None) -> pd.DataFrame:
    """Every label and alias that resolves, the concept it names, its scheme, unit, quantity
    kind, and where it comes from (``bundled`` or the vocabulary's file); one scheme with
    ``scheme`` (a scheme label such as ``quality attributes``)."""
    wanted = None
    if scheme is not None:
        wanted = _scheme(scheme)
        if wanted is None:
            raise ConfigError(
                f"unknown scheme '{scheme}'; known: {_scheme_names()}", field="--scheme"
            )
    from .units import symbol as unit_symbol

    rows = []
    with vocabulary_scope(list(vocabularies)):
        everything = bundled_term_index().graph + Graph()
        for _, graph in _sources(vocabularies)[1:]:
            everything += graph
        for source, graph in _sources(vocabularies):
            for iri in sorted(set(graph.subjects(RDF.type, SKOS.Concept)), key=str):
                in_scheme = graph.value(iri, SKOS.inScheme)
                if wanted is not None and in_scheme != wanted:
                    continue
                label = str(graph.value(iri, SKOS.prefLabel) or iri)
                unit = graph.value(iri, CMC.defaultUnit)
                kind = graph.value(iri, QUDT.hasQuantityKind)
                common = {
                    "concept": label,
                    "iri": str(iri),
                    "scheme": _short(everything, in_scheme),
                    "unit": unit_symbol(str(unit)) if unit is not None else "",
                    "quantity_kind": str(kind).removeprefix(str(QUANTITYKIND)) if kind else "",
                    "source": source,
                }
                names = [(label, "label")]
                names += [(a, "alias") for a in sorted(map(str, graph.objects(iri, SKOS.altLabel)))]
                names += [
                    (n, "notation") for n in sorted(map(str, graph.objects(iri, SKOS.notation)))
                ]
                rows += [{"name": name, "kind": kind_, **common} for name, kind_ in names]
    return pd.DataFrame(rows, columns=CONCEPT_COLUMNS)


def unit_declarations_table(vocabularies: Sequence[Vocabulary]) -> pd.DataFrame:
    """The units the bundled ``units.ttl`` and ``vocabularies`` declare (QUDT's own are not
    listed), with what each converts to."""
    from .units import symbol as unit_symbol

    rows = []
    with vocabulary_scope(list(vocabularies)):
        for source, graph in _sources(vocabularies):
            for unit in units_declared_in(graph):
                rows.append(
                    {
                        "symbol": unit.symbol,
                        "iri": str(unit.iri),
                        "label": unit.label,
                        "quantity_kind": str(unit.quantity_kind or "").removeprefix(
                            str(QUANTITYKIND)
                        ),
                        "converts_to": unit_symbol(unit.conversion_unit)
                        if unit.conversion_unit is not None
                        else "(never converted)",
                        "multiplier": unit.multiplier if unit.conversion_unit is not None else None,
                        "offset": unit.offset if unit.conversion_unit is not None else None,
                        "source": source,
                    }
                )
    return pd.DataFrame(rows, columns=UNIT_COLUMNS)
