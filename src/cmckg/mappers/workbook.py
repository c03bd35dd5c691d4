"""Batch-record workbooks (paper-on-glass XLSX) through a document mapping.

Values are reached by label, not position: "the cell right of the cell reading 'Batch number'",
"the table under the heading 'Process parameters' until the first blank row", on every sheet
whose name matches a pattern, with alternative labels for sites that word things differently.
One workbook gives one batch record graph (the cover sheet) plus one run record per unit-operation
sheet; every value is located as ``sheet=<name>!<cell>`` so validation points at the cell.
The mapping format is in ``examples/MAPPING.md`` (Document mappings).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from openpyxl.utils import get_column_letter
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF

from ..errors import ConfigError, MappingError
from ..vocab import CMC, CMCT, QUDT, TermIndex
from .base import MapContext, MappedFormat, RecordGraph
from .docbuild import DocumentBuilder, Located, date_options
from .mapping import LOT_CLASSES, ConfigReader, local_terms
from .tables.reading import open_workbook
from .values import DateOptions

_BATCH_FIELDS = ("id", "product", "site", "process_version", "manufacture_date")
_STEP_FIELDS = ("unit_operation", "equipment", "start", "end", "input", "output")
_TABLE_COLUMNS = {
    "parameters": (("property", "value"), ("set_point", "unit")),
    "materials": (("item", "lot"), ("quantity", "unit")),
    "results": (("property", "value"), ("unit",)),
}


@dataclass(frozen=True)
class Label:
    """Alternative texts of one label; an optional label may be absent from a sheet."""

    texts: tuple[str, ...]
    optional: bool = False

    @property
    def keys(self) -> set[str]:
        return {_key(t) for t in self.texts}

    def show(self) -> str:
        return " / ".join(f"'{t}'" for t in self.texts)


@dataclass(frozen=True)
class TableSpec:
    heading: Label
    columns: dict[str, Label]
    split: str | None = None
    stage: URIRef | None = None


@dataclass(frozen=True)
class ItemMaster:
    """Item code → (material id, name, material type): the master table codes resolve through."""

    file: str
    items: dict[str, tuple[str, str | None, URIRef | None]]


@dataclass
class WorkbookMapping:
    file: str
    issuer: str
    dates: DateOptions
    local_terms: dict[str, tuple[str, URIRef]]
    missing: frozenset[str]
    batch_sheet: Label
    batch_type: str
    batch: dict[str, Label]
    step_sheets: re.Pattern[str]
    steps: dict[str, Label]
    output_type: str
    tables: dict[str, TableSpec] = field(default_factory=dict)
    items: ItemMaster | None = None

    @classmethod
    def parse(cls, config: Mapping[str, Any], terms: TermIndex) -> WorkbookMapping:
        r = ConfigReader.of(config)
        r.top(
            config,
            ("dates", "missing", "items", "batch", "steps"),
            ("mapping", "issuer", "batch", "steps"),
        )
        local = local_terms(r, config.get("terms"), terms)
        batch = r.mapping(config["batch"], "batch")
        r.keys(batch, "batch", ("sheet", "type", *_BATCH_FIELDS), ("sheet", "id"))
        batch_type = r.filled(batch.get("type", "DrugSubstanceBatch"), "batch.type")
        if batch_type not in LOT_CLASSES:
            raise r.fail("batch.type", f"expected one of: {', '.join(LOT_CLASSES)}")
        steps = r.mapping(config["steps"], "steps")
        r.keys(
            steps,
            "steps",
            ("sheets", "output_type", *_STEP_FIELDS, *_TABLE_COLUMNS),
            ("sheets", "output"),
        )
        try:
            pattern = re.compile(r.filled(steps["sheets"], "steps.sheets"))
        except re.error as exc:
            raise r.fail("steps.sheets", f"not a valid regex: {exc}") from None
        output_type = r.filled(steps.get("output_type", "IntermediateLot"), "steps.output_type")
        if output_type not in LOT_CLASSES:
            raise r.fail("steps.output_type", f"expected one of: {', '.join(LOT_CLASSES)}")
        tables = {
            name: _table(r, steps[name], f"steps.{name}", name, terms)
            for name in _TABLE_COLUMNS
            if name in steps
        }
        return cls(
            file=r.file,
            issuer=r.filled(config["issuer"], "issuer"),
            dates=date_options(r, config.get("dates"), "dates"),
            local_terms=local,
            missing=r.missing(config.get("missing"), "missing"),
            batch_sheet=_label(r, batch["sheet"], "batch.sheet"),
            batch_type=batch_type,
            batch={k: _label(r, batch[k], f"batch.{k}") for k in _BATCH_FIELDS if k in batch},
            step_sheets=pattern,
            steps={k: _label(r, steps[k], f"steps.{k}") for k in _STEP_FIELDS if k in steps},
            output_type=output_type,
            tables=tables,
            items=_items(r, config["items"], terms) if "items" in config else None,
        )


def _key(text: str) -> str:
    return " ".join(str(text).replace("\u00a0", " ").split()).rstrip(":").strip().casefold()


def _label(r: ConfigReader, raw: Any, path: str) -> Label:
    if isinstance(raw, Mapping):
        r.keys(raw, path, ("label", "optional"), ("label",))
        optional = raw.get("optional", False)
        if not isinstance(optional, bool):
            raise r.fail(f"{path}.optional", "expected true or false")
        return Label(r.texts(raw["label"], f"{path}.label"), optional)
    return Label(r.texts(raw, path))


def _table(r: ConfigReader, raw: Any, path: str, name: str, terms: TermIndex) -> TableSpec:
    raw = r.mapping(raw, path)
    r.keys(raw, path, ("heading", "columns", "split", "stage"), ("heading", "columns"))
    required, optional = _TABLE_COLUMNS[name]
    columns = r.mapping(raw["columns"], f"{path}.columns")
    r.keys(columns, f"{path}.columns", (*required, *optional), required)
    split = r.filled(raw["split"], f"{path}.split") if "split" in raw else None
    stage = None
    if "stage" in raw:
        try:
            stage = terms.resolve(r.filled(raw["stage"], f"{path}.stage"), CMCT.Stages).iri
        except MappingError as exc:
            raise r.fail(f"{path}.stage", exc.message) from None
    return TableSpec(
        _label(r, raw["heading"], f"{path}.heading"),
        {k: _label(r, v, f"{path}.columns.{k}") for k, v in columns.items()},
        split,
        stage,
    )


def _items(r: ConfigReader, raw: Any, terms: TermIndex) -> ItemMaster:
    raw = r.mapping(raw, "items")
    r.keys(
        raw,
        "items",
        ("file", "code", "material", "name", "material_type"),
        ("file", "code", "material"),
    )
    path = Path(r.filled(raw["file"], "items.file"))
    if not path.is_absolute():
        path = Path(r.file).parent / path
    columns = {
        k: r.filled(raw[k], f"items.{k}")
        for k in ("code", "material", "name", "material_type")
        if k in raw
    }
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except OSError as exc:
        raise r.fail("items.file", f"cannot read the item master: {exc.strerror}") from None
    for key, column in columns.items():
        if column not in header:
            raise ConfigError(f"no column '{column}' (items.{key})", str(path), "row=1")
    items: dict[str, tuple[str, str | None, URIRef | None]] = {}
    for number, row in enumerate(rows, start=2):
        code = (row[columns["code"]] or "").strip()
        kind = None
        if "material_type" in columns and (row[columns["material_type"]] or "").strip():
            kind = terms.resolve(
                row[columns["material_type"]].strip(),
                CMCT.Materials,
                source=str(path),
                location=f"row={number}",
                field_name=columns["material_type"],
            ).iri
        name = (row[columns["name"]] or "").strip() or None if "name" in columns else None
        if code in items:
            raise ConfigError(f"item code '{code}' appears twice", str(path), f"row={number}")
        items[code] = (row[columns["material"]].strip(), name, kind)
    return ItemMaster(str(path), items)


# ---------------------------------------------------------------------------------------------
# Reading a sheet by label


class Sheet:
    """One worksheet's non-empty cells, found by label."""

    def __init__(self, title: str, rows: list[list[Any]]) -> None:
        self.title = title
        self.rows = rows
        self.labels: dict[str, list[tuple[int, int]]] = {}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, str) and value.strip():
                    self.labels.setdefault(_key(value), []).append((r, c))

    def where(self, r: int, c: int) -> str:
        return f"sheet={self.title}!{get_column_letter(c + 1)}{r + 1}"

    def cell(self, r: int, c: int) -> Any:
        row = self.rows[r] if r < len(self.rows) else []
        value = row[c] if c < len(row) else None
        return None if isinstance(value, str) and not value.strip() else value

    def blank(self, r: int) -> bool:
        return r >= len(self.rows) or all(self.cell(r, c) is None for c in range(len(self.rows[r])))

    def find(self, label: Label, file: str) -> tuple[int, int] | None:
        hits = sorted({hit for key in label.keys for hit in self.labels.get(key, [])})
        if len(hits) > 1:
            places = ", ".join(self.where(*h).split("!")[1] for h in hits)
            raise MappingError(
                f"the label {label.show()} appears {len(hits)} times ({places}); "
                "cannot tell which is meant",
                file,
                f"sheet={self.title}",
                label.texts[0],
            )
        if not hits:
            if label.optional:
                return None
            raise MappingError(
                f"no cell reads {label.show()}", file, f"sheet={self.title}", label.texts[0]
            )
        return hits[0]

    def value(self, label: Label, file: str) -> Located | None:
        """The first filled cell right of the label's cell (None: label absent or no value)."""
        hit = self.find(label, file)
        if hit is None:
            return None
        r, c = hit
        width = len(self.rows[r])
        for column in range(c + 1, width):
            value = self.cell(r, column)
            if value is not None:
                return Located(value, self.where(r, column), label.texts[0])
        return None

    def table(self, spec: TableSpec, file: str) -> Iterator[dict[str, Located]]:
        """The rows of the table under the heading, until the first blank row; each row maps a
        column key to its located cell (blank cells left out). No heading: no rows."""
        hit = self.find(Label(spec.heading.texts, optional=True), file)
        if hit is None:
            return
        r = hit[0] + 1
        while r < len(self.rows) and self.blank(r):
            r += 1
        header = {
            _key(v): c
            for c, v in enumerate(self.rows[r] if r < len(self.rows) else [])
            if isinstance(v, str) and v.strip()
        }
        columns: dict[str, int] = {}
        for key, label in spec.columns.items():
            found = [header[k] for k in label.keys if k in header]
            if not found:
                if label.optional:
                    continue
                raise MappingError(
                    f"the table under {spec.heading.show()} has no column {label.show()}",
                    file,
                    self.where(r, hit[1]),
                    label.texts[0],
                )
            columns[key] = found[0]
        names = {key: spec.columns[key].texts[0] for key in columns}
        r += 1
        while not self.blank(r):
            yield {
                key: Located(self.cell(r, c), self.where(r, c), names[key])
                for key, c in columns.items()
                if self.cell(r, c) is not None
            }
            r += 1


def read_workbook(path: Path, display: str) -> list[Sheet]:
    workbook = open_workbook(path, display)
    try:
        return [
            Sheet(ws.title, [list(row) for row in ws.iter_rows(values_only=True)])
            for ws in workbook.worksheets
        ]
    finally:
        workbook.close()


# ---------------------------------------------------------------------------------------------
# Mapping one workbook


class _WorkbookReader:
    def __init__(self, mapping: WorkbookMapping, context: MapContext, terms: TermIndex) -> None:
        self.m = mapping
        self.b = DocumentBuilder(
            context, mapping.issuer, terms, mapping.local_terms, mapping.missing
        )
        self.file = context.display_path

    def required(self, sheet: Sheet, labels: dict[str, Label], key: str) -> Located:
        found = self.optional(sheet, labels, key)
        if found is None:
            label = labels[key]
            hit = sheet.find(label, self.file)
            where = sheet.where(*hit) if hit else f"sheet={sheet.title}"
            raise MappingError(
                f"the label {label.show()} has no value to its right",
                self.file,
                where,
                label.texts[0],
            )
        return found

    def optional(self, sheet: Sheet, labels: dict[str, Label], key: str) -> Located | None:
        return sheet.value(labels[key], self.file) if key in labels else None

    def map(self, sheets: list[Sheet]) -> list[RecordGraph]:
        b, m = self.b, self.m
        by_key = {_key(s.title): s for s in sheets}
        cover = next((by_key[k] for k in m.batch_sheet.keys if k in by_key), None)
        if cover is None:
            raise MappingError(
                f"no sheet named {m.batch_sheet.show()} (sheets: "
                f"{', '.join(s.title for s in sheets)})",
                self.file,
                field="batch.sheet",
            )
        steps = [s for s in sheets if s is not cover and m.step_sheets.search(s.title)]
        if not steps:
            raise MappingError(
                f"no sheet name matches '{m.step_sheets.pattern}' (sheets: "
                f"{', '.join(s.title for s in sheets)})",
                self.file,
                field="steps.sheets",
            )
        found_id = self.required(cover, m.batch, "id")
        batch_id = b.text(found_id)
        g = b.record("batch-record", batch_id)
        batch = b.node(g, "lot", m.batch_type, batch_id, found_id)
        context = self.batch_context(cover, g, batch)
        for sheet in steps:
            self.step(sheet, batch_id, context)
        return list(b.records.values())

    def batch_context(self, cover: Sheet, g: RecordGraph, batch: URIRef) -> dict[str, URIRef]:
        """The batch's product, site, process version and date (stated on the batch)."""
        b, m = self.b, self.m
        out: dict[str, URIRef] = {}
        for key, kind, cls, predicate in (
            ("product", "product", "Product", CMC.ofProduct),
            ("site", "site", "Site", CMC.atSite),
            ("process_version", "process-version", "ProcessVersion", None),
        ):
            found = self.optional(cover, m.batch, key)
            if found is not None:
                out[key] = b.node(g, kind, cls, b.text(found), found)
                if predicate is not None:
                    g.triples.add((batch, predicate, out[key]))
        found = self.optional(cover, m.batch, "manufacture_date")
        if found is not None:
            g.triples.add((batch, CMC.manufactureDate, b.date(found, m.dates)))
        return out

    def step(self, sheet: Sheet, batch_id: str, context: dict[str, URIRef]) -> None:
        b, m = self.b, self.m
        g = b.record("batch-record", batch_id, sheet.title)
        output = self.required(sheet, m.steps, "output")
        anchor = self.optional(sheet, m.steps, "unit_operation") or output
        run = b.run(g, b.mint("run", batch_id, sheet.title), f"{batch_id}/{sheet.title}", anchor)
        if "unit_operation" in m.steps:
            operation = self.required(sheet, m.steps, "unit_operation")
            g.triples.add((run, CMC.unitOperation, b.term(operation, CMCT.UnitOperations)))
        if (equipment := self.optional(sheet, m.steps, "equipment")) is not None:
            g.triples.add(
                (
                    run,
                    CMC.usedEquipment,
                    b.node(g, "equipment", "Equipment", b.text(equipment), equipment),
                )
            )
        for key, predicate in (("start", PROV.startedAtTime), ("end", PROV.endedAtTime)):
            if (moment := self.optional(sheet, m.steps, key)) is not None:
                g.triples.add((run, predicate, b.date(moment, m.dates)))
        if "site" in context:
            g.triples.add((run, CMC.atSite, context["site"]))
        if "process_version" in context:
            g.triples.add((run, CMC.processVersion, context["process_version"]))
        out_id = b.text(output)
        out_lot = b.node(
            g, "lot", m.batch_type if out_id == batch_id else m.output_type, out_id, output
        )
        for key, predicate in (("product", CMC.ofProduct), ("site", CMC.atSite)):
            if key in context:
                g.triples.add((out_lot, predicate, context[key]))
        used: list[URIRef] = []
        if (into := self.optional(sheet, m.steps, "input")) is not None:
            in_lot = b.node(g, "lot", "MaterialLot", b.text(into), into)
            if "site" in context:  # the step before made it here
                g.triples.add((in_lot, CMC.atSite, context["site"]))
            used.append(in_lot)
        if "materials" in m.tables:
            used += self.materials(sheet, g, run, batch_id, m.tables["materials"])
        b.lineage(g, run, used, [out_lot])
        if "parameters" in m.tables:
            for row in sheet.table(m.tables["parameters"], self.file):
                self.measure(g, row, run, batch_id, sheet, CMCT.ProcessParameters, None)
        if "results" in m.tables:
            spec = m.tables["results"]
            for row in sheet.table(spec, self.file):
                self.measure(g, row, out_lot, batch_id, sheet, CMCT.QualityAttributes, spec.stage)

    def materials(
        self, sheet: Sheet, g: RecordGraph, run: URIRef, batch_id: str, spec: TableSpec
    ) -> list[URIRef]:
        b = self.b
        used: list[URIRef] = []
        for row in sheet.table(spec, self.file):
            if "lot" not in row or "item" not in row:
                place = next(iter(row.values()))
                raise b.fail(place, "a materials row needs both an item and a lot")
            material = self.material(g, row["item"])
            lot_cell = row["lot"]
            lots = [
                p.strip()
                for p in (b.text(lot_cell).split(spec.split) if spec.split else [b.text(lot_cell)])
                if p.strip()
            ]
            quantities: list[float | None] = [None] * len(lots)
            if "quantity" in row:
                cell = row["quantity"]
                parts = (
                    b.text(cell).split(spec.split)
                    if spec.split and isinstance(cell.value, str)
                    else [cell.value]
                )
                if len(parts) != len(lots):
                    raise b.fail(cell, f"{len(parts)} quantities for {len(lots)} lots")
                quantities = [b.number(Located(p, cell.location, cell.field)) for p in parts]
            for lot_id, quantity in zip(lots, quantities, strict=True):
                lot = b.node(g, "lot", "RawMaterialLot", lot_id, lot_cell)
                g.triples.add((lot, CMC.ofMaterial, material))
                used.append(lot)
                if quantity is not None:
                    self.usage(g, run, lot, len(used), quantity, row, lot_cell, batch_id, sheet)
        return used

    def material(self, g: RecordGraph, found: Located) -> URIRef:
        b, items = self.b, self.m.items
        code = b.text(found)
        if items is None:
            return b.material(g, code, None, None, found)
        if code not in items.items:
            raise b.fail(found, f"item code '{code}' is not in the item master {items.file}")
        ident, name, kind = items.items[code]
        return b.material(g, ident, name, kind, found)

    def usage(
        self,
        g: RecordGraph,
        run: URIRef,
        lot: URIRef,
        position: int,
        quantity: float,
        row: dict[str, Located],
        where: Located,
        batch_id: str,
        sheet: Sheet,
    ) -> None:
        b = self.b
        usage = b.mint("run", batch_id, sheet.title, "usage", str(position))
        g.locate(usage, where.location)
        add = g.triples.add
        add((usage, RDF.type, CMC.Usage))
        add((usage, CMC.ofRun, run))
        add((usage, CMC.usedLot, lot))
        add((usage, QUDT.numericValue, Literal(quantity)))
        if "unit" not in row:
            raise b.fail(where, "a quantity needs a unit")
        add((usage, QUDT.unit, b.unit(row["unit"])))

    def measure(
        self,
        g: RecordGraph,
        row: dict[str, Located],
        entity: URIRef,
        batch_id: str,
        sheet: Sheet,
        prefer: URIRef,
        stage: URIRef | None,
    ) -> None:
        b = self.b
        if "property" not in row or "value" not in row:
            if "property" in row:
                return  # a parameter not recorded: no value, no measurement
            raise b.fail(next(iter(row.values())), "a value without a property name")
        value = row["value"]
        concept = b.term(row["property"], None, prefer)
        reported = b.result(value)
        unit = b.unit(row["unit"]) if "unit" in row else None
        iri = b.mint("measurement", batch_id, sheet.title, value.location.rsplit("!", 1)[1])
        m = b.measurement(g, iri, entity, concept, reported, unit, value, stage)
        if m is not None and "set_point" in row:
            g.triples.add((m, CMC.setPoint, Literal(b.number(row["set_point"]))))


class WorkbookMapper(MappedFormat):
    """Batch-record workbooks through a ``mapper: workbook`` mapping."""

    name: ClassVar[str] = "workbook"
    noun: ClassVar[str] = "a workbook"

    def records(
        self, context: MapContext, config: Mapping[str, Any], terms: TermIndex
    ) -> list[RecordGraph]:
        mapping = WorkbookMapping.parse(config, terms)
        sheets = read_workbook(context.source_path, context.display_path)
        return _WorkbookReader(mapping, context, terms).map(sheets)
