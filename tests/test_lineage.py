"""Lineage on a hand-built genealogy (tests/data/questions/chain.trig, drawn in its header).

Expected node sets are read off that drawing, not from the code. Every case runs on each store
backend in conftest.STORE_KINDS.
"""

from __future__ import annotations

import json

import networkx as nx
import pytest
from conftest import STORE_KINDS, store_location
from question_fixtures import QUESTIONS, load_trig, zagar_graph, zagar_rows

from cmckg.cli import main
from cmckg.errors import QueryError
from cmckg.kg import KnowledgeGraph

ID = "https://w3id.org/cmckg/id/"
API_5, API_7 = ID + "lot/test/api-5-2", ID + "lot/test/api-7-2"
LAC_2, LAC_3, SMCC_7 = ID + "lot/test/lac-2", ID + "lot/test/lac-3", ID + "lot/test/smcc-7"
TC_1, TC_2 = ID + "lot/test/TC-1", ID + "lot/test/TC-2"
B_1, B_2, B_3 = ID + "lot/test/B-1", ID + "lot/test/B-2", ID + "lot/test/B-3"
GRAN_1, COAT_1, GRAN_2, COAT_2 = (
    ID + f"run/test/{r}" for r in ("GRAN-1", "COAT-1", "GRAN-2", "COAT-2")
)
S_1 = ID + "sample/test/S-1"


@pytest.fixture(params=STORE_KINDS)
def kg(request, tmp_path):
    graph = KnowledgeGraph.open(store_location(request.param, tmp_path))
    load_trig(graph, QUESTIONS / "chain.trig")
    yield graph
    graph.close()


def nodes_of(result, kind=None):
    frame = result.nodes if kind is None else result.nodes[result.nodes["kind"] == kind]
    return set(frame["iri"])


def test_backward_lineage_of_a_batch_reaches_its_runs_intermediate_and_raw_lots(kg):
    result = kg.lineage("B-1")
    assert result.root == B_1
    assert nodes_of(result) == {B_1, COAT_1, TC_1, GRAN_1, API_5, LAC_2, SMCC_7}
    assert nodes_of(result, "raw_material_lot") == {API_5, LAC_2, SMCC_7}
    assert nodes_of(result, "run") == {COAT_1, GRAN_1}
    depth = dict(zip(result.nodes["iri"], result.nodes["depth"], strict=True))
    assert depth == {B_1: 0, COAT_1: 1, TC_1: 1, GRAN_1: 2, API_5: 2, LAC_2: 2, SMCC_7: 2}
    row = result.nodes.set_index("iri").loc[LAC_2]
    assert (row["identifier"], row["kind"], row["material"]) == (
        "2",
        "raw_material_lot",
        "Lactose monohydrate",
    )
    assert result.nodes.set_index("iri").loc[B_1, "site"] == "Site-A"


def test_edges_keep_prov_direction_and_show_runs_instead_of_shortcuts(kg):
    rows = kg.lineage("B-1").edges.to_dict("records")
    edges = {(r["from"], r["relation"], r["to"]) for r in rows}
    assert edges == {
        (B_1, "prov:wasGeneratedBy", COAT_1),
        (COAT_1, "prov:used", TC_1),
        (TC_1, "prov:wasGeneratedBy", GRAN_1),
        (GRAN_1, "prov:used", API_5),
        (GRAN_1, "prov:used", LAC_2),
        (GRAN_1, "prov:used", SMCC_7),
    }
    # B-3 has no known run: its wasDerivedFrom edge is the only way to lactose lot 3.
    edges = kg.lineage("B-3").edges
    assert list(zip(edges["from"], edges["relation"], edges["to"], strict=True)) == [
        (B_3, "prov:wasDerivedFrom", LAC_3)
    ]


def test_depth_limits_the_generations(kg):
    assert nodes_of(kg.lineage("B-1", depth=1)) == {B_1, COAT_1, TC_1}
    assert nodes_of(kg.lineage("B-1", depth=0)) == {B_1}
    assert set(kg.lineage("B-1", depth=1).edges["step"]) == {1}


def test_forward_lineage_of_a_raw_lot_is_the_recall_list(kg):
    result = kg.lineage("3", direction="forward")
    assert nodes_of(result, "batch") == {B_2, B_3}
    assert nodes_of(result) == {LAC_3, GRAN_2, TC_2, COAT_2, B_2, B_3}
    shared = kg.lineage("7", direction="forward", material="SMCC")
    assert nodes_of(shared, "batch") == {B_1, B_2}
    assert S_1 in nodes_of(shared, "sample")


def test_ambiguous_identifier_lists_candidates_and_narrows(kg):
    with pytest.raises(QueryError) as error:
        kg.lineage("2", direction="forward")
    for iri in (API_5, API_7, LAC_2):
        assert iri in str(error.value)
    assert kg.lineage("2", direction="forward", material="lactose").root == LAC_2
    assert kg.lineage("2", direction="forward", material="Lactose monohydrate").root == LAC_2
    with pytest.raises(QueryError, match="2 nodes"):
        kg.lineage("2", material="API")
    api = kg.lineage("2", material="API", supplier="7", direction="forward")
    assert api.root == API_7
    assert nodes_of(api, "batch") == {B_2}
    with pytest.raises(QueryError, match="matches material=heparin"):
        kg.lineage("2", material="heparin")
    with pytest.raises(QueryError, match="unknown kind"):
        kg.lineage("2", kind="pallet")


def test_run_and_sample_roots(kg):
    forward = kg.lineage("GRAN-1", direction="forward")
    assert nodes_of(forward) == {GRAN_1, TC_1, COAT_1, B_1, S_1}
    backward = kg.lineage(S_1)
    assert nodes_of(backward) == {S_1, B_1, COAT_1, TC_1, GRAN_1, API_5, LAC_2, SMCC_7}
    assert kg.lineage("GRAN-1").nodes["iri"].tolist()[0] == GRAN_1
    assert nodes_of(kg.lineage("GRAN-1"), "raw_material_lot") == {API_5, LAC_2, SMCC_7}


def test_graph_and_renderings(kg):
    result = kg.lineage("B-1")
    graph = result.to_networkx()
    assert set(graph.nodes) == nodes_of(result)
    assert graph.number_of_edges() == len(result.edges) == 6
    assert nx.has_path(graph, B_1, LAC_2)
    document = json.loads(result.to_json())
    assert document["root"] == B_1
    assert {n["iri"] for n in document["nodes"]} == nodes_of(result)
    assert set(document["nodes"][0]) == {"iri", "identifier", "kind", "material", "site", "depth"}
    assert set(document["edges"][0]) == {"from", "to", "relation", "step"}
    dot = result.to_dot()
    assert dot.startswith("digraph") and dot.count("->") == 6
    assert result.to_mermaid().count("-->") == 6
    assert nx.parse_graphml(result.to_graphml()).number_of_nodes() == 7


def test_unknown_and_hostile_identifiers_change_nothing(kg):
    before = sorted(kg.store.quads())
    for text in ['2" } ; DROP ALL ; { "', "} ; DROP ALL", "{?s ?p ?o}", "B-1'"]:
        with pytest.raises(QueryError, match="no lot, run or sample"):
            kg.lineage(text)
    with pytest.raises(QueryError, match="not a valid absolute IRI"):
        kg.lineage("http://x/> } ; DROP ALL ; <http://y")
    assert sorted(kg.store.quads()) == before


def test_cli_lineage(tmp_path, capsys):
    location = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(location) as kg:
        load_trig(kg, QUESTIONS / "chain.trig")
    assert (
        main(
            [
                "lineage",
                "2",
                "--material",
                "lactose",
                "--direction",
                "forward",
                "--format",
                "json",
                "--store",
                location,
            ]
        )
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert {n["iri"] for n in document["nodes"] if n["kind"] == "batch"} == {B_1}
    assert main(["lineage", "B-1", "--format", "csv", "--store", location]) == 0
    assert capsys.readouterr().out.count("\n") == 8  # header + 7 nodes
    assert main(["lineage", "B-1", "--format", "mermaid", "--store", location]) == 0
    assert capsys.readouterr().out.startswith("flowchart")
    assert main(["lineage", "2", "--store", location]) == 2
    assert "narrow it" in capsys.readouterr().err


# -- the real Žagar table (examples/zagar2022), expected sets read from the CSV ------------

ZAGAR_LOT = "https://w3id.org/cmckg/id/lot/zagar2022/"


@pytest.fixture(scope="module")
def zagar():
    return zagar_graph()


def raw_lots_of(row):
    return {
        ZAGAR_LOT + f"api/{row['api_code']}/{row['api_batch']}",
        ZAGAR_LOT + f"smcc/{row['smcc_batch']}",
        ZAGAR_LOT + f"lactose/{row['lactose_batch']}",
        ZAGAR_LOT + f"starch/{row['starch_batch']}",
    }


@pytest.mark.parametrize("index", [0, 1, 211, 502, 777, 1004])
def test_zagar_backward_lineage_finds_the_four_raw_lots_of_the_row(zagar, index):
    row = zagar_rows()[index]
    result = zagar.lineage(row["batch"], kind="batch")
    assert nodes_of(result, "raw_material_lot") == raw_lots_of(row)
    assert len(nodes_of(result, "intermediate")) == 1
    api = result.nodes.set_index("iri").loc[ZAGAR_LOT + f"api/{row['api_code']}/{row['api_batch']}"]
    assert api["identifier"] == row["api_batch"]


def test_zagar_forward_lineage_of_a_lactose_lot_is_every_batch_that_names_it(zagar):
    rows = zagar_rows()
    lot = rows[300]["lactose_batch"]
    expected = {ZAGAR_LOT + r["batch"] for r in rows if r["lactose_batch"] == lot}
    result = zagar.lineage(lot, material="lactose", direction="forward")
    assert result.root == ZAGAR_LOT + f"lactose/{lot}"
    assert nodes_of(result, "batch") == expected and len(expected) > 1


def test_zagar_forward_lineage_of_an_api_lot_needs_source_and_lot(zagar):
    rows = zagar_rows()
    code, lot = rows[600]["api_code"], rows[600]["api_batch"]
    expected = {
        ZAGAR_LOT + r["batch"] for r in rows if r["api_code"] == code and r["api_batch"] == lot
    }
    # Row 600's API lot number is used by two API sources: the lot number alone is ambiguous.
    assert len({r["api_code"] for r in rows if r["api_batch"] == lot}) == 2
    with pytest.raises(QueryError, match="narrow it"):
        zagar.lineage(lot, material="API", direction="forward")
    result = zagar.lineage(lot, material="API", supplier=code, direction="forward")
    assert nodes_of(result, "batch") == expected
