"""Allotrope Simple Model (ASM) JSON → measurements, samples, lots, equipment and data cubes.

One ASM file is one record graph, ``mint("graph", "asm", <file name>)``, so a changed file
supersedes its previous version. What becomes what:

* **Measurements.** Every quantity ``{"value": <finite number>, "unit": ...}`` anywhere in the
  document (outside data cubes) is a ``cmc:Measurement`` whose IRI is scoped by the file's hash
  and the quantity's JSON pointer (``mint("measurement", "asm", <sha256 of file, 16 hex>,
  <sha256 of pointer, 16 hex>)``). ``cmc:measuredProperty`` is the AFO IRI of the quantity's key,
  looked up in ``ontology/vendor/asm-property-iris.csv`` for the schema release named by the
  manifest (see :func:`asm_property_iri`); keys without an AFO IRI, and every key inside a
  ``custom information document`` (vendor field names), get a local term in
  :data:`ASM_LOCAL` (the key percent-encoded), stated in the record graph as a ``skos:Concept``
  with the key as ``skos:prefLabel``, in the scheme :data:`ASM_LOCAL_SCHEME`. Settings,
  processed results, peak values, distribution bins, log and fraction events and calculated
  results are all measurements: the property IRI says which.
* **Missing values.** A quantity whose value is ``NaN``, infinite or null is read as missing: no
  measurement, one warning on the record graph naming its pointer. A number written as a JSON
  string (``"68.2"``) is that number; other text (``"high"``) stops the ingest naming the pointer.
* **Context.** A quantity takes from its enclosing documents: the sample (``cmc:onEntity``), the
  technique and detection type (``cmc:method``, e.g. ``"plate reader / Absorbance"``), the
  instrument of the ``device system document`` (``cmc:device``), ``measurement time`` (else the
  ``injection time`` of the measurement's injection) as ``cmc:resultTime`` with its offset kept,
  the ``analyte name`` (``cmc:analyte``) and, inside a ``peak list``, the peak's ``identifier``
  or ``peak index`` (``cmc:peakIdentifier``) and ``peak name`` or ``written name``
  (``cmc:peakName``). A quantity outside any sample document (a plate's well count, UNICORN
  run-log events) takes the sample and time stated by the results of the innermost document
  around it, when they name exactly one.
* **Calculated data.** A ``calculated result`` is labelled with its ``calculated data name``
  (``rdfs:label``) and is ``prov:wasDerivedFrom`` the measurements its ``data source
  identifier`` values name in the same file: those inside the identified document whose key
  matches the ``data source feature``, else all of that document's measurements. Without a
  sample or time of its own it takes those of its sources when they share one; a statistic
  over several samples (an MSD plate mean) is about none of them and has no ``cmc:onEntity``.
  An identifier that names nothing in the file is a warning.
* **Samples** are ``cmc:Sample`` nodes minted from ``sample identifier`` scoped by the file hash
  (converters restart ids per file), labelled with ``written name`` and commented with
  ``description``. A ``batch identifier`` makes the sample ``cmc:sampleOf`` a ``cmc:MaterialLot``
  minted as ``mint("lot", <lot_issuer>, <batch id>)``; ``lot_issuer`` comes from the config
  (default ``"default"``), so a lot named by a process table of the same issuer is one node.
* **Equipment** is minted from the ``device system document`` as
  ``mint("equipment", "asm", <model or brand or manufacturer>, <serial number, else device
  identifier, else asset management identifier>)``: real instrument ids, not file-local, so the
  same instrument in two files is one node. Placeholders such as ``N/A`` do not count; without
  any real id the instrument is scoped by the file hash.
* **Data cubes** (chromatograms, spectra, amplification curves) are summarised, not dropped:
  each is a ``cmc:DataCube`` with its label, the property IRI of its key, the same sample,
  device, time and method as a measurement beside it, ``cmc:pointCount``, and one
  ``cmc:CubeComponent`` per dimension (``cmc:dimension``) and measure (``cmc:measure``) with
  its concept (``rdfs:label`` and ``cmc:measuredProperty``), QUDT unit and the minimum and
  maximum of its finite values (``cmc:minValue``/``cmc:maxValue``). The points themselves stay
  in the source file, which the record's metadata names; the cube's pointer locates them.
* **Text values.** Strings, booleans and bare numbers are not measurements. The ones that
  identify or qualify a measurement become the properties above; the rest (settings given as
  text, class labels such as ``sample role type``, ``error document`` entries, log text, custom
  information scalars, data-system provenance) are not mapped.

Every record subject (measurement, cube, cube component, sample, lot, equipment) carries the JSON
pointer (RFC 6901) it came from as ``cmc:sourceLocation``. Malformed JSON, a date-time that does
not parse and a quantity or cube component whose unit is unknown raise a MappingError naming the
file and the line/column or pointer.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS, XSD

from ...errors import ConfigError, MappingError
from ...vocab import CMC, QUDT
from .. import values as vals
from ..base import MapContext, RecordGraph, text_literal
from .terms import ASM_LOCAL, ASM_LOCAL_SCHEME, asm_property_iri, local_term

__all__ = ["ASM_LOCAL", "ASM_LOCAL_SCHEME", "AsmMapper", "asm_property_iri", "local_term"]

_CUSTOM = "custom information document"
_PLACEHOLDERS = frozenset({"", "n/a", "na", "none", "null", "unknown", "-"})
_REFERENCE_KEYS = (
    "measurement identifier",
    "calculated data identifier",
    "processed data identifier",
    "distribution identifier",
    "injection identifier",
    "report point identifier",  # binding affinity (Biacore): calculated data cite report points
    "identifier",
)

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _text(value: object) -> str | None:
    """A usable identifier or name: a non-placeholder string (numbers as text), else None."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    text = str(value).strip()
    return None if text.casefold() in _PLACEHOLDERS else text


def _is_quantity(node: dict[str, Any]) -> bool:
    return "value" in node and "unit" in node and not isinstance(node["value"], dict | list)


def _feature_matches(key: str, feature: str) -> bool:
    wanted = feature.strip().casefold()
    found = key.casefold()
    return found == wanted or found.startswith(wanted + " (")


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the enclosing documents say about the quantities below them."""

    technique: str
    method: str
    manifest: str | None
    device: URIRef | None = None
    time: Literal | None = None
    sample: URIRef | None = None
    analyte: str | None = None
    peak_id: str | None = None
    peak_name: str | None = None
    calc_name: str | None = None
    calc_doc: str | None = None
    custom: bool = False
    refs: tuple[str, ...] = ()


@dataclass(slots=True)
class _Meas:
    iri: URIRef
    ptr: str
    key: str
    sample: URIRef | None
    time: Literal | None
    calc_doc: str | None
    targets: list[_Meas] = field(default_factory=list)


class _FileMapping:
    """The state of mapping one ASM file (two passes: walk, then resolve intra-file refs)."""

    def __init__(self, context: MapContext, lot_issuer: str) -> None:
        self.source = context.display_path
        self.minter = context.minter
        self.scope_id = context.source_sha256[:16]
        self.lot_issuer = lot_issuer
        name = context.source_path.name
        self.record = RecordGraph(
            graph_iri=self.minter.mint("graph", "asm", name),
            record_id=name,
            source_path=self.source,
        )
        self.add = self.record.triples.add
        self.measurements: list[_Meas] = []
        self.cubes: list[_Meas] = []
        self.buckets: dict[str, list[_Meas]] = {}
        self.ids: dict[tuple[str, str], str] = {}
        self.sources: dict[str, list[tuple[str, str, str]]] = {}

    # -- entry -----------------------------------------------------------------------------

    def run(self, document: Any) -> RecordGraph:
        if not isinstance(document, dict) or "$asm.manifest" not in document:
            raise MappingError("not ASM JSON: no top-level '$asm.manifest'", self.source)
        manifest = document["$asm.manifest"]
        manifest = manifest if isinstance(manifest, str) else None
        aggregates = [k for k in document if k.endswith(" aggregate document")]
        if not aggregates:
            raise MappingError("ASM JSON without a '<technique> aggregate document'", self.source)
        for key in aggregates:
            technique = key.removesuffix(" aggregate document")
            scope = _Scope(technique=technique, method=technique, manifest=manifest)
            self.walk(document[key], "/" + _escape(key), key, scope)
        self.resolve_derivations()
        return self.record

    # -- walk ------------------------------------------------------------------------------

    def walk(self, node: Any, ptr: str, key: str, scope: _Scope) -> None:
        if isinstance(node, dict):
            if _is_quantity(node):
                self.quantity(node, ptr, key, scope)
                return
            if "cube-structure" in node:
                self.cube(node, ptr, key, scope)
                return
            scope = self.enter(node, ptr, key, scope)
            for child_key, child in node.items():
                if isinstance(child, dict | list):
                    child_scope = replace(scope, custom=True) if child_key == _CUSTOM else scope
                    self.walk(child, f"{ptr}/{_escape(child_key)}", child_key, child_scope)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                self.walk(item, f"{ptr}/{index}", key, scope)

    def enter(self, node: dict[str, Any], ptr: str, key: str, scope: _Scope) -> _Scope:
        """Update the scope from the fields of a document before visiting its children."""
        if scope.custom:
            return scope
        changes: dict[str, Any] = {}
        if key == "peak":
            changes["peak_id"] = _text(node.get("identifier")) or _text(node.get("peak index"))
            changes["peak_name"] = _text(node.get("peak name")) or _text(node.get("written name"))
        when = node.get("measurement time")
        if isinstance(when, str):
            changes["time"] = self.timestamp(when, f"{ptr}/measurement time", "measurement time")
        elif scope.time is None and isinstance(node.get("injection document"), dict):
            when = node["injection document"].get("injection time")
            if isinstance(when, str):
                changes["time"] = self.timestamp(
                    when, f"{ptr}/injection document/injection time", "injection time"
                )
        if isinstance(node.get("device system document"), dict):
            changes["device"] = self.equipment(
                node["device system document"], f"{ptr}/device system document"
            )
        detection = self.detection_types(node.get("device control aggregate document"))
        if detection:
            changes["method"] = f"{scope.technique} / {detection}"
        if isinstance(node.get("sample document"), dict):
            changes["sample"] = self.sample(node["sample document"], f"{ptr}/sample document")
        analyte = _text(node.get("analyte name"))
        if analyte:
            changes["analyte"] = analyte
        if "calculated data name" in node or "data source aggregate document" in node:
            changes["calc_doc"] = ptr
            changes["calc_name"] = _text(node.get("calculated data name"))
            self.sources[ptr] = self.data_sources(node.get("data source aggregate document"), ptr)
        refs = [k for k in _REFERENCE_KEYS if _text(node.get(k))]
        if refs:
            for ref_key in refs:
                self.ids.setdefault((ref_key, str(_text(node[ref_key]))), ptr)
            self.buckets[ptr] = []
            changes["refs"] = (*scope.refs, ptr)
        return replace(scope, **changes) if changes else scope

    @staticmethod
    def detection_types(aggregate: Any) -> str | None:
        if not isinstance(aggregate, dict):
            return None
        documents = aggregate.get("device control document")
        documents = documents if isinstance(documents, list) else [documents]
        found = sorted(
            {t for d in documents if isinstance(d, dict) if (t := _text(d.get("detection type")))}
        )
        return ", ".join(found) or None

    @staticmethod
    def data_sources(aggregate: Any, ptr: str) -> list[tuple[str, str, str]]:
        """``(identifier, feature, pointer)`` of each data source document."""
        if not isinstance(aggregate, dict):
            return []
        documents = aggregate.get("data source document")
        documents = documents if isinstance(documents, list) else [documents]
        found = []
        for index, doc in enumerate(documents):
            if isinstance(doc, dict) and (ident := _text(doc.get("data source identifier"))):
                feature = _text(doc.get("data source feature")) or ""
                location = f"{ptr}/data source aggregate document/data source document/{index}"
                found.append((ident, feature, location))
        return found

    # -- nodes -----------------------------------------------------------------------------

    def timestamp(self, text: str, ptr: str, field_name: str) -> Literal:
        return vals.datetime_literal(text, vals.Where(self.source, ptr, field_name))

    def equipment(self, doc: dict[str, Any], ptr: str) -> URIRef:
        ident = next(
            (
                t
                for k in (
                    "equipment serial number",
                    "device identifier",
                    "asset management identifier",
                )
                if (t := _text(doc.get(k)))
            ),
            None,
        )
        model = _text(doc.get("model number")) or _text(doc.get("brand name"))
        maker = _text(doc.get("product manufacturer"))
        if ident:
            iri = self.minter.mint("equipment", "asm", model or maker or "unknown model", ident)
            self.add((iri, CMC.identifier, text_literal(ident)))
        else:
            iri = self.minter.mint("equipment", "asm", self.scope_id, ptr)
        self.add((iri, RDF.type, CMC.Equipment))
        label = " ".join(part for part in (maker, model) if part)
        if label:
            self.add((iri, RDFS.label, text_literal(label)))
        self.record.locate(iri, ptr)
        return iri

    def sample(self, doc: dict[str, Any], ptr: str) -> URIRef:
        ident = _text(doc.get("sample identifier"))
        if ident:
            iri = self.minter.mint("sample", "asm", self.scope_id, ident)
            self.add((iri, CMC.identifier, text_literal(ident)))
        else:
            iri = self.minter.mint("sample", "asm", self.scope_id, ptr)
        self.add((iri, RDF.type, CMC.Sample))
        if name := _text(doc.get("written name")):
            self.add((iri, RDFS.label, text_literal(name)))
        if description := _text(doc.get("description")):
            self.add((iri, RDFS.comment, text_literal(description)))
        if batch := _text(doc.get("batch identifier")):
            lot = self.minter.mint("lot", self.lot_issuer, batch)
            self.add((lot, RDF.type, CMC.MaterialLot))
            self.add((lot, CMC.identifier, text_literal(batch)))
            self.add((iri, CMC.sampleOf, lot))
            self.record.locate(lot, f"{ptr}/batch identifier")
        self.record.locate(iri, ptr)
        return iri

    def node_iri(self, ptr: str) -> URIRef:
        """A measurement-kind IRI for the thing at ``ptr``: file hash + hash of the pointer."""
        return self.minter.mint(
            "measurement", "asm", self.scope_id, hashlib.sha256(ptr.encode()).hexdigest()[:16]
        )

    def property_of(self, key: str, scope: _Scope) -> URIRef:
        iri = None if scope.custom else asm_property_iri(key, scope.manifest)
        if iri is None:
            iri = local_term(key)
            self.add((iri, RDF.type, SKOS.Concept))
            self.add((iri, SKOS.prefLabel, text_literal(key)))
            self.add((iri, SKOS.inScheme, ASM_LOCAL_SCHEME))
        return iri

    def number_text(self, text: str, ptr: str, key: str) -> float:
        """A number written as a JSON string (``"68.2"``) is that number; ``"NaN"`` and
        ``"Infinity"`` are as their JSON counterparts (missing); any other text is an error."""
        stripped = text.strip()
        if vals.NUMBER.fullmatch(stripped):
            return float(stripped)
        if stripped in _NON_FINITE:
            return _NON_FINITE[stripped]
        raise MappingError(f"{json.dumps(text)} is not a number", self.source, ptr, key)

    def observed(self, iri: URIRef, prop: URIRef, scope: _Scope, ptr: str) -> None:
        """Triples a measurement and a data cube share: property, context, location."""
        self.add((iri, CMC.measuredProperty, prop))
        self.add((iri, CMC.method, text_literal(scope.method)))
        if scope.device is not None:
            self.add((iri, CMC.device, scope.device))
        if scope.time is not None:
            self.add((iri, CMC.resultTime, scope.time))
        if scope.sample is not None:
            self.add((iri, CMC.onEntity, scope.sample))
        self.record.locate(iri, ptr)

    def quantity(self, node: dict[str, Any], ptr: str, key: str, scope: _Scope) -> None:
        value = node["value"]
        if isinstance(value, str):
            value = self.number_text(value, f"{ptr}/value", key)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.record.warnings.append(
                f"{self.source} {ptr}, field '{key}': value {json.dumps(value)} read as missing "
                "(no measurement)"
            )
            return
        unit = vals.unit_iri(str(node["unit"]), vals.Where(self.source, ptr, key))
        iri = self.node_iri(ptr)
        self.add((iri, RDF.type, CMC.Measurement))
        place = vals.Where(self.source, ptr, key)
        self.add((iri, QUDT.numericValue, vals.double(value, place)))
        self.add((iri, QUDT.unit, unit))
        self.observed(iri, self.property_of(key, scope), scope, ptr)
        if scope.analyte:
            self.add((iri, CMC.analyte, text_literal(scope.analyte)))
        if scope.peak_id:
            self.add((iri, CMC.peakIdentifier, text_literal(scope.peak_id)))
        if scope.peak_name:
            self.add((iri, CMC.peakName, text_literal(scope.peak_name)))
        if scope.calc_name:
            self.add((iri, RDFS.label, text_literal(scope.calc_name)))
        meas = _Meas(iri, ptr, key, scope.sample, scope.time, scope.calc_doc)
        self.measurements.append(meas)
        for ref in scope.refs:
            self.buckets[ref].append(meas)

    def cube(self, node: dict[str, Any], ptr: str, key: str, scope: _Scope) -> None:
        iri = self.node_iri(ptr)
        self.add((iri, RDF.type, CMC.DataCube))
        self.observed(iri, self.property_of(key, scope), scope, ptr)
        self.cubes.append(_Meas(iri, ptr, key, scope.sample, scope.time, None))
        if label := _text(node.get("label")):
            self.add((iri, RDFS.label, text_literal(label)))
        structure = node.get("cube-structure") or {}
        data = node.get("data") or {}
        points = 0
        for part, link in (("dimensions", CMC.dimension), ("measures", CMC.measure)):
            components = structure.get(part) or []
            arrays = data.get(part) or []
            for index, component in enumerate(components):
                values = arrays[index] if index < len(arrays) else []
                values = values if isinstance(values, list) else []
                points = max(points, len(values))
                where = f"{ptr}/cube-structure/{part}/{index}"
                self.add((iri, link, self.component(component, values, where, scope)))
        self.add((iri, CMC.pointCount, Literal(points, datatype=XSD.integer)))

    def component(self, component: Any, values: list[Any], ptr: str, scope: _Scope) -> URIRef:
        iri = self.node_iri(ptr)
        self.add((iri, RDF.type, CMC.CubeComponent))
        component = component if isinstance(component, dict) else {}
        if concept := _text(component.get("concept")):
            self.add((iri, RDFS.label, text_literal(concept)))
            self.add((iri, CMC.measuredProperty, self.property_of(concept, scope)))
        if (symbol := _text(component.get("unit"))) is not None:
            unit = vals.unit_iri(symbol, vals.Where(self.source, ptr, "unit"))
            self.add((iri, QUDT.unit, unit))
        finite = [
            v
            for v in values
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        ]
        if finite:
            self.add((iri, CMC.minValue, Literal(float(min(finite)), datatype=XSD.double)))
            self.add((iri, CMC.maxValue, Literal(float(max(finite)), datatype=XSD.double)))
        self.record.locate(iri, ptr)
        return iri

    # -- second pass -----------------------------------------------------------------------

    def target_document(self, ident: str) -> str | None:
        for key in _REFERENCE_KEYS:
            found = self.ids.get((key, ident))
            if found is not None:
                return found
        return None

    def resolve_derivations(self) -> None:
        """Link calculated results to their sources; then fill in missing samples and times."""
        derived = [m for m in self.measurements if m.calc_doc in self.sources]
        for meas in derived:
            for ident, feature, location in self.sources[meas.calc_doc or ""]:
                doc = self.target_document(ident)
                if doc is None:
                    self.record.warnings.append(
                        f"{self.source} {location}, field 'data source identifier': "
                        f"'{ident}' names nothing in this file"
                    )
                    continue
                candidates = [t for t in self.buckets[doc] if t is not meas]
                matched = [t for t in candidates if _feature_matches(t.key, feature)]
                for target in matched or candidates:
                    if target not in meas.targets:
                        meas.targets.append(target)
                        self.add((meas.iri, PROV.wasDerivedFrom, target.iri))
        for attribute, predicate in (("sample", CMC.onEntity), ("time", CMC.resultTime)):
            enclosing = self.enclosing_values(attribute)
            found = {
                id(meas): self.inherited(meas, attribute, set())
                for meas in derived
                if getattr(meas, attribute) is None
            }
            for meas in (*self.measurements, *self.cubes):
                if getattr(meas, attribute) is not None:
                    continue
                values = found.get(id(meas)) or set()
                if not values:
                    values = self.nearest(enclosing, meas.ptr)
                if len(values) == 1:
                    self.add((meas.iri, predicate, next(iter(values))))

    def inherited(self, meas: _Meas, attribute: str, seen: set[URIRef]) -> set[Any]:
        """The samples (or times) of a derived measurement: its own, else its sources'."""
        own = getattr(meas, attribute)
        if own is not None:
            return {own}
        if meas.iri in seen:
            return set()
        seen.add(meas.iri)
        found: set[Any] = set()
        for target in meas.targets:
            found |= self.inherited(target, attribute, seen)
        return found

    def enclosing_values(self, attribute: str) -> dict[str, set[Any]]:
        """Document pointer → the samples (or times) its measurements and cubes state."""
        index: dict[str, set[Any]] = {}
        for meas in (*self.measurements, *self.cubes):
            value = getattr(meas, attribute)
            if value is None:
                continue
            ptr = meas.ptr
            while (cut := ptr.rfind("/")) > 0:
                ptr = ptr[:cut]
                index.setdefault(ptr, set()).add(value)
        return index

    @staticmethod
    def nearest(index: dict[str, set[Any]], ptr: str) -> set[Any]:
        """The values stated inside the innermost document around ``ptr`` that states any."""
        while (cut := ptr.rfind("/")) > 0:
            ptr = ptr[:cut]
            if ptr in index:
                return index[ptr]
        return set()


class AsmMapper:
    """Allotrope Simple Model JSON (allotropy output and anything shaped like it)."""

    name: ClassVar[str] = "asm"
    version: ClassVar[str] = "1"

    def detect(self, path: Path, head: bytes) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return text.startswith(b"{") and b'"$asm.manifest"' in text

    def map(self, context: MapContext, config: Mapping[str, Any] | None) -> Iterator[RecordGraph]:
        lot_issuer = (config or {}).get("lot_issuer", "default")
        if not isinstance(lot_issuer, str) or not lot_issuer.strip():
            raise ConfigError(
                "must be a non-empty string", context.display_path, None, "lot_issuer"
            )
        try:
            document = json.loads(Path(context.source_path).read_bytes())
        except json.JSONDecodeError as exc:
            raise MappingError(
                f"malformed JSON: {exc.msg}",
                context.display_path,
                f"line {exc.lineno}, column {exc.colno}",
            ) from exc
        except UnicodeDecodeError as exc:
            raise MappingError(f"not UTF-8 text (byte {exc.start})", context.display_path) from exc
        except OSError as exc:
            raise MappingError(f"cannot read: {exc.strerror}", context.display_path) from exc
        yield _FileMapping(context, lot_issuer.strip()).run(document)
