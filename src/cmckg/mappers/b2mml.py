"""B2MML (ISA-95) and BatchML (ISA-88) XML messages → record graphs.

Namespaces accepted: ``http://www.wbf.org/xml/B2MML-V0401`` and later
``http://www.mesa.org/xml/B2MML…``, and BatchML (``…/BatchML-V02`` and later). Messages may be
wrapped in a verb (``SyncProductionPerformance/DataArea/…``) or be a bare noun.

One record graph per business object in the message, so a later message about the same object
replaces it (its graph IRI does not depend on the file name or content):

- ``MaterialDefinition`` → record ``material/<id>``: a ``cmc:Material``.
- ``MaterialLot`` → record ``lot/<id>``: a ``cmc:MaterialLot`` with ``cmc:ofMaterial`` (its
  ``MaterialDefinitionID``), ``cmc:expiryDate`` / ``cmc:manufactureDate`` / ``cmc:suppliedBy``
  from properties of those names, and every property whose ID names a known term as a
  ``cmc:Measurement`` (numeric with a QUDT unit, else ``cmc:textValue``). A lot element holding
  only its ID (a wrapper for sub-lots) makes no lot record.
- ``MaterialSubLot`` → record ``sub-lot/<lot>/<sub-lot>``: a ``cmc:MaterialLot`` minted
  ``mint("lot", issuer, lot, sub-lot)`` that ``prov:wasDerivedFrom`` its lot.
- ``ProductionResponse`` (or ``OperationsResponse``) → record ``production-response/<id>``: each
  ``SegmentResponse`` (nested ones too, ``dcterms:isPartOf`` their parent) is a
  ``cmc:ProcessRun`` with start/end time and equipment; ``MaterialActual`` with MaterialUse
  ``Consumed`` (or ``Consumable``) → ``prov:used`` the lot (and sub-lot) plus a ``cmc:Usage``
  with the quantity; ``Produced`` → the lot ``prov:wasGeneratedBy`` the run and
  ``prov:wasDerivedFrom`` every lot the segment consumed. Production data whose ID names a known
  term become measurements on the run.
- ``ProductionRequest`` (a plan) → record ``production-request/<id>``: only the materials and
  lots it names; its planned requirements are not lineage and are skipped with a warning.
- BatchML ``MasterRecipe`` → record ``recipe/<id>/<version>``: a ``cmc:ProcessVersion`` whose
  unit procedures, operations and phases are ``prov:Plan`` nodes (``dcterms:isPartOf`` their
  parent, ``dcterms:type`` the ISA-88 element type); recipe parameters (set-points) are skipped
  with a warning.

Anything else (other nouns, properties naming no known term) is reported as a warning, never
silently dropped. Each subject's ``cmc:sourceLocation`` is an XPath with a position on every
step below the root, e.g. ``/b2mml:SyncProductionPerformance/b2mml:DataArea[1]/…``.

Config (optional): ``issuer`` (default ``b2mml``) — the system that issued the lot, run and
material IDs, used in every minted IRI; ``units`` — UnitOfMeasure codes to unit symbols
(``{"M": "m"}``). Capitalised ERP / UN/ECE codes (``KG``, ``ML``, ``G/ML``, ``LTR``) are read as
such (``ML`` is millilitre, not megalitre; ``G`` gram, not gauss); other codes as unit symbols.

Property IDs are looked up as term labels (camel case split: ``WaterContent``): lot and sub-lot
properties in the quality-attribute scheme first, production data in the process-parameter
scheme first, a segment's ProcessSegmentID (else its ID) in the unit-operation scheme only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS

from ..errors import ConfigError, MappingError
from ..vocab import CMC, CMCT, QUDT, IriMinter, term_index
from . import values as vals
from .base import MapContext, RecordGraph

_NAMESPACE = re.compile(
    r"^https?://www\.(?:wbf|mesa)\.org/xml/(B2MML|BatchML)(?:-V\w+)?/?$", re.IGNORECASE
)
_EXPIRY = {"expirydate", "expirationdate", "expiry", "expdate", "bestbeforedate"}
_MANUFACTURE = {"manufacturedate", "manufacturingdate", "dateofmanufacture", "productiondate"}
_SUPPLIER = {"supplier", "supplierid", "vendor", "vendorid"}
_CONSUMED = {"consumed", "consumable"}
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
_UNIT_OPERATIONS = CMCT.UnitOperations
_SKIPPED_NOUNS = {"ApplicationArea", "EnumerationSet"}
_VERBS = {
    "Sync",
    "Process",
    "Get",
    "Show",
    "Change",
    "Cancel",
    "Acknowledge",
    "Respond",
    "Confirm",
}


def namespace_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def is_b2mml_namespace(namespace: str) -> bool:
    """True for a B2MML (ISA-95) or BatchML (ISA-88) namespace of any version."""
    return bool(_NAMESPACE.match(namespace))


@dataclass(frozen=True)
class _Node:
    """An element and the XPath that finds it from the document root."""

    element: ET.Element
    xpath: str

    @property
    def name(self) -> str:
        return local_name(self.element.tag)


class _Document:
    """XPath steps for one document: ``b2mml:`` / ``batchml:`` prefixes, positions on each step."""

    def __init__(self, root: ET.Element) -> None:
        self.root = _Node(root, "/" + self.step(root.tag))

    @staticmethod
    def step(tag: str) -> str:
        namespace, name = namespace_of(tag), local_name(tag)
        match = _NAMESPACE.match(namespace)
        if match:
            return f"{match.group(1).lower()}:{name}"
        return tag if namespace else name

    def children(self, node: _Node, name: str | None = None) -> Iterator[_Node]:
        seen: dict[str, int] = {}
        for child in node.element:
            if not isinstance(child.tag, str):
                continue
            seen[child.tag] = seen.get(child.tag, 0) + 1
            if name is None or local_name(child.tag) == name:
                yield _Node(child, f"{node.xpath}/{self.step(child.tag)}[{seen[child.tag]}]")

    def descendants(self, node: _Node, name: str) -> Iterator[_Node]:
        for child in self.children(node):
            if child.name == name:
                yield child
            yield from self.descendants(child, name)

    def child(self, node: _Node, name: str) -> _Node | None:
        return next(self.children(node, name), None)


def _text(node: _Node | None, name: str | None = None) -> str | None:
    """Stripped text of ``node`` (or of its first child called ``name``); None when empty."""
    if node is None:
        return None
    element: ET.Element | None = node.element
    if name is not None:
        element = next((c for c in node.element if local_name(str(c.tag)) == name), None)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _split_camel(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)


@dataclass
class _Message:
    """State while mapping one message: the records it yields and message-level warnings."""

    context: MapContext
    issuer: str
    units: Mapping[str, str]
    doc: _Document
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

    def required(self, node: _Node, name: str, what: str) -> str:
        value = _text(node, name)
        if value is None:
            raise MappingError(f"{what} has no {name}", self.path, node.xpath, name)
        return value

    def warn(self, record: RecordGraph | None, node: _Node, message: str) -> None:
        text = f"{self.path} {node.xpath}: {message}"
        (record.warnings if record is not None else self.warnings).append(text)

    # -- things --------------------------------------------------------------------------

    def material(
        self, rec: RecordGraph, material_id: str, node: _Node, label: str | None = None
    ) -> URIRef:
        material = self.mint("material", material_id)
        rec.triples.add((material, RDF.type, CMC.Material))
        rec.triples.add((material, CMC.identifier, Literal(material_id)))
        if label:
            rec.triples.add((material, RDFS.label, Literal(label)))
        rec.locate(material, node.xpath)
        return material

    def lot(self, rec: RecordGraph, lot_id: str, material_id: str | None, node: _Node) -> URIRef:
        lot = self.mint("lot", lot_id)
        rec.triples.add((lot, RDF.type, CMC.MaterialLot))
        rec.triples.add((lot, CMC.identifier, Literal(lot_id)))
        if material_id:
            rec.triples.add((lot, CMC.ofMaterial, self.material(rec, material_id, node)))
        rec.locate(lot, node.xpath)
        return lot

    def sublot(
        self, rec: RecordGraph, lot_id: str, sublot_id: str, material_id: str | None, node: _Node
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

    def equipment(self, rec: RecordGraph, equipment_id: str, node: _Node) -> URIRef:
        equipment = self.mint("equipment", equipment_id)
        rec.triples.add((equipment, RDF.type, CMC.Equipment))
        rec.triples.add((equipment, CMC.identifier, Literal(equipment_id)))
        rec.locate(equipment, node.xpath)
        return equipment

    # -- values --------------------------------------------------------------------------

    def datetime_literal(self, node: _Node, name: str) -> Literal | None:
        text = _text(node, name)
        if text is None:
            return None
        return vals.datetime_literal(text, vals.Where(self.path, node.xpath, name))

    def date_literal(self, text: str, node: _Node) -> Literal:
        return vals.date_literal(text, vals.Where(self.path, node.xpath, "ValueString"))

    def quantity(self, node: _Node) -> tuple[Literal, URIRef] | None:
        """(value, QUDT unit) of the first ``Quantity`` child that holds a number, if any."""
        for quantity in self.doc.children(node, "Quantity"):
            text = _text(quantity, "QuantityString")
            if text is None:
                continue
            value = self.number(text, quantity, "QuantityString")
            unit = self.unit(_text(quantity, "UnitOfMeasure"), quantity)
            if unit is None:
                raise MappingError(
                    f"quantity {text} has no unit of measure",
                    self.path,
                    quantity.xpath,
                    "UnitOfMeasure",
                )
            return value, unit
        return None

    def number(self, text: str, node: _Node, name: str) -> Literal:
        return vals.double(text, vals.Where(self.path, node.xpath, name))

    def unit(self, code: str | None, node: _Node) -> URIRef | None:
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
        owner: _Node,
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
        prop: _Node,
        tag: str,
        entity: URIRef,
        entity_key: tuple[str, ...],
        lot: bool,
        unmapped: list[str],
    ) -> None:
        prop_id = self.required(prop, "ID", tag)
        key = _key(prop_id)
        values = [v for v in self.doc.children(prop, "Value") if _text(v, "ValueString")]
        special = lot and key in _EXPIRY | _MANUFACTURE | _SUPPLIER
        concept = None if special else _concept(prop_id, _QUALITY if lot else _PARAMETERS)
        for index, value in enumerate(values, start=1):
            text = _text(value, "ValueString") or ""
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
        value: _Node,
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
        data_type = _key(_text(value, "DataType") or "")
        unit = self.unit(_text(value, "UnitOfMeasure"), value)
        number = text.strip() if vals.NUMBER.fullmatch(text.strip()) else None
        if number is not None and data_type not in {"string", "text"}:
            rec.triples.add((m, QUDT.numericValue, vals.double(number, vals.Where())))
            if unit is not None:
                rec.triples.add((m, QUDT.unit, unit))
        else:
            rec.triples.add((m, CMC.textValue, Literal(text)))
        rec.locate(m, value.xpath)


def _concept(name: str, prefer: URIRef | None, only: bool = False) -> URIRef | None:
    """The one concept ``name`` names (as written, or camel case split), looked up in the
    ``prefer`` scheme first and then (unless ``only``) in every scheme; None if none or many."""
    index = term_index()
    schemes = [prefer] if only else list(dict.fromkeys((prefer, None)))
    for scheme in schemes:
        for label in dict.fromkeys((name, _split_camel(name))):
            found = index.candidates(label, scheme)
            if len(found) == 1:
                return next(iter(found))
    return None


# -- nouns -------------------------------------------------------------------------------------


def _map_material_definition(msg: _Message, node: _Node) -> None:
    material_id = msg.required(node, "ID", "MaterialDefinition")
    rec = msg.record("material", material_id)
    msg.material(rec, material_id, node, _text(node, "Description"))
    names = [_text(p, "ID") or "?" for p in msg.doc.children(node, "MaterialDefinitionProperty")]
    if names:
        msg.warn(
            rec,
            node,
            "MaterialDefinitionProperty not mapped (properties of a material "
            f"definition are not lot results): {', '.join(dict.fromkeys(names))}",
        )


def _map_material_lot(msg: _Message, node: _Node, material_id: str | None) -> None:
    lot_id = msg.required(node, "ID", "MaterialLot")
    material_id = _text(node, "MaterialDefinitionID") or material_id
    own = [c for c in msg.doc.children(node) if c.name not in {"ID", "MaterialSubLot"}]
    if own:
        rec = msg.record("lot", lot_id)
        lot = msg.lot(rec, lot_id, material_id, node)
        if material_id is None:
            msg.warn(rec, node, f"lot '{lot_id}' names no MaterialDefinitionID")
        msg.properties(rec, node, "MaterialLotProperty", lot, ("lot", lot_id), lot=True)
    for sub in msg.doc.children(node, "MaterialSubLot"):
        _map_material_sublot(msg, sub, lot_id, material_id, None)


def _map_material_sublot(
    msg: _Message, node: _Node, lot_id: str | None, material_id: str | None, parent: URIRef | None
) -> None:
    sublot_id = msg.required(node, "ID", "MaterialSubLot")
    lot_id = lot_id or _text(node, "MaterialLotID")
    if lot_id is None:
        raise MappingError("MaterialSubLot names no lot", msg.path, node.xpath, "MaterialLotID")
    rec = msg.record("sub-lot", lot_id, sublot_id)
    sublot = msg.sublot(rec, lot_id, sublot_id, material_id, node)
    if parent is not None:
        rec.triples.add((sublot, PROV.wasDerivedFrom, parent))
    msg.properties(
        rec, node, "MaterialSubLotProperty", sublot, ("lot", lot_id, sublot_id), lot=True
    )
    for nested in msg.doc.children(node, "MaterialSubLot"):
        _map_material_sublot(msg, nested, lot_id, material_id, sublot)


def _map_material_information(msg: _Message, node: _Node) -> None:
    for child in msg.doc.children(node):
        if child.name == "MaterialDefinition":
            _map_material_definition(msg, child)
        elif child.name == "MaterialLot":
            _map_material_lot(msg, child, None)
        elif child.name == "MaterialSubLot":
            _map_material_sublot(msg, child, None, _text(child, "MaterialDefinitionID"), None)
        elif child.name not in {"ID", "Description", "Location", "HierarchyScope", "PublishedDate"}:
            msg.warn(None, child, f"{child.name} is not mapped")


def _map_production_response(msg: _Message, node: _Node) -> None:
    response_id = msg.required(node, "ID", node.name)
    rec = msg.record("production-response", response_id)
    segments = list(msg.doc.children(node, "SegmentResponse"))
    if not segments:
        msg.warn(rec, node, f"{node.name} '{response_id}' has no SegmentResponse")
    for segment in segments:
        _map_segment_response(msg, rec, segment, (response_id,), None)


def _map_segment_response(
    msg: _Message, rec: RecordGraph, node: _Node, parent_ids: tuple[str, ...], parent: URIRef | None
) -> None:
    segment_id = msg.required(node, "ID", "SegmentResponse")
    ids = (*parent_ids, segment_id)
    run = msg.mint("run", *ids)
    rec.triples.add((run, RDF.type, CMC.ProcessRun))
    rec.triples.add((run, CMC.identifier, Literal(segment_id)))
    rec.triples.add((run, RDFS.label, Literal(" / ".join(ids))))
    rec.locate(run, node.xpath)
    if parent is not None:
        rec.triples.add((run, DCTERMS.isPartOf, parent))
    for name, predicate in (
        ("ActualStartTime", PROV.startedAtTime),
        ("ActualEndTime", PROV.endedAtTime),
    ):
        when = msg.datetime_literal(node, name)
        if when is not None:
            rec.triples.add((run, predicate, when))
    operation = _concept(_text(node, "ProcessSegmentID") or segment_id, _UNIT_OPERATIONS, only=True)
    if operation is not None:
        rec.triples.add((run, CMC.unitOperation, operation))
    for equipment in msg.doc.children(node, "EquipmentActual"):
        equipment_id = _text(equipment, "EquipmentID")
        if equipment_id is not None:
            rec.triples.add((run, CMC.usedEquipment, msg.equipment(rec, equipment_id, equipment)))
    for tag in ("ProductionData", "SegmentData"):
        msg.properties(rec, node, tag, run, ("run", *ids))
    _map_material_actuals(msg, rec, node, run, ids)
    for nested in msg.doc.children(node, "SegmentResponse"):
        _map_segment_response(msg, rec, nested, ids, run)


def _map_material_actuals(
    msg: _Message, rec: RecordGraph, segment: _Node, run: URIRef, ids: tuple[str, ...]
) -> None:
    consumed: list[URIRef] = []
    produced: list[URIRef] = []
    for position, actual in enumerate(msg.doc.children(segment, "MaterialActual"), start=1):
        use = _text(actual, "MaterialUse") or ""
        lot_id = _text(actual, "MaterialLotID")
        material_id = _text(actual, "MaterialDefinitionID")
        if _key(use) not in _CONSUMED | {"produced"}:
            msg.warn(
                rec,
                actual,
                f"MaterialUse '{use}' is not mapped (only Consumed, "
                "Consumable and Produced are lineage)",
            )
            continue
        if lot_id is None:
            msg.warn(
                rec,
                actual,
                f"{use} material '{material_id}' names no MaterialLotID, so "
                "it cannot be linked to a lot",
            )
            continue
        lot = msg.lot(rec, lot_id, material_id, actual)
        sublot_id = _text(actual, "MaterialSubLotID")
        lots = [lot]
        if sublot_id is not None:
            lots.append(msg.sublot(rec, lot_id, sublot_id, material_id, actual))
        if _key(use) == "produced":
            produced.extend(lots)
            continue
        for used in lots:
            rec.triples.add((run, PROV.used, used))
        if _key(use) == "consumed":
            consumed.extend(lots)
        quantity = msg.quantity(actual)
        if quantity is not None:
            usage = msg.mint("run", *ids, "usage", str(position))
            rec.triples.add((usage, RDF.type, CMC.Usage))
            rec.triples.add((usage, CMC.ofRun, run))
            rec.triples.add((usage, CMC.usedLot, lot))
            rec.triples.add((usage, QUDT.numericValue, quantity[0]))
            rec.triples.add((usage, QUDT.unit, quantity[1]))
            rec.locate(usage, actual.xpath)
        msg.properties(
            rec,
            actual,
            "MaterialActualProperty",
            lot,
            ("run", *ids, "material-actual", str(position)),
            lot=True,
        )
    for output in produced:
        rec.triples.add((output, PROV.wasGeneratedBy, run))
        for source in consumed:
            if source != output:
                rec.triples.add((output, PROV.wasDerivedFrom, source))


def _map_production_request(msg: _Message, node: _Node) -> None:
    request_id = msg.required(node, "ID", node.name)
    rec = msg.record("production-request", request_id)
    requirements = list(msg.doc.descendants(node, "MaterialRequirement"))
    for requirement in requirements:
        material_id = _text(requirement, "MaterialDefinitionID")
        lot_id = _text(requirement, "MaterialLotID")
        sublot_id = _text(requirement, "MaterialSubLotID")
        if lot_id is not None and sublot_id is not None:
            msg.sublot(rec, lot_id, sublot_id, material_id, requirement)
        elif lot_id is not None:
            msg.lot(rec, lot_id, material_id, requirement)
        elif material_id is not None:
            msg.material(rec, material_id, requirement, _text(requirement, "Description"))
    msg.warn(
        rec,
        node,
        f"{node.name} '{request_id}' is a plan, not a record of what was done: "
        f"its {len(requirements)} material requirements are not mapped as lineage (only "
        "the materials and lots they name)",
    )


def _map_master_recipe(msg: _Message, node: _Node) -> None:
    recipe_id = msg.required(node, "ID", node.name)
    version = _text(node, "Version")
    ids = (recipe_id, version) if version else (recipe_id,)
    rec = msg.record("recipe", *ids)
    plan = msg.mint("process-version", *ids)
    header = msg.doc.child(node, "Header")
    procedure = next(
        (
            e
            for e in msg.doc.children(node, "RecipeElement")
            if _text(e, "RecipeElementType") == "Procedure"
        ),
        None,
    )
    label = _text(header, "ProductName") or _text(procedure, "Description") or recipe_id
    rec.triples.add((plan, RDF.type, CMC.ProcessVersion))
    rec.triples.add((plan, CMC.identifier, Literal(" ".join(ids))))  # unique per version
    if version:
        rec.triples.add((plan, CMC.version, Literal(version)))
    rec.triples.add((plan, RDFS.label, Literal(label)))
    rec.locate(plan, node.xpath)
    parameters = 0
    for element in msg.doc.children(node, "RecipeElement"):
        parameters += _map_recipe_element(msg, rec, element, ids, plan, plan)
    if parameters:
        msg.warn(
            rec,
            node,
            f"{parameters} recipe parameters with values (set-points, not results) are not mapped",
        )


def _map_recipe_element(
    msg: _Message, rec: RecordGraph, node: _Node, ids: tuple[str, ...], plan: URIRef, parent: URIRef
) -> int:
    """Map a unit procedure, operation or phase under ``parent``; return parameters skipped."""
    kind = _text(node, "RecipeElementType") or ""
    descriptions = [_text(d) for d in msg.doc.children(node, "Description")]
    descriptions = [d for d in descriptions if d]
    if kind in {"Begin", "End"}:
        return 0
    if kind == "Procedure":
        target = plan
        for text in descriptions:
            rec.triples.add((plan, DCTERMS.description, Literal(text)))
    else:
        element_id = msg.required(node, "ID", "RecipeElement")
        target = msg.mint("process-version", *ids, element_id)
        rec.triples.add((target, RDF.type, PROV.Plan))
        rec.triples.add((target, CMC.identifier, Literal(element_id)))
        rec.triples.add((target, DCTERMS.isPartOf, parent))
        if kind:
            rec.triples.add((target, DCTERMS.type, Literal(kind)))
        if descriptions:
            rec.triples.add((target, RDFS.label, Literal(descriptions[0])))
        for text in descriptions[1:]:
            rec.triples.add((target, DCTERMS.description, Literal(text)))
        rec.locate(target, node.xpath)
    skipped = sum(
        1
        for p in msg.doc.children(node, "Parameter")
        for v in msg.doc.children(p, "Value")
        if _text(v, "ValueString")
    )
    for child in msg.doc.children(node, "RecipeElement"):
        skipped += _map_recipe_element(msg, rec, child, ids, plan, target)
    return skipped


def _map_noun(msg: _Message, node: _Node) -> None:
    name = node.name
    if name in {"MaterialInformation"}:
        _map_material_information(msg, node)
    elif name == "MaterialDefinition":
        _map_material_definition(msg, node)
    elif name == "MaterialLot":
        _map_material_lot(msg, node, None)
    elif name == "MaterialSubLot":
        _map_material_sublot(msg, node, None, _text(node, "MaterialDefinitionID"), None)
    elif name in {"ProductionPerformance", "OperationsPerformance"}:
        for child in msg.doc.children(node):
            if child.name in {"ProductionResponse", "OperationsResponse"}:
                _map_production_response(msg, child)
            elif child.name not in {
                "ID",
                "Description",
                "Location",
                "HierarchyScope",
                "PublishedDate",
                "ProductionScheduleID",
                "OperationsScheduleID",
                "StartTime",
                "EndTime",
            }:
                msg.warn(None, child, f"{child.name} is not mapped")
    elif name in {"ProductionResponse", "OperationsResponse"}:
        _map_production_response(msg, node)
    elif name in {"ProductionSchedule", "OperationsSchedule"}:
        for child in msg.doc.children(node):
            if child.name in {"ProductionRequest", "OperationsRequest"}:
                _map_production_request(msg, child)
    elif name in {"ProductionRequest", "OperationsRequest"}:
        _map_production_request(msg, node)
    elif name == "BatchInformation":
        for child in msg.doc.children(node):
            _map_noun(msg, child)
    elif name == "MasterRecipe":
        _map_master_recipe(msg, node)
    elif name not in _SKIPPED_NOUNS | _VERBS:
        msg.warn(None, node, f"{name} is not mapped")


class B2mmlMapper:
    """ISA-95 B2MML / ISA-88 BatchML XML messages (see the module docstring for what maps)."""

    name: ClassVar[str] = "b2mml"
    version: ClassVar[str] = "1"

    def detect(self, path: Path, head: bytes) -> bool:
        parser = ET.XMLPullParser(events=("start",))
        try:
            parser.feed(head)
            for _, element in parser.read_events():
                return is_b2mml_namespace(namespace_of(element.tag))
        except ET.ParseError:
            return False
        return False

    def map(self, context: MapContext, config: Mapping[str, Any] | None) -> Iterator[RecordGraph]:
        issuer = (config or {}).get("issuer", "b2mml")
        if not isinstance(issuer, str) or not issuer.strip():
            raise ConfigError(
                "'issuer' must be a non-empty string", context.display_path, field="issuer"
            )
        try:
            root = ET.parse(context.source_path).getroot()
        except ET.ParseError as exc:
            line, column = exc.position
            reason = re.sub(r": line \d+, column \d+$", "", str(exc))
            raise MappingError(
                f"malformed XML: {reason}", context.display_path, f"line {line}, column {column}"
            ) from None
        except OSError as exc:
            raise MappingError(
                f"cannot read the file: {exc.strerror}", context.display_path
            ) from None
        if not is_b2mml_namespace(namespace_of(root.tag)):
            raise MappingError(
                f"root element {root.tag} is not in a B2MML or BatchML namespace",
                context.display_path,
                "line 1",
            )
        units = (config or {}).get("units", {})
        if not isinstance(units, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in units.items()
        ):
            raise ConfigError(
                "'units' must map UnitOfMeasure codes to unit symbols",
                context.display_path,
                field="units",
            )
        msg = _Message(context, issuer.strip(), units, _Document(root))
        data_area = msg.doc.child(msg.doc.root, "DataArea")
        for node in msg.doc.children(data_area) if data_area else [msg.doc.root]:
            _map_noun(msg, node)
        if not msg.records:
            why = "; ".join(w.split(": ", 1)[-1] for w in msg.warnings) or "no DataArea content"
            raise MappingError(
                "nothing to map: cmckg maps material definitions, lots, sub-lots, production "
                f"responses and requests and master recipes ({why})",
                context.display_path,
            )
        records = list(msg.records.values())
        records[0].warnings[:0] = msg.warnings
        yield from records
