"""Report writers for validation results, one module per format, found through one static
table: ``FORMATS`` names each format and the function that writes it (as ``cmckg.mappers.MAPPERS``
names each mapper). Only the writer in use is imported.

Each writer is ``render(report, fail_on) -> str``; ``fail_on`` is the severity at or above which
the run fails (the formats that know pass/fail, like JUnit, use it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from ..validate.results import Severity, ValidationReport, ValidationResult
from .locate import SourceLines

#: format name → ``module:function`` under ``cmckg.reports``
FORMATS: dict[str, str] = {
    "text": "text:render",
    "json": "json:render",
    "junit": "junit:render",
    "sarif": "sarif:render",
    "github": "github:render",
    "markdown": "markdown:render",
    "turtle": "turtle:render",
    "html": "html:render",
}
PER_SHAPE = 5  # results below --fail-on listed per shape in the human-readable reports

__all__ = ["FORMATS", "Omitted", "SourceLines", "condensed", "render", "summary_line"]


def render(report: ValidationReport, fmt: str, fail_on: Severity = Severity.VIOLATION) -> str:
    """The report in ``fmt`` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format '{fmt}'; choose from {', '.join(FORMATS)}")
    module_name, function_name = FORMATS[fmt].split(":")
    writer = getattr(importlib.import_module(f"{__name__}.{module_name}"), function_name)
    text: str = writer(report, fail_on)
    return text


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def counts_text(report: ValidationReport) -> str:
    counts = report.counts()
    return ", ".join(plural(counts[s], s.label.lower()) for s in sorted(Severity, reverse=True))


def summary_line(report: ValidationReport, fail_on: Severity) -> str:
    """One line: what was validated, what was found, and whether the run fails."""
    verdict = "FAILED" if report.failed(fail_on) else "passed"
    return (
        f"{verdict}: {counts_text(report)} (fails on {fail_on.label.lower()} or worse); "
        f"{report.mode} run over {plural(len(report.records), 'record graph')}"
        f"{_carried(report)}, "
        f"{plural(report.focus_nodes, 'focus node')}, {plural(report.triples, 'triple')}, "
        f"{plural(report.shapes, 'shape')} ({report.specification_shapes} from specifications), "
        f"{report.seconds:.1f} s"
    )


def _carried(report: ValidationReport) -> str:
    if not report.carried:
        return ""
    return f" (and {plural(report.carried, 'result')} still open from earlier runs)"


@dataclass(frozen=True)
class Omitted:
    """Results of one shape below the fail-on severity that a human-readable report leaves out."""

    severity: Severity
    shape_label: str
    message: str
    count: int

    def text(self) -> str:
        return (
            f"{self.count} more {self.severity.label.lower()} "
            f"{'result' if self.count == 1 else 'results'} of "
            f"'{self.shape_label}': {self.message}"
        )


def condensed(
    report: ValidationReport, fail_on: Severity, per_shape: int = PER_SHAPE
) -> tuple[list[ValidationResult], list[Omitted]]:
    """Every result at or above ``fail_on``, and at most ``per_shape`` of each shape below it;
    the rest counted per shape (the JSON, JUnit, SARIF and Turtle reports keep them all)."""
    shown: list[ValidationResult] = []
    seen: dict[str, int] = {}
    left: dict[str, list[ValidationResult]] = {}
    for result in report.results:
        key = result.shape_name
        if result.severity >= fail_on or seen.get(key, 0) < per_shape:
            shown.append(result)
            if result.severity < fail_on:
                seen[key] = seen.get(key, 0) + 1
        else:
            left.setdefault(key, []).append(result)
    omitted = [
        Omitted(
            results[0].severity, results[0].shape_label or key, results[0].message, len(results)
        )
        for key, results in sorted(left.items(), key=lambda kv: (-kv[1][0].severity, kv[0]))
    ]
    return shown, omitted


def repository_path(path: str) -> str:
    """``path`` relative to the working directory when it lies under it (CI annotations and
    code scanning locate files relative to the checkout), else unchanged."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path
    return candidate.as_posix()


def value_text(result: ValidationResult) -> str | None:
    """The value, unless it is the focus node itself (as SHACL reports node-shape results)."""
    if result.value is None or result.value == result.focus:
        return None
    return str(result.value)
