"""Summary and capability (continued process verification, annual product quality review).

Per attribute and group: n, mean, SD (n − 1), min, max and unit over one value per batch, and
where a specification gives limits, Ppk (overall SD) and Cpk (within SD estimated from the mean
moving range of consecutive batches, MR̄/d2 with d2 = 1.128). A raw-material or intermediate
attribute is summarised over the batches that consumed the lot, joined through lineage in the
store, so each consuming batch contributes one value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from . import queries, units
from .attributes import (
    BATCH_KINDS,
    CENSORED_CHOICES,
    Attribute,
    batch_values,
    censored_values,
    identifier_of,
    reference_nodes,
    resolve_attributes,
    resolve_material,
    stage_name,
    unit_symbol,
)
from .errors import QueryError, TermError
from .stores import Store

GROUPINGS = ("product", "site", "process_version", "month")
D2 = 1.128  # control-chart constant d2 for moving ranges of two


def summary(
    store: Store,
    attributes: Sequence[str] | str,
    by: str | Sequence[str] | None = None,
    material: str | None = None,
    censored: str = "exclude",
    source: str = "layer",
) -> pd.DataFrame:
    """One row per attribute, material, stage, batch kind and group (``by``). ``censored``
    counts each group's censored results ("<0.5"): left out of n, mean and SD unless
    ``censored`` is ``limit`` or ``half-limit`` (see ``cmckg.attributes.CENSORED_CHOICES``)."""
    if censored not in CENSORED_CHOICES:
        raise QueryError(f"censored is one of {', '.join(CENSORED_CHOICES)}, not {censored!r}")
    names = [attributes] if isinstance(attributes, str) else list(attributes)
    if not names:
        raise QueryError("name at least one attribute to summarise")
    groups = [by] if isinstance(by, str) else list(by or [])
    unknown = [g for g in groups if g not in GROUPINGS]
    if unknown:
        raise QueryError(f"cannot group by {', '.join(unknown)}; use {', '.join(GROUPINGS)}")
    material_iri = resolve_material(store, material) if material else None
    frames = []
    for attribute in resolve_attributes(store, names):
        values = batch_values(
            store, attribute, material=material_iri, censored=censored, source=source
        )
        if values.empty:
            raise QueryError(f"no batch has a value of {attribute.label!r}")
        values["month"] = values["date"].map(lambda d: d.strftime("%Y-%m") if pd.notna(d) else None)
        frame = _summarise(store, attribute, values, groups)
        frames.append(
            _with_censored(
                frame,
                censored_values(store, attribute, material=material_iri, source=source),
                groups,
            )
        )
    return pd.concat(frames, ignore_index=True)


def _summarise(
    store: Store, attribute: Attribute, values: pd.DataFrame, groups: list[str]
) -> pd.DataFrame:
    keys = ["material", "stage", "kind", *groups]
    specs = specifications(store, attribute)
    rows = []
    for key, group in values.groupby(keys, dropna=False, sort=True):
        x = group["value"].to_numpy(float)
        unit = group["unit"].iloc[0]
        row = SummaryRow(
            attribute.label,
            {k: None if _same(v, None) else v for k, v in zip(keys, key, strict=True)},
            n=len(x),
            mean=float(x.mean()),
            sd=float(x.std(ddof=1)) if len(x) > 1 else math.nan,
            min=float(x.min()),
            max=float(x.max()),
            unit=unit_symbol(unit),
            **capability(group, specs, unit),
        )
        rows.append(row.record())
    return pd.DataFrame(rows)


@dataclass
class SummaryRow:
    """One attribute and group (material, stage, batch kind and the ``by`` keys): n, mean,
    SD (n − 1), min, max, unit, and the specification limits with Ppk and Cpk."""

    attribute: str
    group: dict[str, object]
    n: int
    mean: float
    sd: float
    min: float
    max: float
    unit: str | None
    lsl: float = math.nan
    usl: float = math.nan
    ppk: float = math.nan
    cpk: float = math.nan

    def record(self) -> dict[str, object]:
        """The row as a table row: attribute, the group keys in order, then the figures."""
        figures = {k: v for k, v in asdict(self).items() if k not in ("attribute", "group")}
        return {"attribute": self.attribute, **self.group, **figures}


def _with_censored(frame: pd.DataFrame, found: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    """Add ``censored``: how many censored results each row's group has."""
    keys = ["material", "stage", "kind", *groups]
    frame["censored"] = 0
    if found.empty:
        return frame
    if "month" in groups:
        found["month"] = found["date"].map(lambda d: d.strftime("%Y-%m") if pd.notna(d) else None)
    counts = found.groupby(keys, dropna=False)["n_values"].sum()
    for index, row in frame.iterrows():
        key = tuple(row[k] for k in keys)
        for found_key, n in counts.items():
            found_key = found_key if isinstance(found_key, tuple) else (found_key,)
            if all(_same(a, b) for a, b in zip(key, found_key, strict=True)):
                frame.at[index, "censored"] = int(n)
    return frame


def _same(a: object, b: object) -> bool:
    missing = [x is None or (isinstance(x, float) and math.isnan(x)) for x in (a, b)]
    return all(missing) or (not any(missing) and a == b)


def specifications(store: Store, attribute: Attribute) -> pd.DataFrame:
    """The latest version of each specification of ``attribute`` (per product, stage, class)."""
    frame = queries.to_dataframe(
        queries.run(store, "specifications", {"attribute": attribute.concept})
    )
    if frame.empty:
        return frame
    names = reference_nodes(store)
    frame["product"] = frame["product_node"].map(lambda n: identifier_of(n, names))
    frame["stage"] = frame["stage"].map(stage_name)
    frame["kind"] = frame["lot_class"].map(lambda c: BATCH_KINDS.get(str(c)) if c else None)
    frame["order"] = pd.to_numeric(frame["version"], errors="coerce").fillna(0)
    frame = frame.sort_values("order").drop_duplicates(["product", "stage", "kind"], keep="last")
    return frame


def capability(group: pd.DataFrame, specs: pd.DataFrame, unit: str | None) -> dict[str, float]:
    """LSL, USL, Ppk and Cpk of one group of batch values against its product's latest
    specification (NaN where there is none, or fewer than two values)."""
    empty = {"lsl": math.nan, "usl": math.nan, "ppk": math.nan, "cpk": math.nan}
    products = set(group["product"].dropna())
    if specs.empty or len(products) != 1 or len(group) < 2:
        return empty
    stage, kind = group["stage"].iloc[0], group["kind"].iloc[0]
    match = specs[
        (specs["product"] == products.pop())
        & (specs["stage"].isna() | (specs["stage"] == stage))
        & (specs["kind"].isna() | (specs["kind"] == kind))
    ]
    if match.empty:
        return empty
    spec = match.sort_values(["stage", "kind"], na_position="first").iloc[-1]
    lsl, usl = (_in_unit(spec[limit], spec["unit"], unit) for limit in ("lower", "upper"))
    if math.isnan(lsl) and math.isnan(usl):
        return empty
    ordered = group.sort_values(["date", "identifier"], na_position="last")
    x = ordered["value"].to_numpy(float)
    mean, overall = float(x.mean()), float(x.std(ddof=1))
    within = float(np.abs(np.diff(x)).mean()) / D2
    return {
        "lsl": lsl,
        "usl": usl,
        "ppk": _index(mean, overall, lsl, usl),
        "cpk": _index(mean, within, lsl, usl),
    }


def _index(mean: float, sigma: float, lsl: float, usl: float) -> float:
    """min((USL − μ), (μ − LSL)) / 3σ over the limits that exist."""
    if not sigma > 0:
        return math.nan
    sides = [d for d in (usl - mean, mean - lsl) if not math.isnan(d)]
    return min(sides) / (3 * sigma)


def _in_unit(limit: object, spec_unit: object, unit: str | None) -> float:
    if limit is None or (isinstance(limit, float) and math.isnan(limit)):
        return math.nan
    value = float(limit)
    if spec_unit and unit and spec_unit != unit:
        try:
            return units.convert(value, str(spec_unit), unit)
        except TermError as exc:
            raise exc.within(f"specification limit in {spec_unit}") from None
    return value
