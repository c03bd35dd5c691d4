"""Raw material → product quality: which incoming lot attributes move a batch's PQA.

The store joins every raw-material lot attribute to the batches downstream of the lot
(``queries/analytics-upstream-lots.rq`` and ``analytics-raw-lot-values.rq`` over the analytics
layer; ``queries/raw-material-values.rq`` over the records); a batch that used several lots of
one material gets the mean of their values (``n_lots`` says how many). Each (material,
attribute) pair is then correlated with the batch PQA (Spearman by default, or Pearson) over the
batches that have both values, ranked by p with Benjamini–Hochberg q across every pair screened.
``method="pls"`` ranks by the VIP score of a PLS regression of the PQA on all pairs
(standardised, batches complete in the pairs kept), with the correlation columns alongside.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
from rdflib import URIRef
from scipy import stats
from statsmodels.stats.multitest import multipletests

from . import queries, series_rows
from .attributes import (
    Attribute,
    ReferenceNode,
    batch_values,
    censored_values,
    default_unit,
    label_of,
    material_key,
    material_name,
    material_nodes,
    reference_nodes,
    resolve_attribute,
    resolve_material,
    resolve_stage,
    saved_query,
    stage_name,
    to_one_unit,
    unit_symbol,
)
from .errors import QueryError
from .stores import Store

METHODS = ("spearman", "pearson", "pls")
TABLE_COLUMNS = [
    "material",
    "attribute",
    "unit",
    "n",
    "effect",
    "p",
    "q",
    "slope",
    "vip",
    "max_lots",
]
MIN_PAIRS = 3
PLS_MIN_COVERAGE = 0.8


@dataclass
class DriverRow:
    """One (material, attribute) pair against the PQA: batches with both values, the
    correlation (``effect``), its p, the Benjamini–Hochberg q across all pairs, the OLS slope,
    the PLS VIP score and the most lots of the material any batch used."""

    material: str | None
    attribute: str
    unit: str | None
    n: int
    effect: float = math.nan
    p: float = math.nan
    slope: float = math.nan
    q: float = math.nan
    vip: float = math.nan
    max_lots: int = 0

    def record(self) -> dict[str, object]:
        """The row as a table row (``TABLE_COLUMNS`` order)."""
        values = asdict(self)
        return {column: values[column] for column in TABLE_COLUMNS}


@dataclass
class DriversResult:
    """Ranked pairs, the batch-level data behind them, and how it was computed."""

    pqa: str
    pqa_unit: str | None
    method: str
    table: pd.DataFrame
    data: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def plot(self, path: str | Path, rank: int = 0) -> Path:
        """Scatter of the PQA against the pair ranked ``rank`` (0 = top), saved as an image."""
        from .present.plots import drivers_plot

        return drivers_plot(self, path, rank)

    def to_html(self, top: int = 3) -> str:
        """A self-contained HTML report: the ranking, and a scatter with the fitted line for
        each of the ``top`` pairs."""
        from .present import drivers_html

        return drivers_html(self, top=top)

    def _repr_html_(self) -> str:
        from .present import drivers_html

        return drivers_html(self, top=1, standalone=False)


def drivers(
    store: Store,
    pqa: str,
    material: str | None = None,
    method: str = "spearman",
    stage: str | None = None,
    source: str = "layer",
) -> DriversResult:
    """Rank every raw-material attribute reachable through lineage against the batch ``pqa``."""
    if method not in METHODS:
        raise QueryError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
    attribute = resolve_attribute(store, pqa)
    material_iri = resolve_material(store, material) if material else None
    notes: list[str] = []
    target, pqa_unit = _pqa_per_batch(store, attribute, stage, notes, source)
    names = reference_nodes(store)
    nodes = material_nodes(str(material_iri), names) if material_iri else [""]
    if source == "layer":
        raw = _layer_raw_values(store, set(target.index), nodes)
    else:
        frames = [
            queries.to_dataframe(
                queries.run(
                    store,
                    saved_query(source, "raw_material"),
                    {"pqa": attribute.selector, "material": node},
                )
            )
            for node in nodes
        ]
        raw = pd.concat([f for f in frames if not f.empty] or [pd.DataFrame()], ignore_index=True)
    if raw.empty:
        raise QueryError(
            f"no raw-material lot with results is upstream of a batch with {attribute.label!r}"
        )
    wide, pairs, max_lots = _raw_matrix(raw, names)
    data = target.join(wide, how="inner")
    rows = []
    for column, (material_label, attribute_label, unit) in pairs.items():
        both = data[["pqa", column]].dropna()
        effect = _correlate(
            both[column].to_numpy(float),
            both["pqa"].to_numpy(float),
            "pearson" if method == "pearson" else "spearman",
        )
        row = DriverRow(
            material_label, attribute_label, unit, len(both), *effect, max_lots=max_lots[column]
        )
        rows.append(row.record())
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    tested = table["p"].notna()
    if tested.any():
        table.loc[tested, "q"] = multipletests(table.loc[tested, "p"], method="fdr_bh")[1]
    if method == "pls":
        vip = _vip_of(data, list(pairs), notes)
        table["vip"] = [vip.get(c, math.nan) for c in pairs]
        table = table.sort_values(["vip", "p"], ascending=[False, True], na_position="last")
    else:
        order = table["effect"].abs()
        table = (
            table.assign(_order=order)
            .sort_values(["p", "_order"], ascending=[True, False], na_position="last")
            .drop(columns="_order")
        )
    notes.append(
        "several lots of one material in one batch: their mean is used "
        "(max_lots = the most lots of that material any batch used)"
    )
    data = data.reset_index()
    return DriversResult(
        attribute.label, pqa_unit, method, table.reset_index(drop=True), data, notes
    )


def _pqa_per_batch(
    store: Store, attribute: Attribute, stage: str | None, notes: list[str], source: str
) -> tuple[pd.DataFrame, str | None]:
    values = batch_values(store, attribute, source=source)
    censored = int(censored_values(store, attribute, source=source)["n_values"].sum())
    if censored:
        notes.append(f"{attribute.label}: {censored} censored results ('<0.5') left out")
    if values.empty:
        raise QueryError(f"no batch has a value of {attribute.label!r}")
    if stage is not None:
        values = values[values["stage"] == stage_name(resolve_stage(stage))]
    stages = values["stage"].dropna().unique()
    if len(stages) > 1:
        counts = values["stage"].value_counts()
        chosen = counts.index[0]
        notes.append(
            f"{attribute.label} has results at {len(stages)} stages; using "
            f"{chosen} (give a stage to choose)"
        )
        values = values[values["stage"] == chosen]
    elif len(stages) == 1:
        # an in-process result on an intermediate (harvest titer) counts for every batch made
        # from it: say which results these are
        notes.append(f"{attribute.label}: {stages[0]} results")
    per_batch = values.groupby("batch").agg(
        identifier=("identifier", "first"), pqa=("value", "mean")
    )
    return per_batch, unit_symbol(values["unit"].iloc[0])


def _layer_raw_values(store: Store, batches: set[str], materials: list[str]) -> pd.DataFrame:
    """The raw-material lot values upstream of ``batches`` (of ``materials``; [""]: any), shaped
    like ``queries/raw-material-values.rq``: the layer's batch → raw lot pairs joined here with
    the raw lots' rows (two small queries; one query joining both walks every pair first)."""
    values = []
    for material in materials:
        result = queries.run(store, "analytics-raw-lot-values", {"material": material})
        values += series_rows.raw_lot_rows(result)
    stated = sorted({str(row[-1]) for row in values if row[-1] is not None})
    found = [
        queries.run(store, "analytics-upstream-lots", {"material": URIRef(node)}) for node in stated
    ]
    if any(row[-1] is None for row in values):
        found.append(queries.run(store, "analytics-upstream-lots-unstated"))
    texts = [str(text) for result in found for (text,) in result.rows if text]
    if not texts or not values:
        return pd.DataFrame()
    value_frame = pd.DataFrame(values, columns=list(series_rows.RAW_LOT_COLUMNS)).drop_duplicates()
    # one line per pair, a tab between batch and lot: split all the text at once; keep each
    # pair once (a repeated row of the join is a repeated pair with a repeated value row)
    fields = "\n".join(texts).replace("\n", "\t").split("\t")
    lots = set(value_frame["lot"])
    wanted = dict.fromkeys(
        pair
        for pair in zip(fields[0::2], fields[1::2], strict=True)
        if pair[1] in lots and pair[0] in batches
    )
    pair_frame = pd.DataFrame(list(wanted), columns=["batch", "lot"])
    return pair_frame.merge(value_frame, on="lot")


def _raw_matrix(
    raw: pd.DataFrame, names: dict[str, ReferenceNode]
) -> tuple[pd.DataFrame, dict[str, tuple], dict[str, int]]:
    """Batches × (material, attribute) pairs in one unit per pair, each batch's value the mean
    over the distinct measurements of its lots of that material; each pair's labels, and the
    most lots of its material any batch used. Batches, lots and measurements are numbered once
    and grouped by number; material and unit work is done once per distinct value."""
    raw = raw.reset_index(drop=True)
    values = raw["value"].astype(float).to_numpy()
    units = raw["unit"].to_numpy(object)
    concepts = raw["property"].to_numpy(object)
    attribute_iris = raw["local_term"].where(raw["local_term"].notna(), raw["property"])
    materials = _each_distinct(raw["material_node"], lambda n: material_key(n, names))
    batch, batches = pd.factorize(raw["batch"].to_numpy(object))
    lot = pd.factorize(raw["lot"].to_numpy(object))[0]
    measurement = pd.factorize(raw["measurement"].to_numpy(object))[0]
    pairs: dict[str, tuple] = {}
    frames, max_lots = [], {}
    for (material, attribute_iri), rows in _groups(materials, attribute_iris):
        concept = concepts[rows[0]]
        label = (
            unquote(str(attribute_iri).rsplit("/", 1)[-1])
            if attribute_iri != concept
            else label_of(concept) or str(concept)
        )  # a local term: its minted name
        value, unit = _in_one_unit(
            values[rows],
            units[rows],
            Attribute(label, attribute_iri, concept, label, default_unit(concept)),
        )
        material_label = material_name(material, names)
        column = pair_column(material_label, label)
        pairs[column] = (material_label, label, unit_symbol(unit))
        keys = pd.DataFrame({"batch": batch[rows], "lot": lot[rows], "m": measurement[rows]})
        max_lots[column] = int(keys.groupby("batch")["lot"].nunique().max())
        distinct = ~keys.duplicated(["batch", "m"]).to_numpy()
        means = pd.Series(value[distinct]).groupby(batch[rows][distinct]).mean()
        at = pd.Index(batches[means.index], name="batch")
        frames.append(pd.Series(means.to_numpy(), index=at, name=column))
    return pd.concat(frames, axis=1), pairs, max_lots


def _groups(*columns: pd.Series) -> list[tuple[tuple[Any, ...], np.ndarray]]:
    """The rows (positions) of each combination of the columns' values, in the order of
    ``groupby(columns, dropna=False)``: each column's values sorted, missing last."""
    codes, distinct = zip(
        *(pd.factorize(c, sort=True, use_na_sentinel=False) for c in columns), strict=True
    )
    combined = np.ravel_multi_index(codes, [len(d) for d in distinct])
    found, inverse = np.unique(combined, return_inverse=True)
    rows = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
    keys = zip(*np.unravel_index(found, [len(d) for d in distinct]), strict=True)
    return [
        (tuple(d[k] for d, k in zip(distinct, key, strict=True)), at)
        for key, at in zip(keys, rows, strict=True)
    ]


def _each_distinct(column: pd.Series, function: Callable[[object], object]) -> pd.Series:
    """``column.map(function)``, calling ``function`` once per distinct value."""
    codes, distinct = pd.factorize(column, use_na_sentinel=False)
    mapped = np.array([function(v) for v in distinct], dtype=object)
    return pd.Series(mapped[codes], index=column.index, dtype=object)


def _in_one_unit(
    values: np.ndarray, units: np.ndarray, attribute: Attribute
) -> tuple[np.ndarray, object]:
    """``to_one_unit`` of the values, converting each distinct (value, unit) once (in order of
    first appearance, which decides the unit when not all convert to the default)."""
    keys = pd.DataFrame({"value": values, "unit": units})
    grouped = keys.groupby(["value", "unit"], sort=False, dropna=False)
    converted = to_one_unit(keys.iloc[grouped.head(1).index], attribute)
    unit = converted["unit"].iloc[0] if len(converted) else None
    return converted["value"].to_numpy(float)[grouped.ngroup().to_numpy()], unit


def pair_column(material: object, attribute: object) -> str:
    return f"{material} · {attribute}"


def _correlate(x: np.ndarray, y: np.ndarray, method: str) -> tuple[float, float, float]:
    """Correlation, its p, and the OLS slope of y on x (PQA units per attribute unit); NaN
    with fewer than MIN_PAIRS pairs or a constant side."""
    if len(x) < MIN_PAIRS or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan, math.nan
    test = stats.spearmanr(x, y) if method == "spearman" else stats.pearsonr(x, y)
    return float(test.statistic), float(test.pvalue), float(stats.linregress(x, y).slope)


def _vip_of(data: pd.DataFrame, pairs: list[str], notes: list[str]) -> dict[str, float]:
    """VIP scores of a PLS regression of the PQA on the pairs with enough coverage."""
    from sklearn.cross_decomposition import PLSRegression

    columns = [
        c for c in pairs if data[c].notna().mean() >= PLS_MIN_COVERAGE and data[c].nunique() > 1
    ]
    complete = data[["pqa", *columns]].dropna()
    if len(columns) < 2 or len(complete) < len(columns) + 2:
        notes.append("PLS skipped: too few batches complete in the raw-material attributes")
        return {}
    x = complete[columns].to_numpy(float)
    y = complete["pqa"].to_numpy(float)
    x = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    y = (y - y.mean()) / y.std(ddof=1)
    components = min(2, len(columns))
    pls = PLSRegression(n_components=components, scale=False).fit(x, y)
    vip = vip_scores(pls.x_weights_, pls.x_scores_, pls.y_loadings_)
    notes.append(
        f"PLS: {_count(components, 'component')} on {_count(len(complete), 'batch', 'batches')} "
        f"and {_count(len(columns), 'attribute')} (standardised)"
    )
    return dict(zip(columns, vip.tolist(), strict=True))


def vip_scores(weights: np.ndarray, scores: np.ndarray, y_loadings: np.ndarray) -> np.ndarray:
    """Variable importance in projection: VIP_j = sqrt(p · Σ_a SS_a (w_ja/‖w_a‖)² / Σ_a SS_a),
    SS_a = q_a² · t_aᵀt_a (Wold et al. 2001)."""
    p = weights.shape[0]
    ss = (y_loadings[0] ** 2) * (scores**2).sum(axis=0)
    normalised = (weights / np.linalg.norm(weights, axis=0)) ** 2
    return np.sqrt(p * (normalised @ ss) / ss.sum())


def _count(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 batch``, ``2 batches``."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
