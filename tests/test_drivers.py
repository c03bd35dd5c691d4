"""Raw material → PQA drivers: pair counts, correlations and BH q-values recomputed from the raw
Žagar CSV with the csv module and scipy, and a planted driver in batches made with cmckg.build.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import STORE_KINDS, store_location
from question_fixtures import MAB_TRUTH, mab_graph, zagar_graph, zagar_rows
from scipy import stats

from cmckg import build
from cmckg.cli import main
from cmckg.drivers import vip_scores
from cmckg.errors import QueryError
from cmckg.kg import KnowledgeGraph

LOT_COLUMNS = {
    "api": ("api_code", "api_batch"),
    "smcc": ("smcc_batch",),
    "lactose": ("lactose_batch",),
    "starch": ("starch_batch",),
}


def lot_values(column: str) -> dict[tuple, float]:
    """A raw-material lot's value of ``column``: its first non-blank value in row order (the
    mapping keeps the first row's value when rows disagree)."""
    material = column.split("_")[0]
    found: dict[tuple, float] = {}
    for row in zagar_rows():
        key = tuple(row[c] for c in LOT_COLUMNS[material])
        if row[column] is not None and key not in found:
            found[key] = float(row[column])
    return found


def pairs_from_csv(pqa: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    values = lot_values(column)
    material = column.split("_")[0]
    x, y = [], []
    for row in zagar_rows():
        key = tuple(row[c] for c in LOT_COLUMNS[material])
        if row[pqa] is not None and key in values:
            x.append(values[key])
            y.append(float(row[pqa]))
    return np.array(x), np.array(y)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH adjusted p-values by the textbook step-up rule."""
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1)
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


@pytest.fixture(scope="module")
def zagar_drivers():
    return zagar_graph().drivers("dissolution_av")


def test_zagar_pairs_have_n_equal_to_batches_with_both_values(zagar_drivers):
    table = zagar_drivers.table.set_index("attribute")
    columns = [
        c
        for c in zagar_rows()[0]
        if c.split("_")[0] in LOT_COLUMNS
        and c not in ("api_code", "api_batch", "smcc_batch", "lactose_batch", "starch_batch")
    ]
    assert set(table.index) == set(columns)
    for column in columns:
        x, _ = pairs_from_csv("dissolution_av", column)
        assert table.loc[column, "n"] == len(x), column
    assert set(table["max_lots"]) == {1}


@pytest.mark.parametrize("column", ["lactose_water", "api_ps05", "smcc_bd"])
def test_zagar_correlations_match_scipy_on_the_csv(zagar_drivers, column):
    x, y = pairs_from_csv("dissolution_av", column)
    row = zagar_drivers.table.set_index("attribute").loc[column]
    expected = stats.spearmanr(x, y)
    assert row["effect"] == pytest.approx(expected.statistic, rel=1e-9)
    assert row["p"] == pytest.approx(expected.pvalue, rel=1e-6)
    assert row["slope"] == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-9)


def test_zagar_q_values_are_benjamini_hochberg(zagar_drivers):
    table = zagar_drivers.table
    np.testing.assert_allclose(table["q"], benjamini_hochberg(table["p"].to_numpy()), rtol=1e-12)
    assert list(table["p"]) == sorted(table["p"])


def test_material_narrows_the_pairs():
    table = zagar_graph().drivers("dissolution_av", material="lactose", method="pearson").table
    assert set(table["attribute"]) == {
        "lactose_water",
        "lactose_sieve0045",
        "lactose_sieve015",
        "lactose_sieve025",
    }
    x, y = pairs_from_csv("dissolution_av", "lactose_water")
    row = table.set_index("attribute").loc["lactose_water"]
    assert row["effect"] == pytest.approx(stats.pearsonr(x, y).statistic, rel=1e-9)


# -- a planted driver, on every store backend ---------------------------------------------


def planted_records(seed: int = 7) -> tuple[list[build.Record], list[float], list[float]]:
    """20 DS batches; medium lot osmolality drives afucosylation (+0.06 %/mOsm/kg), the feed
    lot's pH does nothing."""
    rng = np.random.default_rng(seed)
    osmo = rng.normal(300, 8, 10)
    feed_ph = rng.normal(7.0, 0.1, 5)
    records, afuc = [], []
    lots = build.Record("raw-lots", issuer="plant")
    for i, value in enumerate(osmo):
        medium = lots.lot(f"MED-{i}", kind="raw_material", material="cell culture medium")
        lots.measurement(medium, "osmolality", float(value), "mOsm/kg", stage="CoA")
    for i, value in enumerate(feed_ph):
        feed = lots.lot(f"FEED-{i}", kind="raw_material", material="feed medium")
        lots.measurement(feed, "pH", float(value), "pH", stage="CoA")
    records.append(lots)
    for b in range(20):
        rec = build.Record(f"batch-{b}", issuer="plant")
        ds = rec.lot(f"DS-{b}", kind="drug_substance", product="mAb-Z", site="Site-A")
        medium = rec.lot(f"MED-{b // 2}", kind="raw_material")
        feed = rec.lot(f"FEED-{b // 4}", kind="raw_material")
        rec.run(f"PROD-{b}", inputs=[medium, feed], outputs=[ds], site="Site-A")
        value = 8.0 + 0.06 * (osmo[b // 2] - 300) + rng.normal(0, 0.05)
        afuc.append(value)
        rec.measurement(ds, "afucosylation", float(value), "%", stage="release")
        records.append(rec)
    return records, list(osmo), afuc


@pytest.fixture(scope="module", params=STORE_KINDS)
def planted(request, tmp_path_factory):
    graph = KnowledgeGraph.open(store_location(request.param, tmp_path_factory.mktemp("s")))
    graph.ingest_records(planted_records()[0])
    yield graph
    graph.close()


def test_planted_driver_ranks_first(planted):
    _, osmo, afuc = planted_records()
    result = planted.drivers("afucosylation")
    top = result.table.iloc[0]
    assert (top["material"], top["attribute"]) == ("cell culture medium", "osmolality")
    assert top["n"] == 20 and top["q"] < 0.01
    x = np.repeat(osmo, 2)
    assert top["effect"] == pytest.approx(stats.spearmanr(x, afuc).statistic, rel=1e-9)
    assert top["slope"] == pytest.approx(0.06, abs=0.01)
    second = result.table.iloc[1]
    assert second["attribute"] == "pH" and second["q"] > 0.05
    pls = planted.drivers("afucosylation", method="pls").table
    assert pls.iloc[0]["attribute"] == "osmolality"
    assert pls.iloc[0]["vip"] > 1 > pls.iloc[1]["vip"]


def test_plot_writes_a_png(planted, tmp_path):
    path = planted.drivers("afucosylation").plot(tmp_path / "top.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_vip_squares_average_to_one():
    # A property of VIP scores (Wold et al. 2001): the mean of VIP² over the variables is 1.
    from sklearn.cross_decomposition import PLSRegression

    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 4))
    y = x[:, 0] * 2 + rng.normal(size=30) * 0.1
    pls = PLSRegression(n_components=2, scale=False).fit(x, y)
    vip = vip_scores(pls.x_weights_, pls.x_scores_, pls.y_loadings_)
    assert np.mean(vip**2) == pytest.approx(1.0)
    assert np.argmax(vip) == 0


def test_mistakes(planted):
    with pytest.raises(QueryError, match="unknown method"):
        planted.drivers("afucosylation", method="vibes")
    with pytest.raises(QueryError, match="no batch has a value"):
        planted.drivers("HMW")


def test_cli_drivers(tmp_path, capsys):
    location = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(location) as graph:
        graph.ingest_records(planted_records()[0])
    plot = tmp_path / "top.png"
    assert (
        main(
            [
                "drivers",
                "--pqa",
                "afucosylation",
                "--format",
                "csv",
                "--plot",
                str(plot),
                "--store",
                location,
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("material,attribute,unit,n,effect,p,q")
    assert lines[1].startswith("cell culture medium,osmolality,")
    assert plot.exists()


# -- the bundled mAb example: its generator planted medium osmolality -> afucosylation -------


def test_mab_planted_raw_material_driver_ranks_first():
    truth = pd.read_csv(MAB_TRUTH)
    table = mab_graph().drivers("afucosylation").table
    top = table.iloc[0]
    assert (top["material"], top["attribute"]) == ("cell culture medium", "osmolality")
    assert top["n"] == len(truth) and top["q"] < 1e-6
    expected = stats.spearmanr(truth["medium_osmolality"], truth["afucosylation"])
    assert top["effect"] == pytest.approx(expected.statistic, rel=1e-9)
    # generate.py plants +0.06 % afucosylation per mOsm/kg
    assert top["slope"] == pytest.approx(0.06, abs=0.01)
    assert (table.iloc[1:]["q"] > 0.05).all()


def test_several_lots_and_replicates_are_averaged_over_distinct_measurements():
    # Batch b uses medium lots MED-b and MED-(b+1); MED-i measures 300 + i mOsm/kg, MED-2 twice
    # (302 and 310). A batch's value is the mean over the distinct measurements of its lots.
    records = []
    lots = build.Record("raw-lots", issuer="plant")
    for i in range(6):
        medium = lots.lot(f"MED-{i}", kind="raw_material", material="cell culture medium")
        lots.measurement(medium, "osmolality", 300.0 + i, "mOsm/kg", stage="CoA")
        if i == 2:
            lots.measurement(medium, "osmolality", 310.0, "mOsm/kg", stage="CoA")
    records.append(lots)
    afuc = [8.0, 8.15, 8.2, 8.35, 8.4]
    for b, value in enumerate(afuc):
        rec = build.Record(f"batch-{b}", issuer="plant")
        ds = rec.lot(f"DS-{b}", kind="drug_substance", product="mAb-Z", site="Site-A")
        used = [rec.lot(f"MED-{b + k}", kind="raw_material") for k in (0, 1)]
        rec.run(f"PROD-{b}", inputs=used, outputs=[ds], site="Site-A")
        rec.measurement(ds, "afucosylation", value, "%", stage="release")
        records.append(rec)
    expected = [(300 + 301) / 2, (301 + 302 + 310) / 3, (302 + 310 + 303) / 3, 303.5, 304.5]
    graph = KnowledgeGraph.open("memory:")
    graph.ingest_records(records)
    for source in ("layer", "records"):
        result = graph.drivers("afucosylation", source=source)
        row = result.table.iloc[0]
        assert (row["attribute"], row["unit"], row["n"], row["max_lots"]) == (
            "osmolality",
            "mOsmol/kg",
            5,
            2,
        )
        data = result.data.set_index("identifier")
        column = data["cell culture medium · osmolality"]
        assert list(column.loc[[f"DS-{b}" for b in range(5)]]) == pytest.approx(expected)
        assert row["effect"] == pytest.approx(stats.spearmanr(expected, afuc).statistic)


@pytest.mark.parametrize("default", [None, "GM-PER-L"])
def test_raw_values_convert_once_per_distinct_value_as_to_one_unit_does(default):
    # Mixed units with repeats and a missing unit: the same values and unit, row by row, as
    # attributes.to_one_unit (whose first unit decides when there is no default unit).
    from cmckg.attributes import Attribute, to_one_unit
    from cmckg.drivers import _in_one_unit

    qudt = "http://qudt.org/vocab/unit/"
    units = ["MicroGM-PER-MilliL", "MilliGM-PER-MilliL", None, "GM-PER-L", "MicroGM-PER-MilliL"]
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(units), 200)
    frame = pd.DataFrame(
        {
            "value": rng.choice([1.5, 2.0, 250.0, 3.25], 200),
            "unit": [qudt + units[i] if units[i] else None for i in picks],
        }
    )
    attribute = Attribute("c", "x", "x", "c", qudt + default if default else None)
    expected = to_one_unit(frame, attribute)
    values, unit = _in_one_unit(
        frame["value"].to_numpy(), frame["unit"].to_numpy(object), attribute
    )
    assert unit == expected["unit"].iloc[0] == qudt + (default or units[picks[0]])
    assert values.tolist() == expected["value"].tolist()
