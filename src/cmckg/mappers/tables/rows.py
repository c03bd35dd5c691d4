"""Mapping rows to record graphs: every entity with ``record: own`` becomes one record graph per
distinct id, into which all rows naming that id merge (a conflicting single-valued fact keeps the
first row's value and is reported as a warning; a conflicting lot type or material is an
error).

Why one module of some 660 lines: ``RowMapper`` is the merge — the records, the facts already
set, the lot types and materials seen, the term and unit caches — and every method reads that
state; split, it would be passed around or held in a second class that only this one calls.
The parts that stand alone are apart: the mapping model (``model``), cell values
(``mappers.values``) and local-term aliases (``aliases``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD
from rdflib.term import Identifier

from ...errors import MappingError
from ...results import Censoring, parse_result, parse_specification, result_triples
from ...vocab import CMC, QUDT, IriMinter, TermIndex, normalise_label
from .. import values as vals
from ..base import MapContext, RecordGraph, number_literal, text_literal
from ..mapping import lookup_term
from .aliases import LocalTerms
from .model import (
    FIELDS,
    GENERIC_TYPES,
    DateField,
    EntitySpec,
    LotLink,
    MeasurementSpec,
    TableMapping,
    TermField,
    TypeChoice,
    UnitField,
)
from .reading import cell_text

_MEASUREMENT, _ON_ENTITY, _MEASURED_PROPERTY, _LOCAL_TERM = (
    CMC.Measurement,
    CMC.onEntity,
    CMC.measuredProperty,
    CMC.localTerm,
)
_TEXT_VALUE, _NUMERIC_VALUE, _UNIT, _STAGE = (
    CMC.textValue,
    QUDT.numericValue,
    QUDT.unit,
    CMC.stage,
)
_TYPE, _IDENTIFIER, _LABEL, _USED, _GENERATED_BY, _DERIVED_FROM = (
    RDF.type,
    CMC.identifier,
    RDFS.label,
    PROV.used,
    PROV.wasGeneratedBy,
    PROV.wasDerivedFrom,
)


@dataclass
class _Instance:
    spec: EntitySpec
    iri: URIRef
    parts: tuple[str, ...]
    kind: str


@dataclass
class _Record:
    graph: RecordGraph
    label: str
    facts: dict[tuple[URIRef, URIRef], tuple[Identifier, int]] = field(default_factory=dict)
    usages: dict[URIRef, dict[URIRef, int]] = field(default_factory=dict)  # run → lot → n
    warned: set[tuple[URIRef, URIRef, Identifier]] = field(default_factory=set)


class RowMapper:
    """Maps the rows of one table with one mapping; holds the records as they merge."""

    def __init__(self, mapping: TableMapping, context: MapContext, terms: TermIndex) -> None:
        self.m = mapping
        self.minter: IriMinter = context.minter
        self.file = context.display_path
        self.source_scope = context.source_sha256[:16]  # the local-terms record is per file
        self.index = terms
        self.records: dict[tuple[str, tuple[str, ...]], _Record] = {}
        self.types: dict[URIRef, tuple[str, int]] = {}
        self.identity: dict[tuple[URIRef, URIRef], tuple[Identifier, int, str]] = {}
        self.names: dict[URIRef, str] = {}
        self.local_terms = LocalTerms(self.minter, mapping.issuer)
        self._term_cache: dict[tuple[str, URIRef | None], tuple[URIRef, str | None]] = {}
        self._unit_cache: dict[str, URIRef] = {}
        self.seen: set[tuple[str, tuple[str, ...], tuple[Any, ...]]] = set()

    # -- per row

    def map_row(self, number: int, row: dict[str, Any]) -> None:
        where = f"row={number}"
        named: dict[str, _Instance | None] = {}
        for name, spec in self.m.entities.items():
            named[name] = self.instance(spec, row, where)
        owners: dict[str, _Record] = {}
        for name, inst in named.items():
            if inst is not None:
                owners[name] = self.record_of(inst, named, row, where)
        for name, inst in named.items():
            if inst is None:
                continue
            if inst.spec.record == "own":
                # a row that repeats what an earlier row said about this entity adds nothing
                seen = (name, inst.parts, tuple(row[c] for c in inst.spec.reads))
                if seen in self.seen:
                    continue
                self.seen.add(seen)
            self.emit(inst, owners[name], named, row, number)

    def instance(
        self, spec: EntitySpec, row: dict[str, Any], where: str, id_text: str | None = None
    ) -> _Instance | None:
        if id_text is not None:
            parts: tuple[str, ...] = (id_text,)
        else:
            rendered = [t.render(row) for t in spec.id]
            if any(p is None for p in rendered):
                if spec.required:
                    blank = next(
                        c
                        for t, p in zip(spec.id, rendered, strict=True)
                        if p is None
                        for c in t.columns
                        if row[c] is None
                    )
                    raise MappingError(
                        f"a required id is missing ({spec.path}.id)", self.file, where, blank
                    )
                return None
            parts = tuple(p for p in rendered if p is not None)
        issuer = self.m.issuer
        if spec.issuer is not None:
            issuer = spec.issuer.render(row) or ""
            if not issuer:
                raise MappingError(
                    f"the issuer is missing ({spec.path}.issuer)",
                    self.file,
                    where,
                    ", ".join(spec.issuer.columns),
                )
        iri = self.minter.mint(spec.kind, issuer, *parts)
        return _Instance(spec, iri, parts, spec.kind)

    def record_of(
        self, inst: _Instance, named: dict[str, _Instance | None], row: dict[str, Any], where: str
    ) -> _Record:
        spec = inst.spec
        while spec.record not in ("own", None):
            owner = named[spec.record]
            if owner is None:
                target = self.m.entities[spec.record]
                columns = ", ".join(c for t in target.id for c in t.columns)
                raise MappingError(
                    f"'{inst.spec.name}' lives in the record of '{spec.record}', whose id is "
                    "missing in this row",
                    self.file,
                    where,
                    columns,
                )
            inst, spec = owner, owner.spec
        key = (spec.name, inst.parts)
        record = self.records.get(key)
        if record is None:
            record_id = "/".join(inst.parts)
            graph_iri = self.minter.mint("graph", self.m.issuer, spec.name, *inst.parts)
            record = _Record(
                RecordGraph(graph_iri, record_id, self.file), f"{spec.name} '{record_id}'"
            )
            self.records[key] = record
        return record

    def emit(
        self,
        inst: _Instance,
        record: _Record,
        named: dict[str, _Instance | None],
        row: dict[str, Any],
        number: int,
    ) -> None:
        spec, s = inst.spec, inst.iri
        where = f"row={number}"
        record.graph.locate(s, where)
        cls = self.choose_type(spec.type, row, where, f"{spec.path}.type") if spec.type else None
        if cls is not None:
            self.check_type(inst, cls, number, spec)
            record.graph.triples.add((s, _TYPE, CMC[cls]))
        identifier = spec.identifier.render(row) if spec.identifier else inst.parts[-1]
        if identifier is not None:
            self.names.setdefault(s, identifier)
            self.set(record, s, _IDENTIFIER, text_literal(identifier), number, spec.path)
        if spec.label is not None and (label := spec.label.render(row)) is not None:
            self.set(record, s, _LABEL, text_literal(label), number, spec.path + ".label")
        for key, link in spec.links.items():
            target = self.link(link, record, named, row, number)
            if target is not None:
                field_name = self.field_name(link, key)
                self.set(record, s, FIELDS[key][1], target.iri, number, field_name)
                if key == "material":
                    self.check_identity(s, CMC.ofMaterial, target.iri, number, field_name)
        for links in spec.materials.values():  # bill_of_materials
            for link in links:
                target = self.link(link, record, named, row, number)
                if target is not None:
                    record.graph.triples.add((s, CMC.requiresMaterial, target.iri))
        for key, date_field in spec.dates.items():
            value = self.parse_date(date_field, row, where)
            if value is not None:
                self.set(record, s, FIELDS[key][1], value, number, date_field.column)
        for key, term_field in spec.terms.items():
            concept = self.term(term_field, row, where)
            if concept is not None:
                self.set(record, s, FIELDS[key][1], concept, number, term_field.template.text)
                if key == "material_type":
                    self.material_aliases(inst, row, concept, where)
        for key, column in spec.numbers.items():
            if row[column] is not None:
                number_value = self.parse_number(row[column], where, column)
                self.set(record, s, FIELDS[key][1], number_literal(number_value), number, column)
        for key, unit_field in spec.units.items():
            unit = self.unit(unit_field, row, where)
            if unit is not None:
                self.set(record, s, FIELDS[key][1], unit, number, unit_field.template.text)
        for key, template in spec.texts.items():
            if (text := template.render(row)) is not None:
                self.set(record, s, FIELDS[key][1], text_literal(text), number, template.text)
        if spec.criterion is not None and row[spec.criterion] is not None:
            self.criterion(record, s, row[spec.criterion], number, spec.criterion)
        if spec.lot_class is not None:
            lot_class = self.choose_type(spec.lot_class, row, where, f"{spec.path}.lot_class")
            if lot_class is not None:
                self.set(record, s, CMC.lotClass, CMC[lot_class], number, spec.path)
        if spec.lots:
            self.emit_run_lots(inst, record, named, row, number)
        for measurement in spec.measurements:
            self.measure(inst, record, measurement, named, row, number)

    def criterion(self, record: _Record, s: URIRef, cell: Any, number: int, column: str) -> None:
        """Acceptance criteria as written → limits, report-only or a qualitative criterion."""
        try:
            parsed = parse_specification(cell_text(cell), decimal=self.m.source.decimal)
        except ValueError as exc:
            raise MappingError(str(exc), self.file, f"row={number}", column) from None
        self.set(record, s, CMC.specificationText, text_literal(parsed.text), number, column)
        for predicate, limit in ((CMC.lowerLimit, parsed.lower), (CMC.upperLimit, parsed.upper)):
            if limit is not None:
                self.set(record, s, predicate, number_literal(limit), number, column)
        if parsed.report_only:
            self.set(record, s, CMC.reportOnly, Literal(True), number, column)

    def field_name(self, link: EntitySpec, key: str) -> str:
        if link.reference is not None:
            target = self.m.entities[link.reference]
            return ", ".join(c for t in target.id for c in t.columns) or key
        return ", ".join(c for t in link.id for c in t.columns) or key

    def link(
        self,
        link: EntitySpec,
        record: _Record,
        named: dict[str, _Instance | None],
        row: dict[str, Any],
        number: int,
        id_text: str | None = None,
    ) -> _Instance | None:
        if link.reference is not None:
            return named[link.reference]
        inst = self.instance(link, row, f"row={number}", id_text)
        if inst is not None and link.type is not None:
            self.emit(inst, record, named, row, number)
        return inst

    def emit_run_lots(
        self,
        run: _Instance,
        record: _Record,
        named: dict[str, _Instance | None],
        row: dict[str, Any],
        number: int,
    ) -> None:
        where = f"row={number}"
        used: list[_Instance] = []
        produced: list[_Instance] = []
        for key, links in run.spec.lots.items():
            for lot_link in links:
                lots = self.lots(lot_link, record, named, row, number)
                quantities = self.quantities(lot_link, row, where, len(lots))
                for lot, quantity in zip(lots, quantities, strict=True):
                    if key == "used":
                        used.append(lot)
                        record.graph.triples.add((run.iri, _USED, lot.iri))
                        if quantity is not None:
                            self.usage(run, lot, quantity, lot_link, record, row, number)
                    else:
                        produced.append(lot)
                        record.graph.locate(lot.iri, where)
                        record.graph.triples.add((lot.iri, _GENERATED_BY, run.iri))
        for out in produced:
            for into in used:
                record.graph.triples.add((out.iri, _DERIVED_FROM, into.iri))

    def lots(
        self,
        lot_link: LotLink,
        record: _Record,
        named: dict[str, _Instance | None],
        row: dict[str, Any],
        number: int,
    ) -> list[_Instance]:
        entity = lot_link.entity
        if lot_link.split is None:
            inst = self.link(entity, record, named, row, number)
            return [inst] if inst is not None else []
        cell = entity.id[0].render(row)
        if cell is None:
            return []
        out = []
        for part in cell.split(lot_link.split):
            if part.strip():
                inst = self.link(entity, record, named, row, number, part.strip())
                if inst is not None:
                    out.append(inst)
        return out

    def quantities(
        self, lot_link: LotLink, row: dict[str, Any], where: str, count: int
    ) -> list[float | None]:
        if lot_link.quantity is None or row[lot_link.quantity] is None:
            return [None] * count
        cell = row[lot_link.quantity]
        cells = cell.split(lot_link.split) if lot_link.split and isinstance(cell, str) else [cell]
        if len(cells) != count:
            raise MappingError(
                f"{len(cells)} quantities for {count} lots", self.file, where, lot_link.quantity
            )
        return [
            None
            if isinstance(c, str) and not c.strip()
            else self.parse_number(c, where, lot_link.quantity)
            for c in cells
        ]

    def usage(
        self,
        run: _Instance,
        lot: _Instance,
        quantity: float,
        lot_link: LotLink,
        record: _Record,
        row: dict[str, Any],
        number: int,
    ) -> None:
        where = f"row={number}"
        inputs = record.usages.setdefault(run.iri, {})
        position = inputs.setdefault(lot.iri, len(inputs) + 1)
        usage = self.minter.mint("run", self.m.issuer, *run.parts, "usage", position)
        g = record.graph
        g.locate(usage, where)
        g.triples.add((usage, _TYPE, CMC.Usage))
        g.triples.add((usage, CMC.ofRun, run.iri))
        g.triples.add((usage, CMC.usedLot, lot.iri))
        assert lot_link.unit is not None and lot_link.quantity is not None
        self.set(record, usage, _NUMERIC_VALUE, number_literal(quantity), number, lot_link.quantity)
        unit = self.unit(lot_link.unit, row, where)
        if unit is not None:
            self.set(record, usage, _UNIT, unit, number, lot_link.quantity)

    def measure(
        self,
        inst: _Instance,
        record: _Record,
        spec: MeasurementSpec,
        named: dict[str, _Instance | None],
        row: dict[str, Any],
        number: int,
    ) -> None:
        cell = row[spec.value]
        if cell is None:
            return
        where = f"row={number}"
        result = None
        if spec.reported is not None:
            try:
                result = parse_result(
                    cell,
                    decimal=self.m.source.decimal,
                    limits=spec.reported,
                    missing=self.m.source.missing,
                )
            except ValueError as exc:
                raise MappingError(str(exc), self.file, where, spec.value) from None
            if result.kind is Censoring.MISSING:
                return  # "NT": no result, not an error
        concept, alias = self.term_with_alias(spec.property, row, where)
        if concept is None:
            raise MappingError(
                f"the property is missing ({spec.path}.property)",
                self.file,
                where,
                ", ".join(spec.property.template.columns),
            )
        id_parts = spec.constant_id or [p for t in spec.id if (p := t.render(row)) is not None]
        m = self.minter.mint("measurement", self.m.issuer, inst.kind, *inst.parts, *id_parts)
        g = record.graph
        g.locate(m, where)
        add = g.triples.add
        add((m, _TYPE, _MEASUREMENT))
        add((m, _ON_ENTITY, inst.iri))
        add((m, _MEASURED_PROPERTY, concept))
        alias = spec.alias or alias
        if alias is not None:
            seen = "row=1" if spec.alias else where  # a wide column's name is read in row 1
            add((m, _LOCAL_TERM, self.local_terms.alias(alias, concept, seen)))
        if result is not None and result.kind is not Censoring.NONE:
            self.reported_result(record, m, spec, result, concept, row, number)
        elif spec.text:
            self.set(record, m, _TEXT_VALUE, text_literal(cell_text(cell)), number, spec.value)
        else:
            if result is not None:
                cell = result.value
            value = self.parse_number(cell, where, spec.value, spec.pattern)
            self.set(record, m, _NUMERIC_VALUE, number_literal(value), number, spec.value)
            unit = self.unit(spec.unit, row, where) if spec.unit is not None else None
            if unit is None:
                default = self.index.default_unit(concept)
                if default is None:
                    raise MappingError(
                        "the unit is missing and the property has no default unit",
                        self.file,
                        where,
                        ", ".join(spec.unit.template.columns) if spec.unit else spec.value,
                    )
                unit = default
            self.set(record, m, _UNIT, unit, number, spec.value)
        if spec.stage is not None and (stage := self.term(spec.stage, row, where)) is not None:
            self.set(record, m, _STAGE, stage, number, spec.stage.template.text)
        if spec.method is not None and (method := spec.method.render(row)) is not None:
            self.set(record, m, CMC.method, text_literal(method), number, spec.method.text)
        if spec.time is not None and (time := self.parse_date(spec.time, row, where)) is not None:
            self.set(record, m, CMC.resultTime, time, number, spec.time.column)
        if spec.device is not None:
            device = self.link(spec.device, record, named, row, number)
            if device is not None:
                self.set(record, m, CMC.device, device.iri, number, spec.path + ".device")

    # -- facts, identity and conflicts

    def set(
        self, record: _Record, s: URIRef, p: URIRef, o: Identifier, number: int, field_name: str
    ) -> None:
        """Add a single-valued fact; a different value from another row is reported (once per
        differing value)."""
        key = (s, p)
        old = record.facts.get(key)
        if old is None:
            record.facts[key] = (o, number)
            record.graph.triples.add((s, p, o))
        elif old[0] != o and not _same_number(old[0], o) and (s, p, o) not in record.warned:
            record.warned.add((s, p, o))
            record.graph.warnings.append(
                f"{self.file} row={number}, field '{field_name}': {record.label} has "
                f"{_show(o)} here but {_show(old[0])} in row={old[1]}; kept row={old[1]}'s "
                "value (not averaged)"
            )

    def check_identity(
        self, s: URIRef, p: URIRef, o: Identifier, number: int, field_name: str
    ) -> None:
        old = self.identity.get((s, p))
        if old is None:
            self.identity[(s, p)] = (o, number, field_name)
        elif old[0] != o:
            raise MappingError(
                f"lot '{self.names.get(s, s)}' is referenced with two different materials: "
                f"'{self.names.get(o, o)}' here and '{self.names.get(old[0], old[0])}' in "
                f"row={old[1]}",
                self.file,
                f"row={number}",
                field_name,
            )

    def check_type(self, inst: _Instance, cls: str, number: int, spec: EntitySpec) -> None:
        old = self.types.get(inst.iri)
        if old is None or old[0] in GENERIC_TYPES:
            self.types[inst.iri] = (cls, number)
        elif cls not in GENERIC_TYPES and cls != old[0]:
            raise MappingError(
                f"{inst.kind} '{'/'.join(inst.parts)}' is a {cls} here but a {old[0]} in "
                f"row={old[1]}",
                self.file,
                f"row={number}",
                ", ".join(c for t in spec.id for c in t.columns) or spec.path,
            )

    def choose_type(
        self, choice: TypeChoice, row: dict[str, Any], where: str, path: str
    ) -> str | None:
        if choice.constant is not None:
            return choice.constant
        assert choice.column is not None
        cell = row[choice.column]
        if cell is not None:
            key = normalise_label(cell_text(cell))
            for text, name in choice.choices:
                if text == key:
                    return name
        if choice.default is None:
            raise MappingError(
                f"no type for '{cell}' in {path}.map (and no default)",
                self.file,
                where,
                choice.column,
            )
        return choice.default

    # -- values

    def term(self, term_field: TermField, row: dict[str, Any], where: str) -> URIRef | None:
        return self.term_with_alias(term_field, row, where)[0]

    def term_with_alias(
        self, term_field: TermField, row: dict[str, Any], where: str
    ) -> tuple[URIRef | None, str | None]:
        if term_field.resolved is not None:
            return term_field.resolved, term_field.local
        text = term_field.template.render(row)
        if text is None:
            return None, None
        key = (text, term_field.scheme)
        cached = self._term_cache.get(key)
        if cached is None:
            local = self.m.local_terms.get(normalise_label(text))
            if local is not None:
                cached = (local[1], local[0])
            else:
                field_name = ", ".join(term_field.template.columns)
                concept = lookup_term(
                    self.index,
                    text,
                    term_field.scheme,
                    term_field.prefer,
                    source=self.file,
                    location=where,
                    field_name=field_name,
                )
                cached = (concept, None)
            self._term_cache[key] = cached
        concept, alias = cached
        if alias is not None:
            self.local_terms.alias(alias, concept, where)
        return cached

    def unit(self, unit_field: UnitField, row: dict[str, Any], where: str) -> URIRef | None:
        if unit_field.resolved is not None:
            return unit_field.resolved
        text = unit_field.template.render(row)
        if text is None:
            return None
        unit = self._unit_cache.get(text)
        if unit is None:
            unit = self._unit_cache[text] = vals.unit_iri(
                text, vals.Where(self.file, where, ", ".join(unit_field.template.columns))
            )
        return unit

    def reported_result(
        self,
        record: _Record,
        m: URIRef,
        spec: MeasurementSpec,
        result: Any,
        concept: URIRef,
        row: dict[str, Any],
        number: int,
    ) -> None:
        """A censored or qualitative result's triples (``cmckg.results``)."""
        where = f"row={number}"
        unit = None
        if result.kind is Censoring.CENSORED:
            unit = self.unit(spec.unit, row, where) if spec.unit is not None else None
            unit = unit or self.index.default_unit(concept)
            if unit is None:
                raise MappingError(
                    "the unit of a censored result is missing", self.file, where, spec.value
                )
        for _, p, o in result_triples(m, result, unit):
            self.set(record, m, p, o, number, spec.value)

    def parse_number(
        self, cell: Any, where: str, column: str, pattern: re.Pattern[str] | None = None
    ) -> float:
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            return float(cell)
        text = cell_text(cell).strip()
        if pattern is not None:
            match = pattern.search(text)
            if match is None:
                raise MappingError(
                    f"'{text}' does not match the pattern '{pattern.pattern}'",
                    self.file,
                    where,
                    column,
                )
            text = match.group(1)
        options = self.m.source
        return vals.parse_number(
            text, vals.Where(self.file, where, column), options.decimal, options.thousands
        )

    def parse_date(self, date_field: DateField, row: dict[str, Any], where: str) -> Literal | None:
        cell = row[date_field.column]
        if cell is None:
            return None
        place = vals.Where(self.file, where, date_field.column)
        if isinstance(cell, date):
            return vals.cell_date_literal(cell, place)
        text = cell_text(cell)
        if date_field.format is None:
            return vals.iso_literal(text, place)
        return vals.formatted_literal(text, date_field.format, place, date_field.months)

    # -- aliases

    def material_aliases(
        self, inst: _Instance, row: dict[str, Any], concept: URIRef, where: str
    ) -> None:
        """A material's local identifier and label name its canonical material type."""
        spec = inst.spec
        identifier = spec.identifier.render(row) if spec.identifier else inst.parts[-1]
        label = spec.label.render(row) if spec.label else None
        for name in (identifier, label):
            if name:
                self.local_terms.alias(name, concept, where)

    def alias_record(self) -> RecordGraph | None:
        return self.local_terms.record(self.file, self.source_scope, self.m.file)


def _same_number(a: Identifier, b: Identifier) -> bool:
    return (
        isinstance(a, Literal)
        and isinstance(b, Literal)
        and a.datatype == XSD.double
        and b.datatype == XSD.double
        and float(a) == float(b)
    )


def _show(term: Identifier) -> str:
    if isinstance(term, Literal):
        return f"'{term}'"
    text = str(term)
    return text.rsplit("#", 1)[-1] if "#" in text else f"<{text}>"
