"""``cmckg validate``: exit codes 0/1/2, --fail-on, --output, --export-shapes, --help."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import EXAMPLES
from junitparser import JUnitXml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, SH
from test_validate import LIMS, M1, RM, SPEC, records

from cmckg.cli import main
from cmckg.ingest import ingest_records
from cmckg.stores import open_store
from cmckg.vocab import CMC, QUDT, IriMinter


def make_store(path: Path, remove=(), add=()) -> str:
    store = open_store(f"oxigraph:{path}")
    ingest_records(store, records(remove, add), IriMinter())
    store.close()
    return str(path)


@pytest.fixture
def out_of_spec_store(tmp_path: Path) -> str:
    return make_store(
        tmp_path / "oos",
        remove=[(M1, QUDT.numericValue, None, LIMS)],
        add=[(M1, QUDT.numericValue, Literal(3.4), LIMS)],
    )


@pytest.fixture
def warning_only_store(tmp_path: Path) -> str:
    batch_record = URIRef("https://w3id.org/cmckg/id/graph/test/batch-record-1")
    return make_store(tmp_path / "warn", remove=[(RM, CMC.suppliedBy, None, batch_record)])


def test_violation_exits_1_and_writes_the_report(out_of_spec_store, tmp_path, capsys):
    output = tmp_path / "report.xml"
    assert (
        main(["validate", "--store", out_of_spec_store, "--format", "junit", "-o", str(output)])
        == 1
    )
    assert capsys.readouterr().out == ""
    assert JUnitXml.fromfile(str(output)).failures == 1


def test_fail_on_decides_the_exit_code(warning_only_store, capsys):
    assert main(["validate", "--store", warning_only_store, "--full"]) == 0
    assert "passed: 0 violations, 1 warning, 0 infos" in capsys.readouterr().out
    assert main(["validate", "--store", warning_only_store, "--full", "--fail-on", "warning"]) == 1
    assert (
        main(["validate", "--store", warning_only_store, "--full", "--fail-on", "violation"]) == 0
    )


def violations(report: dict) -> list[tuple]:
    return [
        (r["focusNode"], r["value"], r["source"]["location"])
        for r in report["results"]
        if r["severity"] == "Violation"
    ]


def test_second_run_is_incremental_and_still_reports_the_open_violation(out_of_spec_store, capsys):
    assert main(["validate", "--store", out_of_spec_store, "--format", "json"]) == 1
    first = json.loads(capsys.readouterr().out)
    assert (first["mode"], first["summary"]["violations"]) == ("full", 1)
    # nothing changed: no record is checked again, but the known violation is still open
    assert main(["validate", "--store", out_of_spec_store, "--format", "json"]) == 1
    second = json.loads(capsys.readouterr().out)
    assert (second["mode"], second["summary"]["recordGraphs"]) == ("incremental", 0)
    assert violations(second) == violations(first) == [(str(M1), "3.4", "/samples/0/results/0")]
    assert main(["validate", "--store", out_of_spec_store, "--format", "github"]) == 1
    github = capsys.readouterr().out
    assert github.count("::error ") == 1 and "FAILED" in github
    assert main(["validate", "--store", out_of_spec_store, "--full", "--format", "json"]) == 1
    assert violations(json.loads(capsys.readouterr().out)) == violations(first)


def test_fixing_the_data_closes_the_violation(out_of_spec_store, capsys):
    assert main(["validate", "--store", out_of_spec_store]) == 1
    capsys.readouterr()
    store = open_store(f"oxigraph:{out_of_spec_store}")
    ingest_records(store, [r for r in records() if r.graph_iri == LIMS], IriMinter())  # 1.2 %
    store.close()
    assert main(["validate", "--store", out_of_spec_store, "--format", "json"]) == 0
    fixed = json.loads(capsys.readouterr().out)
    assert (fixed["mode"], fixed["summary"]["recordGraphs"], violations(fixed)) == (
        "incremental",
        1,
        [],
    )
    assert main(["validate", "--store", out_of_spec_store]) == 0


def quads(location: str) -> list:
    store = open_store(f"oxigraph:{location}")
    try:
        return sorted(store.quads(), key=str)
    finally:
        store.close()


def test_a_run_whose_report_cannot_be_written_records_nothing(out_of_spec_store, tmp_path, capsys):
    before = quads(out_of_spec_store)
    missing = tmp_path / "no-such-folder" / "report.json"
    assert main(["validate", "--store", out_of_spec_store, "-o", str(missing)]) == 2
    assert main(["validate", "--store", out_of_spec_store, "--also", f"sarif:{missing}"]) == 2
    assert "cannot write the report" in capsys.readouterr().err
    assert quads(out_of_spec_store) == before
    # so the next run is still the first: full, and it finds the violation
    assert main(["validate", "--store", out_of_spec_store, "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["mode"] == "full"


def test_read_only_run_reports_the_recorded_open_violation(out_of_spec_store, capsys):
    assert main(["validate", "--store", out_of_spec_store]) == 1
    capsys.readouterr()
    assert main(["validate", "--store", out_of_spec_store, "--read-only", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["mode"], violations(report)) == (
        "incremental",
        [(str(M1), "3.4", "/samples/0/results/0")],
    )


def test_read_only_records_no_state(out_of_spec_store, capsys):
    for _ in range(2):
        assert (
            main(["validate", "--store", out_of_spec_store, "--read-only", "--format", "json"]) == 1
        )
        assert json.loads(capsys.readouterr().out)["mode"] == "full"


def test_one_run_writes_several_formats(out_of_spec_store, tmp_path, capsys):
    sarif, summary = tmp_path / "cmckg.sarif", tmp_path / "summary.md"
    assert (
        main(
            [
                "validate",
                "--store",
                out_of_spec_store,
                "--format",
                "github",
                "--also",
                f"sarif:{sarif}",
                "--also",
                f"markdown:{summary}",
            ]
        )
        == 1
    )
    assert capsys.readouterr().out.startswith("::error file=")
    assert len(json.loads(sarif.read_text())["runs"][0]["results"]) == 1
    assert summary.read_text().startswith("## cmckg validate: ❌ failed — 1 violation")


def test_export_shapes_includes_the_generated_ones(out_of_spec_store, tmp_path):
    target = tmp_path / "shapes.ttl"
    main(
        [
            "validate",
            "--store",
            out_of_spec_store,
            "--export-shapes",
            str(target),
            "-o",
            str(tmp_path / "r.txt"),
        ]
    )
    shapes = Graph().parse(target, format="turtle")
    assert (URIRef(f"{SPEC}/shape"), PROV.wasDerivedFrom, SPEC) in shapes
    assert (
        URIRef("https://w3id.org/cmckg/shapes#UnitQuantityKindShape"),
        SH.severity,
        SH.Violation,
    ) in shapes


def test_export_shapes_from_source_files(tmp_path):
    target = tmp_path / "shapes.ttl"
    mab = EXAMPLES / "mab"
    assert (
        main(
            [
                "validate",
                str(mab / "specifications.csv"),
                "--mapping",
                str(mab / "mappings" / "specifications.yaml"),
                "--export-shapes",
                str(target),
                "-o",
                str(tmp_path / "r.txt"),
            ]
        )
        == 0
    )
    shapes = Graph().parse(target, format="turtle")
    generated = {s for s, _, _ in shapes.triples((None, PROV.wasDerivedFrom, None))}
    # per spec: a limits shape, a converted-unit shape and two censored-result shapes (out,
    # indeterminate)
    assert len(generated) == 4 * 12


def test_source_files_without_a_store(tmp_path, capsys):
    assert (
        main(
            [
                "validate",
                str(EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml"),
                "--format",
                "sarif",
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["runs"][0]["invocations"][0]["properties"]["mode"] == "files"
    assert not (tmp_path / "cmckg-store").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "no/such/file.json"],
        ["validate", "--store", "no/such/store/dir"],
        [
            "validate",
            "--shapes",
            "no/such/shapes.ttl",
            str(EXAMPLES / "b2mml") / Path("PES-20121229115825-53107.xml"),
        ],
        [
            "validate",
            "--store",
            "memory:",
            str(EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml"),
        ],
        [
            "validate",
            "--also",
            "pdf:report.pdf",
            str(EXAMPLES / "b2mml") / Path("PES-20121229115825-53107.xml"),
        ],
    ],
)
def test_cannot_run_exits_2(args, capsys):
    assert main([str(a) for a in args]) == 2
    error = capsys.readouterr().err
    assert error.startswith("cmckg validate: error: ") and error.count("\n") == 1


def test_bad_shapes_exit_2(out_of_spec_store, tmp_path, capsys):
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n<urn:s> a sh:NodeShape ;"
        " sh:targetClass <https://w3id.org/cmckg/ontology#Measurement> ;"
        ' sh:sparql [ sh:select "SELECT $this WHERE {'
        ' VALUES ?x { 1 } }" ] .\n',
        encoding="utf-8",
    )
    assert main(["validate", "--store", out_of_spec_store, "--full", "--shapes", str(bad)]) == 2
    assert "shapes cannot be used" in capsys.readouterr().err


def test_a_crash_exits_2_not_1(out_of_spec_store, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("cmckg.cli.validate.run_validation", broken)
    assert main(["validate", "--store", out_of_spec_store]) == 2
    assert "internal error: boom" in capsys.readouterr().err


def test_help_explains_severities_and_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    text = capsys.readouterr().out
    for needle in (
        "severities:",
        "violation",
        "warning",
        "info",
        "exit codes:",
        "0  nothing at or above the --fail-on severity",
        "1  at least one result at or above",
        "2  cmckg could not run",
    ):
        assert needle in text


def test_the_demo_sequence_keeps_failing_on_its_planted_violations(tmp_path, capsys):
    """``cmckg demo`` (which validates and records the state), then ``cmckg validate``, then
    ``cmckg validate --format github``: each reports the planted out-of-specification results
    and, besides them, only the five negative concentrations the real NanoDrop file gives
    (test_validate_examples.py): the mAb example's two, on the rows of
    examples/mab/site-a/lims_results.csv that hold them (read from the file here), and one
    each planted by the techtransfer and batchrecords generators (their README/truth files
    name R-DS-2007 and ZS-24102); the two validate runs exit 1."""
    with open(EXAMPLES / "mab" / "site-a" / "lims_results.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    planted = sorted(
        (f"row={i + 2}", float(r["value"]))
        for i, r in enumerate(rows)
        if r["lot"] in ("A-DS-1020", "A-DP-1020") and r["test"] == "HMW (SEC)"
    )
    store = str(tmp_path / "store")
    assert main(["demo", "--store", store]) == 0
    assert ": 9 violations," in capsys.readouterr().out
    assert main(["validate", "--store", store, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["mode"] == "incremental"
    found = [r for r in report["results"] if r["severity"] == "Violation"]
    nanodrop = [r for r in found if "nanodrop" in r["source"]["file"]]
    assert len(nanodrop) == 5
    found = [r for r in found if r not in nanodrop]
    mab = sorted(
        (r["source"]["location"], float(r["value"]))
        for r in found
        if r["source"]["file"].endswith("mab/site-a/lims_results.csv")
    )
    assert mab == planted
    assert sorted(r["source"]["recordId"] for r in found) == [
        "A-DP-1020",
        "A-DS-1020",
        "R-DS-2007",
        "ZS-24102",
    ]
    assert main(["validate", "--store", store, "--format", "github"]) == 1
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::error ")]
    assert len(errors) == 9
    assert sum("nanodrop" in line for line in errors) == 5
    assert sum("mab/site-a/lims_results.csv" in line for line in errors) == 2
