#!/usr/bin/env python3
"""Generate the bundled tech-transfer example: one mAb moved from a sending to a receiving site,
exported the way MES, LIMS and ERP systems export it — one table per kind of record.

Tables (all CSV, written beside this file):

- ``runs.csv`` (MES): one unit-operation run per row with the lot it produced;
- ``run_inputs.csv`` (MES): one consumed lot per row (run, lot, quantity, unit);
- ``material_lots.csv`` (ERP): raw-material lots with material, supplier and site;
- ``coa_results.csv``: suppliers' certificates of analysis, one result per row;
- ``site-s/lims_results.csv`` and ``site-r/lims_results.csv``: each site's LIMS export with its
  own column names, test names and units (titer g/L at Site-S, mg/L at Site-R; turbidity NTU at
  Site-S, FNU — a unit QUDT lacks — at Site-R);
- ``specifications.csv``: release specifications with no id column.

Planted truths (``truth.json`` and ``truth.csv``, never ingested):

1. Every drug-substance lot has a full chain: N-1 run → production run → protein A capture →
   AEX polishing, each run consuming raw-material lots; ``truth.json`` lists, per DS lot, its
   intermediates and exactly the raw-material lots upstream of it.
2. The medium lot's manganese content on its CoA ("Mn (ICP-MS)", µg/L) — a concept the bundled
   vocabulary lacks, declared in ``vocab.yaml`` — drives drug-substance galactosylation
   (+0.08 % per µg/L).
3. One out-of-specification lot: ``OOS_LOT`` has HMW above the 3.0 % limit; every other result
   of every lot is inside its specification.

Run: ``python examples/techtransfer/generate.py`` (fixed seed; rewrites the files here).
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261206
PRODUCT = "mAb-T"
PROCESS_VERSION = "v3"  # the transferred process: the same version at both sites
BATCHES_PER_SITE = 10
BATCHES_PER_MEDIUM_LOT = 2
BATCHES_PER_FEED_LOT = 5
OOS_LOT = "R-DS-2007"
OOS_HMW = 3.6
GAL_PER_MN = 0.08  # % galactosylation per µg/L manganese in the medium
HMW_LIMIT = 3.0
STEPS = ("N-1 seed", "production bioreactor", "protein A capture", "AEX polishing")
STEP_CODES = ("N1", "PROD", "CAPT", "POL")
OUTPUT_CODES = ("N1", "HV", "EL", "DS")


@dataclass(frozen=True)
class Site:
    """How one site names things in its LIMS export."""

    code: str
    prefix: str
    first: int
    columns: dict[str, str]  # lot, test, value, unit, stage, date → this site's column names
    tests: dict[str, str]
    units: dict[str, str]
    stages: dict[str, str]


SITE_S = Site(
    code="Site-S",
    prefix="S",
    first=1001,
    columns={
        "lot": "lot",
        "test": "test",
        "value": "value",
        "unit": "unit",
        "stage": "stage",
        "date": "date",
    },
    tests={
        "titer": "Titer",
        "turbidity": "Turbidity",
        "hcp": "HCP",
        "hmw": "HMW (SEC)",
        "galactosylation": "Galactosylation",
        "potency": "Relative potency",
    },
    units={
        "titer": "g/L",
        "turbidity": "NTU",
        "hcp": "ng/mg",
        "hmw": "%",
        "galactosylation": "%",
        "potency": "%",
    },
    stages={"in-process": "in-process", "release": "release"},
)
SITE_R = Site(
    code="Site-R",
    prefix="R",
    first=2001,
    columns={
        "lot": "sample_lot",
        "test": "analysis",
        "value": "result",
        "unit": "uom",
        "stage": "phase",
        "date": "result_date",
    },
    tests={
        "titer": "IgG titer",
        "turbidity": "Turbidity (ISO 7027)",
        "hcp": "CHO HCP",
        "hmw": "aggregates",
        "galactosylation": "Gal total",
        "potency": "bioassay",
    },
    units={
        "titer": "mg/L",
        "turbidity": "FNU",
        "hcp": "ppm",
        "hmw": "%",
        "galactosylation": "%",
        "potency": "%",
    },
    stages={"in-process": "IPC", "release": "QC release"},
)
# value in the site's unit = value in the canonical unit × factor
UNIT_FACTOR = {
    "g/L": 1.0,
    "mg/L": 1000.0,
    "NTU": 1.0,
    "FNU": 1.0,
    "ng/mg": 1.0,
    "ppm": 1.0,
    "%": 1.0,
}
SPECS = [  # material stage, test (as Site-S names it), lower, upper, unit
    ("drug substance", "HMW (SEC)", 0.0, HMW_LIMIT, "%"),
    ("drug substance", "Galactosylation", 10.0, 40.0, "%"),
    ("drug substance", "Relative potency", 80.0, 125.0, "%"),
    ("drug substance", "HCP", 0.0, 100.0, "ng/mg"),
]


@dataclass
class Batch:
    """One drug-substance lot and everything upstream of it."""

    site: Site
    number: int
    start: datetime
    raw: dict[str, str] = field(default_factory=dict)  # role → raw-material lot
    values: dict[str, float] = field(default_factory=dict)  # canonical units

    @property
    def lots(self) -> list[str]:
        """N-1 lot, harvest, eluate, drug substance."""
        return [f"{self.site.prefix}-{code}-{self.number}" for code in OUTPUT_CODES]

    @property
    def runs(self) -> list[str]:
        return [f"{self.site.prefix}-{code}-R{self.number}" for code in STEP_CODES]


def generate(rng: np.random.Generator) -> tuple[list[Batch], list[dict], list[dict]]:
    """The batches, the raw-material lots and their CoA results (canonical units)."""
    batches: list[Batch] = []
    lots: list[dict] = []
    coa: list[dict] = []
    day0 = datetime(2025, 3, 3, 8, 0)
    for site_index, site in enumerate((SITE_S, SITE_R)):
        start = day0 + timedelta(days=120 * site_index)
        p = site.prefix
        site_lots = {
            "cell bank": [f"{p}-WCB-01"],
            "medium": [
                f"{p}-MED-{i + 1:02d}" for i in range(BATCHES_PER_SITE // BATCHES_PER_MEDIUM_LOT)
            ],
            "feed": [
                f"{p}-FEED-{i + 1:02d}" for i in range(BATCHES_PER_SITE // BATCHES_PER_FEED_LOT)
            ],
            "protein A resin": [f"{p}-PRA-01"],
            "AEX resin": [f"{p}-AEX-01"],
        }
        materials = {
            "cell bank": "working cell bank",
            "medium": "cell culture medium",
            "feed": "feed medium",
            "protein A resin": "protein A resin",
            "AEX resin": "anion exchange resin",
        }
        suppliers = {
            "cell bank": "in-house",
            "medium": "MediaCo",
            "feed": "MediaCo",
            "protein A resin": "ResinCo",
            "AEX resin": "ResinCo",
        }
        for role, names in site_lots.items():
            for i, lot in enumerate(names):
                made = (start - timedelta(days=60) + timedelta(days=20 * i)).date()
                lots.append(
                    {
                        "lot": lot,
                        "material": materials[role],
                        "supplier": suppliers[role],
                        "site": site.code,
                        "manufactured": made.isoformat(),
                        "expiry": (made + timedelta(days=730)).isoformat(),
                    }
                )
                if role in ("medium", "feed"):
                    tested = made + timedelta(days=3)
                    coa.append(
                        {
                            "lot": lot,
                            "test": "Osmolality",
                            "result": round(float(rng.normal(300, 8)), 1),
                            "unit": "mOsm/kg",
                            "tested": tested.isoformat(),
                        }
                    )
                    coa.append(
                        {
                            "lot": lot,
                            "test": "pH",
                            "result": round(float(rng.normal(7.1, 0.05)), 2),
                            "unit": "pH",
                            "tested": tested.isoformat(),
                        }
                    )
                if role == "medium":
                    coa.append(
                        {
                            "lot": lot,
                            "test": "Mn (ICP-MS)",
                            "result": round(float(rng.uniform(20, 120)), 1),
                            "unit": "µg/L",
                            "tested": (made + timedelta(days=3)).isoformat(),
                        }
                    )
        manganese = {row["lot"]: row["result"] for row in coa if row["test"] == "Mn (ICP-MS)"}
        for i in range(BATCHES_PER_SITE):
            batch = Batch(site, site.first + i, start + timedelta(days=21 * i))
            batch.raw = {
                "cell bank": site_lots["cell bank"][0],
                "medium": site_lots["medium"][i // BATCHES_PER_MEDIUM_LOT],
                "feed": site_lots["feed"][i // BATCHES_PER_FEED_LOT],
                "protein A resin": site_lots["protein A resin"][0],
                "AEX resin": site_lots["AEX resin"][0],
            }
            mn = manganese[batch.raw["medium"]]
            hmw = float(np.clip(rng.normal(1.6, 0.25), 0.8, 2.5))
            ds_lot = batch.lots[-1]
            batch.values = {
                "titer": round(float(rng.normal(4.2, 0.3)), 3),  # g/L, harvest
                "turbidity": round(float(rng.normal(45, 6)), 1),  # NTU, harvest
                "eluate_hcp": round(float(rng.normal(900, 120)), 0),  # ng/mg, eluate
                "hcp": round(float(rng.uniform(8, 30)), 1),  # ng/mg, DS
                "hmw": OOS_HMW if ds_lot == OOS_LOT else round(hmw, 2),
                "galactosylation": round(18 + GAL_PER_MN * mn + float(rng.normal(0, 0.4)), 2),
                "potency": round(float(np.clip(rng.normal(100, 5), 88, 112)), 1),
                "manganese": mn,
            }
            batches.append(batch)
    return batches, lots, coa


def runs_rows(batches: list[Batch]) -> tuple[list[dict], list[dict]]:
    """The runs table and the run-inputs table."""
    runs, inputs = [], []
    for b in batches:
        upstream = [
            [(b.raw["cell bank"], 0.002, "L"), (b.raw["medium"], 40.0, "kg")],
            [
                (b.lots[0], 200.0, "L"),
                (b.raw["medium"], 1400.0, "kg"),
                (b.raw["feed"], 300.0, "kg"),
            ],
            [(b.lots[1], 1800.0, "L"), (b.raw["protein A resin"], 1.0, "cycle")],
            [(b.lots[2], 120.0, "L"), (b.raw["AEX resin"], 1.0, "cycle")],
        ]
        for step_index, step in enumerate(STEPS):
            start = b.start + timedelta(days=(0, 4, 18, 19)[step_index])
            end = start + timedelta(hours=(94, 330, 8, 6)[step_index])
            runs.append(
                {
                    "run": b.runs[step_index],
                    "step": step,
                    "output_lot": b.lots[step_index],
                    "product": PRODUCT,
                    "site": b.site.code,
                    "process_version": PROCESS_VERSION,
                    "equipment": f"{b.site.prefix}-{STEP_CODES[step_index]}-EQ1",
                    "start": start.isoformat(timespec="minutes"),
                    "end": end.isoformat(timespec="minutes"),
                }
            )
            for lot, quantity, unit in upstream[step_index]:
                reused = unit == "cycle"  # a resin is used, not consumed: no quantity
                inputs.append(
                    {
                        "run": b.runs[step_index],
                        "input_lot": lot,
                        "quantity": "" if reused else quantity,
                        "unit": "" if reused else unit,
                    }
                )
    return runs, inputs


def lims_rows(site: Site, batches: list[Batch]) -> list[dict]:
    c = site.columns
    rows = []
    for b in batches:
        if b.site is not site:
            continue
        n1, harvest, eluate, ds = b.lots
        tested = (b.start + timedelta(days=18)).date()
        released = (b.start + timedelta(days=26)).date()
        for lot, key, value, stage, when in (
            (harvest, "titer", b.values["titer"], "in-process", tested),
            (harvest, "turbidity", b.values["turbidity"], "in-process", tested),
            (eluate, "hcp", b.values["eluate_hcp"], "in-process", tested + timedelta(days=1)),
            (ds, "hmw", b.values["hmw"], "release", released),
            (ds, "galactosylation", b.values["galactosylation"], "release", released),
            (ds, "potency", b.values["potency"], "release", released),
            (ds, "hcp", b.values["hcp"], "release", released),
        ):
            unit = site.units[key]
            rows.append(
                {
                    c["lot"]: lot,
                    c["test"]: site.tests[key],
                    c["value"]: round(value * UNIT_FACTOR[unit], 4),
                    c["unit"]: unit,
                    c["stage"]: site.stages[stage],
                    c["date"]: when.isoformat(),
                }
            )
    return rows


def truth(batches: list[Batch]) -> dict:
    lots = {}
    for b in batches:
        lots[b.lots[-1]] = {
            "site": b.site.code,
            "intermediates": b.lots[:-1],
            "runs": b.runs,
            "raw_materials": sorted(set(b.raw.values())),
            "medium_lot": b.raw["medium"],
            **b.values,
        }
    return {
        "product": PRODUCT,
        "sites": [SITE_S.code, SITE_R.code],
        "drug_substance_lots": lots,
        "out_of_specification": {
            "lot": OOS_LOT,
            "attribute": "high molecular weight species",
            "value": OOS_HMW,
            "upper_limit": HMW_LIMIT,
        },
        "driver": {
            "raw_material_attribute": "manganese content",
            "coa_test": "Mn (ICP-MS)",
            "material": "cell culture medium",
            "quality_attribute": "galactosylation",
            "slope_per_ug_per_L": GAL_PER_MN,
        },
        "titer_units": {SITE_S.code: SITE_S.units["titer"], SITE_R.code: SITE_R.units["titer"]},
        "turbidity_units": {
            SITE_S.code: SITE_S.units["turbidity"],
            SITE_R.code: SITE_R.units["turbidity"],
        },
    }


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    batches, lots, coa = generate(rng)
    runs, inputs = runs_rows(batches)
    out: Path = args.out
    write_csv(out / "runs.csv", runs)
    write_csv(out / "run_inputs.csv", inputs)
    write_csv(out / "material_lots.csv", lots)
    write_csv(out / "coa_results.csv", coa)
    write_csv(out / "site-s" / "lims_results.csv", lims_rows(SITE_S, batches))
    write_csv(out / "site-r" / "lims_results.csv", lims_rows(SITE_R, batches))
    write_csv(
        out / "specifications.csv",
        [
            {
                "product": PRODUCT,
                "material_stage": stage,
                "test": test,
                "lower_limit": lower,
                "upper_limit": upper,
                "unit": unit,
                "stage": "release",
                "version": 1,
            }
            for stage, test, lower, upper, unit in SPECS
        ],
    )
    facts = truth(batches)
    (out / "truth.json").write_text(
        json.dumps(facts, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_csv(
        out / "truth.csv",
        [
            {"ds_lot": lot, **{k: v for k, v in row.items() if not isinstance(v, list)}}
            for lot, row in facts["drug_substance_lots"].items()
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
