"""Pictures of the analyses' answers (PNG or SVG through matplotlib's object API): each on a
``Figure`` of its own, so the process's backend and pyplot's open figures are left alone."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

from ..drivers import pair_column
from ..errors import ConfigError, QueryError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..cpv import ControlChart
    from ..drivers import DriversResult

PLOT_SUFFIXES = {".png", ".svg"}


def drivers_plot(result: DriversResult, path: str | Path, rank: int = 0) -> Path:
    """Scatter of the PQA against the pair ranked ``rank`` (0 = top), saved as an image.

    Drawn on a ``matplotlib.figure.Figure`` of its own: the process's backend and pyplot's
    open figures are left as they were."""
    if result.table.empty or rank >= len(result.table):
        raise QueryError("no pair to plot")
    top = result.table.iloc[rank]
    column = pair_column(top["material"], top["attribute"])
    data = result.data[["pqa", column]].dropna()
    figure = Figure(figsize=(5.5, 4.2))
    axes = figure.add_subplot()
    axes.scatter(data[column], data["pqa"], s=18, alpha=0.75)
    axes.set_xlabel(
        f"{top['material']}: {top['attribute']}" + (f" [{top['unit']}]" if top["unit"] else "")
    )
    axes.set_ylabel(result.pqa + (f" [{result.pqa_unit}]" if result.pqa_unit else ""))
    axes.set_title(
        f"{result.method} effect {top['effect']:.3g}, n = {top['n']}, q = {top['q']:.2g}"
    )
    figure.tight_layout()
    target = Path(path)
    try:
        figure.savefig(target, dpi=120)
    except OSError as exc:
        raise ConfigError(f"cannot write the plot: {exc.strerror or exc}", str(target)) from None
    except ValueError as exc:  # an image format matplotlib does not know
        raise ConfigError(f"cannot write the plot: {exc}", str(target)) from None
    return target


def control_chart_plot(chart: ControlChart, path: str | Path) -> Path:
    """The individuals and moving-range charts (one pair per group) as PNG or SVG: control
    limits, specification limits, the baseline shaded, flagged points marked with their
    rules. Uses matplotlib's object API (no pyplot, the global backend left alone)."""
    target = Path(path)
    if target.suffix.lower() not in PLOT_SUFFIXES:
        raise QueryError(f"{target}: the picture must be .png or .svg")
    groups = list(chart.limits["group"])
    figure = Figure(figsize=(9, 5.2 * len(groups)), layout="constrained")
    axes = figure.subplots(2 * len(groups), 1, squeeze=False, height_ratios=[3, 1.3] * len(groups))[
        :, 0
    ]
    for number, group in enumerate(groups):
        _draw_chart(chart, axes[2 * number], axes[2 * number + 1], group)
    figure.savefig(target, dpi=110)
    return target


def _draw_chart(chart: ControlChart, individuals: Axes, ranges: Axes, group: str | None) -> None:
    limits = _of_group(chart.limits, group).iloc[0]
    points = _of_group(chart.points, group)
    order = points["order"].to_numpy()
    unit = f" [{chart.unit}]" if chart.unit else ""
    title = (
        f"{chart.attribute}, {chart.product} {chart.kind}"
        + (f", {chart.stage}" if chart.stage else "")
        + (f" — {group}" if group else "")
    )
    baseline = points[points["baseline"]]["order"]
    for axes in (individuals, ranges):
        axes.axvspan(baseline.min() - 0.5, baseline.max() + 0.5, color="0.92", zorder=0)
    individuals.plot(order, points["value"], marker="o", markersize=3.5, lw=0.8, color="tab:blue")
    for value, style, label in (
        (limits["center"], "-", "CL"),
        (limits["ucl"], "--", "UCL"),
        (limits["lcl"], "--", "LCL"),
    ):
        individuals.axhline(value, ls=style, lw=0.9, color="black")
        individuals.annotate(
            f"{label} {value:.4g}",
            (1.0, value),
            xycoords=("axes fraction", "data"),
            fontsize=7,
            va="bottom",
            ha="right",
        )
    for name in ("lsl", "usl"):
        if not math.isnan(limits[name]):
            individuals.axhline(limits[name], ls=":", lw=1.2, color="tab:red")
            individuals.annotate(
                f"{name.upper()} {limits[name]:.4g}",
                (0.0, limits[name]),
                xycoords=("axes fraction", "data"),
                fontsize=7,
                color="tab:red",
                va="bottom",
            )
    flagged = points[points["rules"] != ""]
    individuals.scatter(flagged["order"], flagged["value"], s=40, color="tab:red", zorder=3)
    for _, row in flagged.iterrows():
        individuals.annotate(
            row["rules"],
            (row["order"], row["value"]),
            fontsize=7,
            color="tab:red",
            xytext=(3, 4),
            textcoords="offset points",
        )
    individuals.set_title(title, fontsize=10)
    individuals.set_ylabel(f"individual{unit}")
    ranges.plot(order, points["moving_range"], marker="o", markersize=3, lw=0.8, color="tab:blue")
    ranges.axhline(limits["mr_center"], lw=0.9, color="black")
    ranges.axhline(limits["mr_ucl"], ls="--", lw=0.9, color="black")
    ranges.set_ylabel(f"moving range{unit}")
    ranges.set_xlabel("batch, in date order (shaded: baseline)")


def _of_group(frame: pd.DataFrame, group: str | None) -> pd.DataFrame:
    return frame[frame["group"].isna() if group is None else frame["group"] == group]
