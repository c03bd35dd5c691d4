"""ISA-95 material nouns: ``MaterialDefinition``, ``MaterialLot``, ``MaterialSubLot`` and the
``MaterialInformation`` that holds them."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import PROV

from ...errors import MappingError
from .message import Message
from .xml import Node, text_of


def map_material_definition(msg: Message, node: Node) -> None:
    material_id = msg.required(node, "ID", "MaterialDefinition")
    rec = msg.record("material", material_id)
    msg.material(rec, material_id, node, text_of(node, "Description"))
    names = [text_of(p, "ID") or "?" for p in msg.doc.children(node, "MaterialDefinitionProperty")]
    if names:
        msg.warn(
            rec,
            node,
            "MaterialDefinitionProperty not mapped (properties of a material "
            f"definition are not lot results): {', '.join(dict.fromkeys(names))}",
        )


def map_material_lot(msg: Message, node: Node, material_id: str | None) -> None:
    lot_id = msg.required(node, "ID", "MaterialLot")
    material_id = text_of(node, "MaterialDefinitionID") or material_id
    own = [c for c in msg.doc.children(node) if c.name not in {"ID", "MaterialSubLot"}]
    if own:
        rec = msg.record("lot", lot_id)
        lot = msg.lot(rec, lot_id, material_id, node)
        if material_id is None:
            msg.warn(rec, node, f"lot '{lot_id}' names no MaterialDefinitionID")
        msg.properties(rec, node, "MaterialLotProperty", lot, ("lot", lot_id), lot=True)
    for sub in msg.doc.children(node, "MaterialSubLot"):
        map_material_sublot(msg, sub, lot_id, material_id, None)


def map_material_sublot(
    msg: Message, node: Node, lot_id: str | None, material_id: str | None, parent: URIRef | None
) -> None:
    sublot_id = msg.required(node, "ID", "MaterialSubLot")
    lot_id = lot_id or text_of(node, "MaterialLotID")
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
        map_material_sublot(msg, nested, lot_id, material_id, sublot)


def map_material_information(msg: Message, node: Node) -> None:
    for child in msg.doc.children(node):
        if child.name == "MaterialDefinition":
            map_material_definition(msg, child)
        elif child.name == "MaterialLot":
            map_material_lot(msg, child, None)
        elif child.name == "MaterialSubLot":
            map_material_sublot(msg, child, None, text_of(child, "MaterialDefinitionID"), None)
        elif child.name not in {"ID", "Description", "Location", "HierarchyScope", "PublishedDate"}:
            msg.warn(None, child, f"{child.name} is not mapped")
