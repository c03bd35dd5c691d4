"""ISA-88 BatchML ``MasterRecipe``: a process version whose unit procedures, operations and
phases are ``prov:Plan`` nodes."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS

from ...vocab import CMC
from ..base import RecordGraph
from .message import Message
from .xml import Node, text_of


def map_master_recipe(msg: Message, node: Node) -> None:
    recipe_id = msg.required(node, "ID", node.name)
    version = text_of(node, "Version")
    ids = (recipe_id, version) if version else (recipe_id,)
    rec = msg.record("recipe", *ids)
    plan = msg.mint("process-version", *ids)
    header = msg.doc.child(node, "Header")
    procedure = next(
        (
            e
            for e in msg.doc.children(node, "RecipeElement")
            if text_of(e, "RecipeElementType") == "Procedure"
        ),
        None,
    )
    label = text_of(header, "ProductName") or text_of(procedure, "Description") or recipe_id
    rec.triples.add((plan, RDF.type, CMC.ProcessVersion))
    rec.triples.add((plan, CMC.identifier, Literal(" ".join(ids))))  # unique per version
    if version:
        rec.triples.add((plan, CMC.version, Literal(version)))
    rec.triples.add((plan, RDFS.label, Literal(label)))
    rec.locate(plan, node.xpath)
    parameters = 0
    for element in msg.doc.children(node, "RecipeElement"):
        parameters += map_recipe_element(msg, rec, element, ids, plan, plan)
    if parameters:
        msg.warn(
            rec,
            node,
            f"{parameters} recipe parameters with values (set-points, not results) are not mapped",
        )


def map_recipe_element(
    msg: Message, rec: RecordGraph, node: Node, ids: tuple[str, ...], plan: URIRef, parent: URIRef
) -> int:
    """Map a unit procedure, operation or phase under ``parent``; return parameters skipped."""
    kind = text_of(node, "RecipeElementType") or ""
    descriptions = [text_of(d) for d in msg.doc.children(node, "Description")]
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
        if text_of(v, "ValueString")
    )
    for child in msg.doc.children(node, "RecipeElement"):
        skipped += map_recipe_element(msg, rec, child, ids, plan, target)
    return skipped
