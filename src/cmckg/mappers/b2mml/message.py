"""The state of one B2MML message while it is mapped: its records and warnings, and the things
(materials, lots, sub-lots, equipment), values (dates, quantities, units) and properties
(measurements) every noun's mapping writes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from ...errors import MappingError
from ...vocab import CMC, CMCT, QUDT, IriMinter, term_index
from .. import values as vals
from ..base import MapContext, RecordGraph
from .xml import Document, Node, key_of, split_camel, text_of

_EXPIRY = {"expirydate", "expirationdate", "expiry", "expdate", "bestbeforedate"}
_MANUFACTURE = {"manufacturedate", "manufacturingdate", "dateofmanufacture", "productiondate"}
_SUPPLIER = {"supplier", "supplierid", "vendor", "vendorid"}
# ERP (SAP-style) and UN/ECE Recommendation 20 unit codes whose reading as a unit symbol differs.
_ERP_UNITS = {
    "KG": "kg",
    "G": "g",
    "MG": "mg",
    "UG": "µg",
    "L": "L",
    "ML": "mL",
    "UL": "µL",
    "KL": "kL",
    "EA": "#",
    "PC": "#",
    "PCE": "#",
    "ST": "#",
    "H": "h",
    "MIN": "min",
    "S": "s",
    "D": "d",
    "KGM": "kg",
    "GRM": "g",
    "MGM": "mg",
    "LTR": "L",
    "MLT": "mL",
    "C62": "#",
    "H87": "#",
    "HUR": "h",
    "SEC": "s",
    "DAY": "d",
}
_QUALITY, _PARAMETERS = CMCT.QualityAttributes, CMCT.ProcessParameters


@dataclass
class Message:
    """State while mapping one message: the records it yields and message-level warnings."""

    context: MapContext
    issuer: str
    units: Mapping[str, str]
    doc: Document
    records: dict[URIRef, RecordGraph] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def minter(self) -> IriMinter:
        return self.context.minter

    @property
    def path(self) -> str:
        return self.context.display_path

    def mint(self, kind: str, *parts: str) -> URIRef:
        return self.minter.mint(kind, self.issuer, *parts)

    def record(self, kind: str, *ids: str) -> RecordGraph:
        graph_iri = self.mint("graph", kind, *ids)
        if graph_iri not in self.records:
            self.records[graph_iri] = RecordGraph(graph_iri, "/".join((kind, *ids)), self.path)
        return self.records[graph_iri]

    def required(self, node: Node, name: str, what: str) -> str:
        value = text_of(node, name)
        if value is None:
            raise MappingError(f"{what} has no {name}", self.path, node.xpath, name)
        return value

    def warn(self, record: RecordGraph | None, node: Node, message: str) -> None:
        text = f"{self.path} {node.xpath}: {message}"
        (record.warnings if record is not None else self.warnings).append(text)

    # -- things --------------------------------------------------------------------------

    def material(
        self, rec: RecordGraph, material_id: str, node: Node, label: str | None = None
    ) -> URIRef:
        material = self.mint("material", material_id)
        rec.triples.add((material, RDF.type, CMC.Material))
        rec.triples.add((material, CMC.identifier, Literal(material_id)))
        if label:
            rec.triples.add((material, RDFS.label, Literal(label)))
        rec.locate(material, node.xpath)
        return material

    def lot(self, rec: RecordGraph, lot_id: str, material_id: str | None, node: Node) -> URIRef:
        lot = self.mint("lot", lot_id)
        rec.triples.add((lot, RDF.type, CMC.MaterialLot))
        rec.triples.add((lot, CMC.identifier, Literal(lot_id)))
        if material_id:
            rec.triples.add((lot, CMC.ofMaterial, self.material(rec, material_id, node)))
        rec.locate(lot, node.xpath)
        return lot

    def sublot(
        self, rec: RecordGraph, lot_id: str, sublot_id: str, material_id: str | None, node: Node
    ) -> URIRef:
        lot = self.lot(rec, lot_id, material_id, node)
        sublot = self.mint("lot", lot_id, sublot_id)
        rec.triples.add((sublot, RDF.type, CMC.MaterialLot))
        rec.triples.add((sublot, CMC.identifier, Literal(sublot_id)))
        rec.triples.add((sublot, PROV.wasDerivedFrom, lot))
        if material_id:
            rec.triples.add((sublot, CMC.ofMaterial, self.mint("material", material_id)))
        rec.locate(sublot, node.xpath)
        return sublot

    def equipment(self, rec: RecordGraph, equipment_id: str, node: Node) -> URIRef:
        equipment = self.mint("equipment", equipment_id)
        rec.triples.add((equipment, RDF.type, CMC.Equipment))
        rec.triples.add((equipment, CMC.identifier, Literal(equipment_id)))
        rec.locate(equipment, node.xpath)
        return equipment

    # -- values --------------------------------------------------------------------------

    def datetime_literal(self, node: Node, name: str) -> Literal | None:
        text = text_of(node, name)
        if text is None:
            return None
        return vals.datetime_literal(text, vals.Where(self.path, node.xpath, name))

    def date_literal(self, text: str, node: Node) -> Literal:
        return vals.date_literal(text, vals.Where(self.path, node.xpath, "ValueString"))

    def quantity(self, node: Node) -> tuple[Literal, URIRef] | None:
        """(value, QUDT unit) of the first ``Quantity`` child that holds a number, if any."""
        for quantity in self.doc.children(node, "Quantity"):
            text = text_of(quantity, "QuantityString")
            if text is None:
                continue
            value = self.number(text, quantity, "QuantityString")
            unit = self.unit(text_of(quantity, "UnitOfMeasure"), quantity)
            if unit is None:
                raise MappingError(
                    f"quantity {text} has no unit of measure",
                    self.path,
                    quantity.xpath,
                    "UnitOfMeasure",
                )
            return value, unit
        return None

    def number(self, text: str, node: Node, name: str) -> Literal:
        return vals.double(text, vals.Where(self.path, node.xpath, name))

    def unit(self, code: str | None, node: Node) -> URIRef | None:
        """A UnitOfMeasure as a QUDT unit: config ``units`` first, then (in a code without
        lower-case letters) ERP / UN/ECE codes read as such (``ML`` is millilitre, not
        megalitre; ``G/ML`` is g/mL), then the code as a unit symbol."""
        if code is None or code.upper() == "NULL":
            return None
        symbol = self.units.get(code, code)
        if symbol == code and not any(c.islower() for c in code):
            symbol = re.sub(r"[A-Z][A-Z0-9]*", lambda m: _ERP_UNITS.get(m[0], m[0]), code)
        return vals.unit_iri(symbol, vals.Where(self.path, node.xpath, "UnitOfMeasure"))

    # -- properties ----------------------------------------------------------------------

    def properties(
        self,
        rec: RecordGraph,
        owner: Node,
        tag: str,
        entity: URIRef,
        entity_key: tuple[str, ...],
        *,
        lot: bool = False,
    ) -> None:
        """Map ``<tag>`` property children of ``owner`` onto ``entity``; warn about the rest."""
        unmapped: list[str] = []
        for prop in self.doc.children(owner, tag):
            self.property(rec, prop, tag, entity, entity_key, lot, unmapped)
        if unmapped:
            names = ", ".join(dict.fromkeys(unmapped))
            self.warn(rec, owner, f"{tag} not mapped (no known term): {names}")

    def property(
        self,
        rec: RecordGraph,
        prop: Node,
        tag: str,
        entity: URIRef,
        entity_key: tuple[str, ...],
        lot: bool,
        unmapped: list[str],
    ) -> None:
        prop_id = self.required(prop, "ID", tag)
        key = key_of(prop_id)
        values = [v for v in self.doc.children(prop, "Value") if text_of(v, "ValueString")]
        special = lot and key in _EXPIRY | _MANUFACTURE | _SUPPLIER
        concept = None if special else concept_for(prop_id, _QUALITY if lot else _PARAMETERS)
        for index, value in enumerate(values, start=1):
            text = text_of(value, "ValueString") or ""
            if lot and key in _EXPIRY:
                rec.triples.add((entity, CMC.expiryDate, self.date_literal(text, value)))
            elif lot and key in _MANUFACTURE:
                rec.triples.add((entity, CMC.manufactureDate, self.date_literal(text, value)))
            elif lot and key in _SUPPLIER:
                supplier = self.mint("supplier", text)
                rec.triples.add((supplier, RDF.type, CMC.Supplier))
                rec.triples.add((supplier, CMC.identifier, Literal(text)))
                rec.triples.add((entity, CMC.suppliedBy, supplier))
                rec.locate(supplier, value.xpath)
            elif concept is not None:
                self.measurement(rec, value, entity, entity_key, prop_id, index, concept, text)
            else:
                unmapped.append(prop_id)
        for nested in self.doc.children(prop, tag):
            self.property(rec, nested, tag, entity, entity_key, lot, unmapped)

    def measurement(
        self,
        rec: RecordGraph,
        value: Node,
        entity: URIRef,
        entity_key: tuple[str, ...],
        prop_id: str,
        index: int,
        concept: URIRef,
        text: str,
    ) -> None:
        m = self.mint("measurement", *entity_key, prop_id, str(index))
        rec.triples.add((m, RDF.type, CMC.Measurement))
        rec.triples.add((m, CMC.onEntity, entity))
        rec.triples.add((m, CMC.measuredProperty, concept))
        data_type = key_of(text_of(value, "DataType") or "")
        unit = self.unit(text_of(value, "UnitOfMeasure"), value)
        number = text.strip() if vals.NUMBER.fullmatch(text.strip()) else None
        if number is not None and data_type not in {"string", "text"}:
            rec.triples.add((m, QUDT.numericValue, vals.double(number, vals.Where())))
            if unit is not None:
                rec.triples.add((m, QUDT.unit, unit))
        else:
            rec.triples.add((m, CMC.textValue, Literal(text)))
        rec.locate(m, value.xpath)


def concept_for(name: str, prefer: URIRef | None, only: bool = False) -> URIRef | None:
    """The one concept ``name`` names (as written, or camel case split), looked up in the
    ``prefer`` scheme first and then (unless ``only``) in every scheme; None if none or many."""
    index = term_index()
    schemes = [prefer] if only else list(dict.fromkeys((prefer, None)))
    for scheme in schemes:
        for label in dict.fromkeys((name, split_camel(name))):
            found = index.candidates(label, scheme)
            if len(found) == 1:
                return next(iter(found))
    return None
