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
_DIGITS = re.compile(r"(\d+)")


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


def _natural(identifier: object) -> list[object]:
    """``B-9`` before ``B-10``: the text between digit runs compared as text, the runs as numbers
    (``re.split`` with a group puts the runs at the odd places)."""
    parts = _DIGITS.split(str(identifier))
    return [int(p) if k % 2 else p for k, p in enumerate(parts)]


def _in_date_order(series: pd.DataFrame) -> pd.DataFrame:
    """Dated batches by date, then identifier in natural order (stable: ties keep their order)."""
    keys = [_natural(i) for i in series["identifier"].tolist()]
    by_name = np.empty(len(keys), dtype=np.int64)
    by_name[sorted(range(len(keys)), key=keys.__getitem__)] = np.arange(len(keys))
    days = series["date"].to_numpy("datetime64[ns]")
    return series.iloc[np.lexsort((by_name, days))].reset_index(drop=True)


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
    hits = spc.rule_hits(x, limits.center, limits.sigma, rules)
    at, number = spc.in_order(hits)
    ids = part["identifier"].astype(str).to_numpy(object)
    dates = part["date"].dt.strftime("%Y-%m-%d")
    fired: list[list[str]] = [[] for _ in range(len(part))]
    for i, n in zip(at, number, strict=True):
        fired[i].append(str(hits[n].rule))
    order = np.arange(len(part))
    points = pd.DataFrame(
        {
            "group": group,
            "order": order + 1,
            "batch": ids,
            "date": dates,
            "site": part["site"],
            "process_version": part["process_version"],
            "value": x,
            "moving_range": np.concatenate([[np.nan], spc.moving_ranges(x)]),
            "baseline": (order >= start) & (order <= end),
            "rules": [",".join(rules_here) for rules_here in fired],
        }
    )
    signal_rows = _signal_rows(group, hits, at, number, rules, ids, dates.to_numpy(object), x)
    whole = capability_of(part, specs, unit)
    capability = _capability_rows(group, part, start, end, specs, unit, whole)
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
        "signals": len(at),
    }
    return limit_row, points, signal_rows, capability


def _signal_rows(
    group: str | None,
    hits: list[spc.Hits],
    at: list[int],
    number: list[int],
    rules: spc.RuleSet,
    ids: np.ndarray,
    dates: np.ndarray,
    x: np.ndarray,
) -> pd.DataFrame:
    """One row per rule firing (``at``, ``number``: ``spc.in_order``): the point that completes
    the pattern and the lots in it."""
    columns = ["group", "rule", "description", "batch", "date", "value", "lots"]
    if not at:
        return pd.DataFrame([], columns=columns)
    names = ids.tolist()
    lots = [
        ";".join(names[i - hits[n].length + 1 : i + 1])
        if hits[n].beyond is None
        else ";".join(names[j] for j in hits[n].points(i))
        for i, n in zip(at, number, strict=True)
    ]
    rule = np.array([found.rule for found in hits])[number]
    descriptions = np.array([rules.describe(found.rule) for found in hits], dtype=object)
    return pd.DataFrame(
        {
            "group": group,
            "rule": rule,
            "description": descriptions[number],
            "batch": ids[at],
            "date": dates[at],
            "value": x[at],
            "lots": lots,
        },
        columns=columns,
    )


def _capability_rows(
    group: str | None,
    part: pd.DataFrame,
    start: int,
    end: int,
    specs: pd.DataFrame,
    unit: str | None,
    whole: dict[str, float],
) -> pd.DataFrame:
    """Ppk and Cpk per window and per site and process version. The limits are those
    ``summary.capability`` found for the whole chart (``whole``: one series of one product has
    one specification); each window's indices are figured as it figures them, over the window's
    values in date-then-identifier order."""
    everything = np.arange(len(part))
    windows = [
        ("window", "baseline", everything[start : end + 1]),
        ("window", "after baseline", everything[end + 1 :]),
        ("window", "all", everything),
    ]
    for column in GROUPINGS:
        keys = part[column].fillna("(none)")
        for key, subset in keys.groupby(keys, sort=True):
            windows.append((column, str(key), subset.index.to_numpy()))
    values = part["value"].to_numpy(float)
    identifiers = part["identifier"].to_numpy(object)
    rank = np.empty(len(part), dtype=np.int64)
    rank[part.sort_values(["date", "identifier"], na_position="last").index] = everything
    one_product = part["product"].dropna().nunique() == 1
    rows = []
    for what, name, positions in windows:
        if not len(positions):
            continue
        x = values[positions]
        found = (
            _indices(values[positions[np.argsort(rank[positions])]], whole, part, positions)
            if one_product
            else capability_of(part.iloc[positions], specs, unit)
        )
        rows.append(
            {
                "group": group,
                "by": what,
                "window": name,
                "n": len(x),
                "first": identifiers[positions[0]],
                "last": identifiers[positions[-1]],
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)) if len(x) > 1 else math.nan,
                **found,
            }
        )
    return pd.DataFrame(rows)


def _indices(
    ordered: np.ndarray, whole: dict[str, float], part: pd.DataFrame, positions: np.ndarray
) -> dict[str, float]:
    """``summary.capability`` of the batches at ``positions`` (values ``ordered`` by date then
    identifier) against the limits it found for the whole chart."""
    lsl, usl = whole["lsl"], whole["usl"]
    named = part["product"].iloc[positions].notna().any()
    if len(ordered) < 2 or not named or (math.isnan(lsl) and math.isnan(usl)):
        return {"lsl": math.nan, "usl": math.nan, "ppk": math.nan, "cpk": math.nan}
    mean, overall = float(ordered.mean()), float(ordered.std(ddof=1))
    within = float(np.abs(np.diff(ordered)).mean()) / spc.D2
    return {
        "lsl": lsl,
        "usl": usl,
        "ppk": spc.capability_index(mean, overall, lsl, usl),
        "cpk": spc.capability_index(mean, within, lsl, usl),
    }


def _plain(value: object) -> object:
    """A JSON-ready value (NaN → None, numpy scalars → Python)."""
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value
