"""Statistical process control: individuals and moving-range (I-MR) limits and run rules.

Pure numbers (numpy arrays in, dataclasses out); where the values come from is
``cmckg.cpv``'s business. Limits follow the NIST/SEMATECH e-Handbook of Statistical Methods,
6.3.2.2 (individuals control charts): moving ranges of two consecutive values, centre x̄,
σ̂ = MR̄/d2 with d2 = 1.128, limits x̄ ± 3σ̂; the moving-range chart has centre MR̄ and upper
limit D4·MR̄ with D4 = 3.267 (lower limit 0).

Run rules are Nelson's eight (L. S. Nelson, "The Shewhart control chart — tests for special
causes", J. Quality Technology 16 (1984) 237–239), numbered as Nelson numbered them; the
Western Electric rules (as listed in the e-Handbook 6.3.2) are Nelson's 1, 5, 6 and rule 2
with a run of 8 instead of 9. Zones are measured from the centre in units of σ̂ and are strict
(a point exactly 3σ̂ from the centre is not beyond the limit; a point on the centre line is on
neither side and breaks a run). A rule's signal is reported at the point that completes the
pattern, with the points that make it up; a longer pattern signals again at each further point.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

D2 = 1.128  # E[range of 2 standard normal values]
D4 = 3.267  # upper moving-range limit factor for ranges of two

RULES = {
    1: "one point beyond 3 sigma",
    2: "{run} points in a row on one side of the centre",
    3: "6 points in a row steadily increasing or decreasing",
    4: "14 points in a row alternating up and down",
    5: "2 of 3 points in a row beyond 2 sigma on one side",
    6: "4 of 5 points in a row beyond 1 sigma on one side",
    7: "15 points in a row within 1 sigma of the centre",
    8: "8 points in a row beyond 1 sigma, on either side",
}
RULE_SETS = {"nelson": (1, 2, 3, 4, 5, 6, 7, 8), "weco": (1, 2, 5, 6)}


@dataclass(frozen=True)
class Limits:
    """I-MR limits from a baseline of ``n`` values."""

    n: int
    center: float
    sigma: float  # MR̄ / d2
    lcl: float
    ucl: float
    mr_center: float  # MR̄
    mr_ucl: float  # D4 · MR̄


@dataclass(frozen=True)
class RuleSet:
    """Which rules to apply; ``run`` is rule 2's run length (9 Nelson, 8 Western Electric)."""

    rules: tuple[int, ...]
    run: int = 9

    def describe(self, rule: int) -> str:
        return RULES[rule].format(run=self.run)


@dataclass(frozen=True)
class Signal:
    """Rule ``rule`` fired at point ``index``; ``points`` are the indices that make it up."""

    rule: int
    index: int
    points: tuple[int, ...]


def moving_ranges(x: np.ndarray) -> np.ndarray:
    """|x[i] − x[i−1]| for i ≥ 1 (one fewer than the values)."""
    return np.abs(np.diff(np.asarray(x, dtype=float)))


def imr_limits(baseline: np.ndarray) -> Limits:
    """I-MR limits from baseline values in time order (at least two, not all equal)."""
    x = np.asarray(baseline, dtype=float)
    if len(x) < 2:
        raise ValueError("a baseline needs at least two values")
    mr_bar = float(moving_ranges(x).mean())
    sigma = mr_bar / D2
    center = float(x.mean())
    return Limits(
        len(x), center, sigma, center - 3 * sigma, center + 3 * sigma, mr_bar, D4 * mr_bar
    )


def parse_rules(text: str) -> RuleSet:
    """``nelson`` (all eight), ``weco`` (Western Electric: 1, 2 with a run of 8, 5, 6) or rule
    numbers such as ``1,2,5`` (Nelson's numbering)."""
    name = text.strip().lower()
    if name in RULE_SETS:
        return RuleSet(RULE_SETS[name], 8 if name == "weco" else 9)
    try:
        numbers = tuple(sorted({int(part) for part in name.split(",") if part.strip()}))
    except ValueError:
        numbers = ()
    if not numbers or any(n not in RULES for n in numbers):
        raise ValueError(f"rules {text!r}: give nelson, weco or rule numbers 1-8 such as 1,2,5")
    return RuleSet(numbers)


def run_rules(x: np.ndarray, center: float, sigma: float, rules: RuleSet) -> list[Signal]:
    """Every signal of the selected rules over ``x`` (in time order), by point then rule."""
    if not sigma > 0:
        raise ValueError("sigma must be positive (the baseline values do not vary)")
    z = (np.asarray(x, dtype=float) - center) / sigma
    checks: dict[int, Callable[[np.ndarray, int], tuple[int, ...] | None]] = {
        1: _beyond_three,
        2: lambda z, i: _same_side(z, i, rules.run),
        3: _trend,
        4: _alternating,
        5: lambda z, i: _k_of_m_beyond(z, i, 2, 3, 2.0),
        6: lambda z, i: _k_of_m_beyond(z, i, 4, 5, 1.0),
        7: _hugging,
        8: _avoiding_centre,
    }
    signals = []
    for i in range(len(z)):
        for rule in rules.rules:
            points = checks[rule](z, i)
            if points is not None:
                signals.append(Signal(rule, i, points))
    return signals


def _window(i: int, length: int) -> tuple[int, ...] | None:
    return tuple(range(i - length + 1, i + 1)) if i + 1 >= length else None


def _beyond_three(z: np.ndarray, i: int) -> tuple[int, ...] | None:
    return (i,) if abs(z[i]) > 3 else None


def _same_side(z: np.ndarray, i: int, run: int) -> tuple[int, ...] | None:
    window = _window(i, run)
    if window is None:
        return None
    part = z[list(window)]
    return window if (part > 0).all() or (part < 0).all() else None


def _trend(z: np.ndarray, i: int) -> tuple[int, ...] | None:
    window = _window(i, 6)
    if window is None:
        return None
    steps = np.diff(z[list(window)])
    return window if (steps > 0).all() or (steps < 0).all() else None


def _alternating(z: np.ndarray, i: int) -> tuple[int, ...] | None:
    window = _window(i, 14)
    if window is None:
        return None
    signs = np.sign(np.diff(z[list(window)]))
    alternate = (signs != 0).all() and (signs[1:] == -signs[:-1]).all()
    return window if alternate else None


def _k_of_m_beyond(z: np.ndarray, i: int, k: int, m: int, limit: float) -> tuple[int, ...] | None:
    """At least ``k`` of the last ``m`` points beyond ``limit`` σ on one side, the last point
    among them (so the signal lands on a point that is itself beyond)."""
    window = _window(i, m)
    if window is None:
        return None
    for side in (1.0, -1.0):
        beyond = tuple(j for j in window if side * z[j] > limit)
        if len(beyond) >= k and beyond[-1] == i:
            return beyond
    return None


def _hugging(z: np.ndarray, i: int) -> tuple[int, ...] | None:
    window = _window(i, 15)
    if window is None:
        return None
    return window if (np.abs(z[list(window)]) < 1).all() else None


def _avoiding_centre(z: np.ndarray, i: int) -> tuple[int, ...] | None:
    window = _window(i, 8)
    if window is None:
        return None
    return window if (np.abs(z[list(window)]) > 1).all() else None


def ppk(x: np.ndarray, lsl: float, usl: float) -> float:
    """min(USL − x̄, x̄ − LSL) / 3s over the limits that exist (NaN for none), s with n − 1."""
    values = np.asarray(x, dtype=float)
    if len(values) < 2:
        return float("nan")
    mean, s = float(values.mean()), float(values.std(ddof=1))
    sides = [d for d in (usl - mean, mean - lsl) if not np.isnan(d)]
    if not sides or not s > 0:
        return float("nan")
    return min(sides) / (3 * s)
