"""Report writers: each format parses with its own tooling and carries the source trace.

The report comes from the baseline records with five planted results (line numbers worked out
by hand from tests/data/validate/sources/):

- violation: measurement M1 = 3.4 % HMW, spec 0-3 %   results.json /samples/0/results/0 → line 7
- violation: DP-1 derived from nothing                batch_record.csv row=6 → line 7 (row 3
                                                      spans two lines); its filling run R-2 is
                                                      removed too (ingest derives DP-1 ← DS-1
                                                      from the run)
- warning:   RM-1 names no supplier                   batch_record.csv row=2 → line 2
- warning:   SPEC-1 has no version                    specs.xml specification[1] → line 4
- info:      RM-1 names no site                       batch_record.csv row=2 → line 2
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from conftest import TEST_DATA
from junitparser import JUnitXml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import SH
from test_validate import BR, DP, LIMS, M1, R2, RM, SPEC, SPECS, validated

from cmckg.reports import FORMATS, condensed, render
from cmckg.reports.locate import SourceLines
from cmckg.validate import Severity, Source, ValidationReport, ValidationResult
from cmckg.vocab import CMC, QUDT

SOURCES = TEST_DATA / "validate" / "sources"
V, W, INFO = Severity.VIOLATION, Severity.WARNING, Severity.INFO


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return validated(
        remove=[
            (M1, QUDT.numericValue, None, LIMS),
            (DP, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), None, BR),
            (DP, URIRef("http://www.w3.org/ns/prov#wasGeneratedBy"), None, BR),
            (R2, None, None, BR),
            (RM, CMC.suppliedBy, None, BR),
            (RM, CMC.atSite, None, BR),
            (SPEC, CMC.version, None, SPECS),
        ],
        add=[(M1, QUDT.numericValue, Literal(3.4), LIMS)],
    )


EXPECTED_LINES = {  # (severity, focus) → (file, line)
    (V, M1): ("tests/data/validate/sources/results.json", 7),
    (V, DP): ("tests/data/validate/sources/batch_record.csv", 7),
    (W, RM): ("tests/data/validate/sources/batch_record.csv", 2),
    (W, SPEC): ("tests/data/validate/sources/specs.xml", 4),
    (INFO, RM): ("tests/data/validate/sources/batch_record.csv", 2),
}


def test_the_planted_results(report):
    assert {(r.severity, r.focus) for r in report.results} == set(EXPECTED_LINES)
    assert [r.severity for r in report.results] == [V, V, W, W, INFO]  # most severe first


def test_junit_has_one_case_per_record_and_a_failure_per_violation(report, tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(render(report, "junit", V), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    cases = {(case.classname, case.name): case for suite in xml for case in suite}
    assert set(cases) == {
        ("tests/data/validate/sources/batch_record.csv", "batch-record-1"),
        ("tests/data/validate/sources/results.json", "lims-1"),
        ("tests/data/validate/sources/specs.xml", "spec-1"),
    }
    assert xml.failures == report.counts()[V] == 2
    assert sum(suite.tests for suite in xml) == 3
    lims = cases[("tests/data/validate/sources/results.json", "lims-1")]
    (failure,) = lims.result
    assert failure.type == "Violation"
    assert "SPEC-1" in failure.message
    spec = cases[("tests/data/validate/sources/specs.xml", "spec-1")]
    assert spec.result == [] and "Warning: The specification has no version" in spec.system_out


def test_junit_fail_on_warning_counts_warnings_as_failures(report, tmp_path):
    path = tmp_path / "report.xml"
    path.write_text(render(report, "junit", W), encoding="utf-8")
    assert JUnitXml.fromfile(str(path)).failures == 4


def test_sarif_is_valid_and_locates_each_result(report):
    document = json.loads(render(report, "sarif", V))
    schema = json.loads((TEST_DATA / "validate" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    (run,) = document["runs"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    located = set()
    for result in run["results"]:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        severity = {"error": V, "warning": W, "note": INFO}[result["level"]]
        focus = URIRef(result["properties"]["focusNode"])
        located.add(
            (
                (severity, focus),
                (physical["artifactLocation"]["uri"], physical["region"]["startLine"]),
            )
        )
    assert located == set(EXPECTED_LINES.items())


def test_github_commands_point_at_file_and_line(report):
    lines = render(report, "github", V).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == 5
    assert any(
        c.startswith(
            "::error file=tests/data/validate/sources/results.json,line=7,title=Violation%3A "
        )
        for c in commands
    )
    assert any(
        c.startswith("::notice file=tests/data/validate/sources/batch_record.csv,line=2,")
        for c in commands
    )
    assert lines[-1].startswith("FAILED: 2 violations, 2 warnings, 1 info")


def test_github_escapes_data_and_properties():
    result = ValidationResult(
        severity=V,
        focus=URIRef("urn:x"),
        path=None,
        value=None,
        shape=URIRef("urn:shape"),
        shape_label="a, b: c",
        constraint=None,
        message="50% done\nnext line",
        source=Source(None, "r", "dir/a,b.csv", "row=2"),
    )
    text = render(_report([result]), "github", V)
    assert text.splitlines()[0] == (
        "::error file=dir/a%2Cb.csv,title=Violation%3A a%2C b%3A c::50%25 done%0Anext line "
        "(focus urn:x, record r row=2)"
    )


def test_absolute_paths_under_the_checkout_become_relative(monkeypatch, tmp_path):
    source = tmp_path / "records" / "b.csv"
    result = ValidationResult(
        severity=V,
        focus=URIRef("urn:x"),
        path=None,
        value=None,
        shape=URIRef("urn:shape"),
        shape_label="s",
        constraint=None,
        message="m",
        source=Source(None, "r", str(source), "row=2"),
    )
    monkeypatch.chdir(tmp_path)
    assert render(_report([result]), "github", V).startswith("::error file=records/b.csv,")
    sarif = json.loads(render(_report([result]), "sarif", V))
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "records/b.csv"


def test_markdown_summary_table(report):
    text = render(report, "markdown", V)
    assert text.startswith("## cmckg validate: ❌ failed — 2 violations, 2 warnings, 1 info\n")
    assert "| Violation | 2 |" in text and "| Warning | 2 |" in text and "| Info | 1 |" in text
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| Violation |")
        or line.startswith("| Warning |")
        or line.startswith("| Info |")
    ]
    assert len(rows) == 3 + 5
    assert "`tests/data/validate/sources/results.json` /samples/0/results/0 (line 7)" in text


def test_markdown_escapes_pipes():
    result = ValidationResult(
        severity=W,
        focus=URIRef("urn:x"),
        path=None,
        value=None,
        shape=URIRef("urn:shape"),
        shape_label="s",
        constraint=None,
        message="a | b",
    )
    assert "a \\| b" in render(_report([result]), "markdown", V)


def test_turtle_is_the_w3c_report_with_source_traces(report):
    graph = Graph().parse(data=render(report, "turtle", V), format="turtle")
    (validation,) = graph.subjects(URIRef(SH.conforms), Literal(False))
    results = list(graph.objects(validation, SH.result))
    assert len(results) == 5
    severities = sorted(str(graph.value(r, SH.resultSeverity)).rsplit("#")[-1] for r in results)
    assert severities == ["Info", "Violation", "Violation", "Warning", "Warning"]
    locations = {str(graph.value(r, CMC.sourceLocation)) for r in results}
    assert locations == {
        "/samples/0/results/0",
        "row=6",
        "row=2",
        "/specifications/specification[1]",
    }
    spec_result = next(r for r in results if graph.value(r, SH.focusNode) == M1)
    assert graph.value(spec_result, SH.value) == Literal(3.4)
    assert graph.value(spec_result, SH.resultPath) == QUDT.numericValue


def test_json_report(report):
    document = json.loads(render(report, "json", V))
    assert document["failed"] is True
    assert document["summary"]["violations"] == 2
    assert document["summary"]["warnings"] == 2
    assert document["summary"]["infos"] == 1
    measurement = next(r for r in document["results"] if r["focusNode"] == str(M1))
    assert measurement["value"] == "3.4"
    assert measurement["path"] == "qudt:numericValue"
    assert measurement["source"] == {
        "recordGraph": str(LIMS),
        "recordId": "lims-1",
        "file": "tests/data/validate/sources/results.json",
        "location": "/samples/0/results/0",
        "line": 7,
    }


def test_text_report(report):
    text = render(report, "text", V)
    assert "  VIOLATION  row=6 (line 7) record batch-record-1" in text
    assert text.rstrip().splitlines()[-1].startswith("FAILED: 2 violations, 2 warnings, 1 info")
    assert render(report, "text", Severity.VIOLATION) != render(report, "text", INFO)


def test_every_format_renders(report):
    for fmt in FORMATS:
        assert render(report, fmt, V)


def test_results_below_fail_on_are_condensed_per_shape():
    results = [
        ValidationResult(
            severity=W,
            focus=URIRef(f"urn:x{i}"),
            path=None,
            value=None,
            shape=URIRef("urn:s#S"),
            shape_label="Shape S",
            constraint=None,
            message="m",
        )
        for i in range(8)
    ]
    shown, omitted = condensed(_report(results), V)
    assert len(shown) == 5
    assert [(o.count, o.shape_label, o.severity) for o in omitted] == [(3, "Shape S", W)]
    shown, omitted = condensed(_report(results), W)  # at the fail-on level: all of them
    assert (len(shown), omitted) == (8, [])
    assert "3 more warning results of 'Shape S': m" in render(_report(results), "text", V)
    # six: five shown, one more (singular)
    assert "1 more warning result of 'Shape S': m" in render(_report(results[:6]), "text", V)


def _report(results: list[ValidationResult]) -> ValidationReport:
    return ValidationReport(
        results=results,
        records=[],
        mode="full",
        focus_nodes=0,
        triples=0,
        shapes=0,
        specification_shapes=0,
        seconds=0.0,
    )


# --- source locations → lines ----------------------------------------------------------------


def test_csv_rows_map_to_lines_across_quoted_newlines():
    lines = SourceLines()
    path = str(SOURCES / "batch_record.csv")
    assert [lines.line(path, f"row={n}") for n in range(1, 8)] == [1, 2, 3, 5, 6, 7, None]


def test_semicolon_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a;b\n1;"x;\ny"\n2;z\n', encoding="utf-8")
    assert SourceLines().line(str(path), "row=3") == 4


def test_json_pointers_map_to_lines(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{\n "a/b": [\n  1,\n  {"c~d": NaN}\n ],\n "e": "x"\n}\n', encoding="utf-8")
    lines = SourceLines()
    assert lines.line(str(path), "/a~1b") == 2
    assert lines.line(str(path), "/a~1b/1") == 4
    assert lines.line(str(path), "/a~1b/1/c~0d") == 4
    assert lines.line(str(path), "/e") == 6
    assert lines.line(str(path), "/a~1b/7") == 2  # falls back to the longest known prefix


def test_xpaths_map_to_lines():
    lines = SourceLines()
    path = str(SOURCES / "specs.xml")
    assert lines.line(path, "/specifications") == 2
    assert lines.line(path, "/s:specifications/s:product[1]") == 3
    assert lines.line(path, "/s:specifications/s:specification[1]/s:upper[1]") == 9
    assert lines.line(path, "/specifications/specification[1]/@id") == 4


def test_real_b2mml_xpath_line():
    path = "examples/b2mml/PES-20121229115825-53107.xml"
    xpath = (
        "/b2mml:SyncProductionPerformance/b2mml:DataArea[1]/b2mml:ProductionPerformance[1]"
        "/b2mml:ProductionResponse[1]/b2mml:SegmentResponse[1]"
    )
    with open(path, encoding="utf-8") as handle:
        expected = next(i for i, line in enumerate(handle, 1) if "<SegmentResponse" in line)
    assert SourceLines().line(path, xpath) == expected
    ET.parse(path)  # the file is well-formed XML


def test_unreadable_sources_give_no_line(tmp_path):
    lines = SourceLines()
    assert lines.line(str(tmp_path / "missing.csv"), "row=2") is None
    assert lines.line(None, "row=2") is None
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope", encoding="utf-8")
    assert lines.line(str(bad), "/a") is None
