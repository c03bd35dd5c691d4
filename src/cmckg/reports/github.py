"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` line per result,
placed at the source file and line so it shows as an annotation on the pull request.

Results below the --fail-on severity are given up to a few per shape and counted beyond that."""

from __future__ import annotations

from ..validate.results import Severity, ValidationReport, ValidationResult
from . import SourceLines, condensed, repository_path, summary_line, value_text

_LEVEL = {Severity.VIOLATION: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: ValidationReport, fail_on: Severity) -> str:
    lines_of = SourceLines()
    shown, omitted = condensed(report, fail_on)
    out = [_command(r, lines_of) for r in shown]
    out += [item.text() for item in omitted]
    out.append(summary_line(report, fail_on))
    return "\n".join(out) + "\n"


def _command(result: ValidationResult, lines_of: SourceLines) -> str:
    source = result.source
    properties = []
    if source.path:
        properties.append(f"file={_property(repository_path(source.path))}")
        line = lines_of.line(source.path, source.location)
        if line is not None:
            properties.append(f"line={line}")
    properties.append(f"title={_property(f'{result.severity.label}: {result.shape_label}')}")
    where = " ".join(
        p for p in (source.record_id and f"record {source.record_id}", source.location) if p
    )
    detail = f"{result.message} (focus {result.focus}"
    if result.path_text:
        detail += f", path {result.path_text}"
    if (value := value_text(result)) is not None:
        detail += f", value {value}"
    detail += f"{', ' + where if where else ''})"
    return f"::{_LEVEL[result.severity]} {','.join(properties)}::{_data(detail)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
