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

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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


@dataclass(frozen=True)
class Hits:
    """Where one rule fires: ``at`` (ascending point indices) and the pattern each signal is
    made of: the last ``length`` points, or for rules 5 and 6 the points beyond the limit."""

    rule: int
    at: np.ndarray
    length: int
    beyond: dict[int, tuple[int, ...]] | None = None

    def points(self, i: int) -> tuple[int, ...]:
        if self.beyond is not None:
            return self.beyond[i]
        return tuple(range(i - self.length + 1, i + 1))


def run_rules(x: np.ndarray, center: float, sigma: float, rules: RuleSet) -> list[Signal]:
    """Every signal of the selected rules over ``x`` (in time order), by point then rule."""
    hits = rule_hits(x, center, sigma, rules)
    at, number = in_order(hits)
    return [Signal(hits[n].rule, i, hits[n].points(i)) for i, n in zip(at, number, strict=True)]


def in_order(hits: list[Hits]) -> tuple[list[int], list[int]]:
    """Every firing as (point, position of its rule in ``hits``), by point then rule."""
    if not hits:
        return [], []
    at = np.concatenate([found.at for found in hits])
    number = np.repeat(np.arange(len(hits)), [len(found.at) for found in hits])
    order = np.lexsort((number, at))
    return at[order].tolist(), number[order].tolist()


def rule_hits(x: np.ndarray, center: float, sigma: float, rules: RuleSet) -> list[Hits]:
    """Per selected rule (in ``rules`` order), where it fires: whole-array numpy over sliding
    windows, linear in the length of ``x``."""
    if not sigma > 0:
        raise ValueError("sigma must be positive (the baseline values do not vary)")
    z = (np.asarray(x, dtype=float) - center) / sigma
    found = []
    for rule in rules.rules:
        if rule in (5, 6):
            k, m, limit = (2, 3, 2.0) if rule == 5 else (4, 5, 1.0)
            at, beyond = _k_of_m_beyond(z, k, m, limit)
            found.append(Hits(rule, at, m, beyond))
        else:
            length, fires = _windowed(z, rule, rules.run)
            found.append(Hits(rule, np.flatnonzero(fires) + length - 1, length))
    return found


def _windows(flags: np.ndarray, length: int) -> np.ndarray:
    """Whether all of each ``length`` consecutive flags hold (one per window, in order)."""
    if len(flags) < length:
        return np.zeros(0, dtype=bool)
    return np.asarray(sliding_window_view(flags, length).all(axis=1))


def _windowed(z: np.ndarray, rule: int, run: int) -> tuple[int, np.ndarray]:
    """Window length of a run rule and, per window of that length, whether it fires."""
    if rule == 1:
        return 1, np.abs(z) > 3
    if rule == 2:
        return run, _windows(z > 0, run) | _windows(z < 0, run)
    if rule == 3:  # 6 points: their 5 steps all rising or all falling
        steps = np.diff(z)
        return 6, _windows(steps > 0, 5) | _windows(steps < 0, 5)
    if rule == 4:  # 14 points: 13 steps, none flat, each the opposite sign of the one before
        signs = np.sign(np.diff(z))
        if len(signs) < 13:
            return 14, np.zeros(0, dtype=bool)
        steps = sliding_window_view(signs, 13)
        alternate = (steps != 0).all(axis=1) & (steps[:, 1:] == -steps[:, :-1]).all(axis=1)
        return 14, alternate
    if rule == 7:
        return 15, _windows(np.abs(z) < 1, 15)
    return 8, _windows(np.abs(z) > 1, 8)


def _k_of_m_beyond(
    z: np.ndarray, k: int, m: int, limit: float
) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    """At least ``k`` of the last ``m`` points beyond ``limit`` σ on one side, the last point
    among them (so the signal lands on a point that is itself beyond): where, and which."""
    at: list[np.ndarray] = []
    points: dict[int, tuple[int, ...]] = {}
    if len(z) < m:
        return np.zeros(0, dtype=int), points
    for side in (1.0, -1.0):  # a point is beyond on one side at most
        beyond = side * z > limit
        counts = sliding_window_view(beyond, m).sum(axis=1)
        fires = np.flatnonzero((counts >= k) & beyond[m - 1 :]) + m - 1
        flags = beyond.tolist()
        for i in fires.tolist():
            points[i] = tuple(j for j in range(i - m + 1, i + 1) if flags[j])
        at.append(fires)
    return np.sort(np.concatenate(at)), points


def capability_index(mean: float, sigma: float, lsl: float, usl: float) -> float:
    """min(USL − mean, mean − LSL) / 3σ over the limits that exist (NaN for none, or σ ≤ 0):
    Ppk with the overall SD, Cpk with the within SD."""
    sides = [d for d in (usl - mean, mean - lsl) if not np.isnan(d)]
    if not sides or not sigma > 0:
        return float("nan")
    return min(sides) / (3 * sigma)


def ppk(x: np.ndarray, lsl: float, usl: float) -> float:
    """min(USL − x̄, x̄ − LSL) / 3s over the limits that exist (NaN for none), s with n − 1."""
    values = np.asarray(x, dtype=float)
    if len(values) < 2:
        return float("nan")
    return capability_index(float(values.mean()), float(values.std(ddof=1)), lsl, usl)
