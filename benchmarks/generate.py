#!/usr/bin/env python3
"""Generate a company's monoclonal-antibody manufacturing records for benchmarking cmckg.

``python benchmarks/generate.py --batches N --seed S --out DIR`` writes source files — the
exports a plant would hand over — for N drug-substance batches at four sites making four mAbs:

- master data (sites, products, process versions, equipment) and release specifications;
- raw-material lot lists and certificates of analysis (per site per year);
- batch records, one unit-operation run per row (per site per month): N-1 seed bioreactor →
  production bioreactor (harvest) → protein A capture (eluate) → anion exchange polishing (drug
  substance) → fill-finish (drug product), with consumed lots, quantities, equipment, process
  version and process parameters;
- LIMS results (per site per month): harvest titer, drug-substance and drug-product release,
  each site with its own test names and units;
- ASM cell-counting JSON (per site per month), shaped like allotropy's Vi-CELL XR output.

Raw-material lots are shared between batches as in real plants: a cell-culture medium or feed
lot feeds 5–20 batches, a protein A resin lot serves 100–300 capture cycles, a working cell bank
lot hundreds of batches. Everything goes through cmckg's mappers with the mapping YAMLs written
to ``DIR/mappings``; ``DIR/ingest.yaml`` lists the files per mapping in ingest order,
``DIR/batches.csv`` is the ground truth per batch (not ingested) and ``DIR/manifest.json`` the
parameters and counts.

Planted effects (for drivers and comparability): the medium lot's CoA osmolality drives
drug-substance afucosylation (+0.06 % per mOsm/kg); process version v2 raises HMW by 0.5 %
(absolute); about 0.3 % of batches have an HMW excursion above the 3.0 % limit.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

ISSUER = "enterprise"
SEED = 20261127
START = date(2016, 1, 4)
BATCHES_PER_YEAR = 1000  # the timeline grows with N up to ten years, then plants get busier
MAX_YEARS = 10
AFUC_PER_MOSM = 0.06
HMW_SHIFT_V2 = 0.5
HMW_LIMIT = 3.0
OOS_RATE = 0.003
V2_FROM = 0.6  # fraction of a site's timeline after which it runs process version v2

PRODUCTS = {  # id → label, afucosylation offset, baseline HMW
    "mAb-1": ("anti-HER2 IgG1", 0.0, 1.1),
    "mAb-2": ("anti-TNF IgG1", 1.5, 1.3),
    "mAb-3": ("anti-PD-1 IgG4", -0.8, 1.6),
    "mAb-4": ("anti-IL-6R IgG1", 0.6, 1.0),
}


@dataclass(frozen=True)
class Site:
    """A plant: its code, the products it makes and how its exports name things."""

    code: str
    prefix: str
    products: tuple[str, ...]
    style: str  # "a" or "b": test names and units of the site's LIMS, step names of its MES
    hmw_offset: float


SITES = (
    Site("Site-A", "A", ("mAb-1", "mAb-2", "mAb-3"), "a", 0.0),
    Site("Site-B", "B", ("mAb-1", "mAb-2", "mAb-4"), "b", 0.1),
    Site("Site-C", "C", ("mAb-2", "mAb-3", "mAb-4"), "a", -0.05),
    Site("Site-D", "D", ("mAb-1", "mAb-3", "mAb-4"), "b", 0.05),
)

# Test names and units per site style (the canonical unit is the first style's).
TESTS = {
    "a": {
        "titer": "Titer",
        "hmw": "HMW (SEC)",
        "monomer": "Monomer (SEC)",
        "main_peak": "Main peak (CEX)",
        "acidic": "Acidic variants (CEX)",
        "afucosylation": "Afucosylation",
        "hcp": "HCP",
        "potency": "Relative potency",
        "concentration": "Protein concentration",
        "ph": "pH",
        "osmolality": "Osmolality",
    },
    "b": {
        "titer": "IgG titre",
        "hmw": "aggregates",
        "monomer": "SEC main",
        "main_peak": "CEX main",
        "acidic": "CEX acidic",
        "afucosylation": "afucose",
        "hcp": "CHO HCP",
        "potency": "potency",
        "concentration": "conc. (A280)",
        "ph": "pH",
        "osmolality": "osmo",
    },
}
CANONICAL = {
    "titer": "titer",
    "hmw": "high molecular weight species",
    "monomer": "monomer",
    "main_peak": "main charge isoform",
    "acidic": "acidic variants",
    "afucosylation": "afucosylation",
    "hcp": "host cell protein",
    "potency": "relative potency",
    "concentration": "protein concentration",
    "ph": "pH",
    "osmolality": "osmolality",
}
UNITS = {
    "a": {"titer": "g/L", "hcp": "ng/mg", "concentration": "mg/mL"},
    "b": {"titer": "mg/mL", "hcp": "ppm", "concentration": "g/L"},
}
FIXED_UNITS = {
    "hmw": "%",
    "monomer": "%",
    "main_peak": "%",
    "acidic": "%",
    "afucosylation": "%",
    "potency": "%",
    "ph": "pH",
    "osmolality": "mOsm/kg",
}
DS_RELEASE = ("hmw", "monomer", "main_peak", "acidic", "afucosylation", "hcp", "potency")
DP_RELEASE = ("concentration", "ph", "hmw")
STEPS = {  # step key → (style a name, style b name)
    "seed": ("N-1 seed bioreactor", "N-1"),
    "production": ("production bioreactor", "production culture"),
    "capture": ("protein A capture", "ProA capture"),
    "polishing": ("anion exchange polishing", "AEX"),
    "fill": ("drug product fill finish", "DP fill-finish"),
}

# Raw materials: code → (material name, supplier, batches per lot (low, high), per product?,
# quantity per batch in kg or None).
MATERIALS = {
    "MED": ("cell culture medium", "MediaCo", (5, 20), False, 1440.0),
    "FEED": ("feed medium", "MediaCo", (5, 20), False, 300.0),
    "WCB": ("working cell bank", "CellBank Services", (150, 400), True, None),
    "PRA": ("protein A resin", "ResinWorks", (100, 300), True, None),
    "AEX": ("anion exchange resin", "ResinWorks", (80, 200), True, None),
    "SUC": ("sucrose", "SugarChem", (20, 60), False, 2.0),
    "PS80": ("polysorbate 80", "SurfactantCo", (30, 80), False, 0.05),
}


def batch_records_mapping(site: Site) -> str:
    names = {key: value[0 if site.style == "a" else 1] for key, value in STEPS.items()}
    return f"""\
# {site.code} batch records (MES export): one unit-operation run per row. `upstream` is the
# intermediate lot the run consumed, `materials` the raw-material lots (';'-separated) with their
# quantities in kg, `other_lots` lots consumed without a quantity (a cell-bank vial, a packed
# resin lot reused for many cycles). Site, product, equipment and process version are master
# data (declared in master/*.csv), so runs only reference them. The polishing run produces the
# drug-substance batch, fill-finish the drug-product lot.
mapping: 1
issuer: {ISSUER}
terms:
  {names["seed"]}: N-1 bioreactor
  {names["production"]}: production bioreactor
  {names["capture"]}: protein A capture
  {names["polishing"]}: anion exchange chromatography
  {names["fill"]}: fill-finish
entities:
  run:
    type: ProcessRun
    id: "{{run}}"
    required: true
    unit_operation: "{{step}}"
    used:
      - {{id: "{{upstream}}"}}
      - {{id: "{{materials}}", split: ";", quantity: material_quantities_kg, unit: kg}}
      - {{id: "{{other_lots}}", split: ";"}}
    produced:
      - type:
          column: step
          map: {{"{names["polishing"]}": DrugSubstanceBatch, "{names["fill"]}": DrugProductBatch}}
          default: IntermediateLot
        id: "{{output}}"
        product: {{id: "{{product}}"}}
        site: {{id: "{{site}}"}}
    equipment: {{id: "{{equipment}}"}}
    site: {{id: "{{site}}"}}
    process_version: {{id: ["{{product}}", "{{process_version}}"]}}
    start: start
    end: end
    measurements:
      temperature: {{property: temperature, unit: degC, stage: in-process}}
      ph: {{property: process pH, unit: pH, stage: in-process}}
      do: {{property: dissolved oxygen, unit: "%", stage: in-process}}
      column_load: {{property: column load, unit: g/L, stage: in-process}}
"""


def lims_mapping(site: Site) -> str:
    tests = TESTS[site.style]
    terms = "\n".join(f"  {_yaml_key(tests[t])}: {CANONICAL[t]}" for t in tests)
    return f"""\
# {site.code} LIMS export: one result per row, with {site.code}'s own test names and units.
mapping: 1
issuer: {ISSUER}
terms:
{terms}
entities:
  tested_lot:
    type: MaterialLot
    id: "{{lot}}"
    required: true
    measurements:
      - value: value
        property: "{{test}}"
        unit: "{{unit}}"
        stage: "{{stage}}"
        time: date
"""


def _yaml_key(text: str) -> str:
    return f'"{text}"' if any(c in text for c in ":#()") else text


FIXED_MAPPINGS = {
    "master_products.yaml": f"""\
# Master data: which site makes which product under which process versions.
mapping: 1
issuer: {ISSUER}
entities:
  product: {{type: Product, id: "{{product}}", label: "{{label}}", required: true}}
  site: {{type: Site, id: "{{site}}", required: true}}
  process_version:
    type: ProcessVersion
    id: ["{{product}}", "{{process_version}}"]
    required: true
""",
    "master_equipment.yaml": f"""\
# Master data: equipment per site.
mapping: 1
issuer: {ISSUER}
entities:
  equipment: {{type: Equipment, id: "{{equipment}}", label: "{{description}}", required: true}}
""",
    "raw_material_lots.yaml": f"""\
# Raw-material lot list (ERP export). Lot ids are company-wide, so a lot named here, on a CoA
# and in a batch record is one node.
mapping: 1
issuer: {ISSUER}
entities:
  lot:
    type: RawMaterialLot
    id: "{{lot}}"
    required: true
    material: {{type: Material, id: "{{material}}", material_type: "{{material}}"}}
    supplier: {{type: Supplier, id: "{{supplier}}"}}
    site: {{id: "{{site}}"}}
    manufacture_date: manufactured
    expiry_date: expiry
""",
    "coa_results.yaml": f"""\
# Certificates of analysis of raw-material lots: one result per row (long table).
mapping: 1
issuer: {ISSUER}
entities:
  coa:
    type: MaterialLot
    id: "{{lot}}"
    required: true
    measurements:
      - value: result
        property: "{{test}}"
        unit: "{{unit}}"
        stage: CoA
        time: tested
""",
    "specifications.yaml": f"""\
# Release specifications per product (drug substance and drug product), canonical test names.
mapping: 1
issuer: {ISSUER}
entities:
  spec:
    type: Specification
    id: "{{spec_id}}"
    required: true
    product: {{id: "{{product}}"}}
    property: "{{test}}"
    stage: "{{stage}}"
    lower: lower_limit
    upper: upper_limit
    unit: "{{unit}}"
    version: "{{version}}"
    lot_class:
      column: material_stage
      map: {{drug substance: DrugSubstanceBatch, drug product: DrugProductBatch}}
""",
    "asm.yaml": f"""\
# ASM cell-counting files: the "batch identifier" names a company-wide lot id.
mapper: asm
lot_issuer: {ISSUER}
""",
}

SPECIFICATIONS = (  # test, material stage, lower, upper, unit (canonical names and units)
    ("hmw", "drug substance", 0.0, HMW_LIMIT, "%"),
    ("monomer", "drug substance", 95.0, 100.0, "%"),
    ("main_peak", "drug substance", 55.0, 70.0, "%"),
    ("afucosylation", "drug substance", 4.0, 14.0, "%"),
    ("potency", "drug substance", 80.0, 125.0, "%"),
    ("hcp", "drug substance", 0.0, 100.0, "ng/mg"),
    ("concentration", "drug product", 45.0, 55.0, "mg/mL"),
    ("ph", "drug product", 5.7, 6.3, "pH"),
    ("hmw", "drug product", 0.0, 3.5, "%"),
)

RUN_COLUMNS = [
    "run",
    "step",
    "upstream",
    "materials",
    "material_quantities_kg",
    "other_lots",
    "output",
    "product",
    "equipment",
    "site",
    "process_version",
    "start",
    "end",
    "temperature",
    "ph",
    "do",
    "column_load",
]
LIMS_COLUMNS = ["lot", "test", "value", "unit", "stage", "date"]
LOT_COLUMNS = ["lot", "material", "supplier", "site", "manufactured", "expiry"]
COA_COLUMNS = ["lot", "test", "result", "unit", "tested"]
TRUTH_COLUMNS = [
    "ds_batch",
    "dp_lot",
    "site",
    "product",
    "process_version",
    "seq",
    "start",
    "seed_lot",
    "harvest_lot",
    "eluate_lot",
    "MED",
    "FEED",
    "WCB",
    "PRA",
    "AEX",
    "SUC",
    "PS80",
    "medium_osmolality",
    "hmw",
    "afucosylation",
]


class Writer:
    """CSV and JSON files under the output folder, counting what it writes."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.files: dict[str, int] = {}

    def csv(self, relative: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        count = 0
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(row)
                count += 1
        self.files[relative] = count

    def json(self, relative: str, document: dict) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=1), encoding="utf-8")
        self.files[relative] = 1

    def text(self, relative: str, text: str) -> None:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def lots_for(n_uses: int, low: int, high: int, rng: np.random.Generator) -> np.ndarray:
    """Which lot (0, 1, …) each of ``n_uses`` consecutive uses draws from, lots lasting
    ``low``–``high`` uses each."""
    if n_uses == 0:
        return np.zeros(0, dtype=np.int64)
    sizes = rng.integers(low, high + 1, size=n_uses // low + 2)
    return np.repeat(np.arange(len(sizes)), sizes)[:n_uses]


def _iso(day: np.datetime64, hours: int = 8) -> str:
    return f"{np.datetime_as_string(day, unit='D')}T{hours:02d}:00"


def _day(day: np.datetime64) -> str:
    return str(np.datetime_as_string(day, unit="D"))


def _month(day: np.datetime64) -> str:
    return str(np.datetime_as_string(day, unit="M"))


class Enterprise:
    """All batches of all sites, generated column-wise with numpy."""

    def __init__(self, n_batches: int, seed: int) -> None:
        self.n = n_batches
        self.rng = np.random.default_rng(seed)
        self.years = int(min(MAX_YEARS, max(1, round(n_batches / BATCHES_PER_YEAR))))
        self.span_days = 365 * self.years

    def site_batches(self) -> list[int]:
        """How many batches each site makes (the sites differ in size)."""
        weights = np.array([0.32, 0.28, 0.22, 0.18])
        counts = np.floor(weights * self.n).astype(int)
        counts[0] += self.n - counts.sum()
        return [int(c) for c in counts]


def generate(out: Path, n_batches: int, seed: int = SEED) -> dict:
    """Write the source files for ``n_batches`` drug-substance batches; return the manifest."""
    if n_batches < 1:
        raise ValueError("give at least one batch")
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    ent = Enterprise(n_batches, seed)
    writer = Writer(out)
    start = np.datetime64(START.isoformat(), "D")

    for name, text in FIXED_MAPPINGS.items():
        writer.text(f"mappings/{name}", text)
    writer.csv(
        "master/products.csv",
        ["product", "label", "site", "process_version"],
        ((p, PRODUCTS[p][0], s.code, v) for s in SITES for p in s.products for v in ("v1", "v2")),
    )
    equipment = []
    for s in SITES:
        p = s.prefix
        equipment += [(f"{p}-BR-200-{i}", f"{s.code} 200 L N-1 seed bioreactor") for i in (1, 2)]
        equipment += [
            (f"{p}-BR-2000-{i}", f"{s.code} 2000 L production bioreactor") for i in (1, 2, 3, 4)
        ]
        equipment += [(f"{p}-AKTA-{i}", f"{s.code} chromatography skid") for i in (1, 2)]
        equipment += [(f"{p}-FILL-1", f"{s.code} vial filling line")]
    writer.csv("master/equipment.csv", ["equipment", "description"], equipment)
    writer.csv(
        "specifications.csv",
        [
            "spec_id",
            "product",
            "material_stage",
            "test",
            "lower_limit",
            "upper_limit",
            "unit",
            "stage",
            "version",
        ],
        (
            (f"SPEC-{p}-{i + 1:02d}", p, stage, CANONICAL[t], lo, hi, unit, "release", "1")
            for p in PRODUCTS
            for i, (t, stage, lo, hi, unit) in enumerate(SPECIFICATIONS)
        ),
    )

    groups: list[dict] = [
        {
            "name": "master data: products",
            "files": ["master/products.csv"],
            "mapping": "mappings/master_products.yaml",
        },
        {
            "name": "master data: equipment",
            "files": ["master/equipment.csv"],
            "mapping": "mappings/master_equipment.yaml",
        },
        {
            "name": "specifications",
            "files": ["specifications.csv"],
            "mapping": "mappings/specifications.yaml",
        },
    ]
    lot_files: list[str] = []
    coa_files: list[str] = []
    per_site_groups: list[dict] = []
    truth_rows: list[list] = []
    counts = {
        "ds_batches": 0,
        "dp_lots": 0,
        "runs": 0,
        "intermediate_lots": 0,
        "raw_material_lots": 0,
        "lims_results": 0,
        "coa_results": 0,
        "asm_files": 0,
        "asm_samples": 0,
    }
    for site, n_site in zip(SITES, ent.site_batches(), strict=True):
        if n_site == 0:
            continue
        files = site_files(writer, ent, site, n_site, start, truth_rows, counts)
        lot_files += files["lots"]
        coa_files += files["coa"]
        writer.text(
            f"mappings/batch_records_{site.prefix.lower()}.yaml", batch_records_mapping(site)
        )
        writer.text(f"mappings/lims_{site.prefix.lower()}.yaml", lims_mapping(site))
        per_site_groups.append(
            {
                "name": f"{site.code} batch records",
                "files": files["runs"],
                "mapping": f"mappings/batch_records_{site.prefix.lower()}.yaml",
            }
        )
        per_site_groups.append(
            {
                "name": f"{site.code} LIMS results",
                "files": files["lims"],
                "mapping": f"mappings/lims_{site.prefix.lower()}.yaml",
            }
        )
        per_site_groups.append(
            {
                "name": f"{site.code} cell counts (ASM)",
                "files": files["asm"],
                "mapping": "mappings/asm.yaml",
            }
        )
    groups.append(
        {
            "name": "raw-material lots",
            "files": lot_files,
            "mapping": "mappings/raw_material_lots.yaml",
        }
    )
    groups.append(
        {
            "name": "certificates of analysis",
            "files": coa_files,
            "mapping": "mappings/coa_results.yaml",
        }
    )
    groups += per_site_groups
    writer.csv("batches.csv", TRUTH_COLUMNS, truth_rows)
    writer.text("ingest.yaml", _ingest_yaml(groups))
    manifest = {
        "generator": "benchmarks/generate.py",
        "batches": n_batches,
        "seed": seed,
        "issuer": ISSUER,
        "sites": [s.code for s in SITES],
        "products": list(PRODUCTS),
        "years": ent.years,
        "start": START.isoformat(),
        "counts": counts,
        "record_files": sum(len(g["files"]) for g in groups),
        "source_rows": sum(writer.files.values()),
        "seconds": round(time.perf_counter() - started, 2),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _ingest_yaml(groups: list[dict]) -> str:
    lines = [
        "# What to ingest, in order: each group's files with the mapping that reads them",
        "# (paths relative to this folder). Written by benchmarks/generate.py.",
        "groups:",
    ]
    for group in groups:
        lines.append(f"  - name: {json.dumps(group['name'])}")
        lines.append(f"    mapping: {group['mapping']}")
        lines.append("    files:")
        lines += [f"      - {json.dumps(f)}" for f in group["files"]]
    return "\n".join(lines) + "\n"


def site_files(
    writer: Writer,
    ent: Enterprise,
    site: Site,
    n: int,
    start: np.datetime64,
    truth_rows: list[list],
    counts: dict[str, int],
) -> dict[str, list[str]]:
    """Generate one site's batches and write its files; return the file lists per kind."""
    rng = ent.rng
    p = site.prefix
    tag = site.prefix.lower()
    # When each batch starts (sorted), which product it makes and under which version.
    offsets = np.sort(rng.integers(0, ent.span_days - 45, size=n))
    day0 = start + offsets.astype("timedelta64[D]")
    product_idx = rng.integers(0, len(site.products), size=n)
    v2 = offsets >= V2_FROM * ent.span_days
    seq = np.arange(1, n + 1)

    # Raw-material lots: consecutive batches draw from the same lot until it is used up.
    lot_of: dict[str, np.ndarray] = {}
    lot_names: dict[str, list[str]] = {}
    lot_first_use: dict[str, np.ndarray] = {}
    for code, (_, _, (low, high), per_product, _) in MATERIALS.items():
        ids = np.empty(n, dtype=object)
        first: list[np.datetime64] = []
        names: list[str] = []
        groups = (
            [(prod, np.flatnonzero(product_idx == i)) for i, prod in enumerate(site.products)]
            if per_product
            else [("", np.arange(n))]
        )
        for prod, members in groups:
            which = lots_for(len(members), low, high, rng)
            base = len(names)
            label = f"{p}-{code}-{prod.replace('mAb-', 'M')}-" if prod else f"{p}-{code}-"
            for k in range(int(which.max()) + 1 if len(which) else 0):
                names.append(f"{label}{k + 1:05d}")
                first.append(day0[members[np.searchsorted(which, k)]])
            ids[members] = which + base
        lot_of[code] = ids.astype(np.int64)
        lot_names[code] = names
        lot_first_use[code] = np.array(first, dtype="datetime64[D]")

    # Raw-material lot lists and CoAs, per year of manufacture.
    osmolality = {k: float(v) for k, v in enumerate(rng.normal(300.0, 9.0, len(lot_names["MED"])))}
    by_year: dict[str, tuple[list, list]] = {}
    for code, (material, supplier, _, _, _) in MATERIALS.items():
        made = lot_first_use[code] - rng.integers(20, 90, len(lot_names[code])).astype(
            "timedelta64[D]"
        )
        for k, name in enumerate(lot_names[code]):
            year = str(made[k].astype("datetime64[Y]"))
            lots, coa = by_year.setdefault(year, ([], []))
            lots.append(
                (
                    name,
                    material,
                    supplier,
                    site.code,
                    _day(made[k]),
                    _day(made[k] + np.timedelta64(730, "D")),
                )
            )
            tested = _day(made[k] + np.timedelta64(3, "D"))
            if code == "MED":
                coa.append((name, "Osmolality", round(osmolality[k], 2), "mOsm/kg", tested))
                coa.append((name, "pH", round(float(rng.normal(7.1, 0.05)), 3), "pH", tested))
                coa.append(
                    (name, "Endotoxin", round(float(rng.uniform(0.05, 0.4)), 3), "EU/mL", tested)
                )
            elif code == "FEED":
                coa.append(
                    (name, "Osmolality", round(float(rng.normal(1200, 30)), 1), "mOsm/kg", tested)
                )
            else:
                coa.append(
                    (name, "Endotoxin", round(float(rng.uniform(0.01, 0.2)), 3), "EU/mL", tested)
                )
    files: dict[str, list[str]] = {"lots": [], "coa": [], "runs": [], "lims": [], "asm": []}
    for year, (lots, coa) in sorted(by_year.items()):
        writer.csv(f"raw-materials/lots_{tag}_{year}.csv", LOT_COLUMNS, lots)
        files["lots"].append(f"raw-materials/lots_{tag}_{year}.csv")
        writer.csv(f"raw-materials/coa_{tag}_{year}.csv", COA_COLUMNS, coa)
        files["coa"].append(f"raw-materials/coa_{tag}_{year}.csv")
        counts["raw_material_lots"] += len(lots)
        counts["coa_results"] += len(coa)

    # Process parameters and quality results, drawn for all batches at once.
    temp_seed = rng.normal(36.8, 0.15, n)
    temp_prod = rng.normal(36.5, 0.2, n)
    ph_seed = rng.normal(7.05, 0.03, n)
    ph_prod = rng.normal(6.95, 0.03, n)
    do_seed = rng.normal(40.0, 2.0, n)
    do_prod = rng.normal(40.0, 2.0, n)
    load = rng.normal(35.0, 2.5, n)
    titer = rng.normal(3.2, 0.2, n) + 0.4 * v2
    base_hmw = np.array([PRODUCTS[site.products[i]][2] for i in product_idx])
    afuc_offset = np.array([PRODUCTS[site.products[i]][1] for i in product_idx])
    hmw = base_hmw + HMW_SHIFT_V2 * v2 + site.hmw_offset + rng.normal(0, 0.15, n)
    hmw = np.where(rng.random(n) < OOS_RATE, rng.uniform(3.1, 3.8, n), hmw)
    osmo = np.array([osmolality[k] for k in lot_of["MED"]])
    values = {
        "hmw": hmw,
        "monomer": 100.0 - hmw - rng.normal(0.6, 0.08, n),
        "main_peak": rng.normal(62.0, 1.2, n),
        "acidic": rng.normal(24.0, 1.0, n),
        "afucosylation": 8.0
        + afuc_offset
        + AFUC_PER_MOSM * (osmo - 300.0)
        + rng.normal(0, 0.15, n),
        "hcp": np.abs(rng.normal(12.0, 3.0, n)),
        "potency": rng.normal(100.0, 4.0, n),
    }
    dp_values = {
        "concentration": rng.normal(50.0, 1.0, n),
        "ph": rng.normal(6.0, 0.05, n),
        "hmw": hmw + rng.normal(0.1, 0.05, n),
    }
    vcd = rng.normal(22.0, 1.5, n)
    viability = np.minimum(99.5, rng.normal(91.0, 1.5, n))
    seed_vcd = rng.normal(5.0, 0.4, n)
    seed_viability = np.minimum(99.8, rng.normal(97.5, 0.6, n))

    names = {key: value[0 if site.style == "a" else 1] for key, value in STEPS.items()}
    tests, units = TESTS[site.style], UNITS[site.style]
    runs_by_month: dict[str, list] = {}
    lims_by_month: dict[str, list] = {}
    asm_by_month: dict[str, list] = {}
    day = np.timedelta64(1, "D")
    for b in range(n):
        num = f"{seq[b]:06d}"
        product = site.products[product_idx[b]]
        version = "v2" if v2[b] else "v1"
        d0 = day0[b]
        seed_lot, harvest, eluate, ds, dp = (
            f"{p}-N1-{num}",
            f"{p}-HV-{num}",
            f"{p}-CE-{num}",
            f"{p}-DS-{num}",
            f"{p}-DP-{num}",
        )
        raw = {code: lot_names[code][lot_of[code][b]] for code in MATERIALS}
        rows = [
            (
                f"{p}-SEED-{num}",
                names["seed"],
                "",
                raw["MED"],
                "40",
                raw["WCB"],
                seed_lot,
                f"{p}-BR-200-{1 + b % 2}",
                0,
                4,
                (round(temp_seed[b], 2), round(ph_seed[b], 3), round(do_seed[b], 1), ""),
            ),
            (
                f"{p}-PROD-{num}",
                names["production"],
                seed_lot,
                f"{raw['MED']};{raw['FEED']}",
                f"{MATERIALS['MED'][4]:g};{MATERIALS['FEED'][4]:g}",
                "",
                harvest,
                f"{p}-BR-2000-{1 + b % 4}",
                4,
                18,
                (round(temp_prod[b], 2), round(ph_prod[b], 3), round(do_prod[b], 1), ""),
            ),
            (
                f"{p}-CAP-{num}",
                names["capture"],
                harvest,
                "",
                "",
                raw["PRA"],
                eluate,
                f"{p}-AKTA-1",
                18,
                19,
                ("", "", "", round(load[b], 1)),
            ),
            (
                f"{p}-POL-{num}",
                names["polishing"],
                eluate,
                "",
                "",
                raw["AEX"],
                ds,
                f"{p}-AKTA-2",
                19,
                20,
                ("", "", "", ""),
            ),
            (
                f"{p}-FILL-{num}",
                names["fill"],
                ds,
                f"{raw['SUC']};{raw['PS80']}",
                f"{MATERIALS['SUC'][4]:g};{MATERIALS['PS80'][4]:g}",
                "",
                dp,
                f"{p}-FILL-1",
                30,
                31,
                ("", "", "", ""),
            ),
        ]
        month = _month(d0)
        bucket = runs_by_month.setdefault(month, [])
        for run, step, upstream, mats, qty, other, output, equip, s_day, e_day, params in rows:
            bucket.append(
                (
                    run,
                    step,
                    upstream,
                    mats,
                    qty,
                    other,
                    output,
                    product,
                    equip,
                    site.code,
                    version,
                    _iso(d0 + s_day * day),
                    _iso(d0 + e_day * day, 6),
                    *params,
                )
            )

        harvest_day, ds_day, dp_day = d0 + 18 * day, d0 + 25 * day, d0 + 40 * day
        results = [(harvest, "titer", titer[b], "in-process", harvest_day)]
        results += [(ds, t, values[t][b], "release", ds_day) for t in DS_RELEASE]
        results += [(dp, t, dp_values[t][b], "release", dp_day) for t in DP_RELEASE]
        for lot, test, value, stage, when in results:
            unit = units.get(test, FIXED_UNITS.get(test, ""))
            lims_by_month.setdefault(_month(when), []).append(
                (lot, tests[test], round(float(value), 4), unit, stage, _day(when))
            )
        asm_by_month.setdefault(month, []).extend(
            [
                {
                    "sample": f"{p}-SEED-{num}-D04",
                    "lot": seed_lot,
                    "time": d0 + 4 * day,
                    "vcd": float(seed_vcd[b]),
                    "viability": float(seed_viability[b]),
                },
                {
                    "sample": f"{p}-PROD-{num}-D14",
                    "lot": harvest,
                    "time": d0 + 18 * day,
                    "vcd": float(vcd[b]),
                    "viability": float(viability[b]),
                },
            ]
        )
        truth_rows.append(
            [
                ds,
                dp,
                site.code,
                product,
                version,
                int(seq[b]),
                _day(d0),
                seed_lot,
                harvest,
                eluate,
                *(raw[c] for c in MATERIALS),
                round(osmo[b], 2),
                round(float(hmw[b]), 4),
                round(float(values["afucosylation"][b]), 4),
            ]
        )
    for month, rows in sorted(runs_by_month.items()):
        relative = f"{tag}/batch-records/{month}.csv"
        writer.csv(relative, RUN_COLUMNS, rows)
        files["runs"].append(relative)
    for month, rows in sorted(lims_by_month.items()):
        relative = f"{tag}/lims/{month}.csv"
        writer.csv(relative, LIMS_COLUMNS, rows)
        files["lims"].append(relative)
        counts["lims_results"] += len(rows)
    for month, samples in sorted(asm_by_month.items()):
        relative = f"{tag}/asm/vicell_{tag}_{month}.json"
        writer.json(relative, asm_document(samples, f"{p}-VC-01"))
        files["asm"].append(relative)
        counts["asm_files"] += 1
        counts["asm_samples"] += len(samples)
    counts["ds_batches"] += n
    counts["dp_lots"] += n
    counts["runs"] += 5 * n
    counts["intermediate_lots"] += 3 * n
    return files


def asm_document(samples: list[dict], serial: str) -> dict:
    """A cell-counting ASM document shaped like allotropy's Vi-CELL XR output."""
    documents = []
    for index, s in enumerate(samples):
        when = datetime.fromisoformat(_day(s["time"])) + timedelta(hours=9, minutes=index % 60)
        documents.append(
            {
                "measurement aggregate document": {
                    "measurement document": [
                        {
                            "measurement identifier": f"{s['sample']}-M1",
                            "measurement time": when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                            "sample document": {
                                "sample identifier": s["sample"],
                                "batch identifier": s["lot"],
                            },
                            "device control aggregate document": {
                                "device control document": [
                                    {
                                        "device type": "brightfield imager (cell counter)",
                                        "detection type": "brightfield",
                                    }
                                ]
                            },
                            "processed data aggregate document": {
                                "processed data document": [
                                    {
                                        "viability (cell counter)": {
                                            "value": round(s["viability"], 2),
                                            "unit": "%",
                                        },
                                        "viable cell density (cell counter)": {
                                            "value": round(s["vcd"], 3),
                                            "unit": "10^6 cells/mL",
                                        },
                                        "total cell density (cell counter)": {
                                            "value": round(s["vcd"] / (s["viability"] / 100.0), 3),
                                            "unit": "10^6 cells/mL",
                                        },
                                    }
                                ]
                            },
                        }
                    ]
                },
                "analyst": "benchmarks/generate.py",
            }
        )
    return {
        "$asm.manifest": "http://purl.allotrope.org/manifests/cell-counting/REC/2024/09/cell-counting.manifest",
        "cell counting aggregate document": {
            "cell counting document": documents,
            "device system document": {
                "equipment serial number": serial,
                "model number": "Vi-Cell XR",
            },
            "data system document": {"ASM converter name": "cmckg benchmarks/generate.py"},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, required=True, help="drug-substance batches")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args()
    if args.batches < 1:
        parser.error("--batches must be at least 1")
    manifest = generate(args.out, args.batches, args.seed)
    print(
        f"{manifest['batches']} batches, {manifest['record_files']} record files, "
        f"{manifest['source_rows']} rows in {manifest['seconds']} s → {args.out}"
    )


if __name__ == "__main__":
    main()
