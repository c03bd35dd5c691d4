"""Nested JSON or XML documents (vendor certificates of analysis) through a per-vendor mapping.

Each vendor nests its certificate its own way; a ``mapper: documents`` mapping lists vendors,
each with a test that recognises its documents (``when``) and paths to the lot, the supplier
and each result: JSONPath (``jsonpath-ng``, extended syntax) for JSON, ElementTree's XPath
subset for XML (``format: xml``; a trailing ``/@name`` reads an attribute). A result item's
fields are paths relative to the item; ``"@key"`` is the key (JSON) or element name (XML) the
item sits under. Results keep what was reported: ``"< 0.25"`` is a censored value, ``"NT"`` no
result, ``"Conforms"`` a qualitative pass (``cmckg.results``). Every value is located by its
JSON pointer or XPath. One certificate is one record graph. XML with a DOCTYPE is refused (no
entity expansion, no external entities).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_path
from jsonpath_ng.jsonpath import DatumInContext, Fields, Index
from rdflib import URIRef

from ..errors import MappingError
from ..vocab import CMC, CMCT, TermIndex
from .base import MapContext, MappedFormat, RecordGraph
from .docbuild import DocumentBuilder, Located, date_options
from .mapping import LOT_CLASSES, ConfigReader, local_terms
from .values import DateOptions

KEY = "@key"


@dataclass(frozen=True)
class DocPath:
    """A path with its text (for messages): a compiled JSONPath, or an ElementTree path with an
    optional trailing attribute — or the item's key (``@key``)."""

    text: str
    json: JSONPath | None = None
    xml: str | None = None
    attribute: str | None = None

    @property
    def is_key(self) -> bool:
        return self.text == KEY

    @classmethod
    def parse(
        cls, r: ConfigReader, raw: Any, where: str, fmt: str, allow_key: bool = False
    ) -> DocPath:
        text = r.filled(raw, where)
        if text == KEY:
            if not allow_key:
                raise r.fail(where, f"'{KEY}' names a result item's key; use it in results")
            return cls(text)
        if fmt == "xml":
            path, attribute = text, None
            match = re.fullmatch(r"(.*?)/?@([\w.-]+)", text)
            if match:
                path, attribute = match.group(1) or ".", match.group(2)
            try:
                ET.Element("x").findall(path)
            except (SyntaxError, KeyError) as exc:
                raise r.fail(where, f"not an XPath ElementTree can use: {exc}") from None
            return cls(text, xml=path, attribute=attribute)
        try:
            return cls(text, json=parse_path(text))
        except (JsonPathParserError, Exception) as exc:  # the parser raises bare Exceptions
            raise r.fail(where, f"not a JSONPath: {exc}") from None


@dataclass(frozen=True)
class ResultsSpec:
    path: DocPath
    property: DocPath
    value: DocPath
    unit: DocPath | None


@dataclass(frozen=True)
class Vendor:
    name: str
    format: str
    when_path: DocPath
    when_equals: str
    lot: DocPath
    lot_type: str
    supplier: DocPath | None
    manufacture_date: DocPath | None
    stage: URIRef | None
    results: ResultsSpec


@dataclass(frozen=True)
class DocumentMapping:
    file: str
    issuer: str
    local_terms: dict[str, tuple[str, URIRef]]
    missing: frozenset[str]
    dates: DateOptions
    vendors: tuple[Vendor, ...]

    @classmethod
    def parse(cls, config: Mapping[str, Any], terms: TermIndex) -> DocumentMapping:
        r = ConfigReader.of(config)
        r.top(config, ("missing", "dates", "vendors"), ("mapping", "issuer", "vendors"))
        raw_vendors = config["vendors"]
        if not isinstance(raw_vendors, list) or not raw_vendors:
            raise r.fail("vendors", "expected a list of vendor mappings")
        return cls(
            r.file,
            r.filled(config["issuer"], "issuer"),
            local_terms(r, config.get("terms"), terms),
            r.missing(config.get("missing"), "missing"),
            date_options(r, config.get("dates"), "dates"),
            tuple(_vendor(r, v, f"vendors[{i}]", terms) for i, v in enumerate(raw_vendors)),
        )


def _vendor(r: ConfigReader, raw: Any, path: str, terms: TermIndex) -> Vendor:
    raw = r.mapping(raw, path)
    r.keys(
        raw,
        path,
        (
            "name",
            "format",
            "when",
            "lot",
            "lot_type",
            "supplier",
            "manufacture_date",
            "stage",
            "results",
        ),
        ("name", "when", "lot", "results"),
    )
    fmt = r.filled(raw.get("format", "json"), f"{path}.format")
    if fmt not in ("json", "xml"):
        raise r.fail(f"{path}.format", "expected json or xml")
    when = r.mapping(raw["when"], f"{path}.when")
    r.keys(when, f"{path}.when", ("path", "equals"), ("path", "equals"))
    lot_type = r.filled(raw.get("lot_type", "RawMaterialLot"), f"{path}.lot_type")
    if lot_type not in LOT_CLASSES:
        raise r.fail(f"{path}.lot_type", f"expected one of: {', '.join(LOT_CLASSES)}")
    stage = None
    if "stage" in raw:
        try:
            stage = terms.resolve(r.filled(raw["stage"], f"{path}.stage"), CMCT.Stages).iri
        except MappingError as exc:
            raise r.fail(f"{path}.stage", exc.message) from None
    results = r.mapping(raw["results"], f"{path}.results")
    where = f"{path}.results"
    r.keys(results, where, ("path", "property", "value", "unit"), ("path", "property", "value"))
    return Vendor(
        name=r.filled(raw["name"], f"{path}.name"),
        format=fmt,
        when_path=DocPath.parse(r, when["path"], f"{path}.when.path", fmt),
        when_equals=r.filled(when["equals"], f"{path}.when.equals"),
        lot=DocPath.parse(r, raw["lot"], f"{path}.lot", fmt),
        lot_type=lot_type,
        supplier=DocPath.parse(r, raw["supplier"], f"{path}.supplier", fmt)
        if "supplier" in raw
        else None,
        manufacture_date=DocPath.parse(r, raw["manufacture_date"], f"{path}.manufacture_date", fmt)
        if "manufacture_date" in raw
        else None,
        stage=stage,
        results=ResultsSpec(
            DocPath.parse(r, results["path"], f"{where}.path", fmt),
            DocPath.parse(r, results["property"], f"{where}.property", fmt, allow_key=True),
            DocPath.parse(r, results["value"], f"{where}.value", fmt),
            DocPath.parse(r, results["unit"], f"{where}.unit", fmt) if "unit" in results else None,
        ),
    )


def pointer(match: DatumInContext) -> str:
    """The JSON pointer (RFC 6901) of a jsonpath-ng match."""
    parts: list[str] = []
    datum: DatumInContext | None = match
    while datum is not None:
        if isinstance(datum.path, Fields):
            parts.append(str(datum.path.fields[0]).replace("~", "~0").replace("/", "~1"))
        elif isinstance(datum.path, Index):
            parts.append(str(datum.path.indices[0]))
        datum = datum.context
    return "/" + "/".join(reversed(parts))


@dataclass(frozen=True)
class Item:
    """A node of a document (JSON value or XML element), where it is, and the key or element
    name it sits under."""

    node: Any
    location: str
    key: str | None


class JsonDocument:
    """Finds values in parsed JSON by JSONPath; locations are JSON pointers."""

    def __init__(self, data: Any) -> None:
        self.root = Item(data, "", None)

    def find(self, path: DocPath, within: Item) -> list[Item]:
        assert path.json is not None
        out = []
        for match in path.json.find(within.node):
            found = pointer(match)
            key = match.path.fields[0] if isinstance(match.path, Fields) else None
            out.append(
                Item(
                    match.value,
                    within.location + (found if found != "/" else ""),
                    None if key is None else str(key),
                )
            )
        return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class XmlDocument:
    """Finds values in XML by ElementTree paths; locations are XPaths of ``Name[n]`` steps
    from the root (as the B2MML mapper writes them, so reports find the line)."""

    def __init__(self, root: ET.Element) -> None:
        self.parents = {child: parent for parent in root.iter() for child in parent}
        self.root = Item(root, self.xpath(root), _local(root.tag))

    def xpath(self, element: ET.Element) -> str:
        steps = []
        current: ET.Element | None = element
        while current is not None:
            parent = self.parents.get(current)
            same = [e for e in parent if e.tag == current.tag] if parent is not None else [current]
            steps.append(f"{_local(current.tag)}[{same.index(current) + 1}]")
            current = parent
        return "/" + "/".join(reversed(steps))

    def find(self, path: DocPath, within: Item) -> list[Item]:
        assert path.xml is not None
        elements = [within.node] if path.xml in (".", "") else within.node.findall(path.xml)
        out = []
        for element in elements:
            where = self.xpath(element)
            if path.attribute is not None:
                value = element.get(path.attribute)
                if value is not None:
                    out.append(Item(value, f"{where}/@{path.attribute}", path.attribute))
            else:
                out.append(
                    Item(
                        (element.text or "").strip() if len(element) == 0 else element,
                        where,
                        _local(element.tag),
                    )
                )
        return out


Document = JsonDocument | XmlDocument


class _CertificateReader:
    def __init__(self, mapping: DocumentMapping, context: MapContext, terms: TermIndex) -> None:
        self.m = mapping
        self.b = DocumentBuilder(
            context, mapping.issuer, terms, mapping.local_terms, mapping.missing
        )
        self.file = context.display_path

    def one(
        self, doc: Document, path: DocPath, within: Item, required: bool = True
    ) -> Located | None:
        found = [i for i in doc.find(path, within) if i.node is not None and i.node != ""]
        where = within.location or "/"
        if len(found) > 1:
            raise MappingError(
                f"'{path.text}' finds {len(found)} values; it must find one",
                self.file,
                where,
                path.text,
            )
        if not found:
            if required:
                raise MappingError(f"nothing at '{path.text}'", self.file, where, path.text)
            return None
        return Located(found[0].node, found[0].location or "/", path.text)

    def vendor(self, json_data: Any, xml_root: ET.Element | None) -> tuple[Vendor, Document]:
        seen = []
        for vendor in self.m.vendors:
            doc: Document | None = (
                JsonDocument(json_data)
                if vendor.format == "json" and xml_root is None
                else XmlDocument(xml_root)
                if vendor.format == "xml" and xml_root is not None
                else None
            )
            if doc is None:
                seen.append(f"{vendor.name}: reads {vendor.format}")
                continue
            values = [i.node for i in doc.find(vendor.when_path, doc.root)]
            if any(str(v).strip() == vendor.when_equals for v in values):
                return vendor, doc
            seen.append(
                f"{vendor.name}: {vendor.when_path.text} is "
                f"{', '.join(repr(v) for v in values) or 'absent'}"
            )
        raise MappingError(
            f"no vendor mapping recognises this document ({'; '.join(seen)})", self.file, "/"
        )

    def map(self, json_data: Any, xml_root: ET.Element | None) -> list[RecordGraph]:
        b = self.b
        vendor, doc = self.vendor(json_data, xml_root)
        found_lot = self.one(doc, vendor.lot, doc.root)
        assert found_lot is not None
        lot_id = b.text(found_lot)
        g = b.record("certificate", vendor.name, lot_id)
        lot = b.node(g, "lot", vendor.lot_type, lot_id, found_lot)
        if vendor.supplier is not None:
            found = self.one(doc, vendor.supplier, doc.root)
            assert found is not None
            g.triples.add(
                (lot, CMC.suppliedBy, b.node(g, "supplier", "Supplier", b.text(found), found))
            )
        if vendor.manufacture_date is not None:
            found = self.one(doc, vendor.manufacture_date, doc.root)
            assert found is not None
            g.triples.add((lot, CMC.manufactureDate, b.date(found, self.m.dates)))
        spec = vendor.results
        items = doc.find(spec.path, doc.root)
        if not items:
            raise MappingError(f"no results at '{spec.path.text}'", self.file, "/", spec.path.text)
        for item in items:
            self.result(doc, g, lot, lot_id, vendor, item)
        return list(b.records.values())

    def result(
        self, doc: Document, g: RecordGraph, lot: URIRef, lot_id: str, vendor: Vendor, item: Item
    ) -> None:
        b, spec = self.b, vendor.results
        if spec.property.is_key:
            if item.key is None:
                raise MappingError(
                    f"'{KEY}' needs results keyed by name, but '{spec.path.text}' finds list items",
                    self.file,
                    item.location,
                )
            prop: Located | None = Located(item.key, item.location, spec.property.text)
        else:
            prop = self.one(doc, spec.property, item)
        value = self.one(doc, spec.value, item)
        assert prop is not None and value is not None
        unit_cell = (
            self.one(doc, spec.unit, item, required=False) if spec.unit is not None else None
        )
        concept = b.term(prop, None, CMCT.QualityAttributes)
        reported = b.result(value)
        unit = None
        if unit_cell is not None and reported.kind.value in ("number", "censored"):
            unit = b.unit(unit_cell)
        iri = b.mint("measurement", "certificate", vendor.name, lot_id, b.text(prop))
        b.measurement(g, iri, lot, concept, reported, unit, value, vendor.stage)


def _read_xml(path: Path, display: str) -> ET.Element:
    """Parse XML safely: a DOCTYPE (entities, external references) is refused outright."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"cannot read the document: {exc.strerror}", display) from None
    if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
        raise MappingError("XML with a DOCTYPE or entity declarations is refused", display)
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        raise MappingError(
            f"malformed XML: {re.sub(r': line.*$', '', str(exc))}",
            display,
            f"line {line}, column {column}",
        ) from None


class DocumentsMapper(MappedFormat):
    """Vendor JSON or XML certificates through a ``mapper: documents`` mapping."""

    name: ClassVar[str] = "documents"
    noun: ClassVar[str] = "a document"

    def records(
        self, context: MapContext, config: Mapping[str, Any], terms: TermIndex
    ) -> list[RecordGraph]:
        mapping = DocumentMapping.parse(config, terms)
        with open(context.source_path, "rb") as handle:
            head = handle.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
        reader = _CertificateReader(mapping, context, terms)
        if head.startswith(b"<"):
            return reader.map(None, _read_xml(context.source_path, context.display_path))
        try:
            data = json.loads(context.source_path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise MappingError(
                f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", context.display_path
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"cannot read the document: {exc}", context.display_path) from None
        return reader.map(data, None)
