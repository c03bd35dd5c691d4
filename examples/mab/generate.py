#!/usr/bin/env python3
"""Generate the bundled monoclonal-antibody example: two sites, two process versions.

The records are what a plant would export — raw-material lot lists, certificates of analysis,
batch records of unit-operation runs, LIMS result tables and ASM cell-counting files — with each
site's own column names and test names. They go through cmckg's mappers like any real data.

Planted, documented effects (see README.md beside this file):

1. Raw-material driver: the osmolality on the cell-culture medium lot's CoA drives drug-substance
   afucosylation (+0.06 % per mOsm/kg).
2. Process change: Site-A process v2 (new polishing resin) raises HMW by 0.7 % (absolute) over v1;
   main charge-variant peak, potency and HCP do not change.
3. One out-of-specification lot: drug-substance batch A-DS-1020 has HMW 3.4 % (limit ≤ 3.0 %).

Run: ``python examples/mab/generate.py`` (fixed seed; rewrites the files in this folder).
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261127
OOS_BATCH = "A-DS-1020"
AFUC_PER_MOSM = 0.06
HMW_SHIFT_V2 = 0.7


@dataclass(frozen=True)
class SiteNames:
    """How one site names things in its exports."""

    code: str
    lot_prefix: str
    tests: dict[str, str]
    units: dict[str, str]


SITE_A = SiteNames(
    code="Site-A",
    lot_prefix="A",
    tests={
        "titer": "Titer",
        "vcd": "VCD",
        "viability": "Viability",
        "hmw": "HMW (SEC)",
        "monomer": "Monomer (SEC)",
        "lmw": "LMW (SEC)",
        "main_peak": "Main peak (CEX)",
        "acidic": "Acidic variants (CEX)",
        "afucosylation": "Afucosylation",
        "hcp": "HCP",
        "potency": "Relative potency",
        "concentration": "Protein concentration",
        "endotoxin": "Endotoxin",
        "ph": "pH",
        "osmolality": "Osmolality",
    },
    units={"titer": "g/L", "vcd": "10^6 cells/mL", "concentration": "mg/mL", "hcp": "ng/mg"},
)
SITE_B = SiteNames(
    code="Site-B",
    lot_prefix="B",
    tests={
        "titer": "IgG titre",
        "vcd": "Xv",
        "viability": "Viab.",
        "hmw": "aggregates",
        "monomer": "SEC main",
        "lmw": "fragments",
        "main_peak": "CEX main",
        "acidic": "CEX acidic",
        "afucosylation": "afucose",
        "hcp": "CHO HCP",
        "potency": "potency",
        "concentration": "conc. (A280)",
        "endotoxin": "LAL",
        "ph": "pH",
        "osmolality": "osmo",
    },
    units={"titer": "mg/mL", "vcd": "cells/mL", "concentration": "g/L", "hcp": "ppm"},
)

DS_RELEASE = [
    "hmw",
    "monomer",
    "lmw",
    "main_peak",
    "acidic",
    "afucosylation",
    "hcp",
    "potency",
    "concentration",
    "endotoxin",
]
UNITS = {
    "hmw": "%",
    "monomer": "%",
    "lmw": "%",
    "main_peak": "%",
    "acidic": "%",
    "afucosylation": "%",
    "potency": "%",
    "endotoxin": "EU/mL",
    "ph": "pH",
    "osmolality": "mOsm/kg",
    "viability": "%",
}


def site_unit(site: SiteNames, test: str) -> str:
    return site.units.get(test, UNITS.get(test, ""))


def to_site_unit(site: SiteNames, test: str, value: float) -> float:
    """Values are generated in canonical units (g/L, 10^6 cells/mL, mg/mL, ng/mg)."""
    factors = {
        ("Site-B", "vcd"): 1e6,
        ("Site-B", "titer"): 1.0,
        ("Site-B", "concentration"): 1.0,
        ("Site-B", "hcp"): 1.0,
    }
    return value * factors.get((site.code, test), 1.0)


class Generator:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.lots: list[dict] = []
        self.coa: list[dict] = []
        self.runs: dict[str, list[dict]] = {"Site-A": [], "Site-B": []}
        self.results: dict[str, list[dict]] = {"Site-A": [], "Site-B": []}
        self.asm_samples: list[dict] = []
        self.truth: list[dict] = []

    def raw_lots(
        self, site: SiteNames, material: str, prefix: str, n: int, supplier: str, start: datetime
    ) -> list[dict]:
        made = []
        for i in range(n):
            lot = {
                "lot": f"{site.lot_prefix}-{prefix}-{i + 1:03d}",
                "material": material,
                "supplier": supplier,
                "site": site.code,
                "manufactured": (start + timedelta(days=20 * i)).date().isoformat(),
                "expiry": (start + timedelta(days=20 * i + 730)).date().isoformat(),
            }
            self.lots.append(lot)
            made.append(lot)
        return made

    def coa_result(self, lot: dict, test: str, value: float, unit: str, day: datetime) -> None:
        self.coa.append(
            {
                "lot": lot["lot"],
                "test": test,
                "result": round(value, 3),
                "unit": unit,
                "tested": day.date().isoformat(),
            }
        )

    def site(self, site: SiteNames, batches: list[tuple[str, str]], start: datetime) -> None:
        media = self.raw_lots(
            site,
            "cell culture medium",
            "MED",
            max(2, len(batches) // 3 + 1),
            "MediaCo",
            start - timedelta(days=60),
        )
        feeds = self.raw_lots(
            site,
            "feed medium",
            "FEED",
            max(2, len(batches) // 4 + 1),
            "MediaCo",
            start - timedelta(days=60),
        )
        resins = self.raw_lots(
            site, "protein A resin", "PRA", 2, "ResinWorks", start - timedelta(days=200)
        )
        sucrose = self.raw_lots(site, "sucrose", "SUC", 2, "SugarChem", start - timedelta(days=90))
        medium_osmo = {}
        for lot in media:
            osmo = float(self.rng.normal(300.0, 9.0))
            medium_osmo[lot["lot"]] = osmo
            day = datetime.fromisoformat(lot["manufactured"])
            self.coa_result(lot, "Osmolality", osmo, "mOsm/kg", day)
            self.coa_result(lot, "pH", float(self.rng.normal(7.1, 0.05)), "pH", day)
            self.coa_result(lot, "Endotoxin", float(self.rng.uniform(0.05, 0.4)), "EU/mL", day)
        for lot in feeds:
            day = datetime.fromisoformat(lot["manufactured"])
            self.coa_result(lot, "Osmolality", float(self.rng.normal(1200, 30)), "mOsm/kg", day)
        for lot in resins:
            day = datetime.fromisoformat(lot["manufactured"])
            self.coa_result(lot, "Endotoxin", float(self.rng.uniform(0.05, 0.2)), "EU/mL", day)

        for index, (batch, version) in enumerate(batches):
            day0 = start + timedelta(days=16 * index)
            medium = media[index // 3]
            feed = feeds[index // 4]
            resin = resins[index // 10 % len(resins)]
            excipient = sucrose[index // 12 % len(sucrose)]
            self.batch_chain(
                site,
                batch,
                version,
                day0,
                medium,
                feed,
                resin,
                excipient,
                medium_osmo[medium["lot"]],
            )

    def batch_chain(
        self,
        site: SiteNames,
        batch: str,
        version: str,
        day0: datetime,
        medium: dict,
        feed: dict,
        resin: dict,
        excipient: dict,
        osmo: float,
    ) -> None:
        rng = self.rng
        n = batch.split("-")[-1]
        p = site.lot_prefix
        seed_lot, harvest, eluate, ds, dp = (
            f"{p}-N1-{n}",
            f"{p}-HV-{n}",
            f"{p}-CE-{n}",
            batch,
            f"{p}-DP-{n}",
        )
        bioreactor = f"{p}-BR-2000-{1 + int(n) % 2}"
        steps = [
            (
                "N-1 seed bioreactor",
                f"{p}-SEED-{n}",
                [(medium["lot"], 40.0)],
                seed_lot,
                f"{p}-BR-200-1",
                0,
                4,
            ),
            (
                "production bioreactor",
                f"{p}-PROD-{n}",
                [(seed_lot, 200.0), (medium["lot"], 1400.0), (feed["lot"], 300.0)],
                harvest,
                bioreactor,
                4,
                18,
            ),
            (
                "protein A capture",
                f"{p}-CAP-{n}",
                [(harvest, 1800.0), (resin["lot"], 0.0)],
                eluate,
                f"{p}-AKTA-1",
                18,
                19,
            ),
            (
                "anion exchange polishing",
                f"{p}-POL-{n}",
                [(eluate, 120.0)],
                ds,
                f"{p}-AKTA-2",
                19,
                20,
            ),
            (
                "drug product fill finish",
                f"{p}-FILL-{n}",
                [(ds, 20.0), (excipient["lot"], 2.0)],
                dp,
                f"{p}-FILL-1",
                30,
                31,
            ),
        ]
        for step, run, inputs, output, equipment, start, end in steps:
            record = {
                "run": run,
                "step": step,
                "inputs": inputs,
                "output": output,
                "equipment": equipment,
                "site": site.code,
                "process_version": version,
                "product": PRODUCT,
                "start": (day0 + timedelta(days=start)).isoformat(timespec="minutes"),
                "end": (day0 + timedelta(days=end, hours=-2)).isoformat(timespec="minutes"),
                "temperature": round(
                    float(rng.normal(36.5 if "bioreactor" in step else 20.0, 0.2)), 2
                ),
                "ph": round(float(rng.normal(7.0, 0.03)), 3) if "bioreactor" in step else None,
                "do": round(float(rng.normal(40.0, 2.0)), 1) if "bioreactor" in step else None,
            }
            self.runs[site.code].append(record)

        titer = float(rng.normal(3.2 if version == "v1" else 3.6, 0.2))
        self.result(site, harvest, "titer", titer, "in-process", day0 + timedelta(days=18))
        for day in (4, 8, 12, 17):
            sample = f"{p}-PROD-{n}-D{day:02d}"
            vcd = float(max(0.5, rng.normal(min(4 + day * 1.5, 22.0), 1.0)))
            viability = float(min(99.5, rng.normal(97.0 - day * 0.4, 0.8)))
            self.asm_samples.append(
                {
                    "sample": sample,
                    "lot": harvest,
                    "site": site,
                    "time": day0 + timedelta(days=day, hours=9),
                    "vcd": vcd,
                    "viability": viability,
                }
            )

        hmw = float(rng.normal(1.2 + (HMW_SHIFT_V2 if version == "v2" else 0.0), 0.15))
        if batch == OOS_BATCH:
            hmw = 3.4
        lmw = float(rng.normal(0.6, 0.08))
        values = {
            "hmw": hmw,
            "lmw": lmw,
            "monomer": 100.0 - hmw - lmw,
            "main_peak": float(rng.normal(62.0, 1.2)),
            "acidic": float(rng.normal(24.0, 1.0)),
            "afucosylation": float(8.0 + AFUC_PER_MOSM * (osmo - 300.0) + rng.normal(0, 0.15)),
            "hcp": float(abs(rng.normal(12.0, 3.0))),
            "potency": float(rng.normal(100.0, 4.0)),
            "concentration": float(rng.normal(50.0, 1.5)),
            "endotoxin": float(rng.uniform(0.01, 0.1)),
        }
        released = day0 + timedelta(days=25)
        for test, value in values.items():
            self.result(site, ds, test, value, "release", released)
        self.truth.append(
            {
                "batch": ds,
                "site": site.code,
                "process_version": version,
                "medium_lot": medium["lot"],
                "medium_osmolality": round(osmo, 3),
                **{k: round(v, 4) for k, v in values.items()},
            }
        )
        dp_day = day0 + timedelta(days=35)
        self.result(site, dp, "concentration", float(rng.normal(50.0, 1.0)), "release", dp_day)
        self.result(site, dp, "ph", float(rng.normal(6.0, 0.05)), "release", dp_day)
        self.result(site, dp, "osmolality", float(rng.normal(300.0, 6.0)), "release", dp_day)
        self.result(site, dp, "hmw", hmw + float(rng.normal(0.1, 0.05)), "release", dp_day)

    def result(
        self, site: SiteNames, lot: str, test: str, value: float, stage: str, when: datetime
    ) -> None:
        self.results[site.code].append(
            {
                "lot": lot,
                "test": site.tests[test],
                "value": round(to_site_unit(site, test, value), 4),
                "unit": site_unit(site, test),
                "stage": stage,
                "date": when.date().isoformat(),
            }
        )


PRODUCT = "mAb-X"
SPECIFICATIONS = [
    # test, material stage, lower, upper, unit (limits inclusive; named as Site-A names them)
    ("hmw", "drug substance", 0.0, 3.0, "%"),
    ("monomer", "drug substance", 95.0, 100.0, "%"),
    ("main_peak", "drug substance", 55.0, 70.0, "%"),
    ("afucosylation", "drug substance", 5.0, 12.0, "%"),
    ("potency", "drug substance", 80.0, 125.0, "%"),
    ("hcp", "drug substance", 0.0, 100.0, "ng/mg"),
    ("endotoxin", "drug substance", 0.0, 0.5, "EU/mL"),
    ("concentration", "drug substance", 45.0, 55.0, "mg/mL"),
    ("concentration", "drug product", 45.0, 55.0, "mg/mL"),
    ("ph", "drug product", 5.7, 6.3, "pH"),
    ("osmolality", "drug product", 270.0, 330.0, "mOsm/kg"),
    ("hmw", "drug product", 0.0, 3.5, "%"),
]


def specification_rows() -> list[dict]:
    return [
        {
            "spec_id": f"SPEC-{PRODUCT}-{i + 1:02d}",
            "product": PRODUCT,
            "material_stage": stage,
            "test": SITE_A.tests[test],
            "lower_limit": lower,
            "upper_limit": upper,
            "unit": unit,
            "stage": "release",
            "version": "1",
        }
        for i, (test, stage, lower, upper, unit) in enumerate(SPECIFICATIONS)
    ]


def write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def asm_file(samples: list[dict], serial: str) -> dict:
    """A cell-counting ASM document shaped like allotropy's Vi-CELL XR output."""
    documents = []
    for index, s in enumerate(samples):
        documents.append(
            {
                "measurement aggregate document": {
                    "measurement document": [
                        {
                            "measurement identifier": f"{s['sample']}-M{index}",
                            "measurement time": s["time"].strftime("%Y-%m-%dT%H:%M:%S+00:00"),
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
                "analyst": "cmckg example generator",
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
            "data system document": {"ASM converter name": "cmckg examples/mab/generate.py"},
        },
    }


def generate(out: Path, seed: int = SEED) -> Generator:
    gen = Generator(seed)
    a_batches = [(f"A-DS-{1000 + i + 1}", "v1") for i in range(14)]
    a_batches += [(f"A-DS-{1000 + i + 15}", "v2") for i in range(14)]
    b_batches = [(f"B-DS-{2000 + i + 1}", "v2") for i in range(14)]
    gen.site(SITE_A, a_batches, datetime(2025, 1, 6, 8, 0))
    gen.site(SITE_B, b_batches, datetime(2025, 9, 1, 8, 0))

    write_csv(
        out / "raw_material_lots.csv",
        gen.lots,
        ["lot", "material", "supplier", "site", "manufactured", "expiry"],
    )
    write_csv(out / "coa_results.csv", gen.coa, ["lot", "test", "result", "unit", "tested"])
    for site in (SITE_A, SITE_B):
        folder = out / site.code.lower()
        rows = []
        for run in gen.runs[site.code]:
            rows.append(
                {
                    **run,
                    "inputs": ";".join(lot for lot, _ in run["inputs"]),
                    "input_quantities_kg": ";".join(f"{q:g}" for _, q in run["inputs"]),
                }
            )
        write_csv(
            folder / "batch_records.csv",
            rows,
            [
                "run",
                "step",
                "inputs",
                "input_quantities_kg",
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
            ],
        )
        write_csv(
            folder / "lims_results.csv",
            gen.results[site.code],
            ["lot", "test", "value", "unit", "stage", "date"],
        )
        samples = [s for s in gen.asm_samples if s["site"] is site]
        asm_dir = folder / "asm"
        asm_dir.mkdir(parents=True, exist_ok=True)
        for old in asm_dir.glob("*.json"):
            old.unlink()
        for start in range(0, len(samples), 16):
            chunk = samples[start : start + 16]
            name = f"vicell_{chunk[0]['sample']}.json"
            (asm_dir / name).write_text(
                json.dumps(asm_file(chunk, f"{site.lot_prefix}-VC-01"), indent=1), encoding="utf-8"
            )
    spec_rows = specification_rows()
    write_csv(out / "specifications.csv", spec_rows, list(spec_rows[0]))
    write_csv(out / "truth.csv", gen.truth, list(gen.truth[0]))
    return gen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    generate(args.out, args.seed)


if __name__ == "__main__":
    main()
