"""Comparability: statistics against independent references (NIST, statsmodels, numpy), and the
whole path (term resolution, filters, unit conversion, store joins) on every store backend.

The batches are made in code with cmckg.build (MODEL.md shape): Site-A process v1 (reference),
Site-A v2 with HMW shifted by about +0.7 % and monomer unchanged, and Site-B, which calls HMW
"aggregates" and reports protein concentration in µg/mL instead of mg/mL.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import STORE_KINDS, store_location
from question_fixtures import MAB_TRUTH, mab_graph
from scipy import stats as scipy_stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttost_ind

from cmckg import build
from cmckg.cli import main
from cmckg.comparability import compare_samples, howe_k2, parse_filter, welch_tost
from cmckg.errors import QueryError
from cmckg.kg import KnowledgeGraph

HMW_V1 = [1.21, 1.35, 1.10, 1.28, 1.19, 1.12, 1.10, 1.13, 1.20, 1.55, 1.09, 1.34]
HMW_V2 = [1.87, 1.97, 2.00, 1.83, 2.02, 1.99, 1.95, 2.03, 1.88, 1.90]
HMW_B = [1.79, 1.70, 1.85, 1.92, 1.76, 1.81, 1.88, 1.74]
MONO_V1 = [98.25, 98.02, 98.24, 98.10, 98.15, 98.26, 98.32, 98.34, 98.22, 97.84, 98.27, 98.02]
MONO_V2 = [98.20, 98.12, 98.26, 98.21, 98.18, 98.05, 98.30, 98.16, 98.22, 98.11]
CONC_V1 = [50.8, 46.3, 50.9, 50.7, 50.1, 46.7, 49.2, 51.7, 50.7, 53.1, 51.1, 49.4]  # mg/mL
CONC_B = [49800, 50200, 48900, 51000, 50500, 49700, 50100, 50900]  # µg/mL


def records() -> list[build.Record]:
    made = []
    groups = [
        ("Site-A", "v1", "A1", {"HMW": HMW_V1, "monomer": MONO_V1}, "mg/mL"),
        ("Site-A", "v2", "A2", {"HMW": HMW_V2, "monomer": MONO_V2}, "mg/mL"),
        ("Site-B", "v2", "B", {"aggregates": HMW_B}, "µg/mL"),
    ]
    for site, version, prefix, attributes, conc_unit in groups:
        count = len(next(iter(attributes.values())))
        for i in range(count):
            rec = build.Record(f"{prefix}-{i}", issuer=site.lower())
            batch = rec.lot(
                f"DS-{prefix}-{i}",
                kind="drug_substance",
                product="mAb-X",
                site=site,
                manufactured=f"2025-{1 + i % 12:02d}-15",
            )
            harvest = rec.lot(f"HV-{prefix}-{i}", kind="intermediate", site=site)
            rec.run(
                f"POL-{prefix}-{i}",
                inputs=[harvest],
                outputs=[batch],
                site=site,
                process_version=version,
                unit_operation="anion exchange chromatography",
            )
            for name, values in attributes.items():
                rec.measurement(batch, name, values[i], "%", stage="release")
            conc = CONC_V1 if prefix == "A1" else CONC_B if prefix == "B" else None
            if conc is not None:
                rec.measurement(batch, "protein concentration", conc[i], conc_unit, stage="release")
            rec.measurement(batch, "batch size", 2000 if prefix != "B" else 500, "L")
            made.append(rec)
    return made


@pytest.fixture(scope="module", params=STORE_KINDS)
def kg(request, tmp_path_factory):
    graph = KnowledgeGraph.open(store_location(request.param, tmp_path_factory.mktemp("s")))
    graph.ingest_records(records())
    yield graph
    graph.close()


V1 = "site=Site-A,process_version=v1"
V2 = "site=Site-A,process_version=v2"


# -- statistics against independent references -------------------------------------------


def test_howe_k2_matches_nist():
    # NIST/SEMATECH e-Handbook 7.2.6.3: n = 43, 90 % coverage, 99 % confidence -> k2 = 2.2173
    assert howe_k2(43, 0.90, 0.99) == pytest.approx(2.2173, abs=5e-5)


def welch_tost_by_hand(
    test: np.ndarray, reference: np.ndarray, delta: float, alpha: float = 0.05
) -> dict[str, float]:
    """Two one-sided Welch t-tests written out from the textbook formulas (Welch–Satterthwaite
    degrees of freedom): the independent reference for cmckg's statsmodels-based TOST."""
    n_t, n_r = len(test), len(reference)
    var_t, var_r = test.var(ddof=1), reference.var(ddof=1)
    diff = float(test.mean() - reference.mean())
    se2 = var_t / n_t + var_r / n_r
    se = math.sqrt(se2)
    df = se2**2 / ((var_t / n_t) ** 2 / (n_t - 1) + (var_r / n_r) ** 2 / (n_r - 1))
    half = scipy_stats.t.ppf(1 - alpha, df) * se
    p_lower = scipy_stats.t.sf((diff + delta) / se, df)
    p_upper = scipy_stats.t.cdf((diff - delta) / se, df)
    return {
        "difference": diff,
        "ci_low": diff - half,
        "ci_high": diff + half,
        "df": df,
        "p_tost": float(max(p_lower, p_upper)),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_welch_tost_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    reference, test = rng.normal(10, 1, 15), rng.normal(10.3, 1.6, 9)
    delta = 1.5 * reference.std(ddof=1)
    hand = welch_tost_by_hand(test, reference, delta)
    p_value, lower, upper = ttost_ind(test, reference, -delta, delta, usevar="unequal")
    assert hand["p_tost"] == pytest.approx(p_value, rel=1e-9)
    assert hand["df"] == pytest.approx(lower[2], rel=1e-9)
    ci = CompareMeans(DescrStatsW(test), DescrStatsW(reference)).tconfint_diff(
        alpha=0.10, usevar="unequal"
    )
    assert (hand["ci_low"], hand["ci_high"]) == pytest.approx(ci, rel=1e-9)
    ours = welch_tost(test, reference, delta)
    assert (ours.difference, ours.ci_low, ours.ci_high, ours.p_tost) == pytest.approx(
        (hand["difference"], hand["ci_low"], hand["ci_high"], hand["p_tost"]), rel=1e-9
    )


def test_quality_range_and_tolerance_interval_by_hand():
    reference, test = np.array(HMW_V1), np.array(HMW_V2)
    mean, sd = reference.mean(), reference.std(ddof=1)
    row = compare_samples(reference, test, method="quality-range", k=3)
    assert (row.lower, row.upper) == pytest.approx((mean - 3 * sd, mean + 3 * sd))
    inside = sum(mean - 3 * sd <= v <= mean + 3 * sd for v in HMW_V2) / len(HMW_V2)
    assert row.inside == pytest.approx(inside)
    assert row.verdict == ("comparable" if inside >= 0.9 else "not comparable")
    interval = compare_samples(reference, test, method="tolerance-interval")
    k2 = howe_k2(len(reference))
    assert (interval.lower, interval.upper) == pytest.approx((mean - k2 * sd, mean + k2 * sd))
    assert compare_samples(np.array([1.0]), test).verdict == "insufficient data"


def test_filter_parsing():
    assert parse_filter("site=Site-A, process_version=v1") == {
        "site": "Site-A",
        "process_version": "v1",
    }
    assert parse_filter({"product": "mAb-X"}) == {"product": "mAb-X"}
    with pytest.raises(QueryError, match="unknown filter key 'sight'"):
        parse_filter("sight=Site-A")
    with pytest.raises(QueryError, match="KEY=VALUE"):
        parse_filter("Site-A")


# -- through the graph, on every backend ----------------------------------------------------


def test_process_change_is_not_equivalent_and_unchanged_attribute_is(kg):
    result = kg.compare(["HMW", "monomer"], V1, V2, method="tost")
    rows = result.table.set_index("attribute")
    hmw, mono = rows.loc["high molecular weight species"], rows.loc["monomer"]
    assert hmw["verdict"] == "not equivalent" and mono["verdict"] == "equivalent"
    for row, reference, test in ((hmw, HMW_V1, HMW_V2), (mono, MONO_V1, MONO_V2)):
        ref, tst = np.array(reference), np.array(test)
        delta = 1.5 * ref.std(ddof=1)
        assert (row["n_ref"], row["n_test"]) == (len(ref), len(tst))
        assert row["mean_ref"] == pytest.approx(ref.mean())
        assert row["sd_test"] == pytest.approx(tst.std(ddof=1))
        assert row["margin"] == pytest.approx(delta)
        assert row["p_tost"] == pytest.approx(
            ttost_ind(tst, ref, -delta, delta, usevar="unequal")[0], rel=1e-9
        )
    values = result.values
    assert sorted(
        values[(values["group"] == "test") & (values["attribute"] == "monomer")]["value"]
    ) == sorted(MONO_V2)


def test_site_alias_compares_both_sites_as_one_attribute(kg):
    # Site-B calls HMW "aggregates"; asking with either name selects both sites' results.
    for name in ("aggregates", "HMW"):
        row = kg.compare(name, "site=Site-A", "site=Site-B").table.iloc[0]
        assert row["n_ref"] == len(HMW_V1) + len(HMW_V2)
        assert row["n_test"] == len(HMW_B)
        assert row["mean_test"] == pytest.approx(np.mean(HMW_B))


def test_values_are_converted_to_one_unit(kg):
    row = kg.compare("protein concentration", V1, "site=Site-B").table.iloc[0]
    assert row["unit"] == "mg/mL"
    assert row["mean_test"] == pytest.approx(np.mean(CONC_B) / 1000)
    assert row["mean_ref"] == pytest.approx(np.mean(CONC_V1))
    assert row["verdict"] == "comparable"


def test_filters_by_date_scale_and_kind(kg):
    january_to_june = kg.compare(
        "HMW", "site=Site-A,process_version=v1,date=2025-01..2025-06", V2
    ).table.iloc[0]
    assert january_to_june["n_ref"] == 6
    assert january_to_june["mean_ref"] == pytest.approx(np.mean(HMW_V1[:6]))
    by_scale = kg.compare("HMW", "scale=2000", "scale=100..1000").table.iloc[0]
    assert (by_scale["n_ref"], by_scale["n_test"]) == (22, 8)
    with pytest.raises(QueryError, match="nothing to compare"):
        kg.compare("HMW", "kind=drug_product", V2)


def test_all_cqas_takes_the_flagged_attributes_both_groups_have(kg):
    result = kg.compare([], V1, V2, all_cqas=True)
    assert set(result.table["attribute"]) == {"high molecular weight species", "monomer"}
    assert any("left out" in note for note in result.notes)


def test_user_mistakes_and_hostile_values_change_nothing(kg):
    before = kg.store.count_quads()
    with pytest.raises(QueryError, match="unknown attribute 'agregats'"):
        kg.compare("agregats", V1, V2)
    with pytest.raises(QueryError, match="nothing to compare"):
        kg.compare("HMW", 'site=A" } ; DROP ALL ; {', V2)
    with pytest.raises(QueryError, match="unknown method"):
        kg.compare("HMW", V1, V2, method="eyeball")
    assert kg.store.count_quads() == before


def test_cli_compare(tmp_path, capsys):
    location = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(location) as graph:
        graph.ingest_records(records())
    assert (
        main(
            [
                "compare",
                "--attribute",
                "HMW",
                "monomer",
                "--reference",
                V1,
                "--test",
                V2,
                "--method",
                "tost",
                "--format",
                "json",
                "--store",
                location,
                "--values",
                str(tmp_path / "values.csv"),
            ]
        )
        == 0
    )
    rows = {r["attribute"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["monomer"]["verdict"] == "equivalent"
    assert rows["high molecular weight species"]["verdict"] == "not equivalent"
    assert (tmp_path / "values.csv").read_text().count("\n") == 2 * (12 + 10) + 1
    assert (
        main(["compare", "-a", "HMW", "--reference", "sight=A", "--test", V2, "--store", location])
        == 2
    )
    assert "unknown filter key" in capsys.readouterr().err
    assert not math.isnan(howe_k2(2))


# -- the bundled mAb example: a planted process change and two sites' names ----------------


@pytest.fixture(scope="module")
def mab():
    return mab_graph(), pd.read_csv(MAB_TRUTH)


def test_mab_process_change_is_flagged_and_unchanged_attributes_pass(mab):
    kg, truth = mab
    # generate.py: Site-A v2 (new polishing resin) raises HMW by 0.7 %; main peak, potency and
    # HCP do not change.
    result = kg.compare(
        ["HMW", "main charge isoform", "relative potency", "host cell protein"],
        V1,
        V2,
        method="tost",
    )
    ds = result.table[result.table["kind"] == "drug_substance"].set_index("attribute")
    assert ds.loc["high molecular weight species", "verdict"] == "not equivalent"
    for name in ("main charge isoform", "relative potency", "host cell protein"):
        assert ds.loc[name, "verdict"] == "equivalent", name
    site_a = truth[truth["site"] == "Site-A"]
    for version, column in (("v1", "mean_ref"), ("v2", "mean_test")):
        expected = site_a[site_a["process_version"] == version]["hmw"]
        assert ds.loc["high molecular weight species", column] == pytest.approx(expected.mean())


def test_mab_site_aliases_compare_both_sites_as_one_attribute(mab):
    kg, truth = mab
    # Site-B reports HMW as "aggregates", Site-A as "HMW (SEC)": one concept, both sites.
    for name in ("aggregates", "HMW (SEC)", "high molecular weight species"):
        table = kg.compare(name, "site=Site-A", "site=Site-B").table
        row = table[table["kind"] == "drug_substance"].iloc[0]
        site_b = truth[truth["site"] == "Site-B"]["hmw"]
        assert (row["n_ref"], row["n_test"]) == ((truth["site"] == "Site-A").sum(), len(site_b))
        assert row["mean_test"] == pytest.approx(site_b.mean())
