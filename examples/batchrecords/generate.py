#!/usr/bin/env python3
"""Generate the bundled document-records example: mAb-Z drug substance made at two sites.

What a plant and its suppliers hand over, not tidy tables:

- one Excel batch record per batch (paper-on-glass): a cover sheet of label/value pairs and a
  sheet per unit operation (harvest, protein A capture, AEX polishing) with a header block, a
  process-parameter table, a materials table and the step's output lot. Site-North and
  Site-South word every label differently, sit their blocks at different rows, merge title cells,
  write dates differently (day-first text; date cells, Excel serial numbers and "09-May-2024")
  and use their own item codes, resolved through ``item_master.csv``;
- certificates of analysis as JSON from two vendors with different nesting;
- wide QC exports, one file per method, units in the column headers, with censored ("<0.05",
  "<LOQ"), qualitative ("Conforms") and not-tested ("NT") results;
- the specifications as written ("≥ 95.0", "NMT 3.0", "45.0 – 55.0", "Report result").

Planted truths (``truth.json``): every batch's full lineage; one out-of-specification batch
(HMW above "NMT 3.0"); one "<LOQ" HCP result that passes "NMT 100"; the cell every process
parameter sits in.

Run: ``python examples/batchrecords/generate.py`` (fixed seed; rewrites the files here).
``build_workbook`` is importable so tests can write a variant of one batch record.
"""

from __future__ import annotations

import csv
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

HERE = Path(__file__).resolve().parent
SEED = 20240509
PRODUCT = "mAb-Z"
OOS = ("ZS-24102", "HMW", 3.6)  # batch, test, value (> NMT 3.0 %)
LOQ_PASS = ("ZN-24002", "HCP")  # "<LOQ" (LOQ 10 ng/mg) against NMT 100 ng/mg: passes
HCP_LOQ = 10.0
EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class Layout:
    """How one site writes its batch records."""

    site: str
    prefix: str
    cover_sheet: str
    cover_labels: dict[str, str]
    cover_row: int  # first label row
    step_sheets: tuple[str, str, str]
    step_labels: dict[str, str]
    step_row: int
    operations: tuple[str, str, str]
    parameter_heading: str
    parameter_columns: tuple[str, ...]
    material_heading: str
    material_columns: tuple[str, ...]
    parameters: dict[str, str]  # canonical → as written
    item_codes: dict[str, str]  # material id → the site's item code
    gap: int  # blank rows between blocks


NORTH = Layout(
    site="Site-North",
    prefix="ZN",
    cover_sheet="Cover",
    cover_labels={
        "batch": "Batch number",
        "product": "Product",
        "scale": "Scale",
        "site": "Site",
        "version": "Process version",
        "start": "Manufacture start",
        "end": "Manufacture end",
    },
    cover_row=3,
    step_sheets=("Step 1 Harvest", "Step 2 Capture", "Step 3 Polishing"),
    step_labels={
        "operation": "Unit operation",
        "equipment": "Equipment",
        "operator": "Operator",
        "start": "Start",
        "end": "End",
        "input": "Input lot",
        "output": "Output lot",
    },
    step_row=3,
    operations=("harvest and clarification", "protein A capture", "anion exchange chromatography"),
    parameter_heading="Process parameters",
    parameter_columns=("Parameter", "Set point", "Actual", "Unit", "In range"),
    material_heading="Materials dispensed",
    material_columns=("Item code", "Description", "Lot", "Quantity", "Unit"),
    parameters={
        "temperature": "Temperature",
        "flow rate": "Flow rate",
        "column load": "Column load",
        "residence time": "Residence time",
        "elution pH": "Elution pH",
        "conductivity": "Conductivity",
    },
    item_codes={"PRA": "RM-1001", "AEX": "RM-1002", "TRIS": "RM-2001", "NACL": "RM-2002"},
    gap=1,
)
SOUTH = Layout(
    site="Site-South",
    prefix="ZS",
    cover_sheet="Batch cover",
    cover_labels={
        "batch": "Batch No.",
        "product": "Product name",
        "scale": "Batch size",
        "site": "Manufacturing site",
        "version": "Process",
        "start": "Start date",
        "end": "End date",
    },
    cover_row=5,
    step_sheets=("UO1-Harvest", "UO2-ProA", "UO3-AEX"),
    step_labels={
        "operation": "Operation",
        "equipment": "Equipment ID",
        "operator": "Performed by",
        "start": "Started",
        "end": "Finished",
        "input": "Load lot",
        "output": "Product lot",
    },
    step_row=4,
    operations=("Harvest", "ProA capture", "AEX"),
    parameter_heading="Critical process parameters",
    parameter_columns=("CPP", "Target", "Recorded", "Units", "Within limits"),
    material_heading="Materials used",
    material_columns=("Material", "Lot no.", "Qty", "UoM"),
    parameters={
        "temperature": "Temp.",
        "flow rate": "Flow",
        "column load": "Load",
        "residence time": "Res. time",
        "elution pH": "Elution pH",
        "conductivity": "Cond.",
    },
    item_codes={"PRA": "40012", "AEX": "40013", "TRIS": "30101", "NACL": "30102"},
    gap=2,
)
MATERIALS = {  # material id → (name, canonical material type, supplier)
    "PRA": ("Protein A resin MabSelect-type", "protein A resin", "ResinCo"),
    "AEX": ("Q anion exchange resin", "anion exchange resin", "ResinCo"),
    "TRIS": ("Tris base, EP grade", "tris(hydroxymethyl)aminomethane", "ChemSupply"),
    "NACL": ("Sodium chloride, EP grade", "sodium chloride", "ChemSupply"),
}
# step → [(parameter, set point, unit, sd)]
PARAMETERS = (
    [("temperature", 20.0, "°C", 0.4), ("flow rate", 10.0, "L/min", 0.3)],
    [
        ("column load", 35.0, "g/L", 1.0),
        ("residence time", 4.0, "min", 0.1),
        ("elution pH", 3.6, "pH", 0.04),
    ],
    [("conductivity", 8.0, "mS/cm", 0.2), ("column load", 90.0, "g/L", 3.0)],
)


@dataclass
class Batch:
    site: Layout
    number: str
    start: datetime
    lots: dict[str, str] = field(default_factory=dict)  # harvest/capture/polish/upstream
    materials: list[list[tuple[str, list[str], list[float], str]]] = field(default_factory=list)
    parameters: list[list[tuple[str, float, float, str]]] = field(default_factory=list)
    ipc_ph: float = 7.2


def make_batches(rng: random.Random) -> list[Batch]:
    batches = []
    raw_lots = {
        "PRA": ["PRA-R01", "PRA-R02"],
        "AEX": ["AEX-Q7"],
        "TRIS": ["T-2301", "T-2302", "T-2303"],
        "NACL": ["N-881", "N-882"],
    }
    for s, layout in enumerate((NORTH, SOUTH)):
        for i in range(3):
            number = f"{layout.prefix}-24{s}{i + 1:02d}"
            start = datetime(2024, 5, 9) + timedelta(days=21 * i + 7 * s)
            b = Batch(layout, number, start)
            b.lots = {
                "upstream": f"{number}-PB",
                "harvest": f"{number}-HV",
                "capture": f"{number}-CE",
                "polish": number,
            }
            tris = raw_lots["TRIS"][i % 3]
            b.materials = [
                [],
                [
                    ("PRA", [raw_lots["PRA"][s]], [2.5], "L"),
                    (
                        "TRIS",
                        [tris, raw_lots["TRIS"][(i + 1) % 3]] if i == 1 else [tris],
                        [12.0, 3.0] if i == 1 else [15.0],
                        "kg",
                    ),
                ],
                [
                    ("AEX", raw_lots["AEX"], [1.2], "L"),
                    ("NACL", [raw_lots["NACL"][i % 2]], [8.5], "kg"),
                ],
            ]
            b.parameters = [
                [(name, sp, round(rng.gauss(sp, sd), 2), unit) for name, sp, unit, sd in step]
                for step in PARAMETERS
            ]
            b.ipc_ph = round(rng.uniform(7.0, 7.4), 2)
            batches.append(b)
    return batches


def _excel_serial(moment: datetime) -> float:
    return round((moment - EXCEL_EPOCH).total_seconds() / 86400, 4)


def _cover_date(layout: Layout, moment: datetime, end: bool) -> Any:
    if layout is NORTH:
        return moment.strftime("%d/%m/%Y")  # day-first text, declared in the mapping
    return moment.strftime("%d-%b-%Y") if end else moment  # "14-May-2024" / a date cell


def _step_time(layout: Layout, moment: datetime) -> Any:
    if layout is NORTH:
        return moment.strftime("%d/%m/%Y %H:%M")
    return _excel_serial(moment)  # Site-South's MES writes Excel serial numbers


def build_workbook(
    batch: Batch, path: Path, overrides: dict[str, Any] | None = None
) -> dict[str, dict[str, str]]:
    """Write one batch record; return {sheet: {what: cell}} for the cells tests look at.
    ``overrides`` replaces values by key ("ipc_ph")."""
    overrides = overrides or {}
    layout = batch.site
    wb = Workbook()
    cells: dict[str, dict[str, str]] = {}
    cover = wb.active
    cover.title = layout.cover_sheet
    cover["A1"] = f"{PRODUCT} drug substance — executed batch record"
    cover.merge_cells("A1:D1" if layout is NORTH else "A1:E2")
    end = batch.start + timedelta(days=3)
    values = {
        "batch": batch.number,
        "product": PRODUCT,
        "scale": "200 L" if layout is NORTH else "200",
        "site": layout.site,
        "version": "v1",
        "start": _cover_date(layout, batch.start, False),
        "end": _cover_date(layout, end, True),
    }
    row = layout.cover_row
    column = 1 if layout is NORTH else 2  # Site-South indents its cover block
    for key, label in layout.cover_labels.items():
        cover.cell(row, column, label)
        cover.cell(row, column + 1, values[key])
        cells.setdefault(layout.cover_sheet, {})[key] = f"{get_column_letter(column + 1)}{row}"
        row += 1 + (1 if layout is SOUTH and key == "site" else 0)  # a blank row mid-block
    moment = batch.start + timedelta(hours=8)
    previous = batch.lots["upstream"]
    for step, sheet_name in enumerate(layout.step_sheets):
        ws = wb.create_sheet(sheet_name)
        where = cells.setdefault(sheet_name, {})
        ws["A1"] = f"Unit operation {step + 1}: {layout.operations[step]}"
        ws.merge_cells("A1:E1")
        output = batch.lots[("harvest", "capture", "polish")[step]]
        header = {
            "operation": layout.operations[step],
            "equipment": f"{layout.prefix}-{('DSC-01', 'AKTA-1', 'AKTA-2')[step]}",
            "operator": ("JS", "MK", "AL")[step],
            "start": _step_time(layout, moment),
            "end": _step_time(layout, moment + timedelta(hours=6)),
            "input": previous,
            "output": output,
        }
        order = (
            list(layout.step_labels)
            if layout is NORTH
            else ["operation", "input", "equipment", "start", "end", "operator", "output"]
        )
        row = layout.step_row + step % 2  # blocks drift from sheet to sheet
        for key in order:
            ws.cell(row, 1, layout.step_labels[key])
            ws.cell(row, 2, header[key])
            where[key] = f"B{row}"
            row += 1
        row += layout.gap
        ws.cell(row, 1, layout.parameter_heading)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        row += 1
        for c, name in enumerate(layout.parameter_columns, start=1):
            ws.cell(row, c, name)
        row += 1
        for name, set_point, actual, unit in batch.parameters[step]:
            ws.cell(row, 1, layout.parameters[name])
            ws.cell(row, 2, set_point)
            ws.cell(row, 3, actual)
            ws.cell(row, 4, unit)
            ws.cell(row, 5, "yes" if layout is NORTH else "Y")
            where[name] = f"C{row}"
            row += 1
        row += layout.gap
        if batch.materials[step]:
            ws.cell(row, 1, layout.material_heading)
            row += 1
            for c, name in enumerate(layout.material_columns, start=1):
                ws.cell(row, c, name)
            row += 1
            for material, lots, quantities, unit in batch.materials[step]:
                code = layout.item_codes[material]
                texts = [" / ".join(lots), " / ".join(f"{q:g}" for q in quantities)]
                if layout is NORTH:
                    line = [
                        code,
                        MATERIALS[material][0],
                        texts[0],
                        quantities[0] if len(quantities) == 1 else texts[1],
                        unit,
                    ]
                else:
                    line = [
                        code,
                        texts[0],
                        quantities[0] if len(quantities) == 1 else texts[1],
                        unit,
                    ]
                for c, value in enumerate(line, start=1):
                    ws.cell(row, c, value)
                row += 1
            row += layout.gap
        if step == 2:
            ws.cell(row, 1, "In-process controls")
            row += 1
            for c, name in enumerate(("Test", "Result", "Unit"), start=1):
                ws.cell(row, c, name)
            row += 1
            ws.cell(row, 1, "pH")
            ws.cell(row, 2, overrides.get("ipc_ph", batch.ipc_ph))
            ws.cell(row, 3, "pH")
            where["ipc_ph"] = f"B{row}"
        previous = output
        moment += timedelta(days=1)
    stamp = datetime(2024, 6, 1)
    wb.properties.created = wb.properties.modified = stamp
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _fix_zip_times(path)
    return cells


def _fix_zip_times(path: Path) -> None:
    """Rewrite the workbook's zip entries with a fixed time, so reruns give the same bytes."""
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-06-01T00:00:00Z", data
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 6, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, data)


def raw_material_lots(batches: list[Batch]) -> dict[str, str]:
    """Every raw-material lot used → its material id."""
    out: dict[str, str] = {}
    for b in batches:
        for step in b.materials:
            for material, lots, _, _ in step:
                out.update(dict.fromkeys(lots, material))
    return dict(sorted(out.items()))


def write_certificates(lots: dict[str, str], rng: random.Random) -> dict[str, dict]:
    """Vendor CoAs as JSON: ResinCo nests a result list, ChemSupply keys results by test."""
    truth: dict[str, dict] = {}
    folder = HERE / "coa"
    folder.mkdir(exist_ok=True)
    for lot, material in lots.items():
        name, _, vendor = MATERIALS[material]
        if vendor == "ResinCo":
            endotoxin = "< 0.25"
            ph = round(rng.uniform(6.8, 7.4), 2)
            doc: dict[str, Any] = {
                "documentType": "CertificateOfAnalysis",
                "issuer": {"name": "ResinCo", "site": "Uppsala-type plant"},
                "product": {
                    "catalogNumber": f"RC-{material}-100",
                    "name": name,
                    "lot": lot,
                    "manufactured": "2024-02-12",
                },
                "results": [
                    {"test": "pH", "result": f"{ph}", "unit": "pH", "limits": "6.5 – 7.5"},
                    {
                        "test": "Endotoxin",
                        "result": endotoxin,
                        "unit": "EU/mL",
                        "limits": "NMT 0.5",
                    },
                    {"test": "Appearance", "result": "Conforms", "limits": "Conforms"},
                ],
            }
            truth[lot] = {
                "vendor": vendor,
                "pH": ph,
                "endotoxin": endotoxin,
                "appearance": "Conforms",
            }
        else:
            assay = round(rng.uniform(99.2, 100.3), 1)
            doc = {
                "coa": {
                    "header": {
                        "supplier": "ChemSupply GmbH",
                        "document": f"COA-{lot}",
                        "dateOfManufacture": "14-Mar-2024",
                    },
                    "material": {"item": f"CS-{material}", "description": name, "batch": lot},
                    "analysis": {
                        "Assay": {"value": f"{assay}", "uom": "%", "spec": "99.0 – 100.5"},
                        "Water": {"value": "< 0.1", "uom": "%", "spec": "NMT 0.5"},
                        "Endotoxin": {"value": "NT", "uom": "EU/mL", "spec": "Report result"},
                    },
                }
            }
            truth[lot] = {"vendor": vendor, "assay": assay, "water": "< 0.1", "endotoxin": "NT"}
        (folder / f"{lot}.json").write_text(
            json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return truth


def write_qc(batches: list[Batch], rng: random.Random) -> dict[str, dict[str, Any]]:
    """Wide QC exports, one per method, units in the headers; returns the reported texts."""
    folder = HERE / "qc"
    folder.mkdir(exist_ok=True)
    reported: dict[str, dict[str, Any]] = {}
    for b in batches:
        south = b.site is SOUTH
        monomer = round(rng.gauss(97.6 if south else 98.2, 0.2), 1)
        hmw = round(rng.gauss(2.0 if south else 1.4, 0.15), 1)
        if b.number == OOS[0]:
            hmw = OOS[2]
        hcp: Any = round(rng.uniform(15, 45), 1)
        if b.number == LOQ_PASS[0]:
            hcp = "<LOQ"
        endotoxin: Any = "<0.05" if rng.random() < 0.5 else round(rng.uniform(0.06, 0.2), 2)
        reported[b.number] = {
            "Monomer": monomer,
            "HMW": hmw,
            "HCP": hcp,
            "Endotoxin": endotoxin,
            "Protein concentration": round(rng.gauss(50.0, 1.2), 1),
            "Osmolality": "NT" if b.number.endswith("03") and south else round(rng.gauss(300, 5)),
            "Appearance": "Conforms",
        }
    tables = {
        "SEC.csv": ["Batch", "Test date", "Monomer (%)", "HMW (%)"],
        "HCP_ELISA.csv": ["Batch", "Test date", "HCP (ng/mg)"],
        "General.csv": [
            "Batch",
            "Test date",
            "Endotoxin (EU/mL)",
            "Protein concentration (mg/mL)",
            "Osmolality (mOsm/kg)",
            "Appearance",
        ],
    }
    for name, header in tables.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            for b in batches:
                tested = (b.start + timedelta(days=10)).strftime("%Y-%m-%d")
                values = reported[b.number]
                row = [b.number, tested]
                for column in header[2:]:
                    row.append(values[column.split(" (")[0]])
                writer.writerow(row)
    return reported


SPECIFICATIONS = [  # id, test as written, criterion as written, unit, stage, lot class
    ("SPEC-Z-01", "Monomer (SEC)", "≥ 95.0", "%", "release", "drug substance"),
    ("SPEC-Z-02", "HMW (SEC)", "NMT 3.0", "%", "release", "drug substance"),
    ("SPEC-Z-03", "HCP", "NMT 100", "ng/mg", "release", "drug substance"),
    ("SPEC-Z-04", "Endotoxin", "≤ 0.5", "EU/mL", "release", "drug substance"),
    ("SPEC-Z-05", "Protein concentration", "45.0 – 55.0", "mg/mL", "release", "drug substance"),
    ("SPEC-Z-06", "Osmolality", "Report result", "mOsm/kg", "release", "drug substance"),
    ("SPEC-Z-07", "Appearance", "Conforms", "", "release", "drug substance"),
    ("SPEC-Z-08", "pH", "6.8 – 7.6", "pH", "in-process", "drug substance"),  # AEX pool
]


def write_specifications() -> None:
    with open(HERE / "specifications.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(
            [
                "Spec ID",
                "Product",
                "Material",
                "Test",
                "Acceptance criterion",
                "Unit",
                "Stage",
                "Version",
            ]
        )
        for spec_id, test, criterion, unit, stage, lot_class in SPECIFICATIONS:
            writer.writerow([spec_id, PRODUCT, lot_class, test, criterion, unit, stage, "1"])


def write_item_master() -> None:
    with open(HERE / "item_master.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["item_code", "material", "name", "material_type"])
        for layout in (NORTH, SOUTH):
            for material, code in layout.item_codes.items():
                name, kind, _ = MATERIALS[material]
                writer.writerow([code, material, name, kind])


def main() -> None:
    rng = random.Random(SEED)
    batches = make_batches(rng)
    truth: dict[str, Any] = {"product": PRODUCT, "seed": SEED, "batches": {}}
    for b in batches:
        folder = "site-north" if b.site is NORTH else "site-south"
        path = HERE / folder / f"{b.number}.xlsx"
        cells = build_workbook(b, path)
        used = sorted({lot for step in b.materials for _, lots, _, _ in step for lot in lots})
        truth["batches"][b.number] = {
            "site": b.site.site,
            "workbook": f"{folder}/{b.number}.xlsx",
            "start": b.start.date().isoformat(),
            "end": (b.start + timedelta(days=3)).date().isoformat(),
            "runs": [
                {
                    "sheet": sheet,
                    "unit_operation": NORTH.operations[i],
                    "output": b.lots[("harvest", "capture", "polish")[i]],
                    "input": [
                        b.lots[("upstream", "harvest", "capture")[i]],
                        *[lot for _, lots, _, _ in b.materials[i] for lot in lots],
                    ],
                    "parameters": {
                        name: {"set_point": sp, "actual": actual, "unit": unit}
                        for name, sp, actual, unit in b.parameters[i]
                    },
                }
                for i, sheet in enumerate(b.site.step_sheets)
            ],
            "upstream_lots": sorted(
                [b.lots["upstream"], b.lots["harvest"], b.lots["capture"], *used]
            ),
            "raw_material_lots": used,
            "ipc_ph": b.ipc_ph,
            "cells": cells,
        }
    lots = raw_material_lots(batches)
    truth["raw_material_lots"] = {lot: MATERIALS[m][1] for lot, m in lots.items()}
    truth["certificates"] = write_certificates(lots, rng)
    truth["qc"] = write_qc(batches, rng)
    truth["hcp_loq"] = HCP_LOQ
    truth["out_of_specification"] = [
        {
            "batch": OOS[0],
            "test": OOS[1],
            "value": OOS[2],
            "specification": "SPEC-Z-02",
            "criterion": "NMT 3.0",
        }
    ]
    truth["censored_pass"] = {
        "batch": LOQ_PASS[0],
        "test": LOQ_PASS[1],
        "reported": "<LOQ",
        "limit": HCP_LOQ,
        "specification": "SPEC-Z-03",
        "criterion": "NMT 100",
    }
    truth["specifications"] = [
        {"id": s[0], "test": s[1], "criterion": s[2], "unit": s[3], "stage": s[4], "material": s[5]}
        for s in SPECIFICATIONS
    ]
    write_specifications()
    write_item_master()
    (HERE / "truth.json").write_text(
        json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
