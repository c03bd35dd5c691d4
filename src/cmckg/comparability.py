"""Comparability of a test group of batches against a reference group (e.g. after a process
change or a site transfer), one attribute at a time.

Statistics (DESIGN.md), on one value per batch in one unit (``cmckg.attributes.batch_values``):

- quality range: reference mean ± k·SD (k = 3); the test group passes when at least 90 % of its
  lots fall inside;
- equivalence (TOST): margin δ = margin·SD_R (1.5 by default); equivalent when the 90 % CI of
  mean_T − mean_R (Welch–Satterthwaite degrees of freedom) lies inside ±δ; p from statsmodels'
  ``ttost_ind(usevar="unequal")``;
- tolerance interval: reference mean ± k2·SD with Howe's two-sided k2 (90 % coverage, 99 %
  confidence by default); the test group passes when every lot falls inside.

SD is the sample standard deviation (n − 1). All three are computed for every attribute; the
chosen method decides the verdict and which limits are reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from rdflib import URIRef
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttost_ind

from . import queries
from .attributes import (
    CENSORED_CHOICES,
    Attribute,
    batch_values,
    censored_values,
    cqa_concepts,
    resolve_attribute,
    resolve_attributes,
    resolve_stage,
    stage_name,
    unit_symbol,
)
from .errors import QueryError
from .stores import Store
from .vocab import CMCT, normalise_label, term_index

METHODS = ("quality-range", "tost", "tolerance-interval")
FILTER_KEYS = ("product", "site", "process_version", "scale", "stage", "kind", "date")
_STORE_KEYS = ("product", "site", "process_version")
TABLE_COLUMNS = [
    "attribute",
    "kind",
    "material",
    "stage",
    "unit",
    "n_ref",
    "mean_ref",
    "sd_ref",
    "n_test",
    "mean_test",
    "sd_test",
    "method",
    "lower",
    "upper",
    "inside",
    "difference",
    "ci_low",
    "ci_high",
    "margin",
    "p_tost",
    "verdict",
]


@dataclass
class ComparisonResult:
    """Per-attribute table, lot-level values (with their group), and what was compared."""

    table: pd.DataFrame
    values: pd.DataFrame
    method: str
    reference: dict[str, str]
    test: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def to_html(self) -> str:
        """A self-contained HTML report: per attribute, the lots of both groups with the range
        or confidence interval that decides the verdict, and a legend of every column."""
        from .present import comparison_html

        return comparison_html(self)

    def _repr_html_(self) -> str:
        from .present import comparison_html

        return comparison_html(self, standalone=False)


def parse_filter(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"site=Site-A,process_version=v1"`` → a dict; keys as in FILTER_KEYS.

    ``date`` takes ``FROM..TO`` (either side may be empty) or one day or month; ``scale``
    takes a batch size or ``LOW..HIGH``; ``kind`` is ``drug_substance`` or ``drug_product``.
    """
    if text is None:
        return {}
    items = text.items() if isinstance(text, Mapping) else _split(text)
    parsed: dict[str, str] = {}
    for key, value in items:
        key = str(key).strip().replace("-", "_")
        if key not in FILTER_KEYS:
            raise QueryError(
                f"unknown filter key {key!r} in {text!r}; use {', '.join(FILTER_KEYS)}"
            )
        parsed[key] = str(value).strip()
    return parsed


def _split(text: str) -> list[tuple[str, str]]:
    pairs = []
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not value.strip():
            raise QueryError(f"a filter is KEY=VALUE[,KEY=VALUE…], got {part.strip()!r}")
        pairs.append((key, value))
    return pairs


def compare(
    store: Store,
    attributes: Sequence[str] | str | None,
    reference: str | Mapping[str, str],
    test: str | Mapping[str, str],
    *,
    method: str = "quality-range",
    k: float = 3.0,
    margin: float = 1.5,
    all_cqas: bool = False,
    coverage: float = 0.90,
    confidence: float = 0.99,
    min_inside: float = 0.90,
    censored: str = "exclude",
    source: str = "layer",
) -> ComparisonResult:
    """Compare the ``test`` batches with the ``reference`` batches for each attribute.

    Censored results ("<0.5") are left out and counted in the notes, unless ``censored`` is
    ``limit`` or ``half-limit`` (a result below a limit then counts as the limit or half of it).
    ``source``: read the analytics layer (default) or the records (``attributes.SOURCES``)."""
    if censored not in CENSORED_CHOICES:
        raise QueryError(f"censored is one of {', '.join(CENSORED_CHOICES)}, not {censored!r}")
    if method not in METHODS:
        raise QueryError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    if k <= 0 or margin <= 0 or not (0 < coverage < 1) or not (0 < confidence < 1):
        raise QueryError("k and margin must be positive; coverage and confidence in (0, 1)")
    ref_filter, test_filter = parse_filter(reference), parse_filter(test)
    if not ref_filter or not test_filter:
        raise QueryError("give both a reference and a test filter, e.g. site=Site-A")
    names = [attributes] if isinstance(attributes, str) else list(attributes or [])
    resolved = resolve_attributes(store, names)
    asked = {a.concept for a in resolved}
    cqas = (
        [
            resolve_attribute(store, str(c))
            for c in _measured(store, cqa_concepts())
            if c not in asked
        ]
        if all_cqas
        else []
    )
    if not resolved and not cqas:
        raise QueryError("name at least one attribute (or ask for all CQAs)")
    # A filter both groups share (usually the product) narrows the one query in the store.
    shared = {
        k: ref_filter[k]
        for k in _STORE_KEYS
        if k in ref_filter and ref_filter[k] == test_filter.get(k)
    }
    notes: list[str] = []
    rows, values = [], []
    compared: set[URIRef] = set()
    for attribute in resolved + cqas:
        every = batch_values(
            store,
            attribute,
            censored=censored,
            product=shared.get("product"),
            site=shared.get("site"),
            process_version=shared.get("process_version"),
            source=source,
        )
        ref = _select(store, every, ref_filter, source)
        tst = _select(store, every, test_filter, source)
        notes += _censored_note(store, attribute, shared, ref_filter, test_filter, censored, source)
        if ref.empty or tst.empty:
            if attribute not in cqas:
                notes.append(
                    f"{attribute.label}: no values in the "
                    f"{'reference' if ref.empty else 'test'} group"
                )
            continue
        overlap = set(ref["batch"]) & set(tst["batch"])
        if overlap:
            notes.append(
                f"{attribute.label}: {len(overlap)} "
                f"{'batch is' if len(overlap) == 1 else 'batches are'} in both groups"
            )
        values += [ref.assign(group="reference"), tst.assign(group="test")]
        series_keys = ["kind", "material", "stage", "unit"]
        for key, ref_series in ref.groupby(series_keys, dropna=False):
            mask = np.ones(len(tst), dtype=bool)
            for column, value in zip(series_keys, key, strict=True):
                mask &= (tst[column].isna() if _missing(value) else tst[column] == value).to_numpy()
            test_series = tst[mask]
            if test_series.empty:
                continue
            row = compare_samples(
                ref_series["value"].to_numpy(float),
                test_series["value"].to_numpy(float),
                method=method,
                k=k,
                margin=margin,
                coverage=coverage,
                confidence=confidence,
                min_inside=min_inside,
            )
            row.attribute = attribute.label
            row.kind, row.material, row.stage = (_none(part) for part in key[:3])
            row.unit = unit_symbol(key[3])
            rows.append(row.record())
            compared.add(attribute.concept)
    left_out = len(set(cqa_concepts()) - compared)
    if all_cqas and left_out:
        notes.append(f"{left_out} CQAs without values in both groups were left out")
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    lot_values = pd.concat(values, ignore_index=True) if values else pd.DataFrame()
    if table.empty:
        raise QueryError("nothing to compare: " + ("; ".join(notes) or "no values found"))
    return ComparisonResult(table, lot_values, method, ref_filter, test_filter, notes)


def _censored_note(
    store: Store,
    attribute: Attribute,
    shared: dict[str, str],
    ref_filter: dict[str, str],
    test_filter: dict[str, str],
    censored: str,
    source: str,
) -> list[str]:
    """How many censored results each group has, and what was done with them."""
    found = censored_values(
        store,
        attribute,
        product=shared.get("product"),
        site=shared.get("site"),
        process_version=shared.get("process_version"),
        source=source,
    )
    chosen = [
        _select(store, found, f, source) if not found.empty else found
        for f in (ref_filter, test_filter)
    ]
    counts = [int(c["n_values"].sum()) if "n_values" in c.columns else 0 for c in chosen]
    if not any(counts):
        return []
    done = (
        "left out (censored='limit' or 'half-limit' substitutes those below a limit)"
        if censored == "exclude"
        else f"below a limit counted as {'the limit' if censored == 'limit' else 'half of it'}; "
        "above a limit left out"
    )
    return [
        f"{attribute.label}: censored results, {counts[0]} in the reference group and "
        f"{counts[1]} in the test group: {done}"
    ]


def _measured(store: Store, concepts: Sequence[URIRef]) -> list[URIRef]:
    """The concepts (or their exact matches) that have numeric results in the store."""
    present = set(queries.to_dataframe(queries.run(store, "measured-properties"))["property"])
    index = term_index()
    return [
        c
        for c in concepts
        if str(c) in present or any(str(m) in present for m in index.get(c).exact_matches)
    ]


def _select(
    store: Store, frame: pd.DataFrame, group: dict[str, str], source: str = "layer"
) -> pd.DataFrame:
    """The rows of one group: one query per attribute serves both groups, so the filters on
    product, site and process version (identifiers, exactly or ignoring case and spacing)
    are applied here, with stage, batch kind, date range and scale."""
    if frame.empty:
        return frame
    for key in _STORE_KEYS:
        if key in group:
            frame = frame[_named(frame[key], group[key])]
    if "stage" in group:
        stage = resolve_stage(group["stage"])
        frame = frame[frame["stage"] == stage_name(stage)]
    if "kind" in group:
        if group["kind"] not in ("drug_substance", "drug_product"):
            raise QueryError(f"kind is drug_substance or drug_product, not {group['kind']!r}")
        frame = frame[frame["kind"] == group["kind"]]
    if "date" in group:
        low, high = _date_range(group["date"])
        dates = frame["date"]
        frame = frame[dates.notna() & (dates >= low) & (dates <= high)]
    if "scale" in group:
        frame = _filter_scale(store, frame, group["scale"], source)
    return frame


def _named(column: pd.Series, text: str) -> pd.Series:
    exact = column == text
    if exact.any():
        return exact
    wanted = normalise_label(text)
    return column.map(lambda v: isinstance(v, str) and normalise_label(v) == wanted)


def _date_range(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start, sep, end = text.partition("..")
    try:
        if not sep:
            period = pd.Period(text.strip())
            return period.start_time, period.end_time
        low = pd.Timestamp(start.strip()) if start.strip() else pd.Timestamp.min
        high = pd.Period(end.strip()).end_time if end.strip() else pd.Timestamp.max
    except ValueError as exc:
        raise QueryError(f"date filter {text!r}: use YYYY-MM-DD..YYYY-MM-DD or YYYY-MM") from exc
    return low, high


def _filter_scale(store: Store, frame: pd.DataFrame, text: str, source: str) -> pd.DataFrame:
    sizes = batch_values(store, resolve_attribute(store, str(CMCT.BatchSize)), source=source)
    size_of = sizes.groupby("batch")["value"].first()
    low_text, sep, high_text = text.partition("..")
    try:
        low = float(low_text) if low_text.strip() else -math.inf
        high = (float(high_text) if high_text.strip() else math.inf) if sep else low
    except ValueError as exc:
        raise QueryError(f"scale filter {text!r}: use a batch size or LOW..HIGH") from exc
    scale = frame["batch"].map(size_of)
    return frame[scale.notna() & (scale >= low) & (scale <= high)]


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _none(value: object) -> str | None:
    return None if _missing(value) else str(value)


def howe_k2(n: int, coverage: float = 0.90, confidence: float = 0.99) -> float:
    """Two-sided tolerance factor k2 by Howe's method (NIST/SEMATECH e-Handbook 7.2.6.3)."""
    if n < 2:
        raise QueryError("a tolerance interval needs at least two reference values")
    nu = n - 1
    z = stats.norm.ppf((1 + coverage) / 2)
    return float(z * math.sqrt(nu * (1 + 1 / n) / stats.chi2.ppf(1 - confidence, nu)))


@dataclass(frozen=True)
class Tost:
    """Welch TOST of |mean_T − mean_R| < δ: the difference, its (1 − 2α) confidence interval
    and the larger of the two one-sided p-values."""

    difference: float
    ci_low: float
    ci_high: float
    p_tost: float


def welch_tost(test: np.ndarray, reference: np.ndarray, delta: float, alpha: float = 0.05) -> Tost:
    """Two one-sided Welch t-tests (statsmodels ``ttost_ind``, ``usevar="unequal"``), with the
    Welch–Satterthwaite (1 − 2α) confidence interval of the difference."""
    p_value, _, _ = ttost_ind(test, reference, -delta, delta, usevar="unequal")
    low, high = CompareMeans(DescrStatsW(test), DescrStatsW(reference)).tconfint_diff(
        alpha=2 * alpha, usevar="unequal"
    )
    return Tost(float(test.mean() - reference.mean()), float(low), float(high), float(p_value))


@dataclass
class ComparisonRow:
    """One attribute (and batch kind, material, stage, unit) compared: both groups' n, mean and
    SD, the limits and share of test lots inside them, the TOST figures and the verdict."""

    n_ref: int
    mean_ref: float
    sd_ref: float
    n_test: int
    mean_test: float
    sd_test: float
    method: str
    verdict: str = "insufficient data"
    lower: float = math.nan
    upper: float = math.nan
    inside: float = math.nan
    difference: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    margin: float = math.nan
    p_tost: float = math.nan
    attribute: str | None = None
    kind: str | None = None
    material: str | None = None
    stage: str | None = None
    unit: str | None = None

    def record(self) -> dict[str, object]:
        """The row as a table row (``TABLE_COLUMNS`` order)."""
        values = asdict(self)
        return {column: values[column] for column in TABLE_COLUMNS}


def compare_samples(
    reference: np.ndarray,
    test: np.ndarray,
    *,
    method: str = "quality-range",
    k: float = 3.0,
    margin: float = 1.5,
    coverage: float = 0.90,
    confidence: float = 0.99,
    min_inside: float = 0.90,
) -> ComparisonRow:
    """The statistics of one attribute for two arrays of lot values (one per batch)."""
    n_r, n_t = len(reference), len(test)
    mean_r, mean_t = float(reference.mean()), float(test.mean())
    row = ComparisonRow(
        n_ref=n_r,
        mean_ref=mean_r,
        sd_ref=float(reference.std(ddof=1)) if n_r > 1 else math.nan,
        n_test=n_t,
        mean_test=mean_t,
        sd_test=float(test.std(ddof=1)) if n_t > 1 else math.nan,
        method=method,
        difference=mean_t - mean_r,
    )
    sd_r, sd_t = row.sd_ref, row.sd_test
    if n_r < 2 or not sd_r > 0:
        return row
    factor = k if method != "tolerance-interval" else howe_k2(n_r, coverage, confidence)
    row.lower, row.upper = mean_r - factor * sd_r, mean_r + factor * sd_r
    row.inside = float(np.mean((test >= row.lower) & (test <= row.upper)))
    row.margin = delta = margin * sd_r
    if n_t > 1 and sd_t > 0:
        tost = welch_tost(test, reference, delta)
        row.difference, row.ci_low, row.ci_high, row.p_tost = (
            tost.difference,
            tost.ci_low,
            tost.ci_high,
            tost.p_tost,
        )
    if method == "quality-range":
        row.verdict = "comparable" if row.inside >= min_inside else "not comparable"
    elif method == "tolerance-interval":
        row.verdict = "comparable" if row.inside == 1.0 else "not comparable"
    elif not math.isnan(row.ci_low):
        equivalent = -delta < row.ci_low and row.ci_high < delta
        row.verdict = "equivalent" if equivalent else "not equivalent"
    return row
