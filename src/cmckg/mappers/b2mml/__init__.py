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

The package: ``xml`` (nodes and their XPaths), ``message`` (one message's records, things,
values and properties), then one module per family of nouns — ``materials``, ``production``,
``recipes`` (BatchML); this module picks the noun's mapping.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ...errors import ConfigError, MappingError
from ..base import MapContext, RecordGraph
from .materials import (
    map_material_definition,
    map_material_information,
    map_material_lot,
    map_material_sublot,
)
from .message import Message
from .production import map_production_request, map_production_response
from .recipes import map_master_recipe
from .xml import Document, Node, is_b2mml_namespace, namespace_of, text_of

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


def map_noun(msg: Message, node: Node) -> None:
    name = node.name
    if name in {"MaterialInformation"}:
        map_material_information(msg, node)
    elif name == "MaterialDefinition":
        map_material_definition(msg, node)
    elif name == "MaterialLot":
        map_material_lot(msg, node, None)
    elif name == "MaterialSubLot":
        map_material_sublot(msg, node, None, text_of(node, "MaterialDefinitionID"), None)
    elif name in {"ProductionPerformance", "OperationsPerformance"}:
        for child in msg.doc.children(node):
            if child.name in {"ProductionResponse", "OperationsResponse"}:
                map_production_response(msg, child)
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
        map_production_response(msg, node)
    elif name in {"ProductionSchedule", "OperationsSchedule"}:
        for child in msg.doc.children(node):
            if child.name in {"ProductionRequest", "OperationsRequest"}:
                map_production_request(msg, child)
    elif name in {"ProductionRequest", "OperationsRequest"}:
        map_production_request(msg, node)
    elif name == "BatchInformation":
        for child in msg.doc.children(node):
            map_noun(msg, child)
    elif name == "MasterRecipe":
        map_master_recipe(msg, node)
    elif name not in _SKIPPED_NOUNS | _VERBS:
        msg.warn(None, node, f"{name} is not mapped")


class B2mmlMapper:
    """ISA-95 B2MML / ISA-88 BatchML XML messages (see the module docstring for what maps)."""

    name: ClassVar[str] = "b2mml"
    version: ClassVar[str] = "1"

    def detect(self, path: Path, head: bytes) -> bool:
        parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
        try:
            parser.feed(head)
            for event in parser.read_events():
                element = event[-1]  # ("start", element): the root, the first start event
                if isinstance(element, ET.Element):
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
        msg = Message(context, issuer.strip(), units, Document(root))
        data_area = msg.doc.child(msg.doc.root, "DataArea")
        for node in msg.doc.children(data_area) if data_area else [msg.doc.root]:
            map_noun(msg, node)
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
