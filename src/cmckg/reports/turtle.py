"""The W3C SHACL validation report (``sh:ValidationReport``) as Turtle, with source traces."""

from __future__ import annotations

from ..validate.results import Severity, ValidationReport


def render(report: ValidationReport, fail_on: Severity) -> str:  # noqa: ARG001  (same signature)
    return report.to_graph().serialize(format="turtle")
