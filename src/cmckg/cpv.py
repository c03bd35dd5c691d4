"""Continued process verification: I-MR control charts of one attribute over a product's batches.

Values come through ``attributes.batch_values`` (the saved queries ``attribute-values*.rq``):
one value per batch, in one unit (the attribute's canonical unit where every value converts,
through ``cmckg.units``). Batches are put in time order by their date — the batch's
``cmc:manufactureDate``, else the start of the run that produced it — and batches of the same
date (month-precision dates give many) by identifier in natural order (``B-9`` before
``B-10``). Batches with no date cannot be placed and are left out, with a note saying which.

Limits come from a baseline (a run of consecutive batches: ``FIRST:LAST`` by identifier or
date, or the first ``n``; default the first 30) and the run rules are applied to every point,
baseline included (``cmckg.spc``). Ppk (``summary``'s capability code, against the product's
specification) is given for the baseline, the batches after it, all batches, and each site and
process version.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import spc
from .attributes import (
    BATCH_KINDS,
    batch_values,
    nodes_named,
    reference_nodes,
    resolve_attribute,
    resolve_stage,
    stage_name,
    unit_symbol,
)
from .errors import QueryError
from .stores import Store
from .summary import capability as capability_of
from .summary import specifications

GROUPINGS = ("site", "process_version")
KINDS = tuple(BATCH_KINDS.values())
DEFAULT_BASELINE = 30
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


@dataclass
class ControlChart:
    """Control chart(s) of one attribute: one per group (``by``), or one for all batches.

    ``limits``: one row per chart; ``points``: one row per batch in chart order with its moving
    range, whether it is in the baseline and the rules that fired there; ``signals``: one row
    per rule firing with the lots that make up the pattern; ``capability``: Ppk and Cpk per
    window (baseline, after baseline, all) and per site and process version."""

    attribute: str
    product: str
    kind: str
    stage: str | None
    unit: str | None
    rules: spc.RuleSet
    limits: pd.DataFrame
    points: pd.DataFrame
    signals: pd.DataFrame
    capability: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Everything as JSON-ready records."""

        def records(frame: pd.DataFrame) -> list[dict[str, object]]:
            return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]

        return {
            "attribute": self.attribute,
            "product": self.product,
            "kind": self.kind,
            "stage": self.stage,
            "unit": self.unit,
            "rules": list(self.rules.rules),
            "rule_2_run": self.rules.run,
            "limits": records(self.limits),
            "signals": records(self.signals),
            "capability": records(self.capability),
            "points": records(self.points),
            "notes": self.notes,
        }

    def plot(self, path: str | Path) -> Path:
        """The individuals and moving-range charts (one pair per group) as PNG or SVG: control
        limits, specification limits, the baseline shaded, flagged points marked with rules."""
        from .present.plots import control_chart_plot

        return control_chart_plot(self, path)


def control_chart(
    store: Store,
    attribute: str,
    product: str,
    *,
    stage: str | None = None,
    kind: str | None = None,
    baseline: str | tuple[str, str] | None = None,
    baseline_n: int | None = None,
    rules: str = "nelson",
    by: str | None = None,
    source: str = "layer",
) -> ControlChart:
    """I-MR chart(s) of ``attribute`` over the batches of ``product`` (see the module doc)."""
    if baseline is not None and baseline_n is not None:
        raise QueryError("give either a baseline FIRST:LAST or a baseline size, not both")
    if by is not None and by not in GROUPINGS:
        raise QueryError(f"cannot chart by {by!r}; use {', '.join(GROUPINGS)}")
    if kind is not None and kind not in KINDS:
        raise QueryError(f"unknown batch kind {kind!r}; use {', '.join(KINDS)}")
    try:
        rule_set = spc.parse_rules(rules)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    span = _parse_span(baseline) if baseline is not None else None
    resolved = resolve_attribute(store, attribute)
    names = reference_nodes(store)
    if not nodes_named(product, "Product", names):
        known = sorted(n.name for n in names.values() if n.kind == "Product")
        raise QueryError(f"unknown product {product!r}; known: {', '.join(known) or 'none'}")
    values = batch_values(store, resolved, product=product, kind=kind, names=names, source=source)
    if stage is not None:
        values = values[values["stage"] == stage_name(resolve_stage(stage))]
    if kind is not None:
        values = values[values["kind"] == kind]
    series = _one_series(values, resolved.label, product)
    notes: list[str] = []
    undated = series[series["date"].isna()]
    if not undated.empty:
        notes.append(
            f"{len(undated)} batch(es) without a date left out: "
            + ", ".join(map(str, undated["identifier"].head(10)))
            + (" …" if len(undated) > 10 else "")
        )
        series = series[series["date"].notna()]
    series = _in_date_order(series)
    specs = specifications(store, resolved)
    unit = series["unit"].iloc[0] if series["unit"].notna().any() else None
    groups = (
        [(None, series)]
        if by is None
        else [
            (str(key), part) for key, part in series.groupby(series[by].fillna("(none)"), sort=True)
        ]
    )
    charts = [
        _chart(group, part.reset_index(drop=True), span, baseline_n, rule_set, specs, unit, notes)
        for group, part in groups
    ]
    first = series.iloc[0]
    return ControlChart(
        attribute=resolved.label,
        product=product,
        kind=str(first["kind"]),
        stage=first["stage"],
        unit=unit_symbol(unit),
        rules=rule_set,
        limits=pd.DataFrame([c[0] for c in charts]),
        points=pd.concat([c[1] for c in charts], ignore_index=True),
        signals=pd.concat([c[2] for c in charts], ignore_index=True),
        capability=pd.concat([c[3] for c in charts], ignore_index=True),
        notes=notes,
    )


def _parse_span(baseline: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(baseline, tuple):
        return baseline
    first, colon, last = baseline.partition(":")
    if not colon or not first.strip() or not last.strip():
        raise QueryError(f"baseline {baseline!r}: give FIRST:LAST (batch identifiers or dates)")
    return first.strip(), last.strip()


def _one_series(values: pd.DataFrame, label: str, product: str) -> pd.DataFrame:
    """The values must be one kind of batch at one stage (and material): one chart."""
    if values.empty:
        raise QueryError(
            f"no batch of {product!r} has a value of {label!r} (with the stage and kind asked for)"
        )
    keys = ["kind", "stage", "material"]
    found = values[keys].drop_duplicates()
    if len(found) > 1:
        listed = "; ".join(
            " ".join(str(v) for v in row if v is not None and v == v)
            for row in found.itertuples(index=False)
        )
        raise QueryError(
            f"{label!r} of {product!r} has several series ({listed}); choose one "
            "with --kind and --stage"
        )
    return values


def _natural(identifier: object) -> tuple[object, ...]:
    parts = re.split(r"(\d+)", str(identifier))
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def _in_date_order(series: pd.DataFrame) -> pd.DataFrame:
    keyed = series.assign(_key=series["identifier"].map(_natural))
    return (
        keyed.sort_values(["date", "_key"], kind="stable")
        .drop(columns="_key")
        .reset_index(drop=True)
    )


def _baseline_range(
    part: pd.DataFrame, span: tuple[str, str] | None, size: int | None, group: str | None
) -> tuple[int, int]:
    """First and last position (inclusive) of the baseline in the chart."""
    if span is None:
        n = DEFAULT_BASELINE if size is None else size
        if n < 2:
            raise QueryError("a baseline needs at least 2 batches")
        return 0, min(n, len(part)) - 1
    ends = [
        _position(part, text, first=number == 0, group=group) for number, text in enumerate(span)
    ]
    if ends[1] < ends[0] + 1:
        raise QueryError(
            f"baseline {span[0]}:{span[1]} holds fewer than 2 batches"
            + (f" of {group}" if group else "")
        )
    return ends[0], ends[1]


def _position(part: pd.DataFrame, text: str, *, first: bool, group: str | None) -> int:
    """Where a baseline end falls: a batch identifier, else a date (inclusive)."""
    matches = np.flatnonzero(part["identifier"].astype(str).to_numpy() == text)
    if len(matches):
        return int(matches[0])
    where = f" of {group}" if group else ""
    if not _DATE.match(text):
        raise QueryError(
            f"baseline end {text!r} is neither a batch{where} on the chart nor a date (YYYY-MM-DD)"
        )
    day = pd.Timestamp(text)
    dates = part["date"]
    inside = np.flatnonzero(dates >= day) if first else np.flatnonzero(dates <= day)
    if not len(inside):
        raise QueryError(
            f"no batch{where} is dated {'on or after' if first else 'on or before'} {text}"
        )
    return int(inside[0] if first else inside[-1])


def _chart(
    group: str | None,
    part: pd.DataFrame,
    span: tuple[str, str] | None,
    size: int | None,
    rules: spc.RuleSet,
    specs: pd.DataFrame,
    unit: str | None,
    notes: list[str],
) -> tuple[dict[str, object], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Limits, points, signals and capability of one chart."""
    where = f" ({group})" if group else ""
    start, end = _baseline_range(part, span, size, group)
    if span is None and end + 1 < (size or DEFAULT_BASELINE):
        notes.append(
            f"baseline{where}: only {end + 1} {'batch' if end == 0 else 'batches'}, fewer than "
            f"{size or DEFAULT_BASELINE} asked for"
        )
    x = part["value"].to_numpy(float)
    limits = spc.imr_limits(x[start : end + 1])
    if not limits.sigma > 0:
        raise QueryError(
            f"the baseline values{where} do not vary (moving ranges all 0): no limits can be drawn"
        )
    signals = spc.run_rules(x, limits.center, limits.sigma, rules)
    ids = part["identifier"].astype(str).tolist()
    fired: dict[int, list[str]] = {}
    for s in signals:
        fired.setdefault(s.index, []).append(str(s.rule))
    points = pd.DataFrame(
        {
            "group": group,
            "order": np.arange(1, len(part) + 1),
            "batch": ids,
            "date": part["date"].dt.strftime("%Y-%m-%d"),
            "site": part["site"],
            "process_version": part["process_version"],
            "value": x,
            "moving_range": np.concatenate([[np.nan], spc.moving_ranges(x)]),
            "baseline": [start <= i <= end for i in range(len(part))],
            "rules": [",".join(fired.get(i, [])) for i in range(len(part))],
        }
    )
    signal_rows = pd.DataFrame(
        [
            {
                "group": group,
                "rule": s.rule,
                "description": rules.describe(s.rule),
                "batch": ids[s.index],
                "date": points["date"].iloc[s.index],
                "value": x[s.index],
                "lots": ";".join(ids[j] for j in s.points),
            }
            for s in signals
        ],
        columns=["group", "rule", "description", "batch", "date", "value", "lots"],
    )
    capability = _capability_rows(group, part, start, end, specs, unit)
    whole = capability_of(part, specs, unit) if len(part) > 1 else {}
    limit_row: dict[str, object] = {
        "group": group,
        "n": len(part),
        "n_baseline": limits.n,
        "baseline_first": ids[start],
        "baseline_last": ids[end],
        "center": limits.center,
        "sigma": limits.sigma,
        "lcl": limits.lcl,
        "ucl": limits.ucl,
        "mr_center": limits.mr_center,
        "mr_ucl": limits.mr_ucl,
        "lsl": whole.get("lsl", math.nan),
        "usl": whole.get("usl", math.nan),
        "signals": len(signals),
    }
    return limit_row, points, signal_rows, capability


def _capability_rows(
    group: str | None,
    part: pd.DataFrame,
    start: int,
    end: int,
    specs: pd.DataFrame,
    unit: str | None,
) -> pd.DataFrame:
    """Ppk and Cpk per window and per site and process version (summary's capability code)."""
    windows: list[tuple[str, str, pd.DataFrame]] = [
        ("window", "baseline", part.iloc[start : end + 1]),
        ("window", "after baseline", part.iloc[end + 1 :]),
        ("window", "all", part),
    ]
    for column in GROUPINGS:
        for key, subset in part.groupby(part[column].fillna("(none)"), sort=True):
            windows.append((column, str(key), subset))
    rows = []
    for what, name, subset in windows:
        if subset.empty:
            continue
        x = subset["value"].to_numpy(float)
        found = capability_of(subset, specs, unit)
        rows.append(
            {
                "group": group,
                "by": what,
                "window": name,
                "n": len(x),
                "first": subset["identifier"].iloc[0],
                "last": subset["identifier"].iloc[-1],
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)) if len(x) > 1 else math.nan,
                **found,
            }
        )
    return pd.DataFrame(rows)


def _plain(value: object) -> object:
    """A JSON-ready value (NaN → None, numpy scalars → Python)."""
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value
