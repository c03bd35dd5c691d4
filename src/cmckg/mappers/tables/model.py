"""The mapping model of the tables mapper: what a parsed, checked mapping is — entities, their
fields and measurements, templates over columns, how to read the source. ``config`` builds it
from a mapping's YAML; ``rows`` maps rows with it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rdflib import URIRef
from rdflib.namespace import PROV

from ...vocab import CMC, QUDT
from ..mapping import LOT_CLASSES, ConfigReader
from .reading import cell_text

GENERIC_TYPES = {"MaterialLot"}
KIND_OF_TYPE: dict[str, str] = {
    **dict.fromkeys(LOT_CLASSES, "lot"),
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
# unit, text, lotclass, lots (lot links), materials (material links)
FIELDS: dict[str, tuple[str, URIRef | None]] = {
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
    "bill_of_materials": ("materials", CMC.requiresMaterial),
}

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True)
class Template:
    """Text with ``{column}`` placeholders; renders to None when a referenced cell is missing."""

    text: str
    pieces: tuple[tuple[bool, str], ...]  # (is_column, literal text or column name)

    @classmethod
    def parse(cls, reader: ConfigReader, value: Any, path: str) -> Template:
        text = reader.text(value, path)
        pieces: list[tuple[bool, str]] = []
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            if match.start() > position:
                pieces.append((False, text[position : match.start()]))
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
                out.append(cell_text(value))
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
    materials: dict[str, list[EntitySpec]] = field(default_factory=dict)
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
    where: tuple[tuple[str, frozenset[str]], ...] = ()  # (column, cell texts a row may have)

    def keeps(self, row: Mapping[str, Any]) -> bool:
        """Whether a row passes the ``where:`` filters (every named column holds one of its
        values; an empty cell holds none)."""
        return all(
            row[column] is not None and cell_text(row[column]).strip() in allowed
            for column, allowed in self.where
        )
