"""Reading a project vocabulary file: the YAML form into SKOS/QUDT triples (with the line of
every concept, unit and key), the Turtle form as it is, and the bundled concept schemes a file
may name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from ..errors import ConfigError
from ..schemas import KeyPath, load_yaml_with_lines, validate_document
from ..vocab import (
    CMC,
    QUANTITYKIND,
    QUDT,
    IriMinter,
    bundled_term_index,
    normalise_label,
)


def read_turtle(
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


class YamlVocabulary:
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
        scheme = scheme_named(str(raw["scheme"]))
        if scheme is None:
            raise ConfigError(
                f"unknown scheme '{raw['scheme']}'; known: {scheme_names()}",
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


def schemes() -> dict[str, URIRef]:
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


def scheme_named(text: str) -> URIRef | None:
    return schemes().get(normalise_label(text))


def scheme_names() -> str:
    graph = bundled_term_index().graph
    return ", ".join(
        sorted(
            str(graph.value(s, SKOS.prefLabel)).removeprefix("testing ")
            for s in set(schemes().values())
        )
    )
