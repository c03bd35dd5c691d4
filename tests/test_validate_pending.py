"""Pending marks: ingest marks each record graph it adds or changes ``cmc:validationPending``, an
incremental validation checks exactly the marked graphs and a recorded run removes their marks.

Sources are hand-written B2MML messages: tests/data/ingest/two-lots.xml (two lots, so two record
graphs) and one more lot written below (one record graph). A state recorded before the marks
existed, or before open results were kept (``cmc:version`` below 3), makes the next run full.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import BASE, TEST_DATA
from rdflib import Literal, URIRef

from cmckg import KnowledgeGraph
from cmckg.errors import MappingError
from cmckg.stores import ChangeSet
from cmckg.vocab import CMC, IriMinter

MINT = IriMinter(BASE)
META = MINT.metadata_graph
RUN = URIRef(BASE + "graph/meta/validation")
TWO_LOTS = TEST_DATA / "ingest" / "two-lots.xml"
MALFORMED = TEST_DATA / "b2mml" / "malformed.xml"
API1, API2, API3 = (MINT.mint("graph", "b2mml", "lot", f"API-LOT-{n}") for n in (1, 2, 3))
THIRD_LOT = """<?xml version="1.0" encoding="utf-8"?>
<SyncMaterialInformation xmlns="http://www.wbf.org/xml/B2MML-V0401">
  <DataArea>
    <Sync />
    <MaterialInformation>
      <MaterialLot>
        <ID>API-LOT-3</ID>
        <MaterialDefinitionID>API-X</MaterialDefinitionID>
        <MaterialLotProperty>
          <ID>Assay</ID>
          <Value><ValueString>99.1</ValueString><DataType>decimal</DataType><UnitOfMeasure>%</UnitOfMeasure></Value>
        </MaterialLotProperty>
      </MaterialLot>
    </MaterialInformation>
  </DataArea>
</SyncMaterialInformation>
"""


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(TWO_LOTS, folder / TWO_LOTS.name)
    (folder / "third-lot.xml").write_text(THIRD_LOT, encoding="utf-8")
    return folder


def pending(kg: KnowledgeGraph) -> dict[URIRef, list[Literal]]:
    """Every cmc:validationPending mark in the metadata graph: {graph: [values]}."""
    marks: dict[URIRef, list[Literal]] = {}
    for g, value in kg.store.query(
        "SELECT ?g ?v WHERE { GRAPH ?meta { ?g ?pending ?v } }",
        {"meta": META, "pending": CMC.validationPending},
    ).rows:
        marks.setdefault(g, []).append(value)
    return marks


def marked(*graphs: URIRef) -> dict[URIRef, list[Literal]]:
    return {g: [Literal(True)] for g in graphs}


def graphs_of(report) -> list[URIRef]:
    return [r.graph for r in report.records]


def test_incremental_validation_checks_exactly_the_marked_record(kg, src):
    kg.ingest(src / TWO_LOTS.name)
    assert pending(kg) == marked(API1, API2)  # the vocabulary graph is not a record to check

    first = kg.validate()
    assert (first.mode, first.note, graphs_of(first)) == (
        "full",
        "no earlier validation is recorded",
        sorted([API1, API2]),
    )
    assert pending(kg) == {}

    kg.ingest(src / "third-lot.xml")
    assert pending(kg) == marked(API3)
    unrecorded = kg.validate(record=False)
    assert (unrecorded.mode, graphs_of(unrecorded)) == ("incremental", [API3])
    assert pending(kg) == marked(API3)  # a run that records nothing keeps the marks

    third = kg.validate()
    assert (third.mode, graphs_of(third)) == ("incremental", [API3])
    assert pending(kg) == {}
    again = kg.validate()
    assert (again.mode, again.records, again.focus_nodes) == ("incremental", [], 0)


def test_reingest_of_unchanged_sources_marks_nothing(kg, src):
    kg.ingest([src / TWO_LOTS.name, src / "third-lot.xml"])
    kg.validate()
    report = kg.ingest([src / TWO_LOTS.name, src / "third-lot.xml"])
    assert report.changed == 0
    assert pending(kg) == {}
    assert graphs_of(kg.validate()) == []


def test_a_failed_ingest_marks_nothing(kg, src):
    kg.ingest(src / TWO_LOTS.name)
    kg.validate()
    with pytest.raises(MappingError, match="malformed.xml"):
        kg.ingest([src / "third-lot.xml", MALFORMED])
    assert pending(kg) == {}
    assert API3 not in kg.store.graph_names()
    assert graphs_of(kg.validate()) == []


def test_replaced_and_superseded_records(kg, src):
    two = src / TWO_LOTS.name
    kg.ingest(two)
    kg.validate()
    text = two.read_text(encoding="utf-8")
    start = text.index("<MaterialLot>\n        <ID>API-LOT-2")
    end = text.index("</MaterialLot>", start) + len("</MaterialLot>")
    two.write_text(text[:start] + text[end:], encoding="utf-8")  # API-LOT-2 vanishes
    kg.ingest(two)
    # the file's sha256 changed but API-LOT-1's content did not: neither graph is marked, and
    # the superseded API-LOT-2 (metadata gone, kept as a revision) is not either
    assert pending(kg) == {}
    assert graphs_of(kg.validate()) == []

    two.write_text(two.read_text(encoding="utf-8").replace("99.4", "97.0"), encoding="utf-8")
    kg.ingest(two)
    assert pending(kg) == marked(API1)
    two.write_text(two.read_text(encoding="utf-8").replace("97.0", "96.0"), encoding="utf-8")
    kg.ingest(two)  # replaced again before any validation: still one mark
    assert pending(kg) == marked(API1)
    assert graphs_of(kg.validate()) == [API1]
    assert pending(kg) == {}


def test_every_record_changed_makes_the_run_full(kg, src):
    two = src / TWO_LOTS.name
    kg.ingest(two)
    kg.validate()
    text = two.read_text(encoding="utf-8")
    two.write_text(text.replace("99.4", "97.0").replace("98.7", "96.0"), encoding="utf-8")
    kg.ingest(two)
    report = kg.validate()
    assert (report.mode, report.note, graphs_of(report)) == (
        "full",
        "every record graph changed",
        sorted([API1, API2]),
    )
    assert pending(kg) == {}


def test_a_state_from_an_older_cmckg_makes_the_next_run_full(src):
    """What an older cmckg left: a validation run of state version 2, which kept no open
    results, so a known violation would not be reported. The next run is full, then records
    version 3, and the one after is incremental again."""
    with KnowledgeGraph.open("oxigraph:memory", base_iri=BASE) as kg:
        kg.ingest(src / TWO_LOTS.name)
        kg.validate()
        kg.store.apply(
            ChangeSet(
                remove=[(RUN, CMC.version, Literal("3"), META)],
                add=[(RUN, CMC.version, Literal("2"), META)],
            )
        )
        report = kg.validate()
        assert (report.mode, report.note, graphs_of(report)) == (
            "full",
            "the recorded validation state is from an older cmckg",
            sorted([API1, API2]),
        )
        versions = kg.store.query(
            "SELECT ?v WHERE { GRAPH ?meta { ?run ?version ?v } }",
            {"meta": META, "run": RUN, "version": CMC.version},
        ).rows
        assert versions == [(Literal("3"),)]
        assert kg.validate().mode == "incremental"
