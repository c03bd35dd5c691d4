"""Declarative tabular mapping: CSV/TSV/XLSX rows → entities, links and measurements.

One YAML format (``examples/MAPPING.md``) covers long results tables, lot tables, process-run
tables, specification tables and wide batch tables. A mapping declares the entities each row
talks about; every entity with ``record: own`` becomes one record graph per distinct id, into
which all rows naming that id merge (a conflicting single-valued fact keeps the first row's value
and is reported as a warning; a conflicting lot type or material is an error).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, ClassVar

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, XSD
from rdflib.term import Identifier

from ..errors import CmckgError, ConfigError, MappingError
from ..results import Censoring, parse_result, parse_specification, result_triples
from ..units import resolve_unit
from ..vocab import CMC, CMCT, QUDT, IriMinter, TermIndex, normalise_label, term_index
from . import register
from .base import MapContext, RecordGraph, number_literal, text_literal, typed_literal
from .wide import expand_header_columns

MAPPING_FORMAT_VERSION = 1

LOT_TYPES = ("RawMaterialLot", "IntermediateLot", "DrugSubstanceBatch", "DrugProductBatch",
             "MaterialLot")
_GENERIC_TYPES = {"MaterialLot"}
KIND_OF_TYPE: dict[str, str] = {
    **dict.fromkeys(LOT_TYPES, "lot"),
    "Material": "material",
    "Product": "product",
    "Supplier": "supplier",
    "Site": "site",
    "Equipment": "equipment",
    "ProcessVersion": "process-version",
    "ProcessRun": "run",
    "Sample": "sample",
    "Specification": "specification",
}

# field name → (value kind, predicate); value kinds: link:<kind>, date, term:<scheme>, number,
# unit, text, lotclass
_FIELDS: dict[str, tuple[str, URIRef | None]] = {
    "material": ("link:material", CMC.ofMaterial),
    "supplier": ("link:supplier", CMC.suppliedBy),
    "product": ("link:product", CMC.ofProduct),
    "site": ("link:site", CMC.atSite),
    "equipment": ("link:equipment", CMC.usedEquipment),
    "process_version": ("link:process-version", CMC.processVersion),
    "sample_of": ("link:lot", CMC.sampleOf),
    "manufacture_date": ("date", CMC.manufactureDate),
    "expiry_date": ("date", CMC.expiryDate),
    "start": ("date", PROV.startedAtTime),
    "end": ("date", PROV.endedAtTime),
    "material_type": ("term:Materials", CMC.materialType),
    "unit_operation": ("term:UnitOperations", CMC.unitOperation),
    "property": ("term:", CMC.forProperty),
    "stage": ("term:Stages", CMC.stage),
    "lower": ("number", CMC.lowerLimit),
    "criterion": ("criterion", CMC.specificationText),
    "upper": ("number", CMC.upperLimit),
    "unit": ("unit", QUDT.unit),
    "version": ("text", CMC.version),
    "lot_class": ("lotclass", CMC.lotClass),
    "used": ("lots", PROV.used),
    "produced": ("lots", PROV.wasGeneratedBy),
}
_FIELDS_OF_KIND: dict[str, tuple[str, ...]] = {
    "lot": ("material", "supplier", "product", "site", "manufacture_date", "expiry_date"),
    "material": ("material_type",),
    "run": ("unit_operation", "used", "produced", "equipment", "site", "process_version",
            "start", "end"),
    "sample": ("sample_of",),
    "specification": ("product", "property", "stage", "lower", "upper", "criterion", "unit",
                      "version", "lot_class"),
}
_COMMON_KEYS = ("type", "id", "identifier", "label", "issuer", "record", "required",
                "measurements")
_MEASUREMENT, _ON_ENTITY, _MEASURED_PROPERTY, _LOCAL_TERM = (
    CMC.Measurement, CMC.onEntity, CMC.measuredProperty, CMC.localTerm)
_TEXT_VALUE, _NUMERIC_VALUE, _UNIT, _STAGE = (
    CMC.textValue, QUDT.numericValue, QUDT.unit, CMC.stage)
_TYPE, _IDENTIFIER, _LABEL, _USED, _GENERATED_BY, _DERIVED_FROM = (
    RDF.type, CMC.identifier, RDFS.label, PROV.used, PROV.wasGeneratedBy, PROV.wasDerivedFrom)
# a measured property named ambiguously ("pH") is read in the scheme that fits its entity
_PREFERRED_SCHEME = {"lot": CMCT.QualityAttributes, "sample": CMCT.QualityAttributes,
                     "product": CMCT.QualityAttributes, "run": CMCT.ProcessParameters}

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_WORD = re.compile(r"[^\W\d_]+")


# ---------------------------------------------------------------------------------------------
# The mapping model (parsed and checked once, before any row is read)


class _ConfigReader:
    """Raise ConfigErrors that name the mapping file and the key path."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, message: str) -> ConfigError:
        return ConfigError(message, self.file, path)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping (key: value), got {_kind_of(value)}")
        return value

    def keys(self, value: Mapping[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                raise self.fail(where, f"unknown key '{key}'; expected one of: "
                                       f"{', '.join(allowed)}")

    def text(self, value: Any, path: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, f"expected text, got {_kind_of(value)}")
        return str(value)


def _kind_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'" if value is not None else "nothing"


@dataclass(frozen=True)
class Template:
    """Text with ``{column}`` placeholders; renders to None when a referenced cell is missing."""

    text: str
    pieces: tuple[tuple[bool, str], ...]  # (is_column, literal text or column name)

    @classmethod
    def parse(cls, reader: _ConfigReader, value: Any, path: str) -> Template:
        text = reader.text(value, path)
        pieces: list[tuple[bool, str]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > position:
                pieces.append((False, text[position:match.start()]))
            token = match.group(0)
            if token in ("{{", "}}"):
                pieces.append((False, token[0]))
            else:
                column = match.group(1).strip()
                if not column:
                    raise reader.fail(path, f"empty column placeholder in '{text}'")
                pieces.append((True, column))
            position = match.end()
        if position < len(text):
            pieces.append((False, text[position:]))
        if any("{" in p or "}" in p for is_col, p in pieces if not is_col):
            raise reader.fail(path, f"unbalanced brace in '{text}' (write {{{{ or }}}})")
        return cls(text, tuple(pieces))

    @cached_property
    def columns(self) -> tuple[str, ...]:
        return tuple(p for is_col, p in self.pieces if is_col)

    @cached_property
    def constant(self) -> bool:
        return not self.columns

    def render(self, row: Mapping[str, Any]) -> str | None:
        out = []
        for is_column, piece in self.pieces:
            if is_column:
                value = row[piece]
                if value is None:
                    return None
                out.append(_cell_text(value))
            else:
                out.append(piece)
        return "".join(out).strip() or None


@dataclass(frozen=True)
class TypeChoice:
    """A class name, constant or chosen per row from a column's value."""

    constant: str | None
    column: str | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (normalised cell text, class name)
    default: str | None = None

    @property
    def names(self) -> set[str]:
        names = {n for _, n in self.choices} | {self.constant, self.default}
        return {n for n in names if n}


@dataclass(frozen=True)
class DateField:
    column: str
    format: str | None = None
    months: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class TermField:
    template: Template
    scheme: URIRef | None
    resolved: URIRef | None = None  # for a constant template
    prefer: URIRef | None = None  # the scheme that settles an ambiguous label
    local: str | None = None  # a constant template's name when it is one of the mapping's terms


def lookup_term(index: TermIndex, label: str, scheme: URIRef | None, prefer: URIRef | None,
                **where: str | None) -> URIRef:
    """The concept ``label`` names (a label, an alias, ``cmct:Name`` or the full IRI); an
    ambiguous label is settled by ``prefer`` if it can be."""
    if label.startswith("cmct:"):
        label = str(CMCT) + label[5:]
    if scheme is None and prefer is not None and len(index.candidates(label)) > 1:
        preferred = index.candidates(label, prefer)
        if len(preferred) == 1:
            return next(iter(preferred))
    return index.resolve(label, scheme, source=where.get("source"),
                         location=where.get("location"), field_name=where.get("field_name")).iri


@dataclass(frozen=True)
class UnitField:
    template: Template
    resolved: URIRef | None = None


@dataclass(frozen=True)
class LotLink:
    """One entry of a run's ``used`` / ``produced`` list."""

    entity: EntitySpec
    split: str | None = None
    quantity: str | None = None
    unit: UnitField | None = None


@dataclass(frozen=True)
class MeasurementSpec:
    value: str
    path: str
    property: TermField
    unit: UnitField | None
    stage: TermField | None
    method: Template | None
    time: DateField | None
    device: EntitySpec | None
    pattern: re.Pattern[str] | None
    text: bool
    id: tuple[Template, ...]
    alias: str | None  # the wide column's name, an alias of the property
    reported: dict[str, float] | None = None  # results as reported ("<0.5", "NT"); LOQ etc.

    @cached_property
    def constant_id(self) -> tuple[str, ...] | None:
        """The id parts when no template reads a cell (then they are the same on every row)."""
        if any(not t.constant for t in self.id):
            return None
        return tuple(p for t in self.id if (p := t.render({})) is not None)


@dataclass
class EntitySpec:
    name: str
    path: str
    kind: str
    type: TypeChoice | None
    id: tuple[Template, ...]
    identifier: Template | None = None
    label: Template | None = None
    issuer: Template | None = None
    record: str | None = "own"  # "own", another entity's name, or None (inline: parent's record)
    required: bool = False
    reference: str | None = None  # a link to a named entity instead of an inline one
    links: dict[str, EntitySpec] = field(default_factory=dict)
    lots: dict[str, list[LotLink]] = field(default_factory=dict)
    dates: dict[str, DateField] = field(default_factory=dict)
    terms: dict[str, TermField] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    units: dict[str, UnitField] = field(default_factory=dict)
    texts: dict[str, Template] = field(default_factory=dict)
    criterion: str | None = None  # a column of acceptance criteria as written ("NMT 2.0")
    lot_class: TypeChoice | None = None
    measurements: list[MeasurementSpec] = field(default_factory=list)
    reads: tuple[str, ...] = ()  # every column whose cell can change what this entity writes


@dataclass(frozen=True)
class SourceOptions:
    format: str | None = None
    delimiter: str | None = None
    decimal: str = "."
    thousands: str = ""
    encoding: str = "utf-8"
    sheet: str | None = None
    missing: frozenset[str] = frozenset()


@dataclass
class TableMapping:
    """A parsed, checked mapping config."""

    file: str
    issuer: str
    source: SourceOptions
    local_terms: dict[str, tuple[str, URIRef]]  # normalised local name → (local name, concept)
    entities: dict[str, EntitySpec]
    columns: dict[str, str]  # every column the mapping reads → the key path that reads it

    @classmethod
    def parse(cls, config: Mapping[str, Any], terms: TermIndex | None = None) -> TableMapping:
        return _MappingParser(config, terms or term_index()).parse()


class _MappingParser:
    TOP_KEYS = ("mapping", "mapper", "issuer", "source", "terms", "entities", "vocab",
                "__file__")
    SOURCE_KEYS = ("format", "delimiter", "decimal", "thousands", "encoding", "sheet", "missing")
    MEASUREMENT_KEYS = ("value", "property", "unit", "stage", "method", "time", "device",
                        "pattern", "text", "id", "reported")

    def __init__(self, config: Mapping[str, Any], terms: TermIndex) -> None:
        self.config = config
        self.index = terms
        self.r = _ConfigReader(str(config.get("__file__", "mapping")))
        self.columns: dict[str, str] = {}
        self.local_terms: dict[str, tuple[str, URIRef]] = {}

    def parse(self) -> TableMapping:
        r, config = self.r, self.config
        r.mapping(config, "")
        r.keys(config, "", self.TOP_KEYS)
        version = config.get("mapping")
        if version != MAPPING_FORMAT_VERSION:
            raise r.fail("mapping", f"expected format version {MAPPING_FORMAT_VERSION} "
                                    f"('mapping: 1'), got {_kind_of(version)}")
        if "issuer" not in config:
            raise r.fail("issuer", "required: the system or site that issued this table's ids")
        issuer = r.text(config["issuer"], "issuer").strip()
        if not issuer:
            raise r.fail("issuer", "must not be empty")
        source = self.source(config.get("source") or {})
        for local, canonical in r.mapping(config.get("terms") or {}, "terms").items():
            path = f"terms.{local}"
            label = r.text(canonical, path)
            concept = self._resolve(label, None, path)
            self.local_terms[normalise_label(str(local))] = (str(local), concept)
        if not config.get("entities"):
            raise r.fail("entities", "required: at least one entity")
        raw_entities = r.mapping(config["entities"], "entities")
        names = {str(n) for n in raw_entities}
        entities: dict[str, EntitySpec] = {}
        for name, spec in raw_entities.items():
            entities[str(name)] = self.entity(spec, f"entities.{name}", str(name), names,
                                              raw_entities, inline_kind=None)
        self.check_records(entities)
        self.check_references(entities)
        for spec in entities.values():
            spec.reads = tuple(sorted(_columns_read(spec, entities)))
        return TableMapping(r.file, issuer, source, self.local_terms, entities, self.columns)

    # -- sections

    def source(self, raw: Any) -> SourceOptions:
        r = self.r
        raw = r.mapping(raw, "source")
        r.keys(raw, "source", self.SOURCE_KEYS)
        fmt = raw.get("format")
        if fmt is not None and fmt not in ("csv", "tsv", "xlsx"):
            raise r.fail("source.format", f"unknown format '{fmt}'; expected csv, tsv or xlsx")
        delimiter = raw.get("delimiter")
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
            raise r.fail("source.delimiter", "must be one character")
        decimal = raw.get("decimal", ".")
        if decimal not in (".", ","):
            raise r.fail("source.decimal", "must be '.' or ','")
        thousands = raw.get("thousands", "") or ""
        if thousands not in ("", ",", ".", " ", "'", "\u00a0") or thousands == decimal:
            raise r.fail("source.thousands", "must be one of , . ' or a space, unlike decimal")
        encoding = r.text(raw.get("encoding", "utf-8"), "source.encoding")
        try:
            "".encode(encoding)
        except LookupError:
            raise r.fail("source.encoding", f"unknown encoding '{encoding}'") from None
        missing = raw.get("missing") or []
        if not isinstance(missing, list):
            raise r.fail("source.missing", "expected a list of cell texts")
        sheet = raw.get("sheet")
        return SourceOptions(
            format=fmt, delimiter=delimiter, decimal=decimal, thousands=thousands,
            encoding=encoding, sheet=None if sheet is None else r.text(sheet, "source.sheet"),
            missing=frozenset(r.text(m, f"source.missing[{i}]").strip()
                              for i, m in enumerate(missing)),
        )

    def entity(self, raw: Any, path: str, name: str, names: set[str],
               raw_entities: Mapping[str, Any], inline_kind: str | None,
               usage: bool = False) -> EntitySpec:
        """An entity spec; ``inline_kind`` is set for an inline link (its kind from the role),
        ``usage`` for an entry of a run's ``used``/``produced`` (split, quantity, unit)."""
        r = self.r
        if inline_kind is not None and isinstance(raw, str):
            if raw not in names:
                raise r.fail(path, f"no entity named '{raw}' "
                                   f"(entities: {', '.join(sorted(names))})")
            other = raw_entities[raw]
            kind = self._kind(other, f"entities.{raw}") if isinstance(other, Mapping) else None
            if kind is not None and kind != inline_kind:
                raise r.fail(path, f"'{raw}' is a {kind}, but this link needs a {inline_kind}")
            return EntitySpec(raw, path, inline_kind, None, (), reference=raw)
        raw = r.mapping(raw, path)
        inline = inline_kind is not None
        allowed = _COMMON_KEYS
        usage_keys = ("split", "quantity", "unit") if usage else ()
        if inline:
            allowed = tuple(k for k in _COMMON_KEYS if k not in ("record", "required"))
            allowed += usage_keys
        type_choice = None
        if "type" in raw:
            type_choice = self.type_choice(raw["type"], f"{path}.type", KIND_OF_TYPE)
            kind = self._kind(raw, path)
        elif inline:
            kind = inline_kind
        else:
            raise r.fail(f"{path}.type", f"required; one of: {', '.join(KIND_OF_TYPE)}")
        if inline and kind != inline_kind:
            raise r.fail(f"{path}.type", f"this link needs a {inline_kind}, not a {kind}")
        fields = _FIELDS_OF_KIND.get(kind, ()) if type_choice is not None else ()
        keys = allowed + fields if type_choice is not None else ("id", "issuer", *usage_keys)
        r.keys(raw, path, keys)
        if "id" not in raw:
            raise r.fail(f"{path}.id", "required: a template or a list of templates")
        ids = raw["id"] if isinstance(raw["id"], list) else [raw["id"]]
        if not ids:
            raise r.fail(f"{path}.id", "must not be empty")
        spec = EntitySpec(
            name=name, path=path, kind=kind, type=type_choice,
            id=tuple(self.id_part(v, f"{path}.id[{i}]") for i, v in enumerate(ids)),
            record=None if inline else "own",
        )
        if "identifier" in raw:
            spec.identifier = self.template(raw["identifier"], f"{path}.identifier")
        if "label" in raw:
            spec.label = self.template(raw["label"], f"{path}.label")
        if "issuer" in raw:
            spec.issuer = self.template(raw["issuer"], f"{path}.issuer")
        if "record" in raw:
            spec.record = r.text(raw["record"], f"{path}.record")
            if spec.record != "own" and spec.record not in names:
                raise r.fail(f"{path}.record", f"'own' or the name of another entity, not "
                                               f"'{spec.record}'")
        if "required" in raw:
            if not isinstance(raw["required"], bool):
                raise r.fail(f"{path}.required", "expected true or false")
            spec.required = raw["required"]
        for key in fields:
            if key in raw:
                self.field(spec, key, raw[key], f"{path}.{key}", names, raw_entities)
        if kind == "specification" and "property" not in spec.terms:
            raise r.fail(f"{path}.property", "required for a Specification")
        if "measurements" in raw:
            spec.measurements = self.measurements(raw["measurements"], f"{path}.measurements",
                                                  names, raw_entities,
                                                  _PREFERRED_SCHEME.get(kind))
        return spec

    def _kind(self, raw: Mapping[str, Any], path: str) -> str | None:
        value = raw.get("type")
        choice = self.type_choice(value, f"{path}.type", KIND_OF_TYPE) if value else None
        if choice is None:
            return None
        kinds = {KIND_OF_TYPE[n] for n in choice.names}
        if len(kinds) != 1:
            raise self.r.fail(f"{path}.type", "all choices must be the same kind of thing "
                                              f"(got {', '.join(sorted(kinds))})")
        return kinds.pop()

    def type_choice(self, raw: Any, path: str, allowed: Mapping[str, str]) -> TypeChoice:
        r = self.r

        def check(name: Any, where: str) -> str:
            if name not in allowed:
                raise r.fail(where, f"unknown type '{name}'; expected one of: "
                                    f"{', '.join(allowed)}")
            return str(name)

        if isinstance(raw, str):
            return TypeChoice(check(raw, path))
        raw = r.mapping(raw, path)
        r.keys(raw, path, ("column", "map", "default"))
        if "column" not in raw or "map" not in raw:
            raise r.fail(path, "a per-row type needs 'column' and 'map'")
        column = self.column(raw["column"], f"{path}.column")
        choices = tuple(
            (normalise_label(str(k)), check(v, f"{path}.map.{k}"))
            for k, v in r.mapping(raw["map"], f"{path}.map").items()
        )
        default = check(raw["default"], f"{path}.default") if "default" in raw else None
        return TypeChoice(None, column, choices, default)

    def field(self, spec: EntitySpec, key: str, raw: Any, path: str, names: set[str],
              raw_entities: Mapping[str, Any]) -> None:
        value_kind, _ = _FIELDS[key]
        if value_kind.startswith("link:"):
            spec.links[key] = self.entity(raw, path, f"{spec.name}.{key}", names, raw_entities,
                                          inline_kind=value_kind[5:])
        elif value_kind == "lots":
            items = raw if isinstance(raw, list) else [raw]
            spec.lots[key] = [self.lot_link(item, f"{path}[{i}]", spec.name, names, raw_entities)
                              for i, item in enumerate(items)]
        elif value_kind == "date":
            spec.dates[key] = self.date(raw, path)
        elif value_kind.startswith("term:"):
            scheme = CMCT[value_kind[5:]] if value_kind[5:] else None
            spec.terms[key] = self.term(raw, path, scheme)
        elif value_kind == "number":
            spec.numbers[key] = self.column(raw, path)
        elif value_kind == "unit":
            spec.units[key] = self.unit(raw, path)
        elif value_kind == "text":
            spec.texts[key] = self.template(raw, path)
        elif value_kind == "criterion":
            spec.criterion = self.column(raw, path)
        elif value_kind == "lotclass":
            spec.lot_class = self.type_choice(raw, path, dict.fromkeys(LOT_TYPES, "lot"))

    def lot_link(self, raw: Any, path: str, owner: str, names: set[str],
                 raw_entities: Mapping[str, Any]) -> LotLink:
        entity = self.entity(raw, path, f"{owner}.lot", names, raw_entities, inline_kind="lot",
                             usage=True)
        if not isinstance(raw, Mapping):
            return LotLink(entity)
        split = raw.get("split")
        if split is not None and (not isinstance(split, str) or not split):
            raise self.r.fail(f"{path}.split", "expected the separator text, e.g. ';'")
        if split is not None and len(entity.id) != 1:
            raise self.r.fail(f"{path}.split", "a split lot link needs a single-part id")
        quantity = self.column(raw["quantity"], f"{path}.quantity") if "quantity" in raw else None
        unit = self.unit(raw["unit"], f"{path}.unit") if "unit" in raw else None
        if quantity is not None and unit is None:
            raise self.r.fail(f"{path}.unit", "required with a quantity")
        return LotLink(entity, split, quantity, unit)

    def measurements(self, raw: Any, path: str, names: set[str],
                     raw_entities: Mapping[str, Any], prefer: URIRef | None
                     ) -> list[MeasurementSpec]:
        r = self.r
        if isinstance(raw, Mapping):
            items = [(f"{path}.{col}", str(col), spec) for col, spec in raw.items()]
        elif isinstance(raw, list):
            items = [(f"{path}[{i}]", None, spec) for i, spec in enumerate(raw)]
        else:
            raise r.fail(path, "expected a mapping keyed by column, or a list")
        out = []
        for item_path, column, spec in items:
            spec = r.mapping(spec, item_path)
            r.keys(spec, item_path, self.MEASUREMENT_KEYS if column is None
                   else self.MEASUREMENT_KEYS[1:])
            if column is None:
                if "value" not in spec:
                    raise r.fail(f"{item_path}.value", "required: the column holding the value")
                column = str(spec["value"])
            value = self.column(column, f"{item_path}.value" if "value" in spec else item_path)
            if "property" not in spec:
                raise r.fail(f"{item_path}.property", "required: the measured property (a term)")
            prop = self.term(spec["property"], f"{item_path}.property", None, prefer)
            text = spec.get("text", False)
            if not isinstance(text, bool):
                raise r.fail(f"{item_path}.text", "expected true or false")
            reported = self.reported(spec.get("reported"), f"{item_path}.reported")
            if not text and reported is None and "unit" not in spec:
                raise r.fail(f"{item_path}.unit", "required for a numeric value (or text: true)")
            pattern = None
            if "pattern" in spec:
                try:
                    pattern = re.compile(r.text(spec["pattern"], f"{item_path}.pattern"))
                except re.error as exc:
                    raise r.fail(f"{item_path}.pattern", f"not a valid regex: {exc}") from None
                if pattern.groups < 1:
                    raise r.fail(f"{item_path}.pattern", "needs a group capturing the number")
            stage = (self.term(spec["stage"], f"{item_path}.stage", CMCT.Stages)
                     if "stage" in spec else None)
            if "id" in spec:
                raw_ids = spec["id"] if isinstance(spec["id"], list) else [spec["id"]]
                ids = tuple(self.template(v, f"{item_path}.id[{i}]")
                            for i, v in enumerate(raw_ids))
            else:
                parts = [Template(value, ((False, value),))]
                parts += [t.template for t in (prop, stage)
                          if t is not None and not t.template.constant]
                ids = tuple(parts)
            out.append(MeasurementSpec(
                value=value, path=item_path, property=prop,
                unit=self.unit(spec["unit"], f"{item_path}.unit") if "unit" in spec else None,
                stage=stage,
                method=(self.template(spec["method"], f"{item_path}.method")
                        if "method" in spec else None),
                time=self.date(spec["time"], f"{item_path}.time") if "time" in spec else None,
                device=(self.entity(spec["device"], f"{item_path}.device", "device", names,
                                    raw_entities, inline_kind="equipment")
                        if "device" in spec else None),
                pattern=pattern, text=text, id=ids,
                alias=value if isinstance(raw, Mapping) else None, reported=reported,
            ))
        return out

    def reported(self, raw: Any, path: str) -> dict[str, float] | None:
        """``reported: true`` or ``reported: {LOQ: 0.5}``: read cells as reported results."""
        if raw is None or raw is False:
            return None
        if raw is True:
            return {}
        limits = {}
        for name, value in self.r.mapping(raw, path).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.r.fail(f"{path}.{name}", "expected the limit as a number")
            limits[str(name)] = float(value)
        return limits

    # -- values

    def column(self, raw: Any, path: str) -> str:
        name = self.r.text(raw, path).strip()
        if not name:
            raise self.r.fail(path, "expected a column name")
        self.columns.setdefault(name, path)
        return name

    def id_part(self, raw: Any, path: str) -> Template:
        template = self.template(raw, path)
        if template.constant and template.render({}) is None:
            raise self.r.fail(path, "an id part must not be empty")
        return template

    def template(self, raw: Any, path: str) -> Template:
        template = Template.parse(self.r, raw, path)
        for column in template.columns:
            self.columns.setdefault(column, path)
        return template

    def date(self, raw: Any, path: str) -> DateField:
        r = self.r
        if not isinstance(raw, Mapping):
            return DateField(self.column(raw, path))
        r.keys(raw, path, ("column", "format", "months"))
        if "column" not in raw:
            raise r.fail(f"{path}.column", "required")
        fmt = r.text(raw["format"], f"{path}.format") if "format" in raw else None
        if fmt is not None and not re.search(r"%[yYmbBd]", fmt):
            raise r.fail(f"{path}.format", f"'{fmt}' has no date directive (%Y, %m, %d, …)")
        months: list[tuple[str, int]] = []
        for local, number in r.mapping(raw.get("months") or {}, f"{path}.months").items():
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 12:
                raise r.fail(f"{path}.months.{local}", "expected a month number 1–12")
            months.append((str(local).casefold(), number))
        if months and (fmt is None or not re.search(r"%[bB]", fmt)):
            raise r.fail(f"{path}.format", "month names need a format with %b or %B")
        return DateField(self.column(raw["column"], f"{path}.column"), fmt, tuple(months))

    def term(self, raw: Any, path: str, scheme: URIRef | None,
             prefer: URIRef | None = None) -> TermField:
        template = self.template(raw, path)
        if not template.constant:
            return TermField(template, scheme, None, prefer)
        text = template.render({}) or ""
        local = self.local_terms.get(normalise_label(text))
        return TermField(template, scheme, self._resolve(text, scheme, path, prefer), prefer,
                         local[0] if local else None)

    def unit(self, raw: Any, path: str) -> UnitField:
        template = self.template(raw, path)
        if not template.constant:
            return UnitField(template)
        try:
            return UnitField(template, resolve_unit(template.render({})))
        except CmckgError as exc:
            raise self.r.fail(path, exc.message) from None

    def _resolve(self, label: str, scheme: URIRef | None, path: str,
                 prefer: URIRef | None = None) -> URIRef:
        local = self.local_terms.get(normalise_label(label))
        if local is not None:
            return local[1]
        try:
            return lookup_term(self.index, label, scheme, prefer)
        except CmckgError as exc:
            raise self.r.fail(path, exc.message) from None

    # -- whole-mapping checks

    def check_records(self, entities: dict[str, EntitySpec]) -> None:
        for name, spec in entities.items():
            seen = [name]
            current = spec
            while current.record not in ("own", None):
                if current.record in seen:
                    raise self.r.fail(f"{spec.path}.record",
                                      f"records form a cycle: {' → '.join([*seen, name])}")
                seen.append(current.record)
                current = entities[current.record]

    def check_references(self, entities: dict[str, EntitySpec]) -> None:
        """Named links were checked by kind on parse; make sure none points at itself."""
        for name, spec in entities.items():
            for key, link in spec.links.items():
                if link.reference == name:
                    raise self.r.fail(f"{spec.path}.{key}", "an entity cannot link to itself")


def _columns_read(spec: EntitySpec, entities: Mapping[str, EntitySpec]) -> set[str]:
    """The columns an entity's triples depend on (linked named entities: their id columns)."""
    if spec.reference is not None:
        target = entities[spec.reference]
        return {c for t in (*target.id, target.issuer) if t is not None for c in t.columns}
    templates = [*spec.id, spec.identifier, spec.label, spec.issuer, *spec.texts.values(),
                 *(t.template for t in spec.terms.values()),
                 *(u.template for u in spec.units.values())]
    columns = {c for t in templates if t is not None for c in t.columns}
    columns |= {d.column for d in spec.dates.values()} | set(spec.numbers.values())
    columns |= {spec.criterion} if spec.criterion else set()
    columns |= {c.column for c in (spec.type, spec.lot_class) if c is not None and c.column}
    for link in spec.links.values():
        columns |= _columns_read(link, entities)
    for lot_links in spec.lots.values():
        for lot_link in lot_links:
            columns |= _columns_read(lot_link.entity, entities)
            columns |= {lot_link.quantity} if lot_link.quantity else set()
            columns |= set(lot_link.unit.template.columns) if lot_link.unit else set()
    for m in spec.measurements:
        measured = [m.property.template, m.unit.template if m.unit else None,
                    m.stage.template if m.stage else None, m.method, *m.id]
        columns |= {m.value} | {c for t in measured if t is not None for c in t.columns}
        columns |= {m.time.column} if m.time else set()
        columns |= _columns_read(m.device, entities) if m.device else set()
    return columns


# ---------------------------------------------------------------------------------------------
# Reading tables


def _cell_text(value: Any) -> str:
    if type(value) is str:  # most cells: skip the checks below
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _table_format(path: Path, options: SourceOptions) -> str:
    if options.format:
        return options.format
    suffix = path.suffix.casefold()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    return "csv"


def read_table(path: Path, options: SourceOptions, display: str
               ) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The header and the data rows as (RFC 7111 row number, {column: cell or None})."""
    fmt = _table_format(path, options)
    raw_rows = _xlsx_rows(path, options, display) if fmt == "xlsx" else _csv_rows(
        path, options, display, "\t" if fmt == "tsv" else (options.delimiter or ","))
    pad = fmt == "xlsx"  # spreadsheet rows may stop at their last filled cell
    try:
        header_number, header_cells = next(raw_rows)
    except StopIteration:
        raise MappingError("the table is empty: no header row", display, "row=1") from None
    header = [_cell_text(c).strip() if c is not None else "" for c in header_cells]
    fields = len(header)  # a CSV row must have as many fields as the header line
    while header and not header[-1]:
        header.pop()
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            raise MappingError(f"column '{name}' appears twice in the header", display,
                               f"row={header_number}", name)
        seen.add(name)
    missing = {""} | set(options.missing)

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        width = len(header)
        for number, cells in raw_rows:
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if pad and len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]
            extra = cells[width:]
            if (len(cells) < width or (not pad and len(cells) != fields) or any(
                    c is not None and not (isinstance(c, str) and not c.strip()) for c in extra)):
                raise MappingError(
                    f"malformed table: this row has {len(cells)} fields but the header has "
                    f"{width}", display, f"row={number}")
            row: dict[str, Any] = {}
            for name, cell in zip(header, cells, strict=False):
                if isinstance(cell, str):
                    cell = cell.strip()
                    if cell in missing:
                        cell = None
                row[name] = cell
            yield number, row

    return header, rows()


def _csv_rows(path: Path, options: SourceOptions, display: str, delimiter: str
              ) -> Iterator[tuple[int, list[Any]]]:
    encoding = "utf-8-sig" if options.encoding.replace("_", "-").casefold() == "utf-8" \
        else options.encoding
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MappingError(f"not {options.encoding} text ({exc.reason} at byte {exc.start}); "
                           "set source.encoding", display, f"row={line}") from None
    number = 0
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        for number, cells in enumerate(reader, start=1):  # noqa: B007 (used on error)
            yield number, cells
    except csv.Error as exc:
        raise MappingError(f"malformed CSV: {exc}", display, f"row={number + 1}") from None


def _xlsx_rows(path: Path, options: SourceOptions, display: str
               ) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError) as exc:
        raise MappingError(f"not a readable XLSX workbook: {exc}", display) from None
    try:
        if options.sheet is not None:
            if options.sheet not in workbook.sheetnames:
                raise MappingError(f"no sheet '{options.sheet}' (sheets: "
                                   f"{', '.join(workbook.sheetnames)})", display)
            sheet = workbook[options.sheet]
        else:
            sheet = workbook.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        workbook.close()


# ---------------------------------------------------------------------------------------------
# Mapping rows to records


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


class _RowMapper:
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
        # (normalised local name, concept) → (the name as first written, where it was seen)
        self.aliases: dict[tuple[str, URIRef], tuple[str, str]] = {}
        self._alias_iris: dict[tuple[str, URIRef], URIRef] = {}
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

    def instance(self, spec: EntitySpec, row: dict[str, Any], where: str,
                 id_text: str | None = None) -> _Instance | None:
        if id_text is not None:
            parts: tuple[str, ...] = (id_text,)
        else:
            rendered = [t.render(row) for t in spec.id]
            if any(p is None for p in rendered):
                if spec.required:
                    blank = next(c for t, p in zip(spec.id, rendered, strict=True) if p is None
                                 for c in t.columns if row[c] is None)
                    raise MappingError(f"a required id is missing ({spec.path}.id)", self.file,
                                       where, blank)
                return None
            parts = tuple(p for p in rendered if p is not None)
        issuer = self.m.issuer
        if spec.issuer is not None:
            issuer = spec.issuer.render(row) or ""
            if not issuer:
                raise MappingError(f"the issuer is missing ({spec.path}.issuer)", self.file,
                                   where, ", ".join(spec.issuer.columns))
        iri = self.minter.mint(spec.kind, issuer, *parts)
        return _Instance(spec, iri, parts, spec.kind)

    def record_of(self, inst: _Instance, named: dict[str, _Instance | None],
                  row: dict[str, Any], where: str) -> _Record:
        spec = inst.spec
        while spec.record not in ("own", None):
            owner = named[spec.record]
            if owner is None:
                target = self.m.entities[spec.record]
                columns = ", ".join(c for t in target.id for c in t.columns)
                raise MappingError(
                    f"'{inst.spec.name}' lives in the record of '{spec.record}', whose id is "
                    "missing in this row", self.file, where, columns)
            inst, spec = owner, owner.spec
        key = (spec.name, inst.parts)
        record = self.records.get(key)
        if record is None:
            record_id = "/".join(inst.parts)
            graph_iri = self.minter.mint("graph", self.m.issuer, spec.name, *inst.parts)
            record = _Record(RecordGraph(graph_iri, record_id, self.file),
                             f"{spec.name} '{record_id}'")
            self.records[key] = record
        return record

    def emit(self, inst: _Instance, record: _Record, named: dict[str, _Instance | None],
             row: dict[str, Any], number: int) -> None:
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
                self.set(record, s, _FIELDS[key][1], target.iri, number, field_name)
                if key == "material":
                    self.check_identity(s, CMC.ofMaterial, target.iri, number, field_name)
        for key, date_field in spec.dates.items():
            value = self.parse_date(date_field, row, where)
            if value is not None:
                self.set(record, s, _FIELDS[key][1], value, number, date_field.column)
        for key, term_field in spec.terms.items():
            concept = self.term(term_field, row, where)
            if concept is not None:
                self.set(record, s, _FIELDS[key][1], concept, number, term_field.template.text)
                if key == "material_type":
                    self.material_aliases(inst, row, concept, where)
        for key, column in spec.numbers.items():
            if row[column] is not None:
                number_value = self.parse_number(row[column], where, column)
                self.set(record, s, _FIELDS[key][1], number_literal(number_value), number, column)
        for key, unit_field in spec.units.items():
            unit = self.unit(unit_field, row, where)
            if unit is not None:
                self.set(record, s, _FIELDS[key][1], unit, number, unit_field.template.text)
        for key, template in spec.texts.items():
            if (text := template.render(row)) is not None:
                self.set(record, s, _FIELDS[key][1], text_literal(text), number, template.text)
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

    def criterion(self, record: _Record, s: URIRef, cell: Any, number: int, column: str
                  ) -> None:
        """Acceptance criteria as written → limits, report-only or a qualitative criterion."""
        try:
            parsed = parse_specification(_cell_text(cell), decimal=self.m.source.decimal)
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

    def link(self, link: EntitySpec, record: _Record, named: dict[str, _Instance | None],
             row: dict[str, Any], number: int, id_text: str | None = None) -> _Instance | None:
        if link.reference is not None:
            return named[link.reference]
        inst = self.instance(link, row, f"row={number}", id_text)
        if inst is not None and link.type is not None:
            self.emit(inst, record, named, row, number)
        return inst

    def emit_run_lots(self, run: _Instance, record: _Record, named: dict[str, _Instance | None],
                      row: dict[str, Any], number: int) -> None:
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

    def lots(self, lot_link: LotLink, record: _Record, named: dict[str, _Instance | None],
             row: dict[str, Any], number: int) -> list[_Instance]:
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

    def quantities(self, lot_link: LotLink, row: dict[str, Any], where: str, count: int
                   ) -> list[float | None]:
        if lot_link.quantity is None or row[lot_link.quantity] is None:
            return [None] * count
        cell = row[lot_link.quantity]
        cells = (cell.split(lot_link.split) if lot_link.split and isinstance(cell, str)
                 else [cell])
        if len(cells) != count:
            raise MappingError(f"{len(cells)} quantities for {count} lots", self.file, where,
                               lot_link.quantity)
        return [None if isinstance(c, str) and not c.strip()
                else self.parse_number(c, where, lot_link.quantity) for c in cells]

    def usage(self, run: _Instance, lot: _Instance, quantity: float, lot_link: LotLink,
              record: _Record, row: dict[str, Any], number: int) -> None:
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
        self.set(record, usage, _NUMERIC_VALUE, number_literal(quantity), number,
                 lot_link.quantity)
        unit = self.unit(lot_link.unit, row, where)
        if unit is not None:
            self.set(record, usage, _UNIT, unit, number, lot_link.quantity)

    def measure(self, inst: _Instance, record: _Record, spec: MeasurementSpec,
                named: dict[str, _Instance | None], row: dict[str, Any], number: int) -> None:
        cell = row[spec.value]
        if cell is None:
            return
        where = f"row={number}"
        result = None
        if spec.reported is not None:
            try:
                result = parse_result(cell, decimal=self.m.source.decimal, limits=spec.reported,
                                      missing=self.m.source.missing)
            except ValueError as exc:
                raise MappingError(str(exc), self.file, where, spec.value) from None
            if result.kind is Censoring.MISSING:
                return  # "NT": no result, not an error
        concept, alias = self.term_with_alias(spec.property, row, where)
        if concept is None:
            raise MappingError(f"the property is missing ({spec.path}.property)", self.file,
                               where, ", ".join(spec.property.template.columns))
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
            add((m, _LOCAL_TERM, self.alias(alias, concept, "row=1" if spec.alias else where)))
        if result is not None and result.kind is not Censoring.NONE:
            unit = None
            if result.kind is Censoring.CENSORED:
                unit = self.unit(spec.unit, row, where) if spec.unit is not None else None
                unit = unit or (self.index.get(concept).default_unit
                                if concept in self.index else None)
                if unit is None:
                    raise MappingError("the unit of a censored result is missing", self.file,
                                       where, spec.value)
            for _, p, o in result_triples(m, result, unit):
                self.set(record, m, p, o, number, spec.value)
        elif spec.text:
            self.set(record, m, _TEXT_VALUE, text_literal(_cell_text(cell)), number, spec.value)
        else:
            if result is not None:
                cell = result.value
            value = self.parse_number(cell, where, spec.value, spec.pattern)
            self.set(record, m, _NUMERIC_VALUE, number_literal(value), number, spec.value)
            unit = self.unit(spec.unit, row, where) if spec.unit is not None else None
            if unit is None:
                default = self.index.get(concept).default_unit if concept in self.index else None
                if default is None:
                    raise MappingError("the unit is missing and the property has no default "
                                       "unit", self.file, where,
                                       ", ".join(spec.unit.template.columns) if spec.unit
                                       else spec.value)
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

    def set(self, record: _Record, s: URIRef, p: URIRef, o: Identifier, number: int,
            field_name: str) -> None:
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
                "value (not averaged)")

    def check_identity(self, s: URIRef, p: URIRef, o: Identifier, number: int,
                       field_name: str) -> None:
        old = self.identity.get((s, p))
        if old is None:
            self.identity[(s, p)] = (o, number, field_name)
        elif old[0] != o:
            raise MappingError(
                f"lot '{self.names.get(s, s)}' is referenced with two different materials: "
                f"'{self.names.get(o, o)}' here and '{self.names.get(old[0], old[0])}' in "
                f"row={old[1]}", self.file, f"row={number}", field_name)

    def check_type(self, inst: _Instance, cls: str, number: int, spec: EntitySpec) -> None:
        old = self.types.get(inst.iri)
        if old is None or old[0] in _GENERIC_TYPES:
            self.types[inst.iri] = (cls, number)
        elif cls not in _GENERIC_TYPES and cls != old[0]:
            raise MappingError(
                f"{inst.kind} '{'/'.join(inst.parts)}' is a {cls} here but a {old[0]} in "
                f"row={old[1]}", self.file, f"row={number}",
                ", ".join(c for t in spec.id for c in t.columns) or spec.path)

    def choose_type(self, choice: TypeChoice, row: dict[str, Any], where: str,
                    path: str) -> str | None:
        if choice.constant is not None:
            return choice.constant
        assert choice.column is not None
        cell = row[choice.column]
        if cell is not None:
            key = normalise_label(_cell_text(cell))
            for text, name in choice.choices:
                if text == key:
                    return name
        if choice.default is None:
            raise MappingError(f"no type for '{cell}' in {path}.map (and no default)",
                               self.file, where, choice.column)
        return choice.default

    # -- values

    def term(self, term_field: TermField, row: dict[str, Any], where: str) -> URIRef | None:
        return self.term_with_alias(term_field, row, where)[0]

    def term_with_alias(self, term_field: TermField, row: dict[str, Any], where: str
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
                concept = lookup_term(self.index, text, term_field.scheme, term_field.prefer,
                                      source=self.file, location=where, field_name=field_name)
                cached = (concept, None)
            self._term_cache[key] = cached
        concept, alias = cached
        if alias is not None:
            self.alias(alias, concept, where)
        return cached

    def unit(self, unit_field: UnitField, row: dict[str, Any], where: str) -> URIRef | None:
        if unit_field.resolved is not None:
            return unit_field.resolved
        text = unit_field.template.render(row)
        if text is None:
            return None
        unit = self._unit_cache.get(text)
        if unit is None:
            unit = self._unit_cache[text] = resolve_unit(
                text, source=self.file, location=where,
                field=", ".join(unit_field.template.columns))
        return unit

    def parse_number(self, cell: Any, where: str, column: str,
                     pattern: re.Pattern[str] | None = None) -> float:
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            return float(cell)
        text = _cell_text(cell).strip()
        if pattern is not None:
            match = pattern.search(text)
            if match is None:
                raise MappingError(f"'{text}' does not match the pattern '{pattern.pattern}'",
                                   self.file, where, column)
            text = match.group(1)
        options = self.m.source
        if options.thousands:
            text = text.replace(options.thousands, "")
        if options.decimal != ".":
            if "." in text:
                raise MappingError(f"not a number: '{text}' (the decimal mark is "
                                   f"'{options.decimal}')", self.file, where, column)
            text = text.replace(options.decimal, ".")
        if not _NUMBER.fullmatch(text):
            raise MappingError(f"not a number: '{_cell_text(cell)}'", self.file, where, column)
        return float(text)

    def parse_date(self, date_field: DateField, row: dict[str, Any], where: str
                   ) -> Literal | None:
        cell = row[date_field.column]
        if cell is None:
            return None
        if isinstance(cell, datetime):
            if cell.time() == datetime.min.time():
                return typed_literal(cell.date().isoformat(), XSD.date)
            return typed_literal(cell.isoformat(), XSD.dateTime)
        if isinstance(cell, date):
            return typed_literal(cell.isoformat(), XSD.date)
        text = _cell_text(cell).strip()
        try:
            if date_field.format is None:
                return _iso_date(text)
            return _formatted_date(text, date_field)
        except ValueError:
            expected = f"the format '{date_field.format}'" if date_field.format else "ISO 8601"
            raise MappingError(f"not a date in {expected}: '{text}'", self.file, where,
                               date_field.column) from None

    # -- aliases

    def alias(self, name: str, concept: URIRef, where: str) -> URIRef:
        """The IRI of a local name's alias node (spellings differing only in case are one)."""
        iri = self._alias_iris.get((name, concept))
        if iri is None:
            kept, _ = self.aliases.setdefault((normalise_label(name), concept), (name, where))
            iri = self._alias_iris[(name, concept)] = self.minter.mint("term", self.m.issuer, kept)
        return iri

    def material_aliases(self, inst: _Instance, row: dict[str, Any], concept: URIRef,
                         where: str) -> None:
        """A material's local identifier and label name its canonical material type."""
        spec = inst.spec
        identifier = spec.identifier.render(row) if spec.identifier else inst.parts[-1]
        label = spec.label.render(row) if spec.label else None
        for name in (identifier, label):
            if name:
                self.alias(name, concept, where)

    def alias_record(self) -> RecordGraph | None:
        if not self.aliases:
            return None
        graph_iri = self.minter.mint("graph", self.m.issuer, "local-terms", self.source_scope)
        record = RecordGraph(graph_iri, f"local-terms/{self.source_scope}", self.file)
        for (_, concept), (name, where) in self.aliases.items():
            iri = self.minter.mint("term", self.m.issuer, name)
            record.locate(iri, where)
            add = record.triples.add
            add((iri, _TYPE, CMC.LocalTerm))
            add((iri, CMC.localName, Literal(name)))
            add((iri, CMC.issuer, Literal(self.m.issuer)))
            add((iri, CMC.aliasOf, concept))
        return record


def _same_number(a: Identifier, b: Identifier) -> bool:
    return (isinstance(a, Literal) and isinstance(b, Literal) and a.datatype == XSD.double
            and b.datatype == XSD.double and float(a) == float(b))


def _show(term: Identifier) -> str:
    if isinstance(term, Literal):
        return f"'{term}'"
    text = str(term)
    return text.rsplit("#", 1)[-1] if "#" in text else f"<{text}>"


@lru_cache(maxsize=1 << 14)
def _iso_date(text: str) -> Literal:
    """An ISO 8601 date, month, year or date-time as its XSD literal (dates repeat: made once
    per distinct text); ValueError if it is none of them."""
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        datetime.strptime(text, "%Y-%m")
        return Literal(text, datatype=XSD.gYearMonth)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return Literal(date.fromisoformat(text).isoformat(), datatype=XSD.date)
    return Literal(datetime.fromisoformat(text).isoformat(), datatype=XSD.dateTime)


def _formatted_date(text: str, date_field: DateField) -> Literal:
    fmt = date_field.format or ""
    if date_field.months:
        months = dict(date_field.months)

        def to_number(match: re.Match[str]) -> str:
            number = months.get(match.group(0).casefold())
            if number is None:
                raise ValueError(match.group(0))
            return f"{number:02d}"

        text = _WORD.sub(to_number, text)
        fmt = fmt.replace("%b", "%m").replace("%B", "%m")
    parsed = datetime.strptime(text, fmt)
    if re.search(r"%[HIMSfp]", fmt):
        return Literal(parsed.isoformat(), datatype=XSD.dateTime)
    if "%d" in fmt or "%j" in fmt:
        return Literal(parsed.date().isoformat(), datatype=XSD.date)
    if re.search(r"%[mbB]", fmt):
        return Literal(f"{parsed.year:04d}-{parsed.month:02d}", datatype=XSD.gYearMonth)
    return Literal(f"{parsed.year:04d}", datatype=XSD.gYear)


class TablesMapper:
    """CSV/TSV/XLSX through a YAML mapping (chosen when the user passes ``--mapping``)."""

    name: ClassVar[str] = "tables"
    version: ClassVar[str] = "1"

    def detect(self, path: Path, head: bytes) -> bool:
        """Tables are never guessed: without a mapping there is nothing to map them with."""
        return False

    def map(self, context: MapContext, config: Mapping[str, Any] | None
            ) -> Iterator[RecordGraph]:
        if config is None:
            raise ConfigError("a table needs a mapping (--mapping FILE)", context.display_path)
        terms = term_index()
        mapping = TableMapping.parse(config, terms) if not _has_header_columns(config) else None
        options = mapping.source if mapping is not None else \
            _MappingParser(config, terms).source(config.get("source") or {})
        header, rows = read_table(context.source_path, options, context.display_path)
        if mapping is None:  # "columns:" items become one measurement per matching column
            mapping = TableMapping.parse(expand_header_columns(config, header), terms)
        present = set(header)
        for column, path in mapping.columns.items():
            if column not in present:
                raise MappingError(f"missing required column '{column}' (the mapping's {path} "
                                   "reads it)", context.display_path, "row=1", column)
        mapper = _RowMapper(mapping, context, terms)
        for number, row in rows:
            mapper.map_row(number, row)
        records = [r.graph for r in mapper.records.values()]
        alias_record = mapper.alias_record()
        if alias_record is not None:
            records.append(alias_record)
        return iter(records)


def _has_header_columns(config: Mapping[str, Any]) -> bool:
    entities = config.get("entities")
    return isinstance(entities, Mapping) and any(
        isinstance(spec, Mapping) and isinstance(spec.get("measurements"), list)
        and any(isinstance(m, Mapping) and "columns" in m for m in spec["measurements"])
        for spec in entities.values())


register(TablesMapper())
