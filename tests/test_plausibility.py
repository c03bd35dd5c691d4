"""Plausibility and completeness: values a result cannot take, and batches made without a
material their bill of materials requires.

Small cases change the one measurement (M1, high molecular weight species 1.2 % on DS-1) of
tests/data/validate/baseline.trig; the expected limits are those written in
ontology/terms/plausibility.ttl, and unit conversions are worked by hand (1 ppm = 1e-4 %). The
Žagar case writes a broken copy of the first 40 rows of examples/zagar2022/Laboratory.csv and
computes the row numbers from it.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import EXAMPLES
from rdflib import Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS
from test_validate import DP, DS, LIMS, M1, PRODUCT, SPECS, validated

from cmckg.kg import KnowledgeGraph, load_mapping
from cmckg.validate import Severity, validate_sources
from cmckg.vocab import CMC, CMCT, QUDT, UNIT

EX = Namespace("https://example.org/acme/terms#")
PLAUSIBLE = "PlausibleValueShape"  # a family: one generated shape per range holder
BOM = "BillOfMaterialsShape"


def measured(prop: URIRef, value: float, unit: URIRef, extra: list | None = None):
    """The baseline with M1 measuring ``prop`` as ``value`` ``unit``."""
    return validated(
        remove=[
            (M1, QUDT.numericValue, None, LIMS),
            (M1, QUDT.unit, None, LIMS),
            (M1, CMC.measuredProperty, None, LIMS),
        ],
        add=[
            (M1, QUDT.numericValue, Literal(value), LIMS),
            (M1, QUDT.unit, unit, LIMS),
            (M1, CMC.measuredProperty, prop, LIMS),
            *(extra or []),
        ],
    )


def implausible(report) -> list[tuple]:
    return [
        (r.severity, r.focus, r.value, r.source.location, r.message)
        for r in report.results
        if family(r) == PLAUSIBLE
    ]


def family(result) -> str:
    """The shape's name, without the range holder of a generated plausibility shape."""
    return result.shape_name.split("/")[0]


@pytest.mark.parametrize(
    ("prop", "value", "unit", "message"),
    [
        (
            CMCT.HighMolecularWeightSpecies,
            -40.0,
            UNIT.PERCENT,
            "high molecular weight species of DS-1 is -40 %, below the plausible minimum 0 %",
        ),
        (
            CMCT.HighMolecularWeightSpecies,
            140.0,
            UNIT.PERCENT,
            "high molecular weight species of DS-1 is 140 %, above the plausible maximum 100 %",
        ),
        # 2,000,000 ppm = 200 %: converted through QUDT (ppm and % share DimensionlessRatio)
        (
            CMCT.HighMolecularWeightSpecies,
            2.0e6,
            UNIT.PPM,
            "high molecular weight species of DS-1 is 2000000 PPM, "
            "above the plausible maximum 100 %",
        ),
        # no range of its own: the quantity kind's (AmountOfSubstancePerMass ≥ 0, in mOsm/kg)
        (
            CMCT.Osmolality,
            -5.0,
            UNIT["MilliOSM-PER-KiloGM"],
            "osmolality of DS-1 is -5 mOsmol/kg, below the plausible minimum 0 mOsmol/kg",
        ),
        (CMCT.PH, 15.0, UNIT.PH, "pH of DS-1 is 15 pH, above the plausible maximum 14 pH"),
        # a concentration in g/L: kinds Density and MassDensity; MassDensity ≥ 0 g/L
        (
            CMCT.ProteinConcentration,
            -1.5,
            UNIT["GM-PER-L"],
            "protein concentration of DS-1 is -1.5 g/L, below the plausible minimum 0 g/L",
        ),
    ],
)
def test_an_implausible_value_is_a_violation_naming_lot_attribute_value_and_limit(
    prop, value, unit, message
):
    assert implausible(measured(prop, value, unit)) == [
        (
            Severity.VIOLATION,
            M1,
            Literal(value),
            "/samples/0/results/0",
            f"Implausible value: {message}",
        )
    ]


@pytest.mark.parametrize(
    ("prop", "value", "unit"),
    [
        (CMCT.HighMolecularWeightSpecies, 0.0, UNIT.PERCENT),
        (CMCT.HighMolecularWeightSpecies, 100.0, UNIT.PERCENT),
        (CMCT.HighMolecularWeightSpecies, 5.0e5, UNIT.PPM),  # 50 %
        (CMCT.Dissolution, 103.2, UNIT.PERCENT),  # % of label claim: no upper bound
        (CMCT.Osmolality, 320.0, UNIT["MilliOSM-PER-KiloGM"]),
        (CMCT.PH, 0.0, UNIT.PH),
        (CMCT.Temperature, -20.0, UNIT.DEG_C),  # no range declared
    ],
)
def test_plausible_values_pass(prop, value, unit):
    assert implausible(measured(prop, value, unit)) == []


def test_a_project_vocabulary_concept_brings_its_own_range():
    """A concept declared as the vocabulary helper writes it (plausible: {min: 0, max: 200} in
    g/L); a result of 250 mg/mL is 250 g/L, over the maximum."""
    concept = [
        (EX.DBC, RDF.type, SKOS.Concept, SPECS),
        (EX.DBC, SKOS.prefLabel, Literal("dynamic binding capacity", lang="en"), SPECS),
        (EX.DBC, CMC.defaultUnit, UNIT["GM-PER-L"], SPECS),
        (EX.DBC, CMC.plausibleMinimum, Literal(0.0), SPECS),
        (EX.DBC, CMC.plausibleMaximum, Literal(200.0), SPECS),
    ]
    report = measured(EX.DBC, 250.0, UNIT["MilliGM-PER-MilliL"], concept)
    assert [m for *_, m in implausible(report)] == [
        "Implausible value: dynamic binding capacity of DS-1 is 250 mg/mL, above the plausible "
        "maximum 200 g/L"
    ]
    assert implausible(measured(EX.DBC, 150.0, UNIT["MilliGM-PER-MilliL"], concept)) == []


def test_a_batch_without_a_required_material_is_a_violation_naming_it():
    """P-1's bill of materials requires the medium (RM-1 is a lot of it, upstream of DS-1 and
    DP-1) and a resin no lot is made of: both batches lack the resin."""
    resin = URIRef("https://w3id.org/cmckg/id/material/test/RESIN")
    medium = URIRef("https://w3id.org/cmckg/id/material/test/MED")
    report = validated(
        add=[
            (PRODUCT, CMC.requiresMaterial, medium, SPECS),
            (PRODUCT, CMC.requiresMaterial, resin, SPECS),
            (resin, RDF.type, CMC.Material, SPECS),
        ]
    )
    found = sorted(
        (str(r.focus), r.value, r.source.record_id, r.source.location, r.message)
        for r in report.results
        if r.shape_name == BOM
    )
    assert found == [
        (
            str(lot),
            resin,
            "batch-record-1",
            location,
            f"Bill of materials not met: lot {name} has no {resin} lot upstream, which the "
            "product's bill of materials (P-1) requires",
        )
        for lot, name, location in sorted(
            [(DP, "DP-1", "row=6"), (DS, "DS-1", "row=4")], key=lambda x: str(x[0])
        )
    ]
    assert all(r.severity == Severity.VIOLATION for r in report.results if r.shape_name == BOM)


@pytest.fixture(scope="module")
def broken_zagar(tmp_path_factory) -> tuple[Path, int, int, str, str]:
    """The first 40 batches of the Žagar table, one with a dissolution of -40 % and one
    without its lactose lot."""
    with open(EXAMPLES / "zagar2022" / "Laboratory.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, data = rows[0], rows[1:41]
    data[5][header.index("dissolution_av")] = "-40"
    data[12][header.index("lactose_batch")] = ""
    path = tmp_path_factory.mktemp("zagar") / "Laboratory.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([header, *data])
    # RFC 7111 rows: the header is row 1, so data[i] is row i + 2
    return (path, 5 + 2, 12 + 2, data[5][header.index("batch")], data[12][header.index("batch")])


def test_broken_zagar_copy_gives_violations_traced_to_both_rows(broken_zagar):
    path, dissolution_row, lactose_row, dissolution_batch, lactose_batch = broken_zagar
    report = validate_sources([path], load_mapping(EXAMPLES / "zagar2022" / "mapping.yaml"))
    found = [
        (family(r), r.source.path, r.source.location, r.value, r.message)
        for r in report.at_or_above(Severity.VIOLATION)
    ]
    lactose = URIRef("https://w3id.org/cmckg/id/material/zagar2022/lactose")
    assert found == [
        (
            PLAUSIBLE,
            str(path),
            f"row={dissolution_row}",
            Literal(-40.0),
            f"Implausible value: average dissolution of {dissolution_batch} is -40 %, below the "
            "plausible minimum 0 %",
        ),
        (
            BOM,
            str(path),
            f"row={lactose_row}",
            lactose,
            f"Bill of materials not met: lot {lactose_batch} has no lactose lot upstream, which "
            "the product's bill of materials (25) requires",
        ),
    ]


# --- bill-of-materials peers and lineage gaps (small table written here, worked by hand) -------

PEERS_CSV = """batch;code;version;api_batch;lactose_batch
B1;P;v1;A1;L1
B2;P;v1;A2;L1
B3;P;v1;A3;L2
B4;P;v1;A4;
B5;P;v2;A5;
B6;P;v2;A6;L3
C1;Q;v1;A7;L4
R1;R;v1;;
"""


def peers_mapping(bill_of_materials: bool = False) -> dict:
    product: dict = {"type": "Product", "id": "{code}"}
    if bill_of_materials:
        product["bill_of_materials"] = ["api", "lactose"]
    return {
        "mapping": 1,
        "issuer": "peers",
        "source": {"format": "csv", "delimiter": ";"},
        "entities": {
            "batch": {
                "type": "DrugProductBatch",
                "id": "{batch}",
                "required": True,
                "product": "product",
            },
            "product": product,
            "version": {"type": "ProcessVersion", "id": "{version}"},
            "run": {
                "type": "ProcessRun",
                "id": ["{batch}", "blending"],
                "identifier": "{batch}-blending",
                "record": "batch",
                "used": ["api_lot", "lactose_lot"],
                "produced": ["batch"],
                "process_version": "version",
            },
            "api_lot": {"type": "RawMaterialLot", "id": ["api", "{api_batch}"], "material": "api"},
            "lactose_lot": {
                "type": "RawMaterialLot",
                "id": ["lactose", "{lactose_batch}"],
                "material": "lactose",
            },
            "api": {"type": "Material", "id": "api", "label": "API"},
            "lactose": {"type": "Material", "id": "lactose", "label": "lactose"},
        },
    }


@pytest.fixture(scope="module")
def peers_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("peers") / "batches.csv"
    path.write_text(PEERS_CSV, encoding="utf-8")
    return path


def by_shape(report, name: str) -> list[tuple]:
    return sorted(
        (r.severity, r.source.location, r.message) for r in report.results if r.shape_name == name
    )


def test_a_batch_lacking_a_material_all_its_peers_used_is_a_warning(peers_csv):
    """Product P, process version v1: B1, B2 and B3 used a lactose lot, B4 (row 5) none, so B4
    lacks what all 3 other v1 batches used. B5 and B6 (v2) are two: B5 has one peer only, too
    few for "every other batch". C1 and R1 are alone in their products. API: every batch with
    an API lot; R1 has none, but is alone."""
    report = validate_sources([peers_csv], peers_mapping())
    assert by_shape(report, "BillOfMaterialsPeerShape") == [
        (
            Severity.WARNING,
            "row=5",
            "Unusual bill of materials: lot B4 has no lactose lot upstream, which all 3 other "
            "batches of product P, process version v1 used",
        )
    ]
    assert by_shape(report, "BillOfMaterialsShape") == []
    # R1's run (row 9) made R1 from nothing: a Warning, and the drug product's lineage breaks
    assert by_shape(report, "RunWithoutInputsShape") == [
        (
            Severity.WARNING,
            "row=9",
            "Lineage stops: run R1-blending made lot R1 but uses no lot (no prov:used); map its "
            "inputs (e.g. a run-inputs table) to give the chain",
        )
    ]
    assert [(s, loc) for s, loc, _ in by_shape(report, "DrugProductLineageShape")] == [
        (Severity.VIOLATION, "row=9")
    ]


def test_a_declared_bill_of_materials_makes_the_gap_a_violation_not_a_peer_warning(peers_csv):
    """With P's bill of materials [api, lactose], B4 (row 5) and B5 (row 6) lack lactose:
    Violations; the peer rule stays silent about a material the bill of materials declares."""
    report = validate_sources([peers_csv], peers_mapping(bill_of_materials=True))
    assert by_shape(report, "BillOfMaterialsPeerShape") == []
    assert [(s, loc) for s, loc, _ in by_shape(report, "BillOfMaterialsShape")] == [
        (Severity.VIOLATION, "row=5"),
        (Severity.VIOLATION, "row=6"),
        (Severity.VIOLATION, "row=9"),  # R1: product R declares it too, and has neither
        (Severity.VIOLATION, "row=9"),
    ]


def test_zagar_copy_without_a_declared_bill_of_materials_warns_about_the_lactose_gap(
    broken_zagar,
):
    """The broken Žagar copy read without the mapping's bill_of_materials: the batch without its
    lactose lot lacks what every other batch of its product code used (counted from the file:
    the rows with the same code, each naming a lactose lot)."""
    path, _, lactose_row, _, lactose_batch = broken_zagar
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    code = rows[lactose_row - 2]["code"]
    others = [r for r in rows if r["code"] == code and r["batch"] != lactose_batch]
    assert all(r["lactose_batch"] for r in others)
    mapping = load_mapping(EXAMPLES / "zagar2022" / "mapping.yaml")
    del mapping["entities"]["product"]["bill_of_materials"]
    report = validate_sources([path], mapping)
    assert by_shape(report, "BillOfMaterialsShape") == []
    assert by_shape(report, "BillOfMaterialsPeerShape") == [
        (
            Severity.WARNING,
            f"row={lactose_row}",
            f"Unusual bill of materials: lot {lactose_batch} has no lactose lot upstream, which "
            f"all {len(others)} other batches of product {code} used",
        )
    ]


def test_an_incremental_run_warns_about_a_new_batch_from_its_peers_in_the_store(tmp_path):
    """B1–B3 (product P, v1, each with a lactose lot) are ingested and validated; then B4 comes
    in a file of its own without one. The incremental run loads only B4's records, yet compares
    it with B1–B3 in the store: all 3 other batches used lactose, so B4 (row 2 of its file)
    gets the warning. A full run agrees."""
    header, *rows = PEERS_CSV.splitlines()
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("\n".join([header, *rows[:3]]) + "\n", encoding="utf-8")
    second.write_text("\n".join([header, rows[3]]) + "\n", encoding="utf-8")
    with KnowledgeGraph.open("oxigraph:memory") as kg:
        kg.ingest([first], mapping=peers_mapping())
        assert by_shape(kg.validate(full=True), "BillOfMaterialsPeerShape") == []
        kg.ingest([second], mapping=peers_mapping())
        report = kg.validate()
        assert report.mode == "incremental"
        expected = [
            (
                Severity.WARNING,
                "row=2",
                "Unusual bill of materials: lot B4 has no lactose lot upstream, which all 3 other "
                "batches of product P, process version v1 used",
            )
        ]
        assert by_shape(report, "BillOfMaterialsPeerShape") == expected
        assert by_shape(kg.validate(full=True), "BillOfMaterialsPeerShape") == expected


def test_split_table_lineage_counts_in_a_full_run():
    """The tech-transfer example states each run's outputs in runs.csv and its inputs in
    run_inputs.csv (one consumed lot per row): ingest derives the lot-to-lot steps into graphs
    that are not records. A full validation must see them: no lot of runs.csv is reported as
    having no path to a raw-material lot, and no run as using no lot (every run id of runs.csv
    appears in run_inputs.csv, checked here)."""
    folder = EXAMPLES / "techtransfer"
    with open(folder / "runs.csv", encoding="utf-8", newline="") as handle:
        runs = list(csv.DictReader(handle))
    with open(folder / "run_inputs.csv", encoding="utf-8", newline="") as handle:
        fed = {row["run"] for row in csv.DictReader(handle)}
    assert runs and {row["run"] for row in runs} <= fed
    with KnowledgeGraph.open("oxigraph:memory") as kg:
        for name in ("material_lots", "run_inputs", "runs"):
            kg.ingest([folder / f"{name}.csv"], mapping=folder / "mappings" / f"{name}.yaml")
        report = kg.validate(full=True)
    gaps = [
        r
        for r in report.results
        if r.shape_name in ("DrugSubstanceLineageShape", "RunWithoutInputsShape")
    ]
    assert gaps == []
