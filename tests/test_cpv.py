"""CPV control charts: I-MR limits against the NIST/SEMATECH e-Handbook's worked example and
numpy by hand, each Nelson rule on a series whose firing points are worked out by hand (centre
0, sigma 1, so values are in sigma units), and whole charts on the mAb example (baseline on
process v1; the generator's truth.csv says v2 raises HMW by 0.7 %) and the Žagar batches
(ordered and charted independently from the raw CSV here).
"""

from __future__ import annotations

import csv
import json
import math

import matplotlib
import numpy as np
import pytest
from question_fixtures import MAB_TRUTH, ZAGAR_CSV, load_trig, mab_graph, zagar_graph

from cmckg import spc
from cmckg.cli import main
from cmckg.errors import QueryError
from cmckg.kg import KnowledgeGraph

# NIST/SEMATECH e-Handbook of Statistical Methods, 6.3.2.2 "Individuals Control Charts"
# (https://www.itl.nist.gov/div898/handbook/pmc/section3/pmc322.htm): flow rate of the first 10
# batches of a new process; the Handbook gives x̄ = 50.81, MR̄ = 1.8778, UCL = 55.80,
# LCL = 45.82 and the moving-range chart's UCL = 6.13.
NIST_FLOW = [49.6, 47.6, 49.9, 51.3, 47.8, 51.2, 52.6, 52.4, 53.6, 52.1]


def test_imr_limits_reproduce_the_nist_handbook_example():
    limits = spc.imr_limits(np.array(NIST_FLOW))
    assert limits.n == 10
    assert round(limits.center, 2) == 50.81
    assert round(limits.mr_center, 4) == 1.8778
    assert round(limits.ucl, 2) == 55.80 and round(limits.lcl, 2) == 45.82
    assert round(limits.mr_ucl, 2) == 6.13


def test_imr_limits_equal_numpy_by_hand():
    x = np.array([3.1, 2.7, 3.4, 3.0, 2.2, 2.9, 3.8, 3.3])
    mr = [abs(x[i] - x[i - 1]) for i in range(1, len(x))]
    mr_bar = sum(mr) / len(mr)
    limits = spc.imr_limits(x)
    assert limits.center == pytest.approx(x.sum() / 8, rel=1e-12)
    assert limits.sigma == pytest.approx(mr_bar / 1.128, rel=1e-12)
    assert limits.ucl == pytest.approx(x.mean() + 3 * mr_bar / 1.128, rel=1e-12)
    assert limits.lcl == pytest.approx(x.mean() - 3 * mr_bar / 1.128, rel=1e-12)
    assert limits.mr_ucl == pytest.approx(3.267 * mr_bar, rel=1e-12)
    with pytest.raises(ValueError):
        spc.imr_limits(np.array([1.0]))


def fired(x: list[float], rule: int, run: int = 9) -> list[tuple[int, tuple[int, ...]]]:
    """(index, points) of one rule's signals over x in sigma units around 0."""
    signals = spc.run_rules(np.array(x, dtype=float), 0.0, 1.0, spc.RuleSet((rule,), run))
    assert {s.rule for s in signals} <= {rule}
    return [(s.index, s.points) for s in signals]


def test_rule_1_one_point_beyond_three_sigma():
    # 3.5 and -3.01 are beyond; exactly 3.0 is on the limit, not beyond.
    assert fired([0, 0.5, 3.5, -0.2, -3.01, 3.0], 1) == [(2, (2,)), (4, (4,))]


def test_rule_2_nine_in_a_row_on_one_side_and_eight_for_western_electric():
    # Points 1..10 are above the centre (ten in a row); 0 on the centre line breaks the run.
    x = [-1] + [0.5] * 10 + [0, 0.5]
    assert fired(x, 2) == [(9, tuple(range(1, 10))), (10, tuple(range(2, 11)))]
    assert [i for i, _ in fired(x, 2, run=8)] == [8, 9, 10]
    below = [-0.1] * 9
    assert fired(below, 2) == [(8, tuple(range(9)))]


def test_rule_3_six_points_steadily_increasing_or_decreasing():
    up = [0, 0.1, 0.2, 0.3, 0.4, 0.5]  # 6 points, 5 rises: fires at 5
    down = [2, 1.5, 1, 0.5, 0, -0.5, -1]  # 7 points falling: fires at 5 and 6
    tie = [0, 0.1, 0.2, 0.2, 0.3, 0.4, 0.5]  # a tie breaks the trend
    assert fired(up, 3) == [(5, (0, 1, 2, 3, 4, 5))]
    assert [i for i, _ in fired(down, 3)] == [5, 6]
    assert fired(tie, 3) == []
    assert fired(up[:5], 3) == []


def test_rule_4_fourteen_points_alternating_up_and_down():
    x = [0.1, -0.1] * 7  # 14 points, 13 alternating steps
    assert fired(x, 4) == [(13, tuple(range(14)))]
    assert [i for i, _ in fired([*x, 0.1], 4)] == [13, 14]
    broken = x[:7] + [x[6]] + x[8:]  # a repeated value (no step) breaks it
    assert fired(broken, 4) == []


def test_rule_5_two_of_three_beyond_two_sigma_on_one_side():
    x = [0, 2.5, 0, 2.1, 0, 0, -2.5, -2.5, 2.5, 2.0, 2.0]
    # (1, 3) above: fires at 3. (6, 7) below: fires at 7. At 8 the window 6..8 has two below
    # but the flagged point is above; 2.0 is not beyond 2 sigma, so 9 and 10 do not fire.
    assert fired(x, 5) == [(3, (1, 3)), (7, (6, 7))]
    assert fired([2.5, -2.5, 2.5], 5) == [(2, (0, 2))]


def test_rule_6_four_of_five_beyond_one_sigma_on_one_side():
    x = [1.5, 1.5, 0, 1.5, 1.5, -1.2, 1.1]
    # Window 0..4 has 0, 1, 3, 4 above 1 sigma: fires at 4. Window 2..6: 3, 4, 6 (three).
    assert fired(x, 6) == [(4, (0, 1, 3, 4))]
    assert fired([-1.1, -1.1, -1.1, -1.1], 6) == []  # fewer than five points
    assert fired([0, -1.1, -1.1, -1.1, -1.1], 6) == [(4, (1, 2, 3, 4))]


def test_rule_7_fifteen_points_within_one_sigma():
    x = [0.5, -0.5] * 8  # 16 points within: fires at 14 and 15
    assert [i for i, _ in fired(x, 7)] == [14, 15]
    assert fired(x[:14] + [1.0] + x[:1], 7) == []  # exactly 1 sigma is not within


def test_rule_8_eight_points_beyond_one_sigma_either_side():
    x = [1.5, -1.5, 1.5, -1.5, 2, -2, 1.2, -1.2, 0.3, 1.5]
    assert fired(x, 8) == [(7, tuple(range(8)))]
    assert fired(x[:7], 8) == []


def test_nelson_set_on_one_series_lists_every_rule_that_fires():
    # 9 points at +1.5 sigma: rule 2 at 8; rule 5 from index 2 (two of three beyond 2? no:
    # 1.5 < 2, so never); rule 6 from index 4; rule 8 from index 7; then 4.0: rule 1 too.
    x = [1.5] * 9 + [4.0]
    signals = spc.run_rules(np.array(x), 0.0, 1.0, spc.parse_rules("nelson"))
    by_rule: dict[int, list[int]] = {}
    for s in signals:
        by_rule.setdefault(s.rule, []).append(s.index)
    assert by_rule == {6: [4, 5, 6, 7, 8, 9], 8: [7, 8, 9], 2: [8, 9], 1: [9]}


def test_rule_selection():
    assert spc.parse_rules("nelson") == spc.RuleSet((1, 2, 3, 4, 5, 6, 7, 8), 9)
    assert spc.parse_rules("WECO") == spc.RuleSet((1, 2, 5, 6), 8)
    assert spc.parse_rules("5, 1,2") == spc.RuleSet((1, 2, 5), 9)
    for bad in ("9", "one", "", "1,,x"):
        with pytest.raises(ValueError):
            spc.parse_rules(bad)
    with pytest.raises(ValueError):
        spc.run_rules(np.array([1.0, 2.0]), 0.0, 0.0, spc.RuleSet((1,)))


# -- the mAb example -------------------------------------------------------------------------


def truth_rows() -> list[dict[str, str]]:
    with MAB_TRUTH.open(newline="") as handle:
        return list(csv.DictReader(handle))


def ds_start_dates() -> dict[str, str]:
    """Drug-substance lot -> start day of the run that produced it (the batch records)."""
    dates = {}
    for site in ("site-a", "site-b"):
        with (MAB_TRUTH.parent / site / "batch_records.csv").open(newline="") as handle:
            for row in csv.DictReader(handle):
                if "-DS-" in row["output"]:
                    dates[row["output"]] = row["start"][:10]
    return dates


def test_mab_hmw_chart_with_a_v1_baseline_flags_the_v2_shift():
    dates = ds_start_dates()
    rows = sorted(truth_rows(), key=lambda r: (dates[r["batch"]], r["batch"]))
    x = np.array([float(r["hmw"]) for r in rows])
    assert [r["process_version"] for r in rows[:14]] == ["v1"] * 14
    v1 = x[:14]
    center = v1.mean()
    sigma = np.abs(np.diff(v1)).mean() / 1.128
    chart = mab_graph().control_chart(
        "HMW", "mAb-X", kind="drug_substance", stage="release", baseline="A-DS-1001:A-DS-1014"
    )
    limits = chart.limits.iloc[0]
    assert limits["n_baseline"] == 14 and limits["n"] == 42
    assert limits["center"] == pytest.approx(center, rel=1e-9)
    assert limits["sigma"] == pytest.approx(sigma, rel=1e-9)
    assert limits["ucl"] == pytest.approx(center + 3 * sigma, rel=1e-9)
    assert limits["mr_ucl"] == pytest.approx(3.267 * sigma * 1.128, rel=1e-9)
    assert (limits["lsl"], limits["usl"]) == (0.0, 3.0)  # specifications.csv SPEC-mAb-X-01
    assert list(chart.points["batch"]) == [r["batch"] for r in rows]
    signals = chart.signals
    rule_1 = set(signals[signals["rule"] == 1]["batch"])
    assert rule_1 == {
        r["batch"] for r, v in zip(rows, x, strict=True) if abs(v - center) > 3 * sigma
    }
    v2 = {r["batch"] for r in rows if r["process_version"] == "v2"}
    assert "A-DS-1020" in rule_1  # the planted OOS lot
    assert set(signals["batch"]) <= v2 and len(rule_1) >= 20  # the shift, and only it
    # Each signal names the lots that make it up, ending at the flagged one.
    for _, s in signals.iterrows():
        assert s["lots"].split(";")[-1] == s["batch"]
    cap = chart.capability.set_index(["by", "window"])
    expected_ppk = min(3.0 - center, center - 0.0) / (3 * v1.std(ddof=1))
    assert cap.loc[("window", "baseline"), "ppk"] == pytest.approx(expected_ppk, rel=1e-9)
    v2x = x[14:]
    assert cap.loc[("process_version", "v2"), "ppk"] == pytest.approx(
        (3.0 - v2x.mean()) / (3 * v2x.std(ddof=1)), rel=1e-9
    )
    assert cap.loc[("process_version", "v2"), "n"] == 28


def test_mab_capability_of_every_window_site_and_version_from_the_truth_file():
    # Ppk with the overall SD, Cpk with the within SD (mean moving range / 1.128) of each
    # window's batches in time order, against SPEC-mAb-X-01 (0 to 3 %).
    dates = ds_start_dates()
    rows = sorted(truth_rows(), key=lambda r: (dates[r["batch"]], r["batch"]))
    chart = mab_graph().control_chart(
        "HMW", "mAb-X", kind="drug_substance", stage="release", baseline_n=14
    )
    windows = {
        ("window", "baseline"): rows[:14],
        ("window", "after baseline"): rows[14:],
        ("window", "all"): rows,
    }
    for column in ("site", "process_version"):
        for key in {r[column] for r in rows}:
            windows[(column, key)] = [r for r in rows if r[column] == key]
    cap = chart.capability.set_index(["by", "window"])
    assert set(cap.index) == set(windows)
    for key, members in windows.items():
        x = np.array([float(r["hmw"]) for r in members])
        within = np.abs(np.diff(x)).mean() / 1.128
        nearest = min(3.0 - x.mean(), x.mean() - 0.0)
        found = cap.loc[key]
        assert found["n"] == len(x)
        assert (found["first"], found["last"]) == (members[0]["batch"], members[-1]["batch"])
        assert found["ppk"] == pytest.approx(nearest / (3 * x.std(ddof=1)), rel=1e-9)
        assert found["cpk"] == pytest.approx(nearest / (3 * within), rel=1e-9)
        assert (found["lsl"], found["usl"]) == (0.0, 3.0)


def test_mab_chart_asks_for_the_kind_when_ds_and_dp_both_have_the_attribute():
    with pytest.raises(QueryError, match="several series"):
        mab_graph().control_chart("HMW", "mAb-X")
    with pytest.raises(QueryError, match="unknown product"):
        mab_graph().control_chart("HMW", "mAb-Z", kind="drug_substance")


def test_plot_writes_png_and_svg_without_touching_the_backend(tmp_path):
    before = matplotlib.get_backend()
    chart = mab_graph().control_chart(
        "HMW", "mAb-X", kind="drug_substance", baseline_n=14, rules="weco", by="site"
    )
    png = chart.plot(tmp_path / "hmw.png")
    svg = chart.plot(tmp_path / "hmw.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "USL 3" in text and "UCL" in text  # spec and control limits
    assert matplotlib.get_backend() == before
    with pytest.raises(QueryError, match="png or .svg"):
        chart.plot(tmp_path / "hmw.pdf")


# -- the Žagar batches -----------------------------------------------------------------------

MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "maj": 5,
    "jun": 6,
    "jul": 7,
    "avg": 8,
    "sep": 9,
    "okt": 10,
    "nov": 11,
    "dec": 12,
}


def test_zagar_dissolution_chart_matches_the_raw_csv():
    with ZAGAR_CSV.open(newline="", encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle, delimiter=";")
            if r["code"] == "17" and r["dissolution_min"].strip()
        ]

    # Month-precision dates: same month ordered by batch number.
    def key(r):
        month, year = r["start"].split(".")
        return (2000 + int(year), MONTHS[month], int(r["batch"]))

    rows.sort(key=key)
    x = np.array([float(r["dissolution_min"]) for r in rows])
    base = x[:30]
    center, sigma = base.mean(), np.abs(np.diff(base)).mean() / 1.128
    chart = zagar_graph().control_chart("dissolution_min", "17", rules="1")
    assert list(chart.points["batch"]) == [r["batch"] for r in rows]
    limits = chart.limits.iloc[0]
    assert limits["n_baseline"] == 30 and limits["baseline_last"] == rows[29]["batch"]
    assert limits["center"] == pytest.approx(center, rel=1e-12)
    assert limits["sigma"] == pytest.approx(sigma, rel=1e-12)
    expected = [r["batch"] for r, v in zip(rows, x, strict=True) if abs(v - center) > 3 * sigma]
    assert list(chart.signals["batch"]) == expected and expected
    assert chart.capability["ppk"].isna().all()  # no specification given


# -- dates: ties, missing dates, units -------------------------------------------------------

TIES = """
@prefix cmc: <https://w3id.org/cmckg/ontology#> .
@prefix cmct: <https://w3id.org/cmckg/terms#> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix id: <https://w3id.org/cmckg/id/> .
"""


def lot(name: str, date: str | None, value: float, unit: str = "PERCENT") -> str:
    dated = f'; cmc:manufactureDate "{date}"^^xsd:date' if date else ""
    return f"""
id:graph\\/t\\/{name} {{
  id:lot\\/t\\/{name} a cmc:DrugSubstanceBatch ; cmc:identifier "{name}" ;
      cmc:ofProduct id:product\\/t\\/P {dated} .
  id:product\\/t\\/P a cmc:Product ; cmc:identifier "P" .
  id:measurement\\/t\\/{name} a cmc:Measurement ; cmc:onEntity id:lot\\/t\\/{name} ;
      cmc:measuredProperty cmct:HighMolecularWeightSpecies ;
      qudt:numericValue "{value}"^^xsd:double ; qudt:unit unit:{unit} ; cmc:stage cmct:Release .
}}"""


def test_same_date_batches_are_in_natural_identifier_order_and_undated_ones_left_out(tmp_path):
    trig = TIES + "".join(
        [
            lot("L-10", "2024-02-01", 1.4),
            lot("L-9", "2024-02-01", 1.0),
            lot("L-1", "2024-01-15", 1.2),
            lot("L-11", "2024-03-01", 0.011, "FRACTION"),
            lot("L-X", None, 9.9),
        ]
    )
    path = tmp_path / "ties.trig"
    path.write_text(trig)
    kg = KnowledgeGraph.open("memory:")
    load_trig(kg, path)
    chart = kg.control_chart("HMW", "P", baseline_n=3)
    assert list(chart.points["batch"]) == ["L-1", "L-9", "L-10", "L-11"]
    assert list(chart.points["value"]) == pytest.approx([1.2, 1.0, 1.4, 1.1])  # 0.011 = 1.1 %
    assert chart.unit == "%"
    assert any("L-X" in note for note in chart.notes)
    # Baseline L-1..L-10: mean 1.2, MR̄ = (0.2 + 0.4) / 2 = 0.3.
    limits = chart.limits.iloc[0]
    assert limits["center"] == pytest.approx(1.2) and limits["mr_center"] == pytest.approx(0.3)
    by_date = kg.control_chart("HMW", "P", baseline="2024-01-01:2024-02-01")
    assert by_date.limits.iloc[0]["baseline_last"] == "L-10"
    for bad in ("L-1", "L-1:nope", "L-10:L-1"):
        with pytest.raises(QueryError):
            kg.control_chart("HMW", "P", baseline=bad)


# -- the command line ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mab_store(tmp_path_factory):
    from cmckg.examples import example_groups

    location = f"oxigraph:{tmp_path_factory.mktemp('cpv') / 'store'}"
    with KnowledgeGraph.open(location) as kg:
        for group in example_groups():
            if group.name.startswith("mAb"):
                kg.ingest(group.files, mapping=group.mapping)
    return location


def test_cli_json_csv_and_plot(mab_store, tmp_path, capsys):
    args = [
        "cpv",
        "HMW",
        "--product",
        "mAb-X",
        "--kind",
        "drug_substance",
        "--store",
        mab_store,
        "--baseline",
        "A-DS-1001:A-DS-1014",
        "--rules",
        "1,2,5",
    ]
    assert main([*args, "--format", "json", "--plot", str(tmp_path / "c.svg")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rules"] == [1, 2, 5] and data["unit"] == "%"
    assert {s["rule"] for s in data["signals"]} <= {1, 2, 5}
    assert all(p["baseline"] == (p["order"] <= 14) for p in data["points"])
    assert not any(math.isnan(v) for v in (data["limits"][0]["ucl"], data["limits"][0]["lcl"]))
    assert (tmp_path / "c.svg").stat().st_size > 0
    assert main([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("group,order,batch,date") and len(lines) == 1 + 42


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--rules", "9"], "rules '9'"),
        (["--baseline", "A-DS-1001"], "FIRST:LAST"),
        (["--baseline", "A-DS-1001:NOPE"], "'NOPE' is neither"),
        (["--by", "site", "--baseline", "A-DS-1001:A-DS-1014"], "of Site-B"),
    ],
)
def test_cli_mistakes_are_one_line_and_exit_2(mab_store, capsys, extra, message):
    code = main(
        [
            "cpv",
            "HMW",
            "--product",
            "mAb-X",
            "--kind",
            "drug_substance",
            "--store",
            mab_store,
            *extra,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
