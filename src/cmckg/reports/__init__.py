"""Report writers for validation results, one module per format.

Each module has ``render(report, fail_on) -> str``; ``fail_on`` is the severity at or above which
the run fails (the formats that know pass/fail, like JUnit, use it).
"""

from __future__ import annotations

import importlib

from ..validate import Severity, ValidationReport, ValidationResult
from .locate import SourceLines

FORMATS = ("text", "json", "junit", "sarif", "github", "markdown", "turtle")

__all__ = ["FORMATS", "SourceLines", "render", "summary_line"]


def render(report: ValidationReport, fmt: str, fail_on: Severity = Severity.VIOLATION) -> str:
    """The report in ``fmt`` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format '{fmt}'; choose from {', '.join(FORMATS)}")
    return importlib.import_module(f"{__name__}.{fmt}").render(report, fail_on)


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
        f"{report.mode} run over {plural(len(report.records), 'record graph')}, "
        f"{plural(report.focus_nodes, 'focus node')}, {plural(report.triples, 'triple')}, "
        f"{plural(report.shapes, 'shape')} ({report.specification_shapes} from specifications), "
        f"{report.seconds:.1f} s"
    )


def where(result: ValidationResult, line: int | None = None) -> str:
    """``file row=3 (line 3)`` / ``file /pointer`` / ``(no source record)``."""
    source = result.source
    if source.path is None and source.location is None:
        return "(no source record)"
    parts = [p for p in (source.path, source.location) if p]
    text = " ".join(parts)
    return f"{text} (line {line})" if line is not None and not (
        source.location or "").startswith(("row=", "#row=")) else text


def focus_text(result: ValidationResult) -> str:
    return str(result.focus)


def value_text(result: ValidationResult) -> str | None:
    return None if result.value is None else str(result.value)
