"""Summary and capability: against pandas on the raw Žagar CSV, and against hand-worked values
on the fixtures in tests/data/questions (chain.trig, capability.trig; values in their headers).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import STORE_KINDS, store_location
from question_fixtures import QUESTIONS, ZAGAR_CSV, load_trig, zagar_graph, zagar_rows

from cmckg.cli import main
from cmckg.errors import QueryError
from cmckg.kg import KnowledgeGraph

HMW = [1.2, 1.5, 1.1, 1.9, 1.4, 1.3, 2.2, 1.6]  # DS-1..DS-8 in manufacture order


@pytest.fixture(scope="module", params=STORE_KINDS)
def kg(request, tmp_path_factory):
    graph = KnowledgeGraph.open(store_location(request.param, tmp_path_factory.mktemp("s")))
    load_trig(graph, QUESTIONS / "chain.trig", QUESTIONS / "capability.trig")
    yield graph
    graph.close()


def test_zagar_dissolution_min_by_product_equals_pandas_groupby():
    csv = pd.read_csv(ZAGAR_CSV, sep=";")
    expected = csv.groupby("code")["dissolution_min"].agg(["count", "mean", "std", "min", "max"])
    table = zagar_graph().summary("dissolution_min", by="product")
    assert set(table["unit"]) == {"%"} and set(table["kind"]) == {"drug_product"}
    got = table.assign(code=table["product"].astype(int)).set_index("code").sort_index()
    assert list(got.index) == list(expected.index)
    assert list(got["n"]) == list(expected["count"])
    for ours, theirs in (("mean", "mean"), ("sd", "std"), ("min", "min"), ("max", "max")):
        np.testing.assert_allclose(got[ours].astype(float), expected[theirs], rtol=1e-12)


def test_raw_material_attribute_is_summarised_over_the_batches_that_used_the_lot(kg):
    # chain.trig: B-1 used lactose lot 2 (0.05 %), B-2 and B-3 lactose lot 3 (0.09 %).
    table = kg.summary("water content", by="site", material="lactose")
    rows = table.set_index("site")
    assert rows.loc["Site-A", "n"] == 1 and rows.loc["Site-A", "mean"] == pytest.approx(0.05)
    assert rows.loc["Site-B", "n"] == 2 and rows.loc["Site-B", "mean"] == pytest.approx(0.09)
    # Without a material, each material is its own row (never mixed).
    every = kg.summary("water content")
    chain = every[every["kind"] == "drug_product"]
    assert set(chain["material"]) == {
        "Active ingredient",
        "lactose monohydrate",
        "Silicified microcrystalline cellulose",
    }


def test_several_lots_of_one_material_in_a_batch_are_averaged(kg):
    # capability.trig: DS-1,3,5 used MED-1 (290), DS-2,4,6 MED-2 (310), DS-7 MED-2 and MED-3
    # (310, 300 -> 305), DS-8 no medium: 7 batches.
    row = kg.summary("osmolality").iloc[0]
    assert row["n"] == 7
    assert row["mean"] == pytest.approx((3 * 290 + 3 * 310 + 305) / 7)
    assert row["unit"] == "mOsmol/kg"  # QUDT symbol of unit:MilliOSM-PER-KiloGM


def test_capability_uses_the_latest_specification(kg):
    row = kg.summary("HMW", by="product").set_index("product").loc["mAb-Y"]
    x = np.array(HMW)
    mean, overall = x.mean(), x.std(ddof=1)
    within = np.abs(np.diff(x)).mean() / 1.128
    assert (row["lsl"], row["usl"]) == (0.0, 2.5)  # version 2 supersedes 0.0 .. 3.0
    assert row["ppk"] == pytest.approx(min(2.5 - mean, mean) / (3 * overall))
    assert row["cpk"] == pytest.approx(min(2.5 - mean, mean) / (3 * within))
    assert row["n"] == 8 and row["sd"] == pytest.approx(overall)


def test_by_month_and_mistakes(kg):
    months = kg.summary("dissolution", by="month")
    assert dict(zip(months["month"], months["mean"], strict=True)) == {
        "2018-11": 93.0,
        "2018-12": 97.0,
        "2019-01": 89.0,
    }
    with pytest.raises(QueryError, match="cannot group by colour"):
        kg.summary("HMW", by="colour")
    with pytest.raises(QueryError, match="unknown attribute"):
        kg.summary("dissolushun")


def test_cli_summary(tmp_path, capsys):
    location = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(location) as graph:
        load_trig(graph, QUESTIONS / "capability.trig")
    assert (
        main(
            [
                "summary",
                "--attribute",
                "HMW",
                "--by",
                "product",
                "--format",
                "json",
                "--store",
                location,
            ]
        )
        == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert row["n"] == 8 and row["product"] == "mAb-Y" and row["usl"] == 2.5


def test_zagar_raw_material_column_is_summarised_over_consuming_batches():
    # lactose_water is a lactose-lot attribute: each batch takes its lactose lot's value (the
    # lot's first non-blank value in row order: the mapping keeps the first row's value).
    first: dict[str, float] = {}
    for row in zagar_rows():
        if row["lactose_water"] is not None:
            first.setdefault(row["lactose_batch"], float(row["lactose_water"]))
    per_batch = [first[r["lactose_batch"]] for r in zagar_rows() if r["lactose_batch"] in first]
    (row,) = zagar_graph().summary("lactose_water").to_dict("records")
    assert row["material"] == "lactose monohydrate" and row["kind"] == "drug_product"
    assert row["n"] == len(per_batch)
    assert row["mean"] == pytest.approx(np.mean(per_batch), rel=1e-12)
    assert row["sd"] == pytest.approx(np.std(per_batch, ddof=1), rel=1e-9)
