"""ISA-95 production nouns: ``ProductionResponse`` (runs, material actuals, lineage) and
``ProductionRequest`` (a plan: only the materials and lots it names)."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS

from ...vocab import CMC, CMCT, QUDT
from ..base import RecordGraph
from .message import Message, concept_for
from .xml import Node, key_of, text_of

_CONSUMED = {"consumed", "consumable"}
_UNIT_OPERATIONS = CMCT.UnitOperations


def map_production_response(msg: Message, node: Node) -> None:
    response_id = msg.required(node, "ID", node.name)
    rec = msg.record("production-response", response_id)
    segments = list(msg.doc.children(node, "SegmentResponse"))
    if not segments:
        msg.warn(rec, node, f"{node.name} '{response_id}' has no SegmentResponse")
    for segment in segments:
        map_segment_response(msg, rec, segment, (response_id,), None)


def map_segment_response(
    msg: Message, rec: RecordGraph, node: Node, parent_ids: tuple[str, ...], parent: URIRef | None
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
    operation = concept_for(
        text_of(node, "ProcessSegmentID") or segment_id, _UNIT_OPERATIONS, only=True
    )
    if operation is not None:
        rec.triples.add((run, CMC.unitOperation, operation))
    for equipment in msg.doc.children(node, "EquipmentActual"):
        equipment_id = text_of(equipment, "EquipmentID")
        if equipment_id is not None:
            rec.triples.add((run, CMC.usedEquipment, msg.equipment(rec, equipment_id, equipment)))
    for tag in ("ProductionData", "SegmentData"):
        msg.properties(rec, node, tag, run, ("run", *ids))
    map_material_actuals(msg, rec, node, run, ids)
    for nested in msg.doc.children(node, "SegmentResponse"):
        map_segment_response(msg, rec, nested, ids, run)


def map_material_actuals(
    msg: Message, rec: RecordGraph, segment: Node, run: URIRef, ids: tuple[str, ...]
) -> None:
    consumed: list[URIRef] = []
    produced: list[URIRef] = []
    for position, actual in enumerate(msg.doc.children(segment, "MaterialActual"), start=1):
        use = text_of(actual, "MaterialUse") or ""
        lot_id = text_of(actual, "MaterialLotID")
        material_id = text_of(actual, "MaterialDefinitionID")
        if key_of(use) not in _CONSUMED | {"produced"}:
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
        sublot_id = text_of(actual, "MaterialSubLotID")
        lots = [lot]
        if sublot_id is not None:
            lots.append(msg.sublot(rec, lot_id, sublot_id, material_id, actual))
        if key_of(use) == "produced":
            produced.extend(lots)
            continue
        for used in lots:
            rec.triples.add((run, PROV.used, used))
        if key_of(use) == "consumed":
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


def map_production_request(msg: Message, node: Node) -> None:
    request_id = msg.required(node, "ID", node.name)
    rec = msg.record("production-request", request_id)
    requirements = list(msg.doc.descendants(node, "MaterialRequirement"))
    for requirement in requirements:
        material_id = text_of(requirement, "MaterialDefinitionID")
        lot_id = text_of(requirement, "MaterialLotID")
        sublot_id = text_of(requirement, "MaterialSubLotID")
        if lot_id is not None and sublot_id is not None:
            msg.sublot(rec, lot_id, sublot_id, material_id, requirement)
        elif lot_id is not None:
            msg.lot(rec, lot_id, material_id, requirement)
        elif material_id is not None:
            msg.material(rec, material_id, requirement, text_of(requirement, "Description"))
    msg.warn(
        rec,
        node,
        f"{node.name} '{request_id}' is a plan, not a record of what was done: "
        f"its {len(requirements)} material requirements are not mapped as lineage (only "
        "the materials and lots they name)",
    )
