"""The document-records example (examples/batchrecords): workbooks, vendor JSON, wide QC files
with censored results and written specifications, checked against the generator's truth.json.

Every expectation comes from truth.json (what the generator planted) or from the files as
written; nothing is copied from cmckg's own output.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import random
import shutil
import statistics
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, store_snapshot
from openpyxl import load_workbook
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import XSD

from cmckg.cli import main
from cmckg.examples import example_groups
from cmckg.kg import KnowledgeGraph
from cmckg.validate import Severity, validate_store
from cmckg.vocab import CMC, CMCT, QUDT, IriMinter

HERE = EXAMPLES / "batchrecords"
TRUTH = json.loads((HERE / "truth.json").read_text(encoding="utf-8"))
ID = "https://w3id.org/cmckg/id/"
GROUP = "Document records"


def lot(ident: str) -> URIRef:
    return IriMinter().mint("lot", "mabz-example", ident)


def _plain(term):
    """A literal without the xsd:string datatype stores may add (the same RDF 1.1 literal)."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def _ingest(kg: KnowledgeGraph) -> None:
    groups = [g for g in example_groups() if g.name.startswith(GROUP)]
    assert len(groups) == 6
    for group in groups:
        kg.ingest(group.files, mapping=group.mapping)


@pytest.fixture(scope="module")
def kg():
    with KnowledgeGraph.open("oxigraph:memory") as graph:
        _ingest(graph)
        yield graph


@pytest.fixture(scope="module")
def report(kg):
    return validate_store(kg.store, kg.minter, full=True)


def _generator():
    spec = importlib.util.spec_from_file_location("batchrecords_generate", HERE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# -- lineage and runs ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch", sorted(TRUTH["batches"]))
def test_full_lineage_of_each_batch(kg, batch):
    truth = TRUTH["batches"][batch]
    upstream = kg.lineage(batch).nodes
    upstream = upstream[upstream["identifier"] != batch]
    runs = set(upstream.loc[upstream["kind"] == "run", "identifier"])
    lots = set(upstream.loc[upstream["kind"] != "run", "identifier"])
    assert lots == set(truth["upstream_lots"])
    assert runs == {f"{batch}/{r['sheet']}" for r in truth["runs"]}


def test_runs_read_by_label_with_set_points_actuals_and_cells(kg):
    rows = kg.query("""
        PREFIX cmc: <https://w3id.org/cmckg/ontology#>
        PREFIX qudt: <http://qudt.org/schema/qudt/>
        SELECT ?run ?property ?actual ?set ?where WHERE {
          ?m cmc:onEntity ?r ; cmc:measuredProperty ?p ; qudt:numericValue ?actual ;
             cmc:setPoint ?set ; cmc:sourceLocation ?where .
          ?r cmc:identifier ?run . ?p <http://www.w3.org/2004/02/skos/core#prefLabel> ?property
        }""")
    found = {
        (r.run, str(r.property), float(r.actual), float(r.set), str(r.where))
        for r in rows.itertuples()
    }
    expected = set()
    for batch, truth in TRUTH["batches"].items():
        for run in truth["runs"]:
            for name, values in run["parameters"].items():
                cell = truth["cells"][run["sheet"]][name]
                expected.add(
                    (
                        f"{batch}/{run['sheet']}",
                        name,
                        values["actual"],
                        values["set_point"],
                        f"sheet={run['sheet']}!{cell}",
                    )
                )
    assert found == expected


def test_unit_operations_dates_and_item_codes(kg):
    graph = kg.graph
    for batch, truth in TRUTH["batches"].items():
        # the cover's start date, day-first text (Site-North) or a date cell (Site-South)
        assert graph.value(lot(batch), CMC.manufactureDate) == Literal(
            truth["start"], datatype=XSD.date
        )
        for run in truth["runs"]:
            iri = IriMinter().mint("run", "mabz-example", batch, run["sheet"])
            concept = graph.value(iri, CMC.unitOperation)
            assert concept is not None
            assert (
                str(graph.value(concept, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")))
                == run["unit_operation"]
            )
    # both sites' item codes resolve to the master's materials
    for ident, material_type in TRUTH["raw_material_lots"].items():
        material = graph.value(lot(ident), CMC.ofMaterial)
        kind = graph.value(material, CMC.materialType)
        assert (
            str(graph.value(kind, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")))
            == material_type
        )


def test_two_lots_in_one_cell_with_their_quantities(kg):
    # ZN-24002 and ZS-24102 (the second batch of each site) used two Tris lots, "12 / 3" kg
    rows = kg.query("""
        PREFIX cmc: <https://w3id.org/cmckg/ontology#>
        PREFIX qudt: <http://qudt.org/schema/qudt/>
        SELECT ?lot ?q WHERE { ?u cmc:ofRun ?run ; cmc:usedLot ?l ; qudt:numericValue ?q .
                               ?l cmc:identifier ?lot . ?run cmc:identifier ?id
                               FILTER (STRSTARTS(?id, "ZS-24102/")) }""")
    tris = {r.lot: float(r.q) for r in rows.itertuples() if r.lot.startswith("T-")}
    capture = TRUTH["batches"]["ZS-24102"]["runs"][1]
    assert set(tris) == {x for x in capture["input"] if x.startswith("T-")}
    assert sorted(tris.values()) == [3.0, 12.0]


# -- results as reported -------------------------------------------------------------------------


def test_exactly_the_planted_out_of_specification_result(report):
    (oos,) = TRUTH["out_of_specification"]
    violations = report.at_or_above(Severity.VIOLATION)
    assert len(violations) == 1
    (result,) = violations
    assert result.value == Literal(float(oos["value"]))
    assert oos["specification"] in result.message
    with open(HERE / "qc" / "SEC.csv", encoding="utf-8") as handle:
        row = next(
            i + 2 for i, r in enumerate(csv.DictReader(handle)) if r["Batch"] == oos["batch"]
        )
    assert result.source.path.endswith("batchrecords/qc/SEC.csv")
    assert result.source.location == f"row={row}"


def test_loq_result_passes_and_is_never_read_as_its_limit(kg, report):
    planted = TRUTH["censored_pass"]
    graph = kg.graph
    measurement = next(m for m in graph.subjects(CMC.reportedText, Literal(planted["reported"])))
    assert graph.value(measurement, CMC.onEntity) == lot(planted["batch"])
    assert graph.value(measurement, CMC.measuredProperty) == CMCT.HostCellProtein
    assert str(graph.value(measurement, CMC.resultQualifier)) == "<"
    assert graph.value(measurement, CMC.censoringLimit) == Literal(planted["limit"])
    assert graph.value(measurement, QUDT.numericValue) is None
    # against "NMT 100": every value below the LOQ is within, so no result at all
    assert not [r for r in report.results if r.focus == measurement]
    # nor any warning about results: the other censored results ("<0.05" EU/mL vs "≤ 0.5")
    # pass too. The only warnings: lots whose lineage reaches no raw-material lot, worked out
    # from the truth file (each sheet's output and inputs; the raw-material lots it lists): the
    # harvest lots, made from a production-bioreactor lot the workbooks do not describe
    inputs = {run["output"]: run["input"] for t in TRUTH["batches"].values() for run in t["runs"]}
    raw = set(TRUTH["raw_material_lots"])

    def reaches_raw(lot_id: str) -> bool:
        return any(i in raw or reaches_raw(i) for i in inputs.get(lot_id, []))

    stopped = {lot(o) for o in inputs if not reaches_raw(o)}
    assert stopped  # the generator's harvest lots
    warnings = [r for r in report.results if r.severity == Severity.WARNING]
    assert {(r.shape_name, r.focus) for r in warnings} == {
        ("DrugSubstanceLineageShape", lot_iri) for lot_iri in stopped
    }
    assert len(warnings) == len(stopped)


def test_not_tested_is_missing_not_an_error(kg):
    nt = [(b, test) for b, values in TRUTH["qc"].items() for test, v in values.items() if v == "NT"]
    assert nt  # the generator planted at least one
    graph = kg.graph
    for batch, test in nt:
        concept = {"Osmolality": CMCT.Osmolality}[test]
        on_batch = {
            m
            for m in graph.subjects(CMC.onEntity, lot(batch))
            if graph.value(m, CMC.measuredProperty) == concept
        }
        assert on_batch == set()
    # the ChemSupply certificates' "NT" endotoxin: no measurement either
    for ident, coa in TRUTH["certificates"].items():
        endotoxins = {
            m
            for m in graph.subjects(CMC.onEntity, lot(ident))
            if graph.value(m, CMC.measuredProperty) == CMCT.Endotoxin
        }
        assert len(endotoxins) == (0 if coa["endotoxin"] == "NT" else 1)


def test_vendor_certificates_keep_what_was_reported(kg):
    graph = kg.graph
    for ident, coa in TRUTH["certificates"].items():
        results = {
            graph.value(m, CMC.measuredProperty): m
            for m in graph.subjects(CMC.onEntity, lot(ident))
        }
        if coa["vendor"] == "ResinCo":
            assert float(graph.value(results[CMCT.PH], QUDT.numericValue)) == coa["pH"]
            endotoxin = results[CMCT.Endotoxin]
            assert str(graph.value(endotoxin, CMC.reportedText)) == coa["endotoxin"]
            assert float(graph.value(endotoxin, CMC.censoringLimit)) == float(
                coa["endotoxin"].strip("< ")
            )
            appearance = results[CMCT.Appearance]
            assert graph.value(appearance, CMC.reportedConformance) == Literal(True)
        else:
            assert float(graph.value(results[CMCT.Assay], QUDT.numericValue)) == coa["assay"]
            assert str(graph.value(results[CMCT.WaterContent], CMC.reportedText)) == coa["water"]


def test_specifications_as_written(kg):
    graph = kg.graph
    for spec in TRUTH["specifications"]:
        iri = IriMinter().mint("specification", "mabz-example", spec["id"])
        assert str(graph.value(iri, CMC.specificationText)) == spec["criterion"]
        lower, upper = graph.value(iri, CMC.lowerLimit), graph.value(iri, CMC.upperLimit)
        criterion = spec["criterion"]
        if criterion.startswith(("≥", "NLT")):
            assert (float(lower), upper) == (float(criterion.split()[-1]), None)
        elif criterion.startswith(("≤", "NMT")):
            assert (lower, float(upper)) == (None, float(criterion.split()[-1]))
        elif "–" in criterion:
            low, high = (float(x) for x in criterion.split("–"))
            assert (float(lower), float(upper)) == (low, high)
        else:
            assert (lower, upper) == (None, None)
            assert (graph.value(iri, CMC.reportOnly) == Literal(True)) == (
                criterion == "Report result"
            )


def test_site_comparison_excludes_censored_results(kg):
    result = kg.compare(["monomer", "host cell protein"], "site=Site-North", "site=Site-South")
    table = result.table.set_index("attribute")
    north = [b for b, t in TRUTH["batches"].items() if t["site"] == "Site-North"]
    south = [b for b, t in TRUTH["batches"].items() if t["site"] == "Site-South"]
    for name, test in (("monomer", "Monomer"), ("host cell protein", "HCP")):
        ref = [TRUTH["qc"][b][test] for b in north if not isinstance(TRUTH["qc"][b][test], str)]
        tst = [TRUTH["qc"][b][test] for b in south if not isinstance(TRUTH["qc"][b][test], str)]
        row = table.loc[name]
        assert (row["n_ref"], row["n_test"]) == (len(ref), len(tst))
        assert row["mean_ref"] == pytest.approx(statistics.mean(ref))
        assert row["mean_test"] == pytest.approx(statistics.mean(tst))
    # the "<LOQ" HCP result is not among the reference values (two of three North batches)
    assert table.loc["host cell protein", "n_ref"] == len(north) - 1


# -- export, re-ingest, the cell a result points at, bad workbooks --------------------------------


def test_censored_result_survives_export_and_reingest(kg, tmp_path):
    planted = TRUTH["censored_pass"]
    dump = tmp_path / "graph.trig"
    dump.write_bytes(kg.export("trig"))
    dataset = Dataset()
    dataset.parse(dump, format="trig")
    censored = [
        (s, o)
        for s, _, o, _ in dataset.quads((None, CMC.reportedText, None, None))
        if str(o) == planted["reported"]
    ]
    ((measurement, text),) = censored
    facts = {(p, _plain(o)) for s, p, o, _ in dataset.quads((measurement, None, None, None))}
    assert (CMC.resultQualifier, Literal("<")) in facts
    assert (CMC.censoringLimit, Literal(planted["limit"])) in facts
    assert text == Literal(planted["reported"])
    # re-ingesting the source changes nothing, and the stored result reads as exported
    report = kg.ingest(HERE / "qc" / "HCP_ELISA.csv", mapping=HERE / "mappings" / "qc_hcp.yaml")
    summary = report.sources[0]
    assert summary.added == summary.replaced == 0
    assert summary.unchanged == summary.records == len(TRUTH["batches"]) + 1  # + local terms
    stored = {(p, _plain(o)) for p, o in kg.graph.predicate_objects(measurement)}
    assert stored == facts


def test_validation_result_on_a_workbook_value_names_file_sheet_and_cell(tmp_path):
    generate = _generator()
    batches = generate.make_batches(random.Random(generate.SEED))
    batch = next(b for b in batches if b.number == "ZS-24103")
    path = tmp_path / "ZS-24103.xlsx"
    cells = generate.build_workbook(batch, path, {"ipc_ph": 8.4})  # spec SPEC-Z-08: 6.8 – 7.6
    sheet = batch.site.step_sheets[2]
    with KnowledgeGraph.open("oxigraph:memory") as graph:
        graph.ingest(path, mapping=HERE / "mappings" / "batch_record.yaml")
        graph.ingest(HERE / "specifications.csv", mapping=HERE / "mappings" / "specifications.yaml")
        report = validate_store(graph.store, graph.minter, full=True)
    (result,) = report.at_or_above(Severity.VIOLATION)
    assert result.value == Literal(8.4)
    assert result.source.path == str(path)
    assert result.source.location == f"sheet={sheet}!{cells[sheet]['ipc_ph']}"
    assert "SPEC-Z-08" in result.message


def test_bad_workbook_is_one_line_naming_file_sheet_and_cell(tmp_path, capsys):
    store = f"oxigraph:{tmp_path / 'store'}"
    good = HERE / "site-south" / "ZS-24101.xlsx"
    assert (
        main(
            [
                "ingest",
                str(good),
                "--mapping",
                str(HERE / "mappings" / "batch_record.yaml"),
                "--store",
                store,
            ]
        )
        == 0
    )
    before = KnowledgeGraph.open(store)
    quads = before.store.count_quads()
    before.close()
    bad = tmp_path / "ZS-24102.xlsx"
    shutil.copy(HERE / "site-south" / "ZS-24102.xlsx", bad)
    workbook = load_workbook(bad)
    sheet = TRUTH["batches"]["ZS-24102"]["runs"][1]["sheet"]
    cell = TRUTH["batches"]["ZS-24102"]["cells"][sheet]["start"]
    workbook[sheet][cell] = "31/02/2024 08:00"  # no 31 February
    workbook.save(bad)
    capsys.readouterr()
    code = main(
        [
            "ingest",
            str(good),
            str(bad),
            "--mapping",
            str(HERE / "mappings" / "batch_record.yaml"),
            "--store",
            store,
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert str(bad) in err and f"sheet={sheet}!{cell}" in err and "Traceback" not in err
    after = KnowledgeGraph.open(store)
    assert after.store.count_quads() == quads
    after.close()


def test_missing_label_names_sheet_and_label(tmp_path):
    bad = tmp_path / "ZN-24001.xlsx"
    shutil.copy(HERE / "site-north" / "ZN-24001.xlsx", bad)
    workbook = load_workbook(bad)
    ws = workbook["Step 2 Capture"]
    for row in ws.iter_rows():
        for c in row:
            if c.value == "Output lot":
                c.value = "Lot out"
    workbook.save(bad)
    with KnowledgeGraph.open("oxigraph:memory") as graph, pytest.raises(Exception) as caught:
        graph.ingest(bad, mapping=HERE / "mappings" / "batch_record.yaml")
    text = str(caught.value)
    assert str(bad) in text and "sheet=Step 2 Capture" in text and "'Output lot'" in text


def test_generator_is_deterministic(tmp_path):
    """Rerunning the generator rewrites the committed files byte for byte."""
    copy = tmp_path / "batchrecords"
    shutil.copytree(HERE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location("gen_copy", copy / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.main()
    for path in sorted(HERE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            assert (copy / path.relative_to(HERE)).read_bytes() == path.read_bytes(), path


def test_truth_matches_the_qc_files_as_written():
    """truth.json and the QC exports agree (the tests above trust truth.json)."""
    with open(HERE / "qc" / "HCP_ELISA.csv", encoding="utf-8") as handle:
        hcp = {r["Batch"]: r["HCP (ng/mg)"] for r in csv.DictReader(handle)}
    assert {b: str(v["HCP"]) for b, v in TRUTH["qc"].items()} == hcp
    assert Path(HERE / "truth.json").stat().st_size < 50_000


def test_censored_results_are_counted_and_substituted_only_when_asked(kg, capsys):
    north = [b for b, t in TRUTH["batches"].items() if t["site"] == "Site-North"]
    south = [b for b, t in TRUTH["batches"].items() if t["site"] == "Site-South"]
    loq = TRUTH["hcp_loq"]
    hcp = {b: TRUTH["qc"][b]["HCP"] for b in north + south}
    excluded = kg.compare("host cell protein", "site=Site-North", "site=Site-South")
    (note,) = [n for n in excluded.notes if "censored" in n]
    assert "1 in the reference group and 0 in the test group" in note and "left out" in note
    half = kg.compare(
        "host cell protein", "site=Site-North", "site=Site-South", censored="half-limit"
    ).table.iloc[0]
    expected = [loq / 2 if v == "<LOQ" else v for b, v in hcp.items() if b in north]
    assert half["n_ref"] == len(north)
    assert half["mean_ref"] == pytest.approx(statistics.mean(expected))
    # summary: n leaves the censored result out and says so
    frame = kg.summary("host cell protein")
    (row,) = frame.to_dict("records")
    assert (row["n"], row["censored"]) == (len(hcp) - 1, 1)
    full = kg.summary("host cell protein", censored="limit").iloc[0]
    assert full["n"] == len(hcp)
    assert full["mean"] == pytest.approx(
        statistics.mean([loq if v == "<LOQ" else v for v in hcp.values()])
    )
    with pytest.raises(Exception, match="censored is one of"):
        kg.summary("host cell protein", censored="zero")


def test_document_mapping_typo_is_named_by_the_schema(tmp_path):
    from cmckg.errors import ConfigError
    from cmckg.kg import load_mapping

    text = (HERE / "mappings" / "batch_record.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "batch_record.yaml"
    bad.write_text(text.replace("  unit_operation:", "  unit_operaton:"), encoding="utf-8")
    with pytest.raises(ConfigError, match="unit_operaton"):
        load_mapping(bad)


def test_reingesting_the_documents_changes_nothing(kg):
    before = store_snapshot(kg.store)
    for group in example_groups():
        if group.name.startswith(GROUP) and "QC" not in group.name:
            report = kg.ingest(group.files, mapping=group.mapping)
            assert all(s.added == s.replaced == 0 for s in report.sources), group.name
    assert store_snapshot(kg.store) == before


def test_drivers_say_how_many_censored_results_they_left_out(kg):
    censored = sum(1 for values in TRUTH["qc"].values() if values["HCP"] == "<LOQ")
    notes = kg.drivers("host cell protein").notes
    assert f"host cell protein: {censored} censored results ('<0.5') left out" in notes
