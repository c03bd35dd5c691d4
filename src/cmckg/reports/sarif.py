"""SARIF 2.1.0 (for GitHub code scanning and other SARIF viewers): one rule per shape, each result
located at its source file and, for text files, the line its record starts on."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..validate.results import Severity, ValidationReport, ValidationResult
from . import SourceLines, repository_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.VIOLATION: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: ValidationReport, fail_on: Severity) -> str:
    lines_of = SourceLines()
    rules: dict[str, dict] = {}
    for result in report.results:
        rule_id = result.shape_name
        if rule_id not in rules:
            rules[rule_id] = {
                "id": rule_id,
                "name": result.shape_label or rule_id,
                "shortDescription": {"text": result.shape_label or rule_id},
                "fullDescription": {"text": result.message},
                "defaultConfiguration": {"level": _LEVEL[result.severity]},
                "properties": {"shape": str(result.shape)},
            }
    index = {rule_id: i for i, rule_id in enumerate(rules)}
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cmckg",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "properties": {
                            "mode": report.mode,
                            "failOn": fail_on.label,
                            "failed": report.failed(fail_on),
                        },
                    }
                ],
                "results": [_result(r, index[r.shape_name], lines_of) for r in report.results],
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _result(result: ValidationResult, rule_index: int, lines_of: SourceLines) -> dict:
    source = result.source
    found: dict = {
        "ruleId": result.shape_name,
        "ruleIndex": rule_index,
        "level": _LEVEL[result.severity],
        "message": {"text": result.message},
        "properties": {
            "severity": result.severity.label,
            "focusNode": str(result.focus),
            "path": result.path_text,
            "value": None if result.value is None else str(result.value),
            "recordId": source.record_id,
            "recordGraph": None if source.record_graph is None else str(source.record_graph),
            "sourceLocation": source.location,
        },
    }
    if source.path:
        physical: dict = {"artifactLocation": {"uri": _uri(source.path)}}
        line = lines_of.line(source.path, source.location)
        if line is not None:
            physical["region"] = {"startLine": line}
        location: dict = {"physicalLocation": physical}
        if source.location:
            location["logicalLocations"] = [
                {"fullyQualifiedName": source.location, "kind": "element"}
            ]
        found["locations"] = [location]
    return found


def _uri(path: str) -> str:
    """A path under the working directory as a relative URI reference (GitHub resolves it
    against the checkout); any other absolute path as a file: URI."""
    relative = repository_path(path)
    if Path(relative).is_absolute():
        return Path(relative).as_uri()
    return quote(relative, safe="/")
