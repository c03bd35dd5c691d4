"""The analytics layer (cmckg.analytics): answers equal to the records path, kept exact by ingest.

Parity: every analysis is computed twice on the same store, through the saved queries over the
records (``source="records"``, the path the layer replaced) and through the layer, on the mAb
example, the Žagar table and a small generated enterprise; the results must be the same rows with
values equal to 1e-9. Upkeep: after each ingest of a sequence (new batches, lineage stated by a
second source, a changed value superseding the old, a lot moved to another site, a record
dropped) the layer must equal the one ``cmckg reindex`` rebuilds from the records, and the value
a superseded record stated must be gone from it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from question_fixtures import mab_graph, zagar_graph
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from cmckg import build
from cmckg.analytics import PREFIX
from cmckg.cli import main
from cmckg.errors import QueryError
from cmckg.kg import KnowledgeGraph
from cmckg.stores import ChangeSet
from cmckg.vocab import CMC

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from generate import generate  # noqa: E402


def same(old: pd.DataFrame, new: pd.DataFrame) -> None:
    """Same rows and columns, numbers equal to 1e-9 (relative), everything else exactly."""
    assert list(old.columns) == list(new.columns)
    assert len(old) == len(new) and len(old) > 0
    pd.testing.assert_frame_equal(
        old.reset_index(drop=True),
        new.reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
        atol=1e-12,
        check_dtype=False,
    )


def both(call, *args, **kwargs):
    return call(*args, source="records", **kwargs), call(*args, source="layer", **kwargs)


# -- parity: the layer answers what the records answer ----------------------------------------


def test_mab_parity_compare_summary_drivers_cpv():
    kg = mab_graph()
    store = kg.store
    from cmckg.comparability import compare
    from cmckg.cpv import control_chart
    from cmckg.drivers import drivers
    from cmckg.summary import summary

    old, new = both(
        compare,
        store,
        ["HMW", "afucosylation", "titer"],
        "product=mAb-X,site=Site-A",
        "product=mAb-X,site=Site-B",
        method="tost",
    )
    same(old.table, new.table)
    same(old.values, new.values)
    assert old.notes == new.notes
    old_s, new_s = both(summary, store, ["HMW", "titer", "osmolality"], by=["site", "month"])
    same(old_s, new_s)
    old_d, new_d = both(drivers, store, "afucosylation")
    same(old_d.table, new_d.table)
    same(old_d.data, new_d.data)
    old_c, new_c = both(control_chart, store, "HMW", "mAb-X", kind="drug_substance", by="site")
    for name in ("limits", "points", "signals", "capability"):
        if not getattr(old_c, name).empty:
            same(getattr(old_c, name), getattr(new_c, name))
        assert len(getattr(old_c, name)) == len(getattr(new_c, name))


def test_zagar_parity_summary_drivers_compare():
    store = zagar_graph().store
    from cmckg.comparability import compare
    from cmckg.drivers import drivers
    from cmckg.summary import summary

    old_s, new_s = both(
        summary, store, ["dissolution_av", "lactose_water", "api_content"], by="month"
    )
    same(old_s, new_s)
    for method in ("spearman", "pls"):
        old_d, new_d = both(drivers, store, "dissolution_av", method=method)
        same(old_d.table, new_d.table)
        same(old_d.data, new_d.data)
    old, new = both(
        compare,
        store,
        ["dissolution_av", "lactose_water"],
        "product=17,date=2018-01..2019-12",
        "product=17,date=2020-01..2021-12",
    )
    same(old.table, new.table)
    same(old.values, new.values)


@pytest.fixture(scope="module")
def enterprise(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    out = tmp_path_factory.mktemp("enterprise")
    generate(out, 40, seed=11)
    plan = yaml.safe_load((out / "ingest.yaml").read_text(encoding="utf-8"))
    kg = KnowledgeGraph.open("oxigraph:memory")
    for group in plan["groups"]:
        kg.ingest([out / f for f in group["files"]], mapping=out / group["mapping"])
    return kg


def test_generated_enterprise_parity(enterprise):
    from cmckg.comparability import compare
    from cmckg.cpv import control_chart
    from cmckg.drivers import drivers
    from cmckg.summary import summary

    store = enterprise.store
    old, new = both(
        compare,
        store,
        ["HMW", "afucosylation", "main charge isoform"],
        "product=mAb-2,site=Site-A",
        "product=mAb-2,site=Site-B",
    )
    same(old.table, new.table)
    same(old.values, new.values)
    old_s, new_s = both(summary, store, ["HMW", "titer", "pH"], by="site")
    same(old_s, new_s)
    old_d, new_d = both(drivers, store, "afucosylation", material="cell culture medium")
    same(old_d.table, new_d.table)
    old_c, new_c = both(control_chart, store, "HMW", "mAb-2", kind="drug_substance")
    same(old_c.points, new_c.points)
    same(old_c.limits, new_c.limits)


def test_generated_enterprise_layer_is_what_reindex_makes(enterprise):
    """Ingested in the generator's groups (lots, runs, LIMS, ASM, CoAs, each after the others),
    the layer kept by ingest equals the one rebuilt from the records."""
    kept = layer(enterprise)
    enterprise.reindex()
    assert layer(enterprise) == kept


# -- upkeep: ingest keeps the layer exact ------------------------------------------------------


def layer(kg: KnowledgeGraph) -> set[tuple]:
    """Every quad of the analytics graphs."""
    return {q for q in kg.store.quads() if PREFIX in str(q[3])}


def rows_of(kg: KnowledgeGraph, identifier: str) -> list[tuple[str, float, str | None]]:
    """(property, value, site) of the analytics rows of lot ``identifier`` (the property and
    site are its series')."""
    result = kg.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
        "SELECT ?property ?data ?site WHERE {"
        " GRAPH ?g { ?lot cmc:inSeries ?series . ?series cmc:seriesRow ?data }"
        " GRAPH ?sg { ?series cmc:seriesProperty ?property ."
        " OPTIONAL { ?series cmc:seriesSite ?site } }"
        f" ?lot cmc:identifier ?id FILTER(?id = {Literal(identifier).n3()}) }}"
    )
    return sorted(
        (str(p).rsplit("#", 1)[-1], v, None if s is None else str(s).rsplit("/", 1)[-1])
        for p, d, s in result.itertuples(index=False)
        for v in json.loads(str(d))["values"]
    )


def row_data(kg: KnowledgeGraph, identifier: str) -> list[dict]:
    """The JSON rows (cmc:seriesRow) of lot ``identifier``."""
    result = kg.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
        "SELECT ?data WHERE { GRAPH ?g { ?lot cmc:inSeries ?s . ?s cmc:seriesRow ?data }"
        f" ?lot cmc:identifier ?id FILTER(?id = {Literal(identifier).n3()}) }}"
    )
    return sorted((json.loads(str(d)) for d in result["data"]), key=lambda d: d["measurement"])


def batch_record(name: str, hmw: float, site: str = "Site-A") -> build.Record:
    rec = build.Record(name, issuer="lims")
    batch = rec.lot(
        f"DS-{name}", kind="drug_substance", product="mAb-Q", site=site, manufactured="2025-02-01"
    )
    rec.measurement(batch, "HMW", hmw, "%", stage="release")
    rec.measurement(batch, "protein concentration", 51000.0, "µg/mL", stage="release")
    return rec


def lineage_record(name: str, batch: str, medium: str, osmolality: float) -> build.Record:
    rec = build.Record(name, issuer="mes")
    lot = rec.lot(f"DS-{batch}", kind="drug_substance", product="mAb-Q")
    harvest = rec.lot(f"HV-{batch}", kind="intermediate")
    raw = rec.lot(medium, kind="raw_material", material="cell culture medium")
    rec.measurement(raw, "osmolality", osmolality, "mOsm/kg", stage="CoA")
    rec.run(f"PB-{batch}", inputs=[raw], outputs=[harvest], unit_operation="production bioreactor")
    rec.run(f"POL-{batch}", inputs=[harvest], outputs=[lot], unit_operation="anion exchange")
    return rec


def assert_kept(kg: KnowledgeGraph) -> None:
    kept = layer(kg)
    kg.reindex()
    assert layer(kg) == kept


def test_ingest_keeps_the_layer_exact_through_changes():
    kg = KnowledgeGraph.open("oxigraph:memory")
    kg.ingest_records([batch_record("B1", 1.2), batch_record("B2", 1.4)])
    assert_kept(kg)
    # µg/mL is stored in the concept's canonical unit, mg/mL: 51000 µg/mL = 51 mg/mL
    assert rows_of(kg, "DS-B1") == [
        ("HighMolecularWeightSpecies", 1.2, "Site-A"),
        ("ProteinConcentration", pytest.approx(51.0, rel=1e-12), "Site-A"),
    ]
    unit = "http://qudt.org/vocab/unit/"
    assert {
        d["units"][0]: (d["values"], d["identifiers"], d["dates"]) for d in row_data(kg, "DS-B1")
    } == {
        f"{unit}PERCENT": ([1.2], ["DS-B1"], ["2025-02-01"]),
        f"{unit}MilliGM-PER-MilliL": ([pytest.approx(51.0, rel=1e-12)], ["DS-B1"], ["2025-02-01"]),
    }
    # lineage from a second source: B1 now has a medium lot upstream
    kg.ingest_records([lineage_record("L1", "B1", "MED-1", 301.0)])
    assert_kept(kg)
    upstream = kg.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
        "SELECT ?id WHERE { GRAPH ?g { ?batch cmc:rowLotKind ?kind ; cmc:upstream ?u }"
        " ?batch cmc:identifier 'DS-B1' . GRAPH ?h { ?u cmc:inSeries ?x } ?u cmc:identifier ?id }"
    )
    assert set(upstream["id"]) == {"MED-1"}
    # a changed value supersedes the record: the old value leaves the layer
    kg.ingest_records([batch_record("B1", 1.9)])
    assert_kept(kg)
    assert ("HighMolecularWeightSpecies", 1.9, "Site-A") in rows_of(kg, "DS-B1")
    assert ("HighMolecularWeightSpecies", 1.2, "Site-A") not in rows_of(kg, "DS-B1")
    # the lot moves site: every row of it follows
    kg.ingest_records([batch_record("B2", 1.4, site="Site-C")])
    assert_kept(kg)
    assert {site for _, _, site in rows_of(kg, "DS-B2")} == {"Site-C"}
    # the medium's CoA value changes: the drivers see the new one
    kg.ingest_records([lineage_record("L1", "B1", "MED-1", 288.0)])
    assert_kept(kg)
    assert rows_of(kg, "MED-1") == [("Osmolality", 288.0, None)]
    # re-ingesting the same content changes nothing, layer included
    before = set(kg.store.quads())
    kg.ingest_records([lineage_record("L1", "B1", "MED-1", 288.0)])
    assert {q for q in kg.store.quads() if "graph/meta" not in str(q[3])} == {
        q for q in before if "graph/meta" not in str(q[3])
    }


def test_layer_stays_out_of_the_union_copy():
    """The embedded store's default graph (the union copy of the records) holds none of the
    layer: its statements are in their named graphs only, and the analyses read them there."""
    import pyoxigraph as ox

    kg = KnowledgeGraph.open("oxigraph:memory")
    kg.ingest_records([batch_record("B1", 1.2), lineage_record("L1", "B1", "MED-1", 300.0)])
    native = kg.store.native
    for predicate in (CMC.seriesRow, CMC.inSeries, CMC.upstream, CMC.seriesProperty):
        term = ox.NamedNode(str(predicate))
        assert list(native.quads_for_pattern(None, term, None, ox.DefaultGraph())) == []
        assert list(native.quads_for_pattern(None, term, None, None))  # in the named graphs
    assert kg.summary("HMW")["mean"].tolist() == [1.2]
    kg.reindex()
    row = ox.NamedNode(str(CMC.seriesRow))
    assert list(native.quads_for_pattern(None, row, None, ox.DefaultGraph())) == []


def test_raw_lot_pairs_by_material_and_without_one():
    """The drivers' batch → raw-lot pairs: by the material's IRI, and for a lot that states no
    material (the records path counts it under any material, so the layer must too)."""
    from cmckg import queries

    kg = KnowledgeGraph.open("oxigraph:memory")
    rec = lineage_record("L1", "B1", "MED-1", 300.0)
    unstated = rec.lot("ADD-1", kind="raw_material")
    rec.run("MIX-B1", inputs=[unstated], outputs=[rec.lot("HV-B1", kind="intermediate")])
    kg.ingest_records([rec])

    def pairs(name: str, **params) -> set[tuple[str, str]]:
        (text,) = queries.run(kg.store, name, params).rows[0]
        return {
            tuple(part.rsplit("/", 1)[-1] for part in line.split("\t"))
            for line in str(text or "").split("\n")
            if line
        }

    found = {
        str(m)
        for (m,) in kg.store.query(
            "SELECT ?m WHERE { ?l <https://w3id.org/cmckg/ontology#ofMaterial> ?m }"
        ).rows
    }
    (material,) = found
    assert pairs("analytics-upstream-lots", material=URIRef(material)) == {("DS-B1", "MED-1")}
    assert pairs("analytics-upstream-lots-unstated") == {("DS-B1", "ADD-1")}


def test_dropped_records_leave_the_layer():
    """A change set that drops a record graph (as ingest does for a source's vanished records)
    drops its rows: the lot keeps no row the records no longer state."""
    from cmckg.analytics import plan_analytics

    kg = KnowledgeGraph.open("oxigraph:memory")
    kg.ingest_records([batch_record("B1", 1.2), batch_record("B2", 1.4)])
    graph = build.Record("B2", issuer="lims").graph_iri
    changes = ChangeSet(drop_graphs=[graph])
    plan_analytics(kg.store, kg.minter, changes, stored_records=True)
    kg.store.apply(changes)
    assert rows_of(kg, "DS-B2") == []
    assert_kept(kg)


# -- cmckg reindex -----------------------------------------------------------------------------


def test_store_without_layer_is_refused_until_reindexed(tmp_path: Path, capsys):
    location = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(location) as kg:
        kg.ingest_records([batch_record("B1", 1.2), batch_record("B2", 1.4)])
        expected = kg.summary("HMW")
        # what an older cmckg left: the records without the layer
        changes = ChangeSet(drop_graphs=sorted({q[3] for q in layer(kg)}))
        kg.store.apply(changes)
        with pytest.raises(QueryError, match="cmckg reindex"):
            kg.summary("HMW")
    assert main(["reindex", "--store", location]) == 0
    assert "graphs written" in capsys.readouterr().out
    with KnowledgeGraph.open(location) as kg:
        same(expected, kg.summary("HMW"))
        kept = layer(kg)
    assert main(["reindex", "--store", location]) == 0
    with KnowledgeGraph.open(location) as kg:
        assert layer(kg) == kept


def test_reindex_without_a_store_exits_2(tmp_path: Path, capsys):
    location = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(location) as kg:
        kg.ingest_records([batch_record("B1", 1.2)])
    assert main(["reindex", "--store", str(tmp_path / "none" / "store")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_layer_terms_are_declared():
    """Every term the layer writes is in the ontology with a label and a definition."""
    from rdflib import Graph
    from rdflib.namespace import RDFS, SKOS

    from cmckg.resources import resource_dir

    ontology = Graph().parse(resource_dir("ontology") / "cmckg.ttl")
    kg = KnowledgeGraph.open("oxigraph:memory")
    kg.ingest_records([batch_record("B1", 1.2), lineage_record("L1", "B1", "MED-1", 300.0)])
    used = {p for _, p, _, _ in layer(kg)} | {o for _, p, o, _ in layer(kg) if p == RDF.type}
    assert {CMC.upstream, CMC.AnalyticsSeries, CMC.inSeries, CMC.seriesRow} <= used
    for term in used - {RDF.type}:
        assert ontology.value(term, RDFS.label) is not None, term
        assert ontology.value(term, SKOS.definition) is not None, term
    assert all(
        isinstance(o, Literal) and o.datatype == XSD.double
        for _, p, o, _ in layer(kg)
        if p == CMC.rowScale
    )
    assert all(
        isinstance(o, Literal) and o.datatype == RDF.JSON and json.loads(str(o))
        for _, p, o, _ in layer(kg)
        if p in (CMC.rowData, CMC.seriesRow)
    )


def test_results_before_their_lot_and_lots_without_a_product_agree_with_the_records():
    """Data in another order: a LIMS export names the lots (in mg/L, not the canonical mg/mL)
    before the batch records give their product and site. Both paths give the same summary,
    worked by hand: Site-Q 1.1 and 1.3 g/L → mean 1.2 mg/mL; Site-R 0.9 and 1.2 → 1.05. A batch
    that never gets a product is left out on both paths (the records' query requires one)."""
    kg = KnowledgeGraph.open("oxigraph:memory")
    results = []
    for i, grams in enumerate([1.1, 1.3, 0.9, 1.2, 5.0]):
        rec = build.Record(f"res{i}", issuer="lims")
        lot = rec.lot(f"X-{i}", kind="drug_substance")
        rec.measurement(lot, "protein concentration", grams * 1000, "mg/L", stage="release")
        results.append(rec)
    kg.ingest_records(results)
    lots = []
    for i in range(4):  # X-4 never gets a product
        rec = build.Record(f"lot{i}", issuer="lims")
        site = "Site-Q" if i < 2 else "Site-R"
        rec.lot(f"X-{i}", kind="drug_substance", product="mAb-Z", site=site)
        lots.append(rec)
    kg.ingest_records(lots)
    old, new = both(kg.summary, "protein concentration", by="site")
    same(old, new)
    assert new["site"].tolist() == ["Site-Q", "Site-R"]
    assert new["n"].tolist() == [2, 2]
    assert new["mean"].tolist() == [pytest.approx(1.2), pytest.approx(1.05)]
    assert set(new["unit"]) == {"mg/mL"}
