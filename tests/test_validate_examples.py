"""The bundled real data validate without violations but for what they truly report (the
NanoDrop file's negative concentrations); the mAb example gives its planted ones.

(The Žagar table is checked in test_validate_incremental.py, which validates it in full.)
"""

from __future__ import annotations

import csv
import json

import pytest
from conftest import EXAMPLES
from rdflib import Literal

from cmckg.examples import example_groups
from cmckg.kg import KnowledgeGraph
from cmckg.validate import Severity, validate_sources

BIACORE = "cytiva_biacore_t200_control__Fig.4b_Her3 immobilization.json"
NANODROP = "thermo_fisher_nanodrop_eight__thermo_nanodrop_eight_example01.json"


def _negative_concentrations(path) -> list[tuple[str, float]]:
    """(JSON pointer, value) of every "mass concentration" below 0 in an ASM file, walked here."""
    found = []

    def walk(node, pointer):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "mass concentration" and value["value"] < 0:
                    found.append((f"{pointer}/{key}", float(value["value"])))
                walk(value, f"{pointer}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{pointer}/{i}")

    with open(path, encoding="utf-8") as handle:
        walk(json.load(handle), "")
    return found


def test_every_asm_file_validates_without_violations_but_biacore_names_no_sample():
    files = sorted((EXAMPLES / "asm").glob("*.json"))
    assert len(files) == 15
    report = validate_sources(files)
    assert report.mode == "files"
    assert len(report.records) == 15
    # the only violations: the NanoDrop blanks' negative concentrations (a concentration cannot
    # be below 0: ontology/terms/plausibility.ttl), one per value the file gives (5 of them)
    negative = _negative_concentrations(EXAMPLES / "asm" / NANODROP)
    assert len(negative) == 5
    violations = report.at_or_above(Severity.VIOLATION)
    assert sorted((r.source.location, float(r.value)) for r in violations) == sorted(negative)
    assert {r.source.path.rsplit("/", 1)[-1] for r in violations} == {NANODROP}
    assert all(
        r.shape_name.startswith("PlausibleValueShape/")
        and r.message.startswith("Implausible value: mass concentration of ")
        and "below the plausible minimum 0 g/L" in r.message
        for r in violations
    )
    # the Biacore T200 file's 11 sample documents give "sample identifier": "N/A" (jq:
    # [.. | objects | select(has("sample identifier"))] | length): incomplete, so warnings
    unnamed = [r for r in report.results if r.shape_name == "Sample-identifierGiven"]
    assert len(unnamed) == 11
    assert all(r.severity == Severity.WARNING for r in unnamed)
    assert {r.source.path.rsplit("/", 1)[-1] for r in unnamed} == {BIACORE}
    assert all(r.source.location.endswith("/sample document") for r in unnamed)
    # what else remains: samples not linked to a lot (instrument files name only the sample)
    assert {r.shape_name for r in report.results if r.severity == Severity.WARNING} == {
        "Sample-sourceGiven",
        "Sample-identifierGiven",
    }


def test_b2mml_messages_validate_without_violations():
    report = validate_sources(sorted((EXAMPLES / "b2mml").glob("*.xml")))
    assert report.counts()[Severity.VIOLATION] == 0
    # the weighing segment consumes CRBN0001_LOT01 and produces no lot: a warning, not an error
    produced_nothing = [r for r in report.results if r.shape_name == "ProcessRun-outputsGiven"]
    assert [r.severity for r in produced_nothing] == [Severity.WARNING]
    assert produced_nothing[0].source.path.endswith("PES-20121229115825-53107.xml")


@pytest.fixture(scope="module")
def mab_report():
    with KnowledgeGraph.open("oxigraph:memory") as kg:
        for group in example_groups():
            if group.name.startswith("mAb"):
                kg.ingest(group.files, mapping=group.mapping)
        from cmckg.validate import validate_store

        yield validate_store(kg.store, kg.minter, full=True)


def test_mab_example_gives_its_out_of_specification_lot(mab_report):
    # the planted lot, read from the example's own files: A-DS-1020's HMW result and the spec
    with open(EXAMPLES / "mab" / "site-a" / "lims_results.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row_number, row = next(
        (i + 2, r)
        for i, r in enumerate(rows)
        if r["lot"] == "A-DS-1020" and r["test"] == "HMW (SEC)"
    )
    with open(EXAMPLES / "mab" / "specifications.csv", encoding="utf-8") as handle:
        spec = next(
            s
            for s in csv.DictReader(handle)
            if s["test"] == "HMW (SEC)" and s["material_stage"] == "drug substance"
        )
    assert float(row["value"]) > float(spec["upper_limit"])

    violations = mab_report.at_or_above(Severity.VIOLATION)
    planted = [r for r in violations if r.source.record_id == "A-DS-1020"]
    assert len(planted) == 1
    (result,) = planted
    assert result.value == Literal(float(row["value"]))
    assert result.path_text == "qudt:numericValue"
    assert result.source.path.endswith("examples/mab/site-a/lims_results.csv")
    assert result.source.location == f"row={row_number}"
    assert spec["spec_id"] in result.message


def test_mab_example_has_no_other_violations(mab_report):
    # The drug product filled from the out-of-specification batch carries its HMW over the
    # drug-product limit (3.5 %): the only other violation allowed is on that lot.
    others = {
        r.source.record_id
        for r in mab_report.at_or_above(Severity.VIOLATION)
        if r.source.record_id != "A-DS-1020"
    }
    assert others <= {"A-DP-1020"}
    assert mab_report.counts()[Severity.WARNING] == 0
