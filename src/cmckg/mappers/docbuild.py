"""Record graphs from values found in documents (batch-record workbooks, vendor certificates).

The document mappers (``workbook``, ``documents``) find values by label or by path; this module
turns what they found into the RDF of ``ontology/MODEL.md`` — lots, runs, usages and
measurements — with every subject located where its value was read (``sheet=Cover!C5`` or a
JSON pointer), and reads the pieces of a document mapping they share (terms, labels, dates).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from ..errors import CmckgError, ConfigError, MappingError
from ..results import Censoring, Reported, parse_result, result_triples
from ..units import resolve_unit
from ..vocab import CMC, CMCT, IriMinter, TermIndex, normalise_label
from .base import MapContext, RecordGraph
from .values import DATE_ORDERS, DateOptions, parse_date

LOT_CLASSES = (
    "RawMaterialLot",
    "IntermediateLot",
    "DrugSubstanceBatch",
    "DrugProductBatch",
    "MaterialLot",
)


class ConfigReader:
    """Raise ConfigErrors that name the mapping file and the key path."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.file = str(config.get("__file__", "mapping"))

    def fail(self, path: str, message: str) -> ConfigError:
        return ConfigError(message, self.file, path)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "expected a mapping (key: value)")
        return value

    def keys(
        self,
        value: Mapping[str, Any],
        path: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key '{key}'; expected one of: {', '.join(allowed)}",
                )
        for key in required:
            if key not in value:
                raise self.fail(f"{path}.{key}" if path else key, "required")

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, "expected text")
        text = str(value).strip()
        if not text:
            raise self.fail(path, "must not be empty")
        return text

    def texts(self, value: Any, path: str) -> tuple[str, ...]:
        """One text or a list of alternatives (labels sites word differently)."""
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.fail(path, "expected text or a list of alternatives")
        return tuple(
            self.text(v, f"{path}[{i}]" if isinstance(value, list) else path)
            for i, v in enumerate(items)
        )


def date_options(r: ConfigReader, raw: Any, path: str) -> DateOptions:
    """A mapping's ``dates:`` (``order``: day-first | month-first; ``serial``: true)."""
    raw = r.mapping(raw or {}, path)
    r.keys(raw, path, ("order", "serial"))
    order = raw.get("order")
    if order is not None and order not in DATE_ORDERS:
        raise r.fail(f"{path}.order", f"expected one of: {', '.join(DATE_ORDERS)}")
    serial = raw.get("serial", False)
    if not isinstance(serial, bool):
        raise r.fail(f"{path}.serial", "expected true or false")
    return DateOptions(order, serial)


@dataclass
class Located:
    """A value found in a document and where: ``sheet=Cover!C5`` or a JSON pointer."""

    value: Any
    location: str
    field: str  # the label, heading/column or path that found it (for error messages)


@dataclass
class DocumentBuilder:
    """Builds record graphs for one document; every fact is located where it was read."""

    context: MapContext
    issuer: str
    terms: TermIndex
    local_terms: dict[str, URIRef] = field(default_factory=dict)  # normalised local name → IRI
    missing: frozenset[str] = frozenset()
    records: dict[URIRef, RecordGraph] = field(default_factory=dict)

    @property
    def minter(self) -> IriMinter:
        return self.context.minter

    @property
    def file(self) -> str:
        return self.context.display_path

    def fail(self, found: Located, message: str) -> MappingError:
        return MappingError(message, self.file, found.location, found.field)

    def record(self, *parts: str) -> RecordGraph:
        iri = self.minter.mint("graph", self.issuer, *parts)
        if iri not in self.records:
            self.records[iri] = RecordGraph(iri, "/".join(parts), self.file)
        return self.records[iri]

    def mint(self, kind: str, *parts: str) -> URIRef:
        return self.minter.mint(kind, self.issuer, *parts)

    # -- values

    def text(self, found: Located) -> str:
        value = found.value
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    def term(self, found: Located, scheme: URIRef | None, prefer: URIRef | None = None) -> URIRef:
        label = self.text(found)
        local = self.local_terms.get(normalise_label(label))
        if local is not None:
            return local
        if scheme is None and prefer is not None and len(self.terms.candidates(label)) > 1:
            preferred = self.terms.candidates(label, prefer)
            if len(preferred) == 1:
                return next(iter(preferred))
        try:
            return self.terms.resolve(label, scheme).iri
        except CmckgError as exc:
            raise self.fail(found, exc.message) from None

    def unit(self, found: Located) -> URIRef:
        try:
            return resolve_unit(self.text(found))
        except CmckgError as exc:
            raise self.fail(found, exc.message) from None

    def number(self, found: Located) -> float:
        value = found.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(self.text(found))
        except ValueError:
            raise self.fail(found, f"not a number: '{value}'") from None

    def date(self, found: Located, options: DateOptions) -> Literal:
        try:
            return parse_date(found.value, options)
        except ValueError as exc:
            raise self.fail(found, str(exc)) from None

    def result(self, found: Located, limits: Mapping[str, float] | None = None) -> Reported:
        try:
            return parse_result(found.value, limits=dict(limits or {}), missing=self.missing)
        except ValueError as exc:
            raise self.fail(found, str(exc)) from None

    # -- things

    def node(self, g: RecordGraph, kind: str, cls: str, ident: str, found: Located) -> URIRef:
        """A typed node with its identifier, located at ``found``."""
        iri = self.mint(kind, ident)
        g.locate(iri, found.location)
        g.triples.add((iri, RDF.type, CMC[cls]))
        g.triples.add((iri, CMC.identifier, Literal(ident)))
        return iri

    def material(
        self, g: RecordGraph, ident: str, name: str | None, kind: URIRef | None, found: Located
    ) -> URIRef:
        iri = self.node(g, "material", "Material", ident, found)
        if name:
            g.triples.add((iri, RDFS.label, Literal(name)))
        if kind is not None:
            g.triples.add((iri, CMC.materialType, kind))
        return iri

    def measurement(
        self,
        g: RecordGraph,
        iri: URIRef,
        entity: URIRef,
        concept: URIRef,
        reported: Reported,
        unit: URIRef | None,
        found: Located,
        stage: URIRef | None = None,
    ) -> URIRef | None:
        """A measurement of ``concept`` on ``entity``; None for a missing ("NT") result. A
        numeric or censored result without a unit takes the property's default unit."""
        if reported.kind is Censoring.MISSING:
            return None
        if reported.kind in (Censoring.NONE, Censoring.CENSORED) and unit is None:
            unit = self.terms.get(concept).default_unit if concept in self.terms else None
            if unit is None:
                raise self.fail(found, "the unit is missing and the property has no default unit")
        g.locate(iri, found.location)
        add = g.triples.add
        add((iri, RDF.type, CMC.Measurement))
        add((iri, CMC.onEntity, entity))
        add((iri, CMC.measuredProperty, concept))
        for triple in result_triples(iri, reported, unit):
            add(triple)
        if stage is not None:
            add((iri, CMC.stage, stage))
        return iri

    def run(self, g: RecordGraph, iri: URIRef, ident: str, found: Located) -> URIRef:
        g.locate(iri, found.location)
        g.triples.add((iri, RDF.type, CMC.ProcessRun))
        g.triples.add((iri, CMC.identifier, Literal(ident)))
        return iri

    def lineage(
        self, g: RecordGraph, run: URIRef, used: list[URIRef], produced: list[URIRef]
    ) -> None:
        """``prov:used``, ``prov:wasGeneratedBy`` and every (output, input) derivation."""
        for lot in used:
            g.triples.add((run, PROV.used, lot))
        for out in produced:
            g.triples.add((out, PROV.wasGeneratedBy, run))
            for into in used:
                g.triples.add((out, PROV.wasDerivedFrom, into))


def local_terms(r: ConfigReader, raw: Any, terms: TermIndex) -> dict[str, URIRef]:
    """A mapping's ``terms:`` (local name → canonical label, alias or ``cmct:`` IRI)."""
    out: dict[str, URIRef] = {}
    for local, canonical in r.mapping(raw or {}, "terms").items():
        label = r.text(canonical, f"terms.{local}")
        if label.startswith("cmct:"):
            label = str(CMCT) + label[5:]
        try:
            out[normalise_label(str(local))] = terms.resolve(label).iri
        except CmckgError as exc:
            raise r.fail(f"terms.{local}", exc.message) from None
    return out
