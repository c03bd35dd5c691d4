"""JSON report: a summary and every result with its source trace (for scripts and dashboards)."""

from __future__ import annotations

import json

from .. import __version__
from ..validate.results import Severity, ValidationReport, ValidationResult
from . import SourceLines


def render(report: ValidationReport, fail_on: Severity) -> str:
    lines_of = SourceLines()
    counts = report.counts()
    document = {
        "tool": {"name": "cmckg", "version": __version__},
        "mode": report.mode,
        "note": report.note,
        "failOn": fail_on.label,
        "failed": report.failed(fail_on),
        "summary": {
            "violations": counts[Severity.VIOLATION],
            "warnings": counts[Severity.WARNING],
            "infos": counts[Severity.INFO],
            "recordGraphs": len(report.records),
            "focusNodes": report.focus_nodes,
            "triples": report.triples,
            "shapes": report.shapes,
            "specificationShapes": report.specification_shapes,
            "seconds": round(report.seconds, 3),
        },
        "results": [_result(r, lines_of) for r in report.results],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _result(result: ValidationResult, lines_of: SourceLines) -> dict:
    source = result.source
    return {
        "severity": result.severity.label,
        "message": result.message,
        "shape": str(result.shape) if result.shape is not None else None,
        "shapeName": result.shape_name,
        "shapeLabel": result.shape_label,
        "constraint": str(result.constraint) if result.constraint is not None else None,
        "focusNode": str(result.focus),
        "path": result.path_text,
        "value": None if result.value is None else str(result.value),
        "source": {
            "recordGraph": str(source.record_graph) if source.record_graph else None,
            "recordId": source.record_id,
            "file": source.path,
            "location": source.location,
            "line": lines_of.line(source.path, source.location),
        },
    }
