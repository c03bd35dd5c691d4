"""Plain-text report for people: results grouped by source file, then a summary line.

Results below the --fail-on severity are listed up to a few per shape and counted beyond that
(the JSON, JUnit, SARIF and Turtle reports keep every result)."""

from __future__ import annotations

from ..validate.results import Severity, ValidationReport
from . import SourceLines, condensed, summary_line, value_text


def render(report: ValidationReport, fail_on: Severity) -> str:
    lines_of = SourceLines()
    shown, omitted = condensed(report, fail_on)
    out: list[str] = []
    by_file: dict[str, list] = {}
    for result in shown:
        by_file.setdefault(result.source.path or "(no source record)", []).append(result)
    for group, results in by_file.items():
        out.append(group)
        for result in results:
            source = result.source
            line = lines_of.line(source.path, source.location)
            at = source.location or ""
            if line is not None:
                at = f"{at} (line {line})" if at else f"line {line}"
            record = f" record {source.record_id}" if source.record_id else ""
            out.append(
                f"  {result.severity.label.upper()}  {at}{record}  "
                f"[{result.shape_label or result.shape_name}]"
            )
            out.append(f"    {result.message}")
            details = [f"focus {result.focus}"]
            if result.path_text:
                details.append(f"path {result.path_text}")
            if (value := value_text(result)) is not None:
                details.append(f"value {value}")
            out.append("    " + ", ".join(details))
        out.append("")
    if omitted:
        out.append("not listed above (see --format json for every result):")
        out += [f"  {item.text()}" for item in omitted]
        out.append("")
    if report.note:
        out.append(f"note: {report.note}")
    out.append(summary_line(report, fail_on))
    return "\n".join(out) + "\n"
