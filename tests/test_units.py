"""Units: resolution of symbols, UCUM codes and IRIs to QUDT, and conversion through QUDT factors.

Expected IRIs were read off ontology/vendor/qudt/VOCAB_QUDT-UNITS-ALL.ttl by hand; expected
conversions are worked out from the unit definitions, not from the code.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import random
import re
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import URIRef

from cmckg.errors import MappingError
from cmckg.units import (
    TABLE_PATH,
    convert,
    quantity_kinds,
    resolve_unit,
    same_dimension,
    symbol,
    unit_table,
)

REPO = Path(__file__).resolve().parents[1]
QUDT = "http://qudt.org/vocab/unit/"
CMC = "https://w3id.org/cmckg/ontology#"
QK = "http://qudt.org/vocab/quantitykind/"
UNITS_TTL = REPO / "ontology" / "vendor" / "qudt" / "VOCAB_QUDT-UNITS-ALL.ttl"


def q(local: str) -> URIRef:
    return URIRef(QUDT + local)


def c(local: str) -> URIRef:
    return URIRef(CMC + local)


# every unit symbol in examples/asm, with the unit it means
ASM_UNITS = {
    # Biacore T200 resonance units, which QUDT lacks: declared in ontology/terms/units.ttl
    "RU": URIRef("https://w3id.org/cmckg/ontology#unit-RU"),
    "RU/s": URIRef("https://w3id.org/cmckg/ontology#unit-RU-PER-SEC"),
    "(unitless)": q("UNITLESS"),
    "#": q("NUM"),
    "cell": q("NUM"),
    "%": q("PERCENT"),
    "s": q("SEC"),
    "mL": q("MilliL"),
    "μL": q("MicroL"),  # U+03BC in the files
    "nm": q("NanoM"),
    "µm": q("MicroM"),  # U+00B5 in the files
    "mm": q("MilliM"),
    "mm^3": q("MilliM3"),
    "mmol/L": q("MilliMOL-PER-L"),
    "pg/mL": q("PicoGM-PER-MilliL"),
    "mg/mL": q("MilliGM-PER-MilliL"),
    "g/L": q("GM-PER-L"),
    "ng/µL": q("NanoGM-PER-MicroL"),
    "Counts/mL": q("NUM-PER-MilliL"),
    "S/m": q("S-PER-M"),
    "mmHg": q("MilliM_HG"),
    "degC": q("DEG_C"),
    "mL/min": q("MilliL-PER-MIN"),
    "pH": q("PH"),
    "Hz": q("HZ"),
    "mosm/kg": q("MilliOSM-PER-KiloGM"),
    "MPa": q("MegaPA"),
    "cm/s": q("CentiM-PER-SEC"),
    "10^6 cells/mL": c("unit-MegaNUM-PER-MilliL"),
    "mAU": c("unit-MilliAU"),
    "mAU.s": c("unit-MilliAU-SEC"),
    "mAU.mL": c("unit-MilliAU-MilliL"),
    "RFU": c("unit-RFU"),
    "RLU": c("unit-RLU"),
    "CV/h": c("unit-CV-PER-HR"),
}


def _asm_unit_symbols() -> dict[str, str]:
    """Every unit symbol in the ASM examples (quantities and cube dimensions), with a pointer."""
    found: dict[str, str] = {}

    def walk(node: object, pointer: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("unit"), str):
                found.setdefault(node["unit"], pointer)
            for key, value in node.items():
                walk(value, f"{pointer}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{pointer}/{i}")

    for path in sorted((REPO / "examples" / "asm").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")), path.name + "#")
    return found


def test_every_asm_unit_symbol_resolves_to_the_expected_unit():
    symbols = _asm_unit_symbols()
    assert len(symbols) >= 30
    assert set(symbols) <= set(ASM_UNITS), f"not covered: {set(symbols) - set(ASM_UNITS)}"
    for text, pointer in symbols.items():
        assert resolve_unit(text, source=pointer, field="unit") == ASM_UNITS[text], text


@pytest.mark.parametrize("text,expected", sorted(ASM_UNITS.items()))
def test_asm_symbols(text, expected):
    assert resolve_unit(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [
        # Žagar 2022 (SOURCES.md units)
        ("%", q("PERCENT")),
        ("µm", q("MicroM")),
        ("g/mL", q("GM-PER-MilliL")),
        ("mm", q("MilliM")),
        ("mg", q("MilliGM")),
        ("N", q("N")),
        ("MPa", q("MegaPA")),
        # typical biologics / process units
        ("°C", q("DEG_C")),
        ("mOsm/kg", q("MilliOSM-PER-KiloGM")),
        ("mS/cm", q("MilliS-PER-CentiM")),
        ("rpm", q("REV-PER-MIN")),
        ("L", q("L")),
        ("kg", q("KiloGM")),
        ("h", q("HR")),
        ("d", q("DAY")),
        ("min", q("MIN")),
        ("cells/mL", q("NUM-PER-MilliL")),
        ("ppm", q("PPM")),
        ("ng/mg", q("NanoGM-PER-MilliGM")),
        ("cm/h", q("CentiM-PER-HR")),
        ("mmol/L", q("MilliMOL-PER-L")),
        ("µg/mL", q("MicroGM-PER-MilliL")),
        ("EU/mL", c("unit-EU-PER-MilliL")),
        ("CFU/mL", c("unit-CFU-PER-MilliL")),
        ("g/L/d", c("unit-GM-PER-L-DAY")),
        ("kDa", c("unit-KiloDA")),
        ("U/mL", c("unit-ENZ-PER-MilliL")),
        ("% area", q("PERCENT")),
        ("% w/w", q("PERCENT")),
        # UCUM codes
        ("mg.mL-1", q("MilliGM-PER-MilliL")),
        ("Cel", q("DEG_C")),
        ("10*6/mL", c("unit-MegaNUM-PER-MilliL")),
        ("[pH]", q("PH")),
        ("ug/mL", q("MicroGM-PER-MilliL")),
        ("mm3", q("MilliM3")),
        ("mm[Hg]", q("MilliM_HG")),
        ("{#}.mL-1", q("NUM-PER-MilliL")),
        # other spellings of the same unit
        ("mg/ml", q("MilliGM-PER-MilliL")),
        (" mg / mL ", q("MilliGM-PER-MilliL")),
        ("mm³", q("MilliM3")),
        ("mg·mL⁻¹", q("MilliGM-PER-MilliL")),
        ("mAU*s", c("unit-MilliAU-SEC")),
        ("MilliGM-PER-MilliL", q("MilliGM-PER-MilliL")),
    ],
)
def test_other_symbols_and_ucum_codes(text, expected):
    assert resolve_unit(text) == expected


@pytest.mark.parametrize("micro_sign_symbol", ["µm", "µL", "ng/µL", "µg/mL", "µmol/L", "µL/min"])
def test_both_micro_signs_give_the_same_unit(micro_sign_symbol):
    greek_mu = micro_sign_symbol.replace("\u00b5", "\u03bc")
    assert micro_sign_symbol != greek_mu
    assert resolve_unit(micro_sign_symbol) == resolve_unit(greek_mu)
    assert resolve_unit(micro_sign_symbol) == resolve_unit(micro_sign_symbol.replace("\u00b5", "u"))


@pytest.mark.parametrize(
    "iri,expected",
    [
        ("http://qudt.org/vocab/unit#Micrometer", q("MicroM")),
        ("http://qudt.org/vocab/unit#SecondTime", q("SEC")),
        ("http://qudt.org/vocab/unit#DegreeCelsius", q("DEG_C")),
        ("http://qudt.org/vocab/unit#MillimeterOfMercury", q("MilliM_HG")),
        ("http://qudt.org/vocab/unit#Percent", q("PERCENT")),
        ("http://qudt.org/vocab/unit#CubicMillimeter", q("MilliM3")),
        ("http://qudt.org/vocab/unit#PerSecond", q("PER-SEC")),
        ("http://qudt.org/vocab/unit#Kilogram", q("KiloGM")),  # not in ASM: label fallback
        (
            "http://purl.allotrope.org/ontology/qudt-ext/unit#MillionCellsPerMilliliter",
            c("unit-MegaNUM-PER-MilliL"),
        ),
        ("http://purl.allotrope.org/ontology/qudt-ext/unit#MilliAbsorbanceUnit", c("unit-MilliAU")),
        ("http://purl.allotrope.org/ontology/qudt-ext/unit#GramPerLiter", q("GM-PER-L")),
        (
            "http://purl.allotrope.org/ontology/qudt-ext/unit#MilliOsmolesPerKilogram",
            q("MilliOSM-PER-KiloGM"),
        ),
        ("http://purl.allotrope.org/ontology/qudt-ext/unit#Unitless", q("UNITLESS")),
        ("http://purl.allotrope.org/ontology/qudt-ext/unit#Cell", q("NUM")),
        ("http://qudt.org/vocab/unit/MilliGM-PER-MilliL", q("MilliGM-PER-MilliL")),
        ("http://qudt.org/vocab/unit/2PiRAD", q("REV")),  # deprecated, dcterms:isReplacedBy REV
        (CMC + "unit-MilliAU", c("unit-MilliAU")),
    ],
)
def test_unit_iris(iri, expected):
    assert resolve_unit(iri) == expected
    assert resolve_unit(URIRef(iri)) == expected


def test_every_unit_iri_in_asm_property_csv_resolves():
    with open(REPO / "ontology" / "vendor" / "asm-property-iris.csv", encoding="utf-8") as handle:
        iris = {i for row in csv.DictReader(handle) for i in row["unit_iris"].split(";") if i}
    assert len(iris) > 50
    for iri in iris:
        assert str(resolve_unit(iri)).startswith((QUDT, CMC + "unit-")), iri


def test_every_table_unit_resolves_by_iri_and_by_its_display_symbol():
    table = unit_table()
    for key in table:
        info = table.info(key)
        assert resolve_unit(info.iri) == info.iri
        by_symbol = resolve_unit(info.symbol)
        if key.startswith("unit-"):
            assert by_symbol == info.iri
    # one symbol, two QUDT units: UCUM codes win over symbols ("a" is the year in UCUM)
    assert resolve_unit("a") == q("YR")
    assert resolve_unit("ARE") == q("ARE")  # the local name still names the are


@pytest.mark.parametrize(
    "value,from_unit,to_unit,expected",
    [
        (1.0, "g/L", "mg/mL", 1.0),  # 1 g / 1000 mL
        (25.0, "°C", "K", 298.15),  # T/K = t/°C + 273.15
        (298.15, "K", "degC", 25.0),
        (98.6, "degF", "°C", 37.0),  # (98.6 − 32) × 5/9
        (1.0, "µm", "m", 1e-6),
        (1.0, "mmHg", "Pa", 133.322387415),  # 13.5951 g/cm³ × 9.80665 m/s² × 1 mm
        (1.0, "mmHg", "kPa", 0.133322387415),
        (2.5, "10^6 cells/mL", "cells/mL", 2.5e6),
        (3.0e6, "cells/mL", "10^6 cells/mL", 3.0),
        (1.0, "mL/min", "L/h", 0.06),  # 60 mL per hour
        (120.0, "mAU.s", "mAU.min", 2.0),
        (1.0, "mS/cm", "S/m", 0.1),  # 1e-3 S / 1e-2 m
        (0.5, "%", "ppm", 5000.0),
        (1.0, "ng/µL", "mg/L", 1.0),  # 1e-9 g / 1e-6 L
        (1.0, "kDa", "Da", 1000.0),
        (1.0, "d", "h", 24.0),
        (1.0, "mm^3", "μL", 1.0),
        (1.0, "M", "mmol/L", 1000.0),
        (1.0, "CFU/mL", "CFU/100 mL", 100.0),
        (7.2, "pH", "pH", 7.2),
        (12.0, "ppm", "ng/mg", 12.0),  # host-cell protein: 1 ppm = 1 ng per mg = 1e-6
        (0.1, "%", "mg/g", 1.0),  # 0.1 % = 1e-3 = 1 mg per g
        (5.0, "mL/L", "%", 0.5),
        (1.0, "U/mL", "U/L", 1000.0),
    ],
)
def test_convert(value, from_unit, to_unit, expected):
    assert convert(value, from_unit, to_unit) == pytest.approx(expected, rel=1e-9)
    assert convert(value, resolve_unit(from_unit), resolve_unit(to_unit)) == pytest.approx(
        expected, rel=1e-9
    )


def test_mmhg_is_133_322_pa():
    assert convert(1.0, "mmHg", "Pa") == pytest.approx(133.322, abs=5e-4)


@pytest.mark.parametrize(
    "from_unit,to_unit,reason",
    [
        ("mg/mL", "°C", "different dimensions"),
        ("mAU", "%", "different dimensions"),  # absorbance has a base dimension of its own
        ("RFU.s", "s", "different dimensions"),
        ("#", "%", "no common quantity kind"),  # both dimensionless, but a count is no ratio
        ("rpm", "Hz", "no common quantity kind"),  # QUDT: rev/min is 2π/60 rad/s
        ("mOsm/kg", "mmol/kg", "no conversion multiplier"),
        ("pH", "(unitless)", "no common quantity kind"),
    ],
)
def test_convert_refuses_unrelated_units(from_unit, to_unit, reason):
    with pytest.raises(MappingError, match=reason):
        convert(1.0, from_unit, to_unit)


def test_unknown_unit_names_the_place_and_the_nearest_symbols():
    with pytest.raises(MappingError) as caught:
        resolve_unit("mg/mLL", source="run.json", location="/a/0/unit", field="mass concentration")
    message = str(caught.value)
    assert message.startswith(
        "run.json /a/0/unit, field 'mass concentration': unknown unit 'mg/mLL'"
    )
    assert "nearest known symbols: mg/mL" in message
    with pytest.raises(MappingError, match="unknown unit"):
        convert(1.0, "furlongs/fortnight", "m/s")
    with pytest.raises(MappingError, match="unknown unit"):
        resolve_unit("http://example.org/unit/Nope")


def test_symbol_kinds_and_dimension():
    assert symbol(q("MilliGM-PER-MilliL")) == "mg/mL"
    assert symbol("10^6 cells/mL") == "10^6 cells/mL"
    assert symbol("(unitless)") == "(unitless)"
    assert quantity_kinds("mg/mL") == {
        URIRef(QK + "Density"),
        URIRef(QK + "MassConcentration"),
        URIRef(QK + "MassDensity"),
    }
    assert URIRef(QK + "NumberDensity") in quantity_kinds("10^6 cells/mL")
    assert quantity_kinds("mAU") == frozenset()
    assert same_dimension("mg/mL", "g/L")
    assert same_dimension("10^6 cells/mL", "#/mL")
    assert not same_dimension("mg/mL", "%")
    assert not same_dimension("mAU", "(unitless)")


# --- the shipped table ----------------------------------------------------------------------


def _ttl_blocks() -> dict[str, str]:
    text = UNITS_TTL.read_text(encoding="utf-8")
    return {m.group(1): m.group(0) for m in re.finditer(r"(?ms)^unit:(\S+)\n.*?\.\n\n", text)}


def test_table_spot_check_against_the_qudt_turtle():
    """A sample of units, read from the Turtle text with a regex, not through the derivation."""
    blocks = _ttl_blocks()
    table = unit_table()
    sample = random.Random(7).sample(sorted(k for k in table if k in blocks), 60)
    sample += ["MilliM_HG", "DEG_C", "DEG_F", "MilliL-PER-MIN", "PERCENT", "MilliOSM-PER-KiloGM"]
    for key in sample:
        block = blocks[key]
        row = table.data["units"][key]
        multiplier = re.search(r"qudt:conversionMultiplier (\S+) ;", block)
        expected = Decimal(multiplier.group(1)) if multiplier else Decimal(0)
        assert (Decimal(row[2]) if row[2] else Decimal(0)) == expected, key
        offset = re.search(r"qudt:conversionOffset (\S+) ;", block)
        assert Decimal(row[3] or 0) == (Decimal(offset.group(1)) if offset else 0), key
        vector = re.search(r"qudt:hasDimensionVector qkdv:(\S+) ;", block)
        assert row[4] == vector.group(1), key
        kinds = set(re.findall(r"qudt:(?:unitFor|has)QuantityKind quantitykind:(\S+) [;.]", block))
        assert set(row[5]) == kinds, key
    assert blocks["DEG_C"].count("qudt:conversionOffset 273.15 ;") == 1


def test_table_equals_a_fresh_derivation_and_carries_attribution():
    spec = importlib.util.spec_from_file_location(
        "derive_unit_table", REPO / "ontology" / "tools" / "derive_unit_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.render(module.derive()) == TABLE_PATH.read_text(encoding="utf-8")
    about = json.loads(TABLE_PATH.read_text(encoding="utf-8"))["about"]
    assert "QUDT.org" in about["attribution"] and "CC BY 4.0" in about["attribution"]
    assert "ontology/vendor/qudt" in about["source"]


def test_an_unknown_unit_or_term_is_both_a_mapping_and_a_query_error() -> None:
    """Classed by cause: a mapper's ``except MappingError`` and an analysis's
    ``except QueryError`` both take it, so neither translates it into the other."""
    from cmckg.errors import MappingError, QueryError, TermError
    from cmckg.vocab import term_index

    for fail in (
        lambda: convert(1.0, "mg/mL", "kg"),  # mass concentration vs mass
        lambda: term_index().resolve("no such attribute anywhere"),
    ):
        with pytest.raises(TermError) as caught:
            fail()
        assert isinstance(caught.value, MappingError) and isinstance(caught.value, QueryError)
