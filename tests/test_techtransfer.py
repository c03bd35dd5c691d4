"""The tech-transfer example (examples/techtransfer): a normalised MES/LIMS/ERP export.

Every expected answer comes from the generator's truth file (truth.json), never from cmckg.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import EXAMPLES

from cmckg.errors import MappingError
from cmckg.ingest import ingest_groups
from cmckg.kg import KnowledgeGraph, load_mapping

TT = EXAMPLES / "techtransfer"
TRUTH = json.loads((TT / "truth.json").read_text(encoding="utf-8"))
DS_LOTS = TRUTH["drug_substance_lots"]
RUNS = (TT / "runs.csv", TT / "mappings" / "runs.yaml")
INPUTS = (TT / "run_inputs.csv", TT / "mappings" / "run_inputs.yaml")
LOTS = (TT / "material_lots.csv", TT / "mappings" / "material_lots.yaml")


def _ingest(kg: KnowledgeGraph, *tables: tuple[Path, Path]):
    """One ingest of every (table, mapping) given."""
    return ingest_groups(
        kg.store, [([table], load_mapping(mapping)) for table, mapping in tables], kg.minter
    )


def one_table(folder: Path) -> tuple[Path, Path]:
    """The runs and their inputs as ONE table (inputs ';'-joined on the run's row), made from
    the two generated tables, and a mapping that reads it."""
    with open(RUNS[0], encoding="utf-8") as handle:
        runs = list(csv.DictReader(handle))
    with open(INPUTS[0], encoding="utf-8") as handle:
        inputs = list(csv.DictReader(handle))
    for run in runs:
        mine = [i for i in inputs if i["run"] == run["run"]]
        run["inputs"] = ";".join(i["input_lot"] for i in mine)
        run["quantities"] = ";".join(i["quantity"] for i in mine)
        run["units"] = ";".join(i["unit"] for i in mine)
    table = folder / "runs_with_inputs.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(runs[0]))
        writer.writeheader()
        writer.writerows(runs)
    mapping = load_mapping(RUNS[1])
    assert mapping is not None
    run = dict(mapping["entities"]["run"])
    run["used"] = [{"id": "{inputs}", "split": ";"}]
    config = {**mapping, "entities": {"run": run}, "__file__": str(folder / "one_table.yaml")}
    path = folder / "one_table.yaml"
    import yaml

    path.write_text(
        yaml.safe_dump({k: v for k, v in config.items() if k != "__file__"}), encoding="utf-8"
    )
    return table, path


def upstream(kg: KnowledgeGraph, lot: str, kind: str) -> list[str]:
    nodes = kg.lineage(lot, direction="backward").nodes
    return sorted(nodes.loc[nodes["kind"] == kind, "identifier"])


def chain(kg: KnowledgeGraph, lot: str) -> dict[str, list[str]]:
    """The identifiers upstream of ``lot`` by kind, as the truth file lists them."""
    nodes = kg.lineage(lot, direction="backward").nodes
    return {
        key: sorted(nodes.loc[nodes["kind"] == kind, "identifier"])
        for key, kind in (
            ("raw_materials", "raw_material_lot"),
            ("intermediates", "intermediate"),
            ("runs", "run"),
        )
    }


def expected_chain(truth: dict) -> dict[str, list[str]]:
    return {key: sorted(truth[key]) for key in ("raw_materials", "intermediates", "runs")}


def store(tmp_path: Path, name: str = "store") -> KnowledgeGraph:
    return KnowledgeGraph.open(f"oxigraph:{tmp_path / name}")


def lineage_nodes(kg: KnowledgeGraph) -> dict[str, list[tuple]]:
    return {
        lot: sorted(map(tuple, kg.lineage(lot).nodes[["iri", "kind", "depth"]].values))
        for lot in DS_LOTS
    }


LAYOUTS = [
    "one table",
    "two tables, one ingest",
    "two tables, one ingest, inputs first",
    "runs, then inputs",
    "inputs, then runs",
]


def ingest_layout(kg: KnowledgeGraph, layout: str, folder: Path) -> list[str]:
    """Ingest the lots and the runs in ``layout``; the warnings of every ingest."""
    warnings = _ingest(kg, LOTS).warnings
    if layout == "one table":
        warnings += _ingest(kg, one_table(folder)).warnings
    elif layout == "two tables, one ingest":
        warnings += _ingest(kg, RUNS, INPUTS).warnings
    elif layout == "two tables, one ingest, inputs first":
        warnings += _ingest(kg, INPUTS, RUNS).warnings
    elif layout == "runs, then inputs":
        warnings += _ingest(kg, RUNS).warnings + _ingest(kg, INPUTS).warnings
    else:
        warnings += _ingest(kg, INPUTS).warnings + _ingest(kg, RUNS).warnings
    return warnings


@pytest.mark.parametrize("layout", LAYOUTS)
def test_lineage_reaches_exactly_the_raw_materials_in_any_layout(
    layout: str, tmp_path: Path
) -> None:
    with store(tmp_path) as kg:
        ingest_layout(kg, layout, tmp_path)
        for lot, truth in DS_LOTS.items():
            assert chain(kg, lot) == expected_chain(truth), lot


def test_every_layout_gives_the_same_lineage(tmp_path: Path) -> None:
    answers = {}
    for layout in ("one table", "inputs, then runs"):
        with store(tmp_path, layout) as kg:
            ingest_layout(kg, layout, tmp_path)
            answers[layout] = lineage_nodes(kg)
    assert answers["one table"] == answers["inputs, then runs"]


def test_a_stopped_lineage_is_a_warning_until_the_other_side_arrives(tmp_path: Path) -> None:
    runs = sum(len(t["runs"]) for t in DS_LOTS.values())
    with store(tmp_path) as kg:
        warned = _ingest(kg, RUNS).warnings
        stops = [w for w in warned if "lineage stops" in w]
        # the first five runs by row, then one line counting the rest
        assert len(stops) == 6 and f"at {runs - 5} more" in stops[-1]
        assert stops[0].startswith(f"{RUNS[0]} row=2: lineage stops: run 'S-N1-R1001'")
        assert not [w for w in _ingest(kg, INPUTS).warnings if "lineage stops" in w]
    with KnowledgeGraph.open("memory:") as kg:  # the embedded in-memory store answers alike
        report = _ingest(kg, INPUTS, LOTS)
        assert not [w for w in report.warnings if "lineage stops" in w]


def test_rerunning_the_same_mappings_changes_nothing(tmp_path: Path) -> None:
    with store(tmp_path) as kg:
        _ingest(kg, LOTS, RUNS, INPUTS)
        before = kg.store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows
        again = _ingest(kg, LOTS, RUNS, INPUTS)
        assert again.changed == 0
        assert (
            kg.store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows == before
        )


def test_a_changed_row_supersedes_exactly_its_record(tmp_path: Path) -> None:
    """Moving one input of one run to another raw-material lot replaces that run's input record
    and nothing else, and lineage follows."""
    lot, truth = next(iter(DS_LOTS.items()))
    capture = truth["runs"][2]
    old_resin = next(r for r in truth["raw_materials"] if "PRA" in r)
    other = next(t for t in DS_LOTS.values() if t["site"] != truth["site"])
    new_resin = next(r for r in other["raw_materials"] if "PRA" in r)
    with open(INPUTS[0], encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    changed = [
        dict(r, input_lot=new_resin) if (r["run"], r["input_lot"]) == (capture, old_resin) else r
        for r in rows
    ]
    assert changed != rows
    table = tmp_path / "run_inputs.csv"
    with store(tmp_path) as kg:
        for content in (rows, changed):
            with open(table, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(content)
            report = _ingest(kg, LOTS, RUNS, (table, INPUTS[1]))
        (summary,) = [s for s in report.sources if s.path == str(table)]
        assert (summary.replaced, summary.added, summary.superseded) == (1, 0, 0)
        assert sum(s.replaced + s.added + s.superseded for s in report.sources) == 1
        raw = upstream(kg, lot, "raw_material_lot")
        assert raw == sorted({*truth["raw_materials"]} - {old_resin} | {new_resin})


def test_two_mappings_naming_one_entity_are_refused_not_superseded(tmp_path: Path) -> None:
    """The inputs table mapped with the runs table's entity name would replace every run
    record: refused in one line, the store left as it was."""
    mapping = load_mapping(INPUTS[1])
    assert mapping is not None
    clash = {
        **mapping,
        "entities": {"run": mapping["entities"]["run_input"]},
        "__file__": str(tmp_path / "inputs_as_run.yaml"),
    }
    with store(tmp_path) as kg:
        _ingest(kg, LOTS, RUNS)
        before = lineage_nodes(kg)
        with pytest.raises(MappingError) as raised:
            ingest_groups(kg.store, [([INPUTS[0]], clash)], kg.minter)
        message = str(raised.value)
        assert "\n" not in message
        assert "'inputs_as_run.yaml' would replace" in message and "'runs.yaml'" in message
        assert "name of its own" in message
        assert lineage_nodes(kg) == before
        # named apart, both sides stand and lineage is whole
        _ingest(kg, INPUTS)
        for lot, truth in DS_LOTS.items():
            assert chain(kg, lot) == expected_chain(truth), lot


# -- the whole example, as `cmckg demo` ingests it


TABLES = [
    ("material_lots.csv", "material_lots.yaml"),
    ("runs.csv", "runs.yaml"),
    ("run_inputs.csv", "run_inputs.yaml"),
    ("coa_results.csv", "coa_results.yaml"),
    ("site-s/lims_results.csv", "lims_results_site_s.yaml"),
    ("site-r/lims_results.csv", "lims_results_site_r.yaml"),
    ("specifications.csv", "specifications.yaml"),
]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory):
    with KnowledgeGraph.open(f"oxigraph:{tmp_path_factory.mktemp('tt') / 'store'}") as kg:
        for table, mapping in TABLES:
            kg.ingest([TT / table], mapping=TT / "mappings" / mapping)
        yield kg


def test_the_example_is_what_cmckg_demo_ingests() -> None:
    from cmckg.examples import example_groups

    demo = {
        (f.relative_to(EXAMPLES).as_posix(), g.mapping.name if g.mapping else None)
        for g in example_groups()
        for f in g.files
    }
    assert {(f"techtransfer/{t}", m) for t, m in TABLES} <= demo


def test_the_planted_coa_attribute_outside_the_bundled_vocabulary_drives_first(example) -> None:
    planted = TRUTH["driver"]
    table = example.drivers(planted["quality_attribute"]).table
    top = table.iloc[0]
    assert (top["material"], top["attribute"]) == (
        planted["material"],
        planted["raw_material_attribute"],
    )
    assert top["n"] == len(DS_LOTS)
    assert top["slope"] == pytest.approx(planted["slope_per_ug_per_L"], rel=0.1)


def test_titer_from_the_two_sites_compares_in_one_unit(example) -> None:
    """Site-S writes g/L and Site-R mg/L (truth.json); both land in g/L on the harvest."""
    assert TRUTH["titer_units"] == {"Site-S": "g/L", "Site-R": "mg/L"}
    table = example.compare(["titer"], "site=Site-S", "site=Site-R").table
    (row,) = table.to_dict("records")
    assert (row["unit"], row["stage"]) == ("g/L", "InProcess")
    for site, column in (("Site-S", "mean_ref"), ("Site-R", "mean_test")):
        titers = [t["titer"] for t in DS_LOTS.values() if t["site"] == site]
        assert row[column] == pytest.approx(sum(titers) / len(titers))


def test_an_intermediate_attribute_is_compared_per_stage(example) -> None:
    """HCP is measured on the protein A eluate (in-process) and on the drug substance
    (release): two rows, each with its own stage and values."""
    table = example.compare(["HCP"], "site=Site-S", "site=Site-R").table.set_index("stage")
    assert sorted(table.index) == ["InProcess", "Release"]
    for stage, key in (("InProcess", "eluate_hcp"), ("Release", "hcp")):
        values = [t[key] for t in DS_LOTS.values() if t["site"] == "Site-S"]
        assert table.loc[stage, "mean_ref"] == pytest.approx(sum(values) / len(values))


def test_only_the_planted_lot_fails_its_specification(example) -> None:
    report = example.validate(full=True, record=False)
    violations = [r for r in report.results if "specification" in r.message.casefold()]
    assert [str(r.focus).split("/lot/")[1].split("/")[0] for r in violations] == [
        TRUTH["out_of_specification"]["lot"]
    ]
    assert float(violations[0].value) == TRUTH["out_of_specification"]["value"]


def test_a_unit_qudt_lacks_lands_as_declared(example) -> None:
    """Site-R's turbidity is in FNU (declared in vocab.yaml); its values are stored in FNU."""
    rows = example.store.query(
        "PREFIX qudt: <http://qudt.org/schema/qudt/> PREFIX cmc: <https://w3id.org/cmckg/ontology#>"
        " SELECT ?v ?u WHERE { ?m qudt:unit ?u ; qudt:numericValue ?v ; cmc:onEntity ?lot . "
        "?lot cmc:identifier ?id . FILTER(STRSTARTS(?id, 'R-HV-')) "
        "FILTER(CONTAINS(STR(?u), 'FNU')) }"
    ).rows
    expected = sorted(t["turbidity"] for t in DS_LOTS.values() if t["site"] == "Site-R")
    assert sorted(float(v) for v, _ in rows) == expected


# -- row filters


def test_where_maps_only_the_rows_it_names_and_a_lot_nothing_made_is_a_warning(
    tmp_path: Path,
) -> None:
    """Type Site-S's drug-substance lots from the runs table's polishing rows only (no run):
    each is a lot whose lineage stops, said at ingest."""
    mapping = tmp_path / "ds_lots.yaml"  # through the file: the mapping schema knows `where`
    mapping.write_text(
        "mapping: 1\nissuer: techtransfer\n"
        "where: {step: AEX polishing, site: [Site-S]}\n"
        "entities:\n  ds:\n    type: DrugSubstanceBatch\n    id: '{output_lot}'\n"
        "    product: {type: Product, id: '{product}'}\n",
        encoding="utf-8",
    )
    site_s = sorted(lot for lot, t in DS_LOTS.items() if t["site"] == "Site-S")
    with store(tmp_path) as kg:
        report = _ingest(kg, (RUNS[0], mapping))
        assert report.records == len(site_s)
        stops = [w for w in report.warnings if "lineage stops" in w]
        assert [w.split("lot '")[1].split("'")[0] for w in stops[:5]] == site_s[:5]
        assert f"at {len(site_s) - 5} more" in stops[5]
        # the runs arrive: the lots are made by runs now, and nothing stops any more
        assert not [w for w in _ingest(kg, RUNS, INPUTS, LOTS).warnings if "stops" in w]


def test_where_on_a_missing_column_is_refused_naming_it(tmp_path: Path) -> None:
    config = {
        "mapping": 1,
        "issuer": "techtransfer",
        "where": {"stage": "x"},
        "entities": {"run": {"type": "ProcessRun", "id": "{run}"}},
    }
    with store(tmp_path) as kg, pytest.raises(MappingError) as raised:
        ingest_groups(kg.store, [([RUNS[0]], config)], kg.minter)
    assert "missing required column 'stage'" in str(raised.value)
    assert "where.stage" in str(raised.value)


def test_drivers_of_an_intermediate_attribute_say_its_stage(example) -> None:
    """Titer is measured on the harvest (in-process): drivers find a value for every DS lot
    through lineage and say which stage's results they used."""
    result = example.drivers("titer")
    assert set(result.table["n"]) == {len(DS_LOTS)}
    assert "titer: InProcess results" in result.notes


def _derived_graphs(kg: KnowledgeGraph) -> int:
    """Derived lineage graphs (one per run); the analytics layer's graphs are not counted."""
    prefix = f"{kg.minter.base}graph/derived/run/"
    rows = kg.store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }").rows
    return sum(str(g).startswith(prefix) for (g,) in rows)


def test_a_pair_a_record_stops_stating_is_derived_from_the_runs(tmp_path: Path) -> None:
    """One table states every (output, input) pair itself: nothing is derived. When that table
    stops naming inputs and a run-inputs table names them, the pairs are derived instead."""
    table, mapping = one_table(tmp_path)
    with store(tmp_path) as kg:
        _ingest(kg, LOTS, (table, mapping))
        assert _derived_graphs(kg) == 0
        with open(table, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        with open(table, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(dict(r, inputs="", quantities="", units="") for r in rows)
        _ingest(kg, (table, mapping), INPUTS)
        assert _derived_graphs(kg) == sum(len(t["runs"]) for t in DS_LOTS.values())
        for lot, truth in DS_LOTS.items():
            assert chain(kg, lot) == expected_chain(truth), lot


def test_two_mappings_of_one_file_keep_each_others_records(tmp_path: Path) -> None:
    """The runs table read again by another mapping (its polishing rows as DS lots) leaves the
    run records the first mapping made: lineage stays whole."""
    mapping = tmp_path / "ds_lots.yaml"
    mapping.write_text(
        "mapping: 1\nissuer: techtransfer\nwhere: {step: AEX polishing}\n"
        "terms: {AEX polishing: anion exchange chromatography}\n"
        "entities:\n  ds:\n    type: DrugSubstanceBatch\n    id: '{output_lot}'\n"
        "    product: {type: Product, id: '{product}'}\n",
        encoding="utf-8",
    )
    with store(tmp_path) as kg:
        _ingest(kg, LOTS, RUNS, INPUTS)
        report = _ingest(kg, (RUNS[0], mapping))
        assert sum(s.superseded + s.replaced for s in report.sources) == 0
        assert report.records == len(DS_LOTS)
        for lot, truth in DS_LOTS.items():
            assert chain(kg, lot) == expected_chain(truth), lot
