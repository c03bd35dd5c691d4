"""Incremental validation: only record graphs changed since the last run, plus what they reference.

The small cases run on every store backend (in-memory rdflib, Oxigraph, a real SPARQL server);
the Žagar case adds one batch record to the ingested 1,005-batch table and compares the
incremental run with a full one.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import EXAMPLES, store_location
from rdflib import Literal
from test_validate import LIMS, M1, SPEC, SPEC_SHAPE, SPECS, records

from cmckg.ingest import ingest, ingest_records
from cmckg.kg import KnowledgeGraph, load_mapping
from cmckg.stores import open_store
from cmckg.validate import Severity, validate_store
from cmckg.vocab import CMC, QUDT, IriMinter

MINTER = IriMinter()


def test_incremental_runs_on_every_store(store_kind: str, tmp_path: Path):
    store = open_store(store_location(store_kind, tmp_path))
    try:
        ingest_records(store, records(), MINTER)
        first = validate_store(store, MINTER)
        assert (first.mode, first.note, len(first.records), first.results) == (
            "full",
            "no earlier validation is recorded",
            3,
            [],
        )

        unchanged = validate_store(store, MINTER)
        assert (unchanged.mode, unchanged.records, unchanged.focus_nodes) == ("incremental", [], 0)

        # re-ingest the LIMS record with an out-of-specification value: only it is validated
        ingest_records(
            store,
            [
                r
                for r in records(
                    remove=[(M1, QUDT.numericValue, None, LIMS)],
                    add=[(M1, QUDT.numericValue, Literal(3.4), LIMS)],
                )
                if r.graph_iri == LIMS
            ],
            MINTER,
        )
        changed = validate_store(store, MINTER)
        assert changed.mode == "incremental"
        assert [r.graph for r in changed.records] == [LIMS]
        # the LIMS record mentions the sample, the measurement, DS-1 and the equipment
        assert changed.focus_nodes == 4
        assert [
            (r.severity, r.focus, r.value, r.shape_name, r.source.location) for r in changed.results
        ] == [(Severity.VIOLATION, M1, Literal(3.4), SPEC_SHAPE, "/samples/0/results/0")]

        again = validate_store(store, MINTER)
        assert (again.mode, again.records) == ("incremental", [])
    finally:
        store.close()


def test_state_is_kept_in_the_metadata_graph():
    store = open_store("oxigraph:memory")
    ingest_records(store, records(), MINTER)
    validate_store(store, MINTER)
    rows = store.query(
        "SELECT ?g ?content ?validated WHERE { GRAPH ?meta { "
        "?g ?contentSha ?content ; ?validatedSha ?validated } }",
        {
            "meta": MINTER.metadata_graph,
            "contentSha": CMC.contentSha256,
            "validatedSha": CMC.validatedSha256,
        },
    ).rows
    assert len(rows) == 3
    assert all(content == validated for _, content, validated in rows)


def test_changed_specification_makes_the_next_run_full():
    store = open_store("oxigraph:memory")
    ingest_records(store, records(), MINTER)
    validate_store(store, MINTER)
    narrower = [
        r
        for r in records(
            remove=[(SPEC, CMC.upperLimit, None, SPECS)],
            add=[(SPEC, CMC.upperLimit, Literal(1.0), SPECS)],
        )
        if r.graph_iri == SPECS
    ]
    ingest_records(store, narrower, MINTER)
    report = validate_store(store, MINTER)
    assert report.mode == "full"
    assert report.note == "the shapes or specifications changed since the last validation"
    # the old measurement (1.2 %) is now out of the narrower limit
    assert [(r.focus, r.value) for r in report.results] == [(M1, Literal(1.2))]


def test_knowledge_graph_validate():
    with KnowledgeGraph.open("memory:") as kg:
        kg.ingest_records(records())
        assert [kg.validate().mode, kg.validate().mode] == ["full", "incremental"]
        assert kg.validate(full=True).records != []


def test_read_only_run_changes_nothing(tmp_path: Path):
    location = f"oxigraph:{tmp_path / 'store'}"
    store = open_store(location)
    ingest_records(store, records(), MINTER)
    store.close()
    store = open_store(location, read_only=True)
    before = sorted(store.quads(), key=str)
    report = validate_store(store, MINTER, record=False)
    assert report.mode == "full"
    assert sorted(store.quads(), key=str) == before
    store.close()


@pytest.fixture(scope="module")
def zagar(tmp_path_factory: pytest.TempPathFactory):
    """The Žagar store, validated in full once (state recorded), then one batch record added."""
    directory = tmp_path_factory.mktemp("zagar")
    mapping = load_mapping(EXAMPLES / "zagar2022" / "mapping.yaml")
    store = open_store(f"oxigraph:{directory / 'store'}")
    ingest(store, [EXAMPLES / "zagar2022" / "Laboratory.csv"], MINTER, mapping)
    first = validate_store(store, MINTER, full=True)

    with open(EXAMPLES / "zagar2022" / "Laboratory.csv", encoding="utf-8", newline="") as handle:
        header, row = list(csv.reader(handle, delimiter=";"))[:2]
    row[header.index("batch")] = "9001"
    extra = directory / "extra-batch.csv"
    with open(extra, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([header, row])
    ingest(store, [extra], MINTER, mapping)
    incremental = validate_store(store, MINTER)
    full = validate_store(store, MINTER, full=True, record=False)
    yield first, incremental, full, str(extra)
    store.close()


def test_zagar_validates_without_violations(zagar):
    first, _, _, _ = zagar
    assert first.mode == "full"
    assert len(first.records) >= 1005
    assert first.counts()[Severity.VIOLATION] == 0


def test_incremental_after_one_record_checks_far_fewer_focus_nodes(zagar):
    _, incremental, full, extra = zagar
    assert incremental.mode == "incremental"
    # the batch's record graph and the file's local-terms record (the mapping's aliases)
    ids = sorted(r.record_id for r in incremental.records)
    assert ids[0] == "9001" and ids[1].startswith("local-terms/")
    assert {r.source_path for r in incremental.records} == {extra}
    assert incremental.focus_nodes * 50 < full.focus_nodes


def test_incremental_gives_the_full_runs_results_for_the_new_record(zagar):
    _, incremental, full, extra = zagar

    def of_new_record(report):
        return sorted((r.key() for r in report.results if r.source.path == extra), key=repr)

    found = of_new_record(incremental)
    assert found  # the new batch's runs name no site, equipment, version or time
    assert found == of_new_record(full)


OPEN_RESULTS = (
    "SELECT ?g WHERE { GRAPH ?meta { ?g ?open ?text } }",
    {"meta": MINTER.metadata_graph, "open": CMC.openResults},
)


def out_of_spec() -> list:
    return records(
        remove=[(M1, QUDT.numericValue, None, LIMS)],
        add=[(M1, QUDT.numericValue, Literal(3.4), LIMS)],
    )


def test_open_results_stay_reported_until_their_record_changes():
    store = open_store("oxigraph:memory")
    ingest_records(store, out_of_spec(), MINTER)
    first = validate_store(store, MINTER)
    assert [(r.severity, r.focus, r.value) for r in first.results] == [
        (Severity.VIOLATION, M1, Literal(3.4))
    ]
    assert store.query(*OPEN_RESULTS).rows == [(LIMS,)]  # kept on the record it is traced to

    again = validate_store(store, MINTER)
    assert (again.mode, again.records, again.carried) == ("incremental", [], 1)
    assert [r.key() for r in again.results] == [r.key() for r in first.results]
    assert again.failed()

    # a run that is not recorded changes nothing: the next one still carries the violation
    validate_store(store, MINTER, record=False)
    assert [r.key() for r in validate_store(store, MINTER).results] == [
        r.key() for r in first.results
    ]

    # the fixed record replaces the old one: ingest drops its open results with its metadata
    ingest_records(store, [r for r in records() if r.graph_iri == LIMS], MINTER)
    assert store.query(*OPEN_RESULTS).rows == []
    fixed = validate_store(store, MINTER)
    assert (fixed.mode, [r.graph for r in fixed.records], fixed.results) == (
        "incremental",
        [LIMS],
        [],
    )
    assert validate_store(store, MINTER).results == []


def test_another_records_change_rechecks_the_open_results_about_its_nodes():
    """The violation is traced to the LIMS record; the specification record changes (a wider
    limit), which makes the run full, and the result is no longer open."""
    store = open_store("oxigraph:memory")
    ingest_records(store, out_of_spec(), MINTER)
    assert validate_store(store, MINTER).failed()
    wider = [
        r
        for r in records(
            remove=[(SPEC, CMC.upperLimit, None, SPECS)],
            add=[(SPEC, CMC.upperLimit, Literal(5.0), SPECS)],
        )
        if r.graph_iri == SPECS
    ]
    ingest_records(store, wider, MINTER)
    report = validate_store(store, MINTER)
    assert (report.mode, report.results) == ("full", [])
    assert store.query(*OPEN_RESULTS).rows == []
    assert validate_store(store, MINTER).results == []


def test_results_read_back_as_they_were_written():
    from rdflib import BNode, URIRef
    from rdflib.namespace import PROV, SH

    from cmckg.validate.results import Source as Src
    from cmckg.validate.results import ValidationResult, read_results, results_graph

    path = BNode()
    result = ValidationResult(
        severity=Severity.WARNING,
        focus=M1,
        path=path,
        value=Literal("x"),
        shape=BNode(),
        shape_label="Run produces a lot",
        constraint=SH.MinCountConstraintComponent,
        message="The run produces no lot",
        source=Src(LIMS, "lims-1", "a/b.json", "/x/0"),
        path_triples=((path, SH.inversePath, PROV.wasGeneratedBy),),
    )
    plain = ValidationResult(
        severity=Severity.VIOLATION,
        focus=URIRef("urn:x"),
        path=None,
        value=None,
        shape=URIRef("urn:shape"),
        shape_label="urn:shape",
        constraint=None,
        message="m",
    )
    back = read_results(results_graph([result, plain]))
    assert sorted((r.key() for r in back), key=str) == sorted((result.key(), plain.key()), key=str)
    assert {r.path_text for r in back} == {"^prov:wasGeneratedBy", None}
    assert {r.shape_label for r in back} == {"Run produces a lot", "urn:shape"}
