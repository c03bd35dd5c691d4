"""The whole-array run rules (``cmckg.spc``) against a point-by-point reading of Nelson's rules
written here, on random series: rounded to a coarse grid so that points on the centre line,
exactly on a zone boundary and flat steps all occur."""

from __future__ import annotations

import numpy as np
import pytest

from cmckg import spc


def reference_signals(
    z: list[float], rules: tuple[int, ...], run: int
) -> list[tuple[int, int, tuple[int, ...]]]:
    """(point, rule, points) for every firing, by point then rule as listed: each rule read
    literally from its definition over the points that end at the point."""
    found = []
    for i in range(len(z)):
        for rule in rules:
            points = reference_rule(z, i, rule, run)
            if points is not None:
                found.append((i, rule, points))
    return found


def reference_rule(z: list[float], i: int, rule: int, run: int) -> tuple[int, ...] | None:
    length = {1: 1, 2: run, 3: 6, 4: 14, 5: 3, 6: 5, 7: 15, 8: 8}[rule]
    if i + 1 < length:
        return None
    last = list(range(i - length + 1, i + 1))
    values = [z[j] for j in last]
    if rule == 1:
        return (i,) if values[0] > 3 or values[0] < -3 else None
    if rule == 2:
        same = all(v > 0 for v in values) or all(v < 0 for v in values)
        return tuple(last) if same else None
    steps = [b - a for a, b in zip(values[:-1], values[1:], strict=True)]
    if rule == 3:
        steady = all(s > 0 for s in steps) or all(s < 0 for s in steps)
        return tuple(last) if steady else None
    if rule == 4:
        ok = all(s != 0 for s in steps) and all(
            (a > 0) != (b > 0) for a, b in zip(steps[:-1], steps[1:], strict=True)
        )
        return tuple(last) if ok else None
    if rule in (5, 6):
        need, limit = (2, 2.0) if rule == 5 else (4, 1.0)
        for side in (1, -1):
            beyond = [j for j in last if side * z[j] > limit]
            if len(beyond) >= need and side * z[i] > limit:
                return tuple(beyond)
        return None
    if rule == 7:
        return tuple(last) if all(-1 < v < 1 for v in values) else None
    return tuple(last) if all(v > 1 or v < -1 for v in values) else None


def random_series(rng: np.random.Generator) -> np.ndarray:
    """Segments of every kind the rules look for, in random order and length: noise on a
    0.5 grid (points on 0, ±1, ±2, ±3), a shifted level, a steady trend, alternation, points
    hugging the centre and points avoiding it."""
    parts = []
    for _ in range(int(rng.integers(0, 30))):
        n = int(rng.integers(1, 25))
        kind = rng.integers(0, 6)
        if kind == 0:
            part = np.round(rng.normal(0, 1.3, n) * 2) / 2
        elif kind == 1:
            part = np.round((rng.normal(0, 0.8, n) + rng.choice([-1.5, 1.5])) * 2) / 2
        elif kind == 2:
            part = rng.uniform(-3, 3) + rng.choice([-1, 1]) * np.cumsum(rng.uniform(0, 0.4, n))
        elif kind == 3:
            part = rng.choice([-1, 1]) * np.where(np.arange(n) % 2 == 0, 1.5, -1.5)
            part = part + np.round(rng.normal(0, 0.3, n), 1)
        elif kind == 4:
            part = np.round(rng.normal(0, 0.4, n) * 2) / 2
        else:
            part = rng.choice([-1, 1], n) * rng.choice([1.0, 1.5, 2.0, 2.5, 3.0, 3.5], n)
        parts.append(part)
    return np.concatenate(parts) if parts else np.zeros(0)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("rules", ["nelson", "weco", "3,4,7"])
def test_vectorised_rules_equal_the_point_by_point_reading(seed, rules):
    z = random_series(np.random.default_rng(seed))
    rule_set = spc.parse_rules(rules)
    got = [(s.index, s.rule, s.points) for s in spc.run_rules(z, 0.0, 1.0, rule_set)]
    assert got == reference_signals(z.tolist(), rule_set.rules, rule_set.run)


def test_the_random_series_make_every_rule_fire():
    fired = {
        s.rule
        for seed in range(20)
        for s in spc.run_rules(
            random_series(np.random.default_rng(seed)), 0.0, 1.0, spc.parse_rules("nelson")
        )
    }
    assert fired == set(range(1, 9))


def test_centre_and_sigma_scale_the_series():
    # The same pattern around centre 10 with sigma 2 fires the same rules at the same points.
    z = np.array([0.5] * 9 + [3.5, -2.5, -2.5])
    rule_set = spc.parse_rules("nelson")
    plain = spc.run_rules(z, 0.0, 1.0, rule_set)
    assert spc.run_rules(10 + 2 * z, 10.0, 2.0, rule_set) == plain
    assert [(s.index, s.rule) for s in plain] == [(8, 2), (9, 1), (9, 2), (11, 5)]
