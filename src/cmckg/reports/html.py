"""A self-contained HTML page of the validation results, grouped by shape: per result the lot
(its record), the focus node, the value, the rule or limit it broke, and the source file and
row. Results below --fail-on are listed up to a few per shape, as in the markdown report."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from ..validate.results import Severity, ValidationReport


def render(
    report: ValidationReport,
    fail_on: Severity,
    *,
    standalone: bool = True,
    nav: str | None = None,
    note: str | None = None,
) -> str:
    """The page (``standalone``) or a notebook fragment; ``nav`` links the review pages,
    ``note`` says when the run was made."""
    from ..present import render_page
    from . import condensed, value_text

    shown, omitted = condensed(report, fail_on)
    groups: dict[str, dict[str, Any]] = {}
    for result in shown:
        group = groups.setdefault(
            result.shape_name,
            {
                "name": result.shape_name,
                "label": result.shape_label or result.shape_name,
                "severity": result.severity,
                "results": [],
                "omitted": 0,
            },
        )
        group["severity"] = max(group["severity"], result.severity)
        group["results"].append(result)
    for item in omitted:
        for group in groups.values():
            if group["label"] == item.shape_label:
                group["omitted"] += item.count
    ordered = sorted(groups.values(), key=lambda g: (-g["severity"], g["label"]))
    return render_page(
        "validation.html.j2",
        title="cmckg validation report",
        standalone=standalone,
        nav=nav,
        note=note,
        report=report,
        fail_on=fail_on,
        failed=report.failed(fail_on),
        counts=report.counts(),
        severities=sorted(Severity, reverse=True),
        groups=ordered,
        created=None,
        value=lambda r: value_text(r) or "",
        short=_short,
    )


def _short(focus: object) -> str:
    """The last four path segments of a node IRI, decoded (``…/A-DS-1020/value/HMW (SEC)``)."""
    text = str(focus)
    return unquote("/".join(text.rstrip("/").split("/")[-4:])) if "/" in text else text


def repr_html(report: ValidationReport) -> str:
    """The report as a notebook fragment (fails on violations)."""
    return render(report, Severity.VIOLATION, standalone=False)
