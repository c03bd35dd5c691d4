"""Record graphs from values found in documents (batch-record workbooks, vendor certificates).

The document mappers (``workbook``, ``documents``) find values by label or by path; this module
turns what they found into the RDF of ``ontology/MODEL.md`` — lots, runs, usages and
measurements — with every subject located where its value was read (``sheet=Cover!C5`` or a
JSON pointer), and reads the ``dates:`` section both kinds of document mapping share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from ..errors import CmckgError, MappingError
from ..results import Censoring, Reported, parse_result, result_triples
from ..vocab import CMC, IriMinter, TermIndex, normalise_label
from . import values as vals
from .base import MapContext, RecordGraph
from .mapping import ConfigReader, lookup_term
from .values import DATE_ORDERS, DateOptions, parse_date


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
    # normalised local name → (the name as written, its concept)
    local_terms: dict[str, tuple[str, URIRef]] = field(default_factory=dict)
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
            return local[1]
        try:
            return lookup_term(self.terms, label, scheme, prefer)
        except CmckgError as exc:
            raise self.fail(found, exc.message) from None

    def unit(self, found: Located) -> URIRef:
        return vals.unit_iri(self.text(found), self.where(found))

    def number(self, found: Located) -> float:
        value = found.value
        return vals.number_value(
            value if isinstance(value, int | float) else self.text(found), self.where(found)
        )

    def where(self, found: Located) -> vals.Where:
        return vals.Where(self.file, found.location, found.field)

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
            unit = self.terms.default_unit(concept)
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
