"""Record graphs from values found in documents (batch-record workbooks, vendor certificates).

The document mappers (``workbook``, ``documents``) find values by label or by path; this module
turns what they found into the RDF of ``ontology/MODEL.md`` — lots, runs, usages and
measurements — with every subject located where its value was read (``sheet=Cover!C5`` or a
JSON pointer), and reads the pieces of a document mapping they share (terms, labels, dates).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD

from ..errors import CmckgError, ConfigError, MappingError
from ..results import Censoring, Reported, parse_result, result_triples
from ..units import resolve_unit
from ..vocab import CMC, CMCT, IriMinter, TermIndex, normalise_label
from .base import MapContext, RecordGraph

LOT_CLASSES = ("RawMaterialLot", "IntermediateLot", "DrugSubstanceBatch", "DrugProductBatch",
               "MaterialLot")
DATE_ORDERS = ("day-first", "month-first")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # the 1900 date system, past its 1900-02-29 bug
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T](\d{1,2}):(\d{2})"
                           r"(?::(\d{2}))?)?$")
_NAMED_DATE = re.compile(r"^(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -](\d{4})(?:[ T](\d{1,2}):(\d{2})"
                         r"(?::(\d{2}))?)?$")


class ConfigReader:
    """Raise ConfigErrors that name the mapping file and the key path."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.file = str(config.get("__file__", "mapping"))

    def fail(self, path: str, message: str) -> ConfigError:
        return ConfigError(message, self.file, path)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, "expected a mapping (key: value)")
        return value

    def keys(self, value: Mapping[str, Any], path: str, allowed: tuple[str, ...],
             required: tuple[str, ...] = ()) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail(f"{path}.{key}" if path else str(key),
                                f"unknown key '{key}'; expected one of: {', '.join(allowed)}")
        for key in required:
            if key not in value:
                raise self.fail(f"{path}.{key}" if path else key, "required")

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, "expected text")
        text = str(value).strip()
        if not text:
            raise self.fail(path, "must not be empty")
        return text

    def texts(self, value: Any, path: str) -> tuple[str, ...]:
        """One text or a list of alternatives (labels sites word differently)."""
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.fail(path, "expected text or a list of alternatives")
        return tuple(self.text(v, f"{path}[{i}]" if isinstance(value, list) else path)
                     for i, v in enumerate(items))


@dataclass(frozen=True)
class DateOptions:
    """How a mapping reads dates: the order of day and month in numeric text dates (declared,
    never guessed) and whether a number in a date field is an Excel serial date."""

    order: str | None = None
    serial: bool = False

    @classmethod
    def parse(cls, r: ConfigReader, raw: Any, path: str) -> DateOptions:
        raw = r.mapping(raw or {}, path)
        r.keys(raw, path, ("order", "serial"))
        order = raw.get("order")
        if order is not None and order not in DATE_ORDERS:
            raise r.fail(f"{path}.order", f"expected one of: {', '.join(DATE_ORDERS)}")
        serial = raw.get("serial", False)
        if not isinstance(serial, bool):
            raise r.fail(f"{path}.serial", "expected true or false")
        return cls(order, serial)


def parse_date(cell: Any, options: DateOptions) -> Literal:
    """A date or date-time cell as an XSD literal. Accepts date cells, ISO 8601 text,
    ``09-May-2024`` (English month names), numeric text dates in the declared order, and Excel
    serial numbers when declared. ValueError says what is missing."""
    if isinstance(cell, datetime):
        if cell.time() == datetime.min.time():
            return Literal(cell.date().isoformat(), datatype=XSD.date)
        return Literal(cell.isoformat(), datatype=XSD.dateTime)
    if isinstance(cell, date):
        return Literal(cell.isoformat(), datatype=XSD.date)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if not options.serial:
            raise ValueError(f"{cell!r} is a number, not a date (if the workbook stores Excel "
                             "serial dates, declare dates: {serial: true})")
        moment = _EXCEL_EPOCH + timedelta(minutes=round(float(cell) * 1440))  # to the minute
        return parse_date(moment, options)
    text = str(cell).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return Literal(date.fromisoformat(text).isoformat(), datatype=XSD.date)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", text):
            return Literal(datetime.fromisoformat(text).isoformat(), datatype=XSD.dateTime)
    except ValueError:
        raise ValueError(f"not a date: '{text}'") from None
    named = _NAMED_DATE.match(text)
    if named:
        month = _MONTHS.get(named.group(2)[:3].casefold())
        if month is None:
            raise ValueError(f"unknown month '{named.group(2)}' in '{text}'")
        return _literal(text, int(named.group(3)), month, int(named.group(1)), named.groups()[3:])
    numeric = _NUMERIC_DATE.match(text)
    if numeric:
        if options.order is None:
            raise ValueError(f"'{text}' could be day-first or month-first; declare "
                             "dates: {order: day-first} (or month-first) in the mapping")
        first, second = int(numeric.group(1)), int(numeric.group(2))
        day, month = (first, second) if options.order == "day-first" else (second, first)
        return _literal(text, int(numeric.group(3)), month, day, numeric.groups()[3:])
    raise ValueError(f"not a date: '{text}' (expected ISO 8601, '09-May-2024', a numeric date "
                     "in the declared order or a date cell)")


def _literal(text: str, year: int, month: int, day: int, time: tuple[str | None, ...]
             ) -> Literal:
    try:
        if time[0] is None:
            return Literal(date(year, month, day).isoformat(), datatype=XSD.date)
        moment = datetime(year, month, day, int(time[0]), int(time[1] or 0), int(time[2] or 0))
    except ValueError:
        raise ValueError(f"not a date: '{text}'") from None
    return Literal(moment.isoformat(), datatype=XSD.dateTime)


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
    local_terms: dict[str, URIRef] = field(default_factory=dict)  # normalised local name → IRI
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

    def term(self, found: Located, scheme: URIRef | None, prefer: URIRef | None = None
             ) -> URIRef:
        label = self.text(found)
        local = self.local_terms.get(normalise_label(label))
        if local is not None:
            return local
        if scheme is None and prefer is not None and len(self.terms.candidates(label)) > 1:
            preferred = self.terms.candidates(label, prefer)
            if len(preferred) == 1:
                return next(iter(preferred))
        try:
            return self.terms.resolve(label, scheme).iri
        except CmckgError as exc:
            raise self.fail(found, exc.message) from None

    def unit(self, found: Located) -> URIRef:
        try:
            return resolve_unit(self.text(found))
        except CmckgError as exc:
            raise self.fail(found, exc.message) from None

    def number(self, found: Located) -> float:
        value = found.value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(self.text(found))
        except ValueError:
            raise self.fail(found, f"not a number: '{value}'") from None

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

    def node(self, g: RecordGraph, kind: str, cls: str, ident: str, found: Located
             ) -> URIRef:
        """A typed node with its identifier, located at ``found``."""
        iri = self.mint(kind, ident)
        g.locate(iri, found.location)
        g.triples.add((iri, RDF.type, CMC[cls]))
        g.triples.add((iri, CMC.identifier, Literal(ident)))
        return iri

    def material(self, g: RecordGraph, ident: str, name: str | None, kind: URIRef | None,
                 found: Located) -> URIRef:
        iri = self.node(g, "material", "Material", ident, found)
        if name:
            g.triples.add((iri, RDFS.label, Literal(name)))
        if kind is not None:
            g.triples.add((iri, CMC.materialType, kind))
        return iri

    def measurement(self, g: RecordGraph, iri: URIRef, entity: URIRef, concept: URIRef,
                    reported: Reported, unit: URIRef | None, found: Located,
                    stage: URIRef | None = None) -> URIRef | None:
        """A measurement of ``concept`` on ``entity``; None for a missing ("NT") result. A
        numeric or censored result without a unit takes the property's default unit."""
        if reported.kind is Censoring.MISSING:
            return None
        if reported.kind in (Censoring.NONE, Censoring.CENSORED) and unit is None:
            unit = self.terms.get(concept).default_unit if concept in self.terms else None
            if unit is None:
                raise self.fail(found, "the unit is missing and the property has no default "
                                       "unit")
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

    def lineage(self, g: RecordGraph, run: URIRef, used: list[URIRef],
                produced: list[URIRef]) -> None:
        """``prov:used``, ``prov:wasGeneratedBy`` and every (output, input) derivation."""
        for lot in used:
            g.triples.add((run, PROV.used, lot))
        for out in produced:
            g.triples.add((out, PROV.wasGeneratedBy, run))
            for into in used:
                g.triples.add((out, PROV.wasDerivedFrom, into))


def local_terms(r: ConfigReader, raw: Any, terms: TermIndex) -> dict[str, URIRef]:
    """A mapping's ``terms:`` (local name → canonical label, alias or ``cmct:`` IRI)."""
    out: dict[str, URIRef] = {}
    for local, canonical in r.mapping(raw or {}, "terms").items():
        label = r.text(canonical, f"terms.{local}")
        if label.startswith("cmct:"):
            label = str(CMCT) + label[5:]
        try:
            out[normalise_label(str(local))] = terms.resolve(label).iri
        except CmckgError as exc:
            raise r.fail(f"terms.{local}", exc.message) from None
    return out
