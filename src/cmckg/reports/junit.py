"""JUnit XML: one test suite per source file, one test case per source record.

A record's results at or above the fail-on severity are its ``<failure>`` elements (one per
result, so the failure count equals the count of such results); results below it are listed in
the test case's ``<system-out>``. Results whose focus node no record locates form the suite
"(no source record)", one test case per focus node.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..validate.results import Severity, ValidationReport, ValidationResult
from . import SourceLines, value_text

_NO_SOURCE = "(no source record)"


def render(report: ValidationReport, fail_on: Severity) -> str:
    lines_of = SourceLines()
    cases: dict[str, dict[str, list[ValidationResult]]] = {}
    for record in report.records:
        suite = record.source_path or _NO_SOURCE
        cases.setdefault(suite, {}).setdefault(record.record_id or str(record.graph), [])
    for result in report.results:
        source = result.source
        if source.record_graph is None:
            suite, case = _NO_SOURCE, str(result.focus)
        else:
            suite = source.path or _NO_SOURCE
            case = source.record_id or str(source.record_graph)
        cases.setdefault(suite, {}).setdefault(case, []).append(result)

    root = ET.Element("testsuites", name="cmckg validate")
    total = failures = 0
    for suite_name in sorted(cases):
        suite = ET.SubElement(root, "testsuite", name=suite_name)
        suite_failures = 0
        for case_name in sorted(cases[suite_name]):
            case = ET.SubElement(suite, "testcase", classname=suite_name, name=case_name, time="0")
            below = []
            for result in cases[suite_name][case_name]:
                if result.severity >= fail_on:
                    failure = ET.SubElement(
                        case, "failure", type=result.severity.label, message=result.message
                    )
                    failure.text = _details(result, lines_of)
                    suite_failures += 1
                else:
                    below.append(
                        f"{result.severity.label}: {result.message}\n{_details(result, lines_of)}"
                    )
            if below:
                ET.SubElement(case, "system-out").text = "\n\n".join(below)
        count = len(cases[suite_name])
        suite.set("tests", str(count))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", "0")
        total += count
        failures += suite_failures
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{report.seconds:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _details(result: ValidationResult, lines_of: SourceLines) -> str:
    source = result.source
    lines = [f"shape: {result.shape_label} <{result.shape}>", f"focus node: {result.focus}"]
    if result.path_text:
        lines.append(f"path: {result.path_text}")
    if (value := value_text(result)) is not None:
        lines.append(f"value: {value}")
    if source.path:
        line = lines_of.line(source.path, source.location)
        at = f"{source.path} {source.location or ''}".strip()
        lines.append(f"source: {at}" + (f" (line {line})" if line is not None else ""))
    return "\n".join(lines)
