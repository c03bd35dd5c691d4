#!/usr/bin/env python3
"""Derive cmckg's unit table (src/cmckg/data/qudt_units.json) from the vendored QUDT vocabularies.

    python ontology/tools/derive_unit_table.py          # rewrite the table
    python ontology/tools/derive_unit_table.py --check  # exit 1 if the shipped table differs

Reads ontology/vendor/qudt/VOCAB_QUDT-UNITS-ALL.ttl and VOCAB_QUDT-QUANTITY-KINDS-ALL.ttl
(QUDT.org, CC BY 4.0) and writes, for every non-currency QUDT unit: display symbol, label,
conversion multiplier and offset (QUDT's exact decimals, as strings), dimension vector and
quantity kinds; the quantity kinds with their broader kinds; an alias index (UCUM codes,
symbols, cmckg's spellings) in priority order; and IRI maps for deprecated QUDT units, QUDT-1
``unit#X`` IRIs and Allotrope ``qudt-ext`` IRIs as ASM files use them.

The curated part below only *names* things (which unit a spelling or a legacy IRI means, and
the unit expressions that define cmckg's own units); every number comes from QUDT.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import defaultdict
from decimal import Decimal, getcontext
from pathlib import Path

import pyoxigraph as ox

from cmckg.units import (
    ALLOTROPE_UNIT_NS,
    LEGACY_QUDT_UNIT_NS,
    TABLE_PATH,
    UnitTable,
    fold_label,
    parse_unit_expression,
)

REPO = Path(__file__).resolve().parents[2]
QUDT_DIR = REPO / "ontology" / "vendor" / "qudt"
UNITS_TTL = QUDT_DIR / "VOCAB_QUDT-UNITS-ALL.ttl"
KINDS_TTL = QUDT_DIR / "VOCAB_QUDT-QUANTITY-KINDS-ALL.ttl"
ASM_IRIS_CSV = REPO / "ontology" / "vendor" / "asm-property-iris.csv"

Q = "http://qudt.org/schema/qudt/"
UNIT_NS = "http://qudt.org/vocab/unit/"
KIND_NS = "http://qudt.org/vocab/quantitykind/"
QKDV_NS = "http://qudt.org/vocab/dimensionvector/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_BROADER = "http://www.w3.org/2004/02/skos/core#broader"
REPLACED_BY = "http://purl.org/dc/terms/isReplacedBy"

getcontext().prec = 34  # as many digits as QUDT writes

# Spellings QUDT does not carry (or gives to another unit), mapped to the unit they mean.
# Targets are QUDT local names or cmckg "unit-..." keys. First tier of the alias index.
CURATED_ALIASES: dict[str, str] = {
    "(unitless)": "UNITLESS",
    "unitless": "UNITLESS",
    "1": "UNITLESS",
    "pH": "PH",  # QUDT's symbol "pH" is also picohenry's UCUM code
    "degC": "DEG_C",
    "deg C": "DEG_C",
    "degF": "DEG_F",
    "#": "NUM",
    "cell": "NUM",
    "cells": "NUM",
    "Counts": "NUM",
    "counts": "NUM",
    "count": "NUM",
    "M": "MOL-PER-L",  # molar
    "mM": "MilliMOL-PER-L",
    "μM": "MicroMOL-PER-L",
    "nM": "NanoMOL-PER-L",
    "pM": "PicoMOL-PER-L",
    "M-1s-1": "L-PER-MOL-SEC",  # ASM: per molar per second
    "rpm": "REV-PER-MIN",
    "RPM": "REV-PER-MIN",
    "ppm": "PPM",
    "ppb": "PPB",
    "mOsm/kg": "MilliOSM-PER-KiloGM",
    "mosm/kg": "MilliOSM-PER-KiloGM",  # UCUM spelling
    # percentages of like quantities (not "% w/v", which is 1 g per 100 mL)
    "% w/w": "PERCENT",
    "%w/w": "PERCENT",
    "% (w/w)": "PERCENT",
    "% v/v": "PERCENT",
    "%v/v": "PERCENT",
    "% (v/v)": "PERCENT",
    "% area": "PERCENT",
    "area %": "PERCENT",
    "area%": "PERCENT",
    "hr": "HR",
    "sec": "SEC",
    "[S/m].s": "unit-S-PER-M-SEC",  # ASM: conductivity peak area
    "10*6/mL": "unit-MegaNUM-PER-MilliL",
    "10^6/mL": "unit-MegaNUM-PER-MilliL",
    "1e6 cells/mL": "unit-MegaNUM-PER-MilliL",
    "E6 cells/mL": "unit-MegaNUM-PER-MilliL",
    "x10^6 cells/mL": "unit-MegaNUM-PER-MilliL",
}

# cmckg's own units: (key, display symbol, label, defining expression, quantity kinds from).
# Expressions are products of QUDT units (resolved through the QUDT part of the table) and of
# cmckg base atoms in brackets, each a dimension of its own with multiplier 1. ``kinds`` names
# a QUDT unit whose quantity kinds the new unit shares (same dimension), or None.
BASE_ATOMS = {
    "[AU]": "AU",  # absorbance unit
    "[RFU]": "RFU",  # relative fluorescence unit
    "[RLU]": "RLU",  # relative light unit
    "[EU]": "EU",  # endotoxin unit
    "[CFU]": "CFU",  # colony-forming unit
    "[CV]": "CV",  # column volume
}
CMCKG_UNITS: list[tuple[str, str, str, str, str | None]] = [
    ("unit-AU", "AU", "Absorbance Unit", "[AU]", None),
    ("unit-MilliAU", "mAU", "Milli-Absorbance Unit", "10^-3 [AU]", None),
    ("unit-MilliAU-SEC", "mAU·s", "Milli-Absorbance Unit Second", "mAU.s", None),
    ("unit-MilliAU-MIN", "mAU·min", "Milli-Absorbance Unit Minute", "mAU.min", None),
    ("unit-MilliAU-MilliL", "mAU·mL", "Milli-Absorbance Unit Millilitre", "mAU.mL", None),
    ("unit-RFU", "RFU", "Relative Fluorescence Unit", "[RFU]", None),
    ("unit-RFU-SEC", "RFU·s", "Relative Fluorescence Unit Second", "RFU.s", None),
    ("unit-RFU-MilliL", "RFU·mL", "Relative Fluorescence Unit Millilitre", "RFU.mL", None),
    ("unit-RLU", "RLU", "Relative Light Unit", "[RLU]", None),
    ("unit-RLU-SEC", "RLU·s", "Relative Light Unit Second", "RLU.s", None),
    ("unit-RLU-MilliL", "RLU·mL", "Relative Light Unit Millilitre", "RLU.mL", None),
    ("unit-EU", "EU", "Endotoxin Unit", "[EU]", None),
    ("unit-EU-PER-MilliL", "EU/mL", "Endotoxin Unit per Millilitre", "EU/mL", None),
    ("unit-EU-PER-MilliGM", "EU/mg", "Endotoxin Unit per Milligram", "EU/mg", None),
    ("unit-CFU", "CFU", "Colony-Forming Unit", "[CFU]", None),
    ("unit-CFU-PER-MilliL", "CFU/mL", "Colony-Forming Unit per Millilitre", "CFU/mL", None),
    ("unit-CFU-PER-GM", "CFU/g", "Colony-Forming Unit per Gram", "CFU/g", None),
    (
        "unit-CFU-PER-100MilliL",
        "CFU/100 mL",
        "Colony-Forming Unit per 100 Millilitres",
        "CFU/(100 mL)",
        None,
    ),
    ("unit-CV", "CV", "Column Volume", "[CV]", None),
    ("unit-CV-PER-HR", "CV/h", "Column Volume per Hour", "CV/h", None),
    ("unit-MegaNUM", "10^6 cells", "Million (Count)", "10^6 #", "NUM"),
    (
        "unit-MegaNUM-PER-MilliL",
        "10^6 cells/mL",
        "Million Cells per Millilitre",
        "10^6 #/mL",
        "NUM-PER-MilliL",
    ),
    ("unit-GM-PER-L-DAY", "g/(L·d)", "Gram per Litre Day", "g/L/d", "MicroGM-PER-L-DAY"),
    ("unit-PicoGM-PER-NUM-DAY", "pg/(cell·d)", "Picogram per Cell Day", "pg/#/d", None),
    ("unit-KiloDA", "kDa", "Kilodalton", "10^3 Da", "DA"),
    ("unit-ENZ-PER-MilliL", "U/mL", "Enzyme Unit per Millilitre", "U/mL", "ENZ-PER-L"),
    ("unit-ENZ-PER-MilliGM", "U/mg", "Enzyme Unit per Milligram", "U/mg", None),
    ("unit-MilliDEG", "m°", "Millidegree", "10^-3 deg", "DEG"),
    ("unit-MilliDEG-SEC", "m°·s", "Millidegree Second", "m°.s", None),
    ("unit-CentiM2-PER-MOL", "cm²/mol", "Square Centimetre per Mole", "cm2/mol", "M2-PER-MOL"),
    ("unit-MicroL-PER-MIN", "μL/min", "Microlitre per Minute", "μL/min", "MilliL-PER-MIN"),
    ("unit-NUM-SEC", "#·s", "Count Second", "#.s", None),
    ("unit-S-PER-M-SEC", "S/m·s", "Siemens per Metre Second", "S/m.s", None),
    ("unit-MilliV-SEC", "mV·s", "Millivolt Second", "mV.s", None),
    ("unit-NanoC-SEC", "nC·s", "Nanocoulomb Second", "nC.s", None),
    ("unit-PicoA-SEC", "pA·s", "Picoampere Second", "pA.s", None),
]

# Allotrope qudt-ext unit local names → the symbol they stand for (resolved through the table).
ALLOTROPE_UNITS: dict[str, str] = {
    "Cell": "#",
    "Counts": "#",
    "CountsPerMilliliter": "#/mL",
    "CountsPerSecond": "#/s",
    "CountsTimesSecond": "#.s",
    "GramPerLiter": "g/L",
    "Microliter": "μL",
    "MicroliterPerMinute": "μL/min",
    "MilliAbsorbanceUnit": "mAU",
    "MilliAbsorbanceUnitTimesMilliliter": "mAU.mL",
    "MilliAbsorbanceUnitTimesSecond": "mAU.s",
    "MilliDegreeAngle": "m°",
    "MilliDegreeAngleTimesSecond": "m°.s",
    "MilliOsmolesPerKilogram": "mOsmol/kg",
    "Milliliter": "mL",
    "MilliliterPerLiter": "mL/L",
    "MilliliterPerMinute": "mL/min",
    "MillimolePerLiter": "mmol/L",
    "MillionCellsPerMilliliter": "10^6 cells/mL",
    "Millivolt": "mV",
    "MillivoltTimesSecond": "mV.s",
    "Molar": "M",
    "NanoCoulomb": "nC",
    "NanoCoulombTimesSecond": "nC.s",
    "Nanometer": "nm",
    "Nanomolar": "nM",
    "PH": "pH",
    "PerMolarPerSecond": "M-1s-1",
    "PicoAmpere": "pA",
    "PicoAmpereTimesSecond": "pA.s",
    "PicogramPerMilliliter": "pg/mL",
    "RelativeFluorescenceUnit": "RFU",
    "RelativeFluorescenceUnitTimesMilliliter": "RFU.mL",
    "RelativeFluorescenceUnitTimesSecond": "RFU.s",
    "RelativeLightUnit": "RLU",
    "RelativeLightUnitTimesMilliliter": "RLU.mL",
    "RelativeLightUnitTimesSecond": "RLU.s",
    "SiemensPerMeter": "S/m",
    "SiemensPerMeterTimesSecond": "[S/m].s",
    "SquareCentimetersPerGram": "cm2/g",
    "SquareCentimetersPerMole": "cm2/mol",
    "Unitless": "(unitless)",
}

# QUDT-1 local names whose folded label does not name the unit.
LEGACY_QUDT_UNITS: dict[str, str] = {"SecondTime": "SEC", "PerSecond": "PER-SEC"}

# Broader quantity kinds QUDT does not state: a ratio or fraction of like quantities is a
# dimensionless ratio, so ppm (declared for mole fractions) converts to ng/mg (mass ratio), as
# host-cell protein results need.
EXTRA_BROADER_KINDS: dict[str, list[str]] = dict.fromkeys(
    ("MassRatio", "MassFraction", "MoleFraction", "VolumeFraction", "AmountOfSubstanceFraction"),
    ["DimensionlessRatio"],
)

# Display symbols that QUDT writes unhelpfully.
DISPLAY_SYMBOLS: dict[str, str] = {"UNITLESS": "(unitless)"}

DIMENSIONS = "AELIMHT"


def _local(iri: str, ns: str) -> str:
    return iri[len(ns) :]


def _read(path: Path) -> dict[str, dict[str, list[ox.Term]]]:
    """subject IRI → predicate IRI → objects."""
    graph: dict[str, dict[str, list[ox.Term]]] = defaultdict(lambda: defaultdict(list))
    for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        if isinstance(triple.subject, ox.NamedNode):
            graph[triple.subject.value][triple.predicate.value].append(triple.object)
    return graph


def _label(props: dict[str, list[ox.Term]]) -> str:
    labels = [o for o in props.get(RDFS_LABEL, []) if isinstance(o, ox.Literal)]
    for language in ("en", None, "en-us"):
        for label in sorted(o.value for o in labels if (o.language or None) == language):
            return label
    return ""


def _values(props: dict[str, list[ox.Term]], predicate: str) -> list[str]:
    return sorted(o.value for o in props.get(predicate, []))


def _decimal(text: str) -> str:
    """QUDT's decimal as a canonical string (no float rounding)."""
    value = Decimal(text).normalize()
    return format(value, "f") if abs(value.adjusted()) < 30 else str(value)


def _parse_dimension(vector: str) -> tuple[dict[str, int], dict[str, int]]:
    """'A0E0L-3I0M1H0T0D0+AU1' → ({'L': -3, 'M': 1, ...}, {'AU': 1})."""
    qudt_part, *extra = vector.split("+")
    base = {d: int(n) for d, n in re.findall(r"([AELIMHT])(-?\d+)", qudt_part)}
    private = {}
    for item in extra:
        name, exp = re.fullmatch(r"([A-Z]+)(-?\d+)", item).groups()
        private[name] = int(exp)
    return base, private


def _format_dimension(base: dict[str, int], private: dict[str, int]) -> str:
    exps = [base.get(d, 0) for d in DIMENSIONS]
    text = "".join(f"{d}{e}" for d, e in zip(DIMENSIONS, exps, strict=True))
    text += "D1" if not any(exps) else "D0"
    return text + "".join(f"+{name}{exp}" for name, exp in sorted(private.items()) if exp)


def derive() -> dict:
    units_graph = _read(UNITS_TTL)
    kinds_graph = _read(KINDS_TTL)

    units: dict[str, list] = {}
    iris: dict[str, str] = {}
    deprecated: set[str] = set()
    for iri, props in units_graph.items():
        if not iri.startswith(UNIT_NS) or ox.NamedNode(Q + "Unit") not in props.get(RDF_TYPE, []):
            continue
        key = _local(iri, UNIT_NS)
        if Q + "currencyCode" in props or key.startswith("CCY_"):
            continue  # currencies: not cmckg's business, and their symbols clash ("L")
        if any(o.value == "true" for o in props.get(Q + "deprecated", [])):
            replaced = _values(props, REPLACED_BY)
            if replaced:
                iris[iri] = _local(replaced[0], UNIT_NS)
                continue
            deprecated.add(key)
        multiplier = _values(props, Q + "conversionMultiplier")
        offset = _values(props, Q + "conversionOffset")
        kinds = {
            _local(k, KIND_NS)
            for p in ("hasQuantityKind", "unitForQuantityKind")
            for k in _values(props, Q + p)
        }
        symbols = _values(props, Q + "symbol")
        dimension = _values(props, Q + "hasDimensionVector")
        base, _ = _parse_dimension(_local(dimension[0], QKDV_NS)) if dimension else ({}, {})
        units[key] = [
            DISPLAY_SYMBOLS.get(key, symbols[0] if symbols else key),
            _label(props),
            _decimal(multiplier[0]) if multiplier and Decimal(multiplier[0]) != 0 else None,
            _decimal(offset[0]) if offset and Decimal(offset[0]) != 0 else None,
            _format_dimension(base, {}),
            sorted(kinds),
        ]
    # replacement chains end at a unit in the table
    for iri, key in list(iris.items()):
        while key not in units and UNIT_NS + key in iris:
            key = iris[UNIT_NS + key]
        if key in units:
            iris[iri] = key
        else:  # replaced by a currency unit
            del iris[iri]

    # alias index, in priority order: curated, cmckg units, QUDT UCUM codes, symbols, altSymbols,
    # local names
    ranked: dict[str, tuple] = {}
    for key, props in ((_local(i, UNIT_NS), p) for i, p in units_graph.items()):
        if key not in units:
            continue
        for rank, predicate in enumerate(("ucumCode", "symbol", "altSymbol")):
            for text in _values(props, Q + predicate):
                candidate = (key in deprecated, rank, len(key), key)
                if text not in ranked or candidate < ranked[text]:
                    ranked[text] = candidate
    qudt_aliases = {text: c[3] for text, c in sorted(ranked.items(), key=lambda kv: kv[1][:3])}

    aliases: dict[str, str] = {}
    for text, key in CURATED_ALIASES.items():
        aliases[text] = key
    # cmckg units, defined over the QUDT part of the table
    table_data = {
        "units": units,
        "aliases": {**aliases, **qudt_aliases},
        "iris": iris,
        "labels": {},
        "quantity_kinds": {},
    }
    for key, symbol, label, expression, kinds_from in CMCKG_UNITS:
        table = UnitTable(table_data)
        if table.lookup(symbol) is not None and table.lookup(symbol) != key and symbol != "AU":
            raise SystemExit(f"{symbol} already names QUDT unit {table.lookup(symbol)}")
        power, atoms = parse_unit_expression(expression)
        multiplier = Decimal(10) ** power
        base: dict[str, int] = defaultdict(int)
        private: dict[str, int] = defaultdict(int)
        for atom, exp in atoms.items():
            if atom in BASE_ATOMS:
                private[BASE_ATOMS[atom]] += exp
                continue
            part = table.lookup(atom)
            if part is None or units[part][2] is None:
                raise SystemExit(f"{key}: atom {atom!r} has no unit with a multiplier")
            multiplier *= Decimal(units[part][2]) ** exp
            part_base, part_private = _parse_dimension(units[part][4])
            for name, n in part_base.items():
                base[name] += n * exp
            for name, n in part_private.items():
                private[name] += n * exp
        dimension = _format_dimension(base, private)
        kinds: list[str] = []
        if kinds_from is not None:
            if units[kinds_from][4] != dimension:
                raise SystemExit(f"{key}: {kinds_from} has another dimension than {dimension}")
            kinds = units[kinds_from][5]
        units[key] = [symbol, label, _decimal(str(multiplier)), None, dimension, kinds]
        aliases.setdefault(symbol, key)
        aliases.setdefault(symbol.replace("·", "."), key)
        table_data["aliases"] = {**aliases, **qudt_aliases}
    for text, key in qudt_aliases.items():
        aliases.setdefault(text, key)
    for key in units:  # last: the QUDT local names themselves ("MilliGM-PER-MilliL", "COUNT")
        aliases.setdefault(key, key)
    for text, key in aliases.items():
        if key not in units:
            raise SystemExit(f"alias {text!r} names {key}, which is not in the table")

    # QUDT-1 labels ('Millimeter of Mercury' → 'millimeterofmercury'), for unit#X IRIs
    labels_ranked: dict[str, tuple] = {}
    for iri, props in units_graph.items():
        key = _local(iri, UNIT_NS) if iri.startswith(UNIT_NS) else None
        if key not in units:
            continue
        for label in props.get(RDFS_LABEL, []):
            if isinstance(label, ox.Literal) and (label.language or "en").startswith("en"):
                folded = fold_label(label.value)
                candidate = (key in deprecated, len(key), key)
                if folded and (folded not in labels_ranked or candidate < labels_ranked[folded]):
                    labels_ranked[folded] = candidate
    labels = {folded: c[2] for folded, c in sorted(labels_ranked.items())}

    table = UnitTable(
        {"units": units, "aliases": aliases, "iris": iris, "labels": labels, "quantity_kinds": {}}
    )
    for name, symbol in sorted(ALLOTROPE_UNITS.items()):
        key = table.lookup(symbol)
        if key is None:
            raise SystemExit(f"Allotrope unit {name}: symbol {symbol!r} does not resolve")
        iris[ALLOTROPE_UNIT_NS + name] = key
    legacy: set[str] = set()
    with open(ASM_IRIS_CSV, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for i in row["unit_iris"].split(";"):
                if i.startswith(LEGACY_QUDT_UNIT_NS):
                    legacy.add(i)
                if i.startswith(ALLOTROPE_UNIT_NS) and i not in iris:
                    raise SystemExit(f"{i} (asm-property-iris.csv) has no mapping")
    for iri in sorted(legacy):
        name = _local(iri, LEGACY_QUDT_UNIT_NS)
        key = LEGACY_QUDT_UNITS.get(name) or table.lookup(iri)
        if key is None:
            raise SystemExit(f"QUDT-1 unit {iri} does not resolve")
        iris[iri] = key

    # quantity kinds used by the units, with their broader kinds
    kinds: dict[str, list] = {}
    todo = sorted({k for row in units.values() for k in row[5]})
    while todo:
        kind = todo.pop()
        if kind in kinds:
            continue
        props = kinds_graph.get(KIND_NS + kind, {})
        parents = sorted(
            {
                _local(p, KIND_NS)
                for pred in (Q + "specializationOf", SKOS_BROADER)
                for p in _values(props, pred)
                if p.startswith(KIND_NS)
            }
            | set(EXTRA_BROADER_KINDS.get(kind, []))
        )
        dimension = _values(props, Q + "hasDimensionVector")
        kinds[kind] = [_label(props), _local(dimension[0], QKDV_NS) if dimension else "", parents]
        todo.extend(parents)

    commit = re.search(r"commit ([0-9a-f]{40})", (QUDT_DIR / "SOURCES.md").read_text()).group(1)
    return {
        "about": {
            "attribution": "Unit data from QUDT.org (https://qudt.org), licensed CC BY 4.0 "
            "(https://creativecommons.org/licenses/by/4.0/); derived, with cmckg additions.",
            "source": f"qudt/qudt-public-repo at commit {commit} (ontology/vendor/qudt)",
            "generator": "ontology/tools/derive_unit_table.py",
            "units_columns": [
                "symbol",
                "label",
                "conversionMultiplier",
                "conversionOffset",
                "dimension vector (+cmckg base dimensions)",
                "quantity kinds",
            ],
        },
        "units": dict(sorted(units.items())),
        "quantity_kinds": dict(sorted(kinds.items())),
        "aliases": aliases,
        "iris": dict(sorted(iris.items())),
        "labels": labels,
    }


def render(table: dict) -> str:
    return json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped table")
    parser.add_argument("--output", type=Path, default=TABLE_PATH)
    args = parser.parse_args(argv)
    text = render(derive())
    if args.check:
        same = args.output.exists() and args.output.read_text(encoding="utf-8") == text
        print("unit table is up to date" if same else f"{args.output} differs from a derivation")
        return 0 if same else 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
