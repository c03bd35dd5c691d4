"""Markdown summary for a CI job summary (e.g. ``$GITHUB_STEP_SUMMARY``): counts, then a table of
results (the first 200, with results below --fail-on listed up to a few per shape and counted
beyond that; the JSON or SARIF report has them all)."""

from __future__ import annotations

from ..validate.results import Severity, ValidationReport, ValidationResult
from . import SourceLines, condensed, counts_text, plural, value_text

_MAX_ROWS = 200


def render(report: ValidationReport, fail_on: Severity) -> str:
    lines_of = SourceLines()
    failed = report.failed(fail_on)
    counts = report.counts()
    out = [
        f"## cmckg validate: {'❌ failed' if failed else '✅ passed'} — {counts_text(report)}",
        "",
        f"{report.mode.capitalize()} run over {plural(len(report.records), 'record graph')} "
        f"({plural(report.focus_nodes, 'focus node')}, {plural(report.triples, 'triple')}, "
        f"{plural(report.shapes, 'shape')} of which {report.specification_shapes} from "
        f"specifications) in {report.seconds:.1f} s. "
        f"Fails on: {fail_on.label.lower()} or worse.",
    ]
    if report.note:
        out += ["", f"Note: {report.note}."]
    out += ["", "| Severity | Results |", "| --- | ---: |"]
    out += [f"| {s.label} | {counts[s]} |" for s in sorted(Severity, reverse=True)]
    shown, omitted = condensed(report, fail_on)
    if shown:
        out += [
            "",
            "| Severity | Source | Record | Message | Focus node | Path | Value |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        out += [_row(r, lines_of) for r in shown[:_MAX_ROWS]]
        if len(shown) > _MAX_ROWS:
            out += [
                "",
                f"… and {len(shown) - _MAX_ROWS} more results (see the JSON or SARIF report).",
            ]
    if omitted:
        out += ["", "Not listed (see the JSON or SARIF report):", ""]
        out += [f"- {_cell(item.text())}" for item in omitted]
    return "\n".join(out) + "\n"


def _row(result: ValidationResult, lines_of: SourceLines) -> str:
    source = result.source
    where = ""
    if source.path:
        where = f"`{source.path}`"
        if source.location:
            where += f" {source.location}"
        line = lines_of.line(source.path, source.location)
        if line is not None:
            where += f" (line {line})"
    cells = [
        result.severity.label,
        where,
        source.record_id or "",
        result.message,
        f"`{result.focus}`",
        f"`{result.path_text}`" if result.path_text else "",
        value_text(result) or "",
    ]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
