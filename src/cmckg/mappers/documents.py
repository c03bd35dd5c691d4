"""Nested JSON documents (vendor certificates of analysis) through a per-vendor path mapping.

Each vendor nests its certificate its own way; a ``mapper: documents`` mapping lists vendors,
each with a test that recognises its documents (``when``) and JSONPath expressions
(``jsonpath-ng``, extended syntax) to the lot, the supplier and each result. A result item's
fields are paths relative to the item; ``"@key"`` is the key the item sits under (for results
keyed by test name). Results keep what was reported: ``"< 0.25"`` is a censored value, ``"NT"``
no result, ``"Conforms"`` a qualitative pass (``cmckg.results``). Every value is located by its
JSON pointer. One certificate is one record graph.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_path
from jsonpath_ng.jsonpath import DatumInContext, Fields, Index
from rdflib import URIRef

from ..errors import ConfigError, MappingError
from ..vocab import CMC, CMCT, TermIndex, term_index
from . import register
from .base import MapContext, RecordGraph
from .docbuild import (
    LOT_CLASSES,
    ConfigReader,
    DocumentBuilder,
    Located,
    date_options,
    local_terms,
)
from .values import DateOptions

KEY = "@key"


@dataclass(frozen=True)
class Path_:
    """A compiled JSONPath with its text (for messages) — or the item's key (``@key``)."""

    text: str
    compiled: JSONPath | None

    @classmethod
    def parse(cls, r: ConfigReader, raw: Any, where: str, allow_key: bool = False) -> Path_:
        text = r.text(raw, where)
        if text == KEY:
            if not allow_key:
                raise r.fail(where, f"'{KEY}' names a result item's key; use it in results")
            return cls(text, None)
        try:
            return cls(text, parse_path(text))
        except (JsonPathParserError, Exception) as exc:  # the parser raises bare Exceptions
            raise r.fail(where, f"not a JSONPath: {exc}") from None


@dataclass(frozen=True)
class ResultsSpec:
    path: Path_
    property: Path_
    value: Path_
    unit: Path_ | None


@dataclass(frozen=True)
class Vendor:
    name: str
    when_path: Path_
    when_equals: str
    lot: Path_
    lot_type: str
    supplier: Path_ | None
    manufacture_date: Path_ | None
    stage: URIRef | None
    results: ResultsSpec


@dataclass(frozen=True)
class DocumentMapping:
    file: str
    issuer: str
    local_terms: dict[str, URIRef]
    missing: frozenset[str]
    dates: DateOptions
    vendors: tuple[Vendor, ...]

    @classmethod
    def parse(cls, config: Mapping[str, Any], terms: TermIndex) -> DocumentMapping:
        r = ConfigReader(config)
        r.keys(config, "", ("mapping", "mapper", "issuer", "vocab", "terms", "missing", "dates",
                            "vendors",
                            "__file__"), ("mapping", "issuer", "vendors"))
        if config["mapping"] != 1:
            raise r.fail("mapping", "expected format version 1 ('mapping: 1')")
        raw_vendors = config["vendors"]
        if not isinstance(raw_vendors, list) or not raw_vendors:
            raise r.fail("vendors", "expected a list of vendor mappings")
        missing = config.get("missing") or []
        if not isinstance(missing, list):
            raise r.fail("missing", "expected a list of texts")
        return cls(r.file, r.text(config["issuer"], "issuer"),
                   local_terms(r, config.get("terms"), terms),
                   frozenset(r.text(m, f"missing[{i}]") for i, m in enumerate(missing)),
                   date_options(r, config.get("dates"), "dates"),
                   tuple(_vendor(r, v, f"vendors[{i}]", terms)
                         for i, v in enumerate(raw_vendors)))


def _vendor(r: ConfigReader, raw: Any, path: str, terms: TermIndex) -> Vendor:
    raw = r.mapping(raw, path)
    r.keys(raw, path, ("name", "when", "lot", "lot_type", "supplier", "manufacture_date",
                       "stage", "results"),
           ("name", "when", "lot", "results"))
    when = r.mapping(raw["when"], f"{path}.when")
    r.keys(when, f"{path}.when", ("path", "equals"), ("path", "equals"))
    lot_type = r.text(raw.get("lot_type", "RawMaterialLot"), f"{path}.lot_type")
    if lot_type not in LOT_CLASSES:
        raise r.fail(f"{path}.lot_type", f"expected one of: {', '.join(LOT_CLASSES)}")
    stage = None
    if "stage" in raw:
        try:
            stage = terms.resolve(r.text(raw["stage"], f"{path}.stage"), CMCT.Stages).iri
        except MappingError as exc:
            raise r.fail(f"{path}.stage", exc.message) from None
    results = r.mapping(raw["results"], f"{path}.results")
    where = f"{path}.results"
    r.keys(results, where, ("path", "property", "value", "unit"), ("path", "property", "value"))
    return Vendor(
        name=r.text(raw["name"], f"{path}.name"),
        when_path=Path_.parse(r, when["path"], f"{path}.when.path"),
        when_equals=r.text(when["equals"], f"{path}.when.equals"),
        lot=Path_.parse(r, raw["lot"], f"{path}.lot"), lot_type=lot_type,
        supplier=Path_.parse(r, raw["supplier"], f"{path}.supplier") if "supplier" in raw
        else None,
        manufacture_date=Path_.parse(r, raw["manufacture_date"], f"{path}.manufacture_date")
        if "manufacture_date" in raw else None,
        stage=stage,
        results=ResultsSpec(
            Path_.parse(r, results["path"], f"{where}.path"),
            Path_.parse(r, results["property"], f"{where}.property", allow_key=True),
            Path_.parse(r, results["value"], f"{where}.value"),
            Path_.parse(r, results["unit"], f"{where}.unit") if "unit" in results else None),
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


def _find(path: Path_, data: Any, base: str, file: str, required: bool = True
          ) -> Located | None:
    assert path.compiled is not None
    matches = path.compiled.find(data)
    if len(matches) > 1:
        raise MappingError(f"'{path.text}' finds {len(matches)} values; it must find one", file,
                           base or "/", path.text)
    if not matches or matches[0].value is None:
        if required:
            raise MappingError(f"nothing at '{path.text}'", file, base or "/", path.text)
        return None
    found = pointer(matches[0])
    return Located(matches[0].value, (base + found) if found != "/" else (base or "/"),
                   path.text)


class _CertificateReader:
    def __init__(self, mapping: DocumentMapping, context: MapContext, terms: TermIndex) -> None:
        self.m = mapping
        self.b = DocumentBuilder(context, mapping.issuer, terms, mapping.local_terms,
                                 mapping.missing)
        self.file = context.display_path

    def vendor(self, data: Any) -> Vendor:
        seen = []
        for vendor in self.m.vendors:
            assert vendor.when_path.compiled is not None
            values = [m.value for m in vendor.when_path.compiled.find(data)]
            if any(str(v).strip() == vendor.when_equals for v in values):
                return vendor
            seen.append(f"{vendor.name}: {vendor.when_path.text} is "
                        f"{', '.join(repr(v) for v in values) or 'absent'}")
        raise MappingError(f"no vendor mapping recognises this document ({'; '.join(seen)})",
                           self.file, "/")

    def map(self, data: Any) -> list[RecordGraph]:
        b = self.b
        vendor = self.vendor(data)
        found_lot = _find(vendor.lot, data, "", self.file)
        assert found_lot is not None
        lot_id = b.text(found_lot)
        g = b.record("certificate", vendor.name, lot_id)
        lot = b.node(g, "lot", vendor.lot_type, lot_id, found_lot)
        if vendor.supplier is not None:
            found = _find(vendor.supplier, data, "", self.file)
            assert found is not None
            g.triples.add((lot, CMC.suppliedBy, b.node(g, "supplier", "Supplier",
                                                       b.text(found), found)))
        if vendor.manufacture_date is not None:
            found = _find(vendor.manufacture_date, data, "", self.file)
            assert found is not None
            g.triples.add((lot, CMC.manufactureDate, b.date(found, self.m.dates)))
        spec = vendor.results
        assert spec.path.compiled is not None
        items = spec.path.compiled.find(data)
        if not items:
            raise MappingError(f"no results at '{spec.path.text}'", self.file, "/",
                               spec.path.text)
        for item in items:
            self.result(g, lot, lot_id, vendor, item)
        return list(b.records.values())

    def result(self, g: RecordGraph, lot: URIRef, lot_id: str, vendor: Vendor,
               item: DatumInContext) -> None:
        b, spec = self.b, vendor.results
        base = pointer(item)
        if spec.property.compiled is None:  # @key
            if not isinstance(item.path, Fields):
                raise MappingError(f"'{KEY}' needs results keyed by name, but "
                                   f"'{spec.path.text}' finds list items", self.file, base)
            prop: Located | None = Located(item.path.fields[0], base, spec.property.text)
        else:
            prop = _find(spec.property, item.value, base, self.file)
        value = _find(spec.value, item.value, base, self.file)
        assert prop is not None and value is not None
        unit_cell = (_find(spec.unit, item.value, base, self.file, required=False)
                     if spec.unit is not None else None)
        concept = b.term(prop, None, CMCT.QualityAttributes)
        reported = b.result(value)
        unit = None
        if unit_cell is not None and reported.kind.value in ("number", "censored"):
            unit = b.unit(unit_cell)
        iri = b.mint("measurement", "certificate", vendor.name, lot_id, b.text(prop))
        b.measurement(g, iri, lot, concept, reported, unit, value, vendor.stage)


class DocumentsMapper:
    """Vendor JSON certificates through a ``mapper: documents`` mapping."""

    name: ClassVar[str] = "documents"
    version: ClassVar[str] = "1"

    def detect(self, path: Path, head: bytes) -> bool:
        """Certificates are never guessed: a mapping says which vendor wrote them."""
        return False

    def map(self, context: MapContext, config: Mapping[str, Any] | None
            ) -> Iterator[RecordGraph]:
        if config is None:
            raise ConfigError("a document needs a mapping (--mapping FILE)",
                              context.display_path)
        terms = term_index()
        mapping = DocumentMapping.parse(config, terms)
        try:
            data = json.loads(context.source_path.read_text(encoding="utf-8-sig"))
        except json.JSONDecodeError as exc:
            raise MappingError(f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                               context.display_path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"cannot read the document: {exc}", context.display_path
                               ) from None
        records = _CertificateReader(mapping, context, terms).map(data)
        for record in records:  # another mapping may not replace these records
            record.origin = Path(mapping.file).name
        return iter(records)


register(DocumentsMapper())
