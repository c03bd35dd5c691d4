"""Charts as inline SVG, drawn with matplotlib's object-oriented API (``Figure``, no pyplot), so
drawing never changes the process's matplotlib backend or touches a notebook's open figures."""

from __future__ import annotations

import html
import io
import itertools
import math
import re
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

REFERENCE, TEST, BAND, FAIL = "#3a78b5", "#d9822b", "#3a78b5", "#c0392b"
_FIGURES = itertools.count(1)


def figure_svg(figure: Figure) -> str:
    """The figure as an ``<svg>`` element (text kept as text, so it is searchable)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return _unique_ids(text[text.index("<svg") :], f"c{next(_FIGURES)}-")


def _new(width: float = 6.0, height: float = 3.0) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=96)
    return figure, figure.add_subplot()


def _strip(axes: Axes, values: np.ndarray, x: float, colour: str, label: str) -> None:
    jitter = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
    axes.scatter(x + jitter, values, s=22, color=colour, alpha=0.85, label=label, zorder=3)


def comparison_svg(row: dict[str, Any], values: pd.DataFrame) -> str:
    """One attribute of a comparison: reference and test lots, with the quality range (or
    tolerance interval) band; for TOST, beside it the 90 % CI of the difference against ±δ."""
    tost = row["method"] == "tost"
    figure = Figure(figsize=(7.2 if tost else 5.2, 2.9), dpi=96)
    axes = figure.add_subplot(1, 2, 1) if tost else figure.add_subplot()
    unit = f" [{row['unit']}]" if row.get("unit") else ""
    ref = values.loc[values["group"] == "reference", "value"].to_numpy(float)
    tst = values.loc[values["group"] == "test", "value"].to_numpy(float)
    _strip(axes, ref, 0, REFERENCE, f"reference (n={len(ref)})")
    _strip(axes, tst, 1, TEST, f"test (n={len(tst)})")
    if _finite(row.get("lower")) and _finite(row.get("upper")):
        name = "tolerance interval" if row["method"] == "tolerance-interval" else "quality range"
        axes.axhspan(row["lower"], row["upper"], color=BAND, alpha=0.12, label=name, zorder=1)
        outside = tst[(tst < row["lower"]) | (tst > row["upper"])]
        if len(outside):
            axes.scatter(
                np.ones(len(outside)),
                outside,
                s=60,
                facecolors="none",
                edgecolors=FAIL,
                label="outside",
                zorder=4,
            )
    axes.set_xticks([0, 1], ["reference", "test"])
    axes.set_xlim(-0.6, 1.6)
    axes.set_ylabel(str(row["attribute"]) + unit)
    axes.legend(fontsize=7, loc="best")
    axes.grid(axis="y", alpha=0.3)
    if tost:
        ci = figure.add_subplot(1, 2, 2)
        margin = _number(row.get("margin"))
        if margin is not None:
            ci.axvspan(-margin, margin, color="#3c8d40", alpha=0.12, label="±δ (margin)")
            ci.axvline(0, color="#888", lw=0.8)
        if _finite(row.get("ci_low")) and _finite(row.get("ci_high")):
            colour = "#3c8d40" if row["verdict"] == "equivalent" else FAIL
            ci.errorbar(
                [row["difference"]],
                [0],
                xerr=[[row["difference"] - row["ci_low"]], [row["ci_high"] - row["difference"]]],
                fmt="o",
                color=colour,
                capsize=6,
                label="90 % CI of mean difference",
            )
        ci.set_yticks([])
        ci.set_xlabel("mean(test) − mean(reference)" + unit)
        ci.legend(fontsize=7, loc="upper left")
        spread = [
            abs(v)
            for v in (margin, _number(row.get("ci_low")), _number(row.get("ci_high")))
            if v is not None
        ]
        if spread:
            ci.set_xlim(-1.4 * max(spread), 1.4 * max(spread))
        ci.set_ylim(-1, 1.6)
    figure.tight_layout()
    return figure_svg(figure)


def drivers_svg(
    data: pd.DataFrame, column: str, top: dict[str, Any], pqa: str, pqa_unit: str | None
) -> str:
    """The PQA against one raw-material attribute, with the least-squares line."""
    figure, axes = _new(5.2, 3.4)
    both = data[["pqa", column]].dropna()
    x, y = both[column].to_numpy(float), both["pqa"].to_numpy(float)
    axes.scatter(x, y, s=18, alpha=0.8, color=REFERENCE, label="batches")
    if len(x) >= 2 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        line = np.linspace(x.min(), x.max(), 50)
        axes.plot(
            line, slope * line + intercept, color=TEST, label=f"least squares: slope {slope:.3g}"
        )
    axes.set_xlabel(
        f"{top['material']}: {top['attribute']}" + (f" [{top['unit']}]" if top.get("unit") else "")
    )
    axes.set_ylabel(pqa + (f" [{pqa_unit}]" if pqa_unit else ""))
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure_svg(figure)


def trend_svg(
    values: pd.DataFrame,
    label: str,
    unit: str | None,
    lsl: float | None,
    usl: float | None,
    width: int = 640,
    height: int = 190,
) -> str:
    """Batch values in date order as a small SVG (drawn directly: a page shows many of these,
    and matplotlib takes most of a second each), specification limits dashed, values outside
    them ringed in red; each point's tooltip names the batch, date and value."""
    lsl = lsl if _finite(lsl) else None
    usl = usl if _finite(usl) else None
    frame = values.sort_values(["date", "identifier"], na_position="last")
    y = frame["value"].to_numpy(float)
    limits = [v for v in (lsl, usl) if v is not None]
    low, high = float(min([y.min(), *limits])), float(max([y.max(), *limits]))
    pad = (high - low) * 0.08 or abs(high) * 0.05 or 1.0
    low, high = low - pad, high + pad
    left, right, top, bottom = 56, 10, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(i: int) -> float:
        return left + (plot_w * i / max(len(y) - 1, 1))

    def sy(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='trend' width='{width}' "
        f"height='{height}' viewBox='0 0 {width} {height}' font-family='system-ui, "
        f"sans-serif' font-size='11'><title>{html.escape(label)} by batch</title>",
        f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='#fff' "
        "stroke='#ccc'/>",
    ]
    for tick in np.linspace(low + pad, high - pad, 4):
        parts.append(
            f"<text x='{left - 4}' y='{sy(tick) + 4:.1f}' text-anchor='end' "
            f"fill='#555'>{tick:.4g}</text>"
        )
    for limit, name in ((lsl, "LSL"), (usl, "USL")):
        if limit is not None:
            parts.append(
                f"<line x1='{left}' x2='{left + plot_w}' y1='{sy(limit):.1f}' "
                f"y2='{sy(limit):.1f}' stroke='{FAIL}' stroke-dasharray='5,3'/>"
                f"<text x='{left + plot_w - 2}' y='{sy(limit) - 3:.1f}' "
                f"text-anchor='end' fill='{FAIL}'>{name} {limit:.4g}</text>"
            )
    points = " ".join(f"{sx(i):.1f},{sy(v):.1f}" for i, v in enumerate(y))
    parts.append(f"<polyline points='{points}' fill='none' stroke='{REFERENCE}' stroke-width='1'/>")
    dates = [d.date().isoformat() if pd.notna(d) else "" for d in frame["date"]]
    for i, (value, identifier, date) in enumerate(zip(y, frame["identifier"], dates, strict=True)):
        outside = (lsl is not None and value < lsl) or (usl is not None and value > usl)
        tip = html.escape(f"{identifier} {date}: {value:.4g}{' ' + unit if unit else ''}")
        parts.append(
            f"<circle cx='{sx(i):.1f}' cy='{sy(value):.1f}' r='{5 if outside else 2.6}' "
            f"fill='{'none' if outside else REFERENCE}' "
            f"stroke='{FAIL if outside else REFERENCE}' stroke-width='1.5'>"
            f"<title>{tip}</title></circle>"
        )
    first, last = frame["date"].iloc[0], frame["date"].iloc[-1]
    if pd.notna(first) and pd.notna(last):
        parts.append(
            f"<text x='{left}' y='{height - 6}' fill='#555'>{first.date()}</text>"
            f"<text x='{left + plot_w}' y='{height - 6}' text-anchor='end' "
            f"fill='#555'>{last.date()}</text>"
        )
    parts.append(
        f"<text x='{left + plot_w / 2}' y='{height - 6}' text-anchor='middle' "
        f"fill='#333'>{len(y)} batches in date order"
        f"{html.escape(' [' + unit + ']') if unit else ''}</text></svg>"
    )
    return "".join(parts)


def _number(value: object) -> float | None:
    """A finite number as float, else None (NaN and missing values alike)."""
    return float(value) if _finite(value) else None  # type: ignore[arg-type]


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _unique_ids(svg: str, prefix: str) -> str:
    """Prefix the element ids of an SVG (and their references) so several charts can share
    one HTML page without one's clip paths applying to another."""
    return re.sub(r"(id=\"|url\(#|href=\"#)([\w-]+)", rf"\g<1>{prefix}\g<2>", svg)
