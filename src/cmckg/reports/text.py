"""Plain-text report for people: results grouped by source file, then a summary line."""

from __future__ import annotations

from ..validate import Severity, ValidationReport
from . import SourceLines, summary_line, value_text


def render(report: ValidationReport, fail_on: Severity) -> str:
    lines_of = SourceLines()
    out: list[str] = []
    current: str | None = None
    for result in report.results:
        source = result.source
        group = source.path or "(no source record)"
        if group != current:
            if current is not None:
                out.append("")
            out.append(group)
            current = group
        line = lines_of.line(source.path, source.location)
        at = source.location or ""
        if line is not None:
            at = f"{at} (line {line})" if at else f"line {line}"
        record = f" record {source.record_id}" if source.record_id else ""
        out.append(f"  {result.severity.label.upper()}  {at}{record}  [{result.shape_name}]")
        out.append(f"    {result.message}")
        details = [f"focus {result.focus}"]
        if result.path_text:
            details.append(f"path {result.path_text}")
        if (value := value_text(result)) is not None:
            details.append(f"value {value}")
        out.append("    " + ", ".join(details))
    if report.results:
        out.append("")
    if report.note:
        out.append(f"note: {report.note}")
    out.append(summary_line(report, fail_on))
    return "\n".join(out) + "\n"
