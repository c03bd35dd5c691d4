"""cmckg.build: records made in code carry the same IRIs and shapes as mapped records, resolve
site names through the term schemes, and ingest and answer lineage like files."""

from __future__ import annotations

import pytest
from conftest import BASE, EXAMPLES, REPO
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, SKOS, XSD

from cmckg import KnowledgeGraph, build
from cmckg.errors import ConfigError, MappingError
from cmckg.mappers import MapContext, file_sha256
from cmckg.mappers.b2mml import B2mmlMapper
from cmckg.vocab import CMC, QUDT, UNIT, IriMinter

MINT = IriMinter(BASE)
TERMS = REPO / "ontology" / "terms"


def concept_named(label: str, scheme_file: str) -> URIRef:
    """Read a term scheme with plain rdflib: the one concept whose pref/alt label is ``label``."""
    g = Graph().parse(TERMS / scheme_file)
    found = {
        s
        for p in (SKOS.prefLabel, SKOS.altLabel)
        for s, o in g.subject_objects(p)
        if str(o).casefold() == label.casefold()
    }
    assert len(found) == 1, found
    return found.pop()


def default_unit(concept: URIRef, scheme_file: str) -> URIRef:
    return Graph().parse(TERMS / scheme_file).value(concept, CMC.defaultUnit)


def by_subject(graph: Graph, subject: URIRef) -> dict:
    return {p: o for p, o in graph.predicate_objects(subject)}


@pytest.fixture
def record() -> build.Record:
    rec = build.Record("batch-record-B1", issuer="site-a", minter=MINT)
    lactose = rec.lot(
        "L1", material="lactose", kind="raw_material_lot", supplier="DFE", expires="2026-01-31"
    )
    api = rec.lot("API-7", material="API-X", kind="raw_material")
    batch = rec.lot(
        "B1", kind="drug_product", product="P-25", site="Site-A", manufactured="2024-03-02"
    )
    run = rec.run(
        "R1",
        inputs=[build.Input(lactose, 12.5, "kg"), api],
        outputs=[batch],
        unit_operation="blending",
        site="Site-A",
        equipment=["BL-1", "SCALE-2"],
        process_version="v2",
        start="2024-03-02T08:00:00Z",
        end="2024-03-02T09:30:00Z",
    )
    rec.measurement(
        batch,
        "dissolution",
        91.2,
        "%",
        stage="release",
        method="USP <711>",
        device="DISSO-3",
        time="2024-03-05T10:00:00Z",
    )
    rec.measurement(batch, "pH", 6.5)
    rec.measurement(run, "pH", 7.02)
    rec.measurement(batch, "appearance", "white round tablets")
    sample = rec.sample("S-1", of=batch)
    rec.measurement(sample, "water content", 2.1, "%")
    return rec


def test_iris_are_minted_from_kind_issuer_and_local_id(record):
    g = record.graph()
    assert record.graph_iri == URIRef(BASE + "graph/site-a/batch-record-B1")
    for kind, local in (
        ("lot", "L1"),
        ("lot", "B1"),
        ("run", "R1"),
        ("material", "lactose"),
        ("supplier", "DFE"),
        ("product", "P-25"),
        ("site", "Site-A"),
        ("equipment", "BL-1"),
        ("process-version", "v2"),
        ("sample", "S-1"),
    ):
        iri = URIRef(f"{BASE}{kind}/site-a/{local}")
        assert (iri, CMC.identifier, Literal(local)) in g, iri
        assert (iri, CMC.sourceLocation, None) in g
    assert not any(isinstance(t, BNode) for triple in g for t in triple)


def test_lots_runs_and_lineage(record):
    g = record.graph()
    lot, batch, run = (
        URIRef(BASE + p) for p in ("lot/site-a/L1", "lot/site-a/B1", "run/site-a/R1")
    )
    api = URIRef(BASE + "lot/site-a/API-7")
    assert (lot, RDF.type, CMC.RawMaterialLot) in g
    assert (api, RDF.type, CMC.RawMaterialLot) in g
    assert (batch, RDF.type, CMC.DrugProductBatch) in g
    assert (lot, CMC.expiryDate, Literal("2026-01-31", datatype=XSD.date)) in g
    assert (batch, CMC.manufactureDate, Literal("2024-03-02", datatype=XSD.date)) in g
    assert set(g.objects(run, PROV.used)) == {lot, api}
    assert (batch, PROV.wasGeneratedBy, run) in g
    assert set(g.objects(batch, PROV.wasDerivedFrom)) == {lot, api}
    assert (run, CMC.unitOperation, concept_named("blending", "unit-operations.ttl")) in g
    assert len(set(g.objects(run, CMC.usedEquipment))) == 2
    assert (run, PROV.startedAtTime, None) in g and (run, PROV.endedAtTime, None) in g
    usage = URIRef(BASE + "run/site-a/R1/usage/1")
    assert by_subject(g, usage) | {CMC.sourceLocation: None} == {
        RDF.type: CMC.Usage,
        CMC.ofRun: run,
        CMC.usedLot: lot,
        QUDT.numericValue: Literal(12.5, datatype=XSD.double),
        QUDT.unit: UNIT.KiloGM,
        CMC.sourceLocation: None,
    }
    assert len(list(g.subjects(RDF.type, CMC.Usage))) == 1  # the api input has no quantity
    material = URIRef(BASE + "material/site-a/lactose")
    assert (material, CMC.materialType, concept_named("lactose", "materials.ttl")) in g
    assert (URIRef(BASE + "material/site-a/API-X"), CMC.materialType, None) not in g


def test_measurements_resolve_terms_units_and_stages(record):
    g = record.graph()
    measurements = {}
    for m in g.subjects(RDF.type, CMC.Measurement):
        values = by_subject(g, m)
        measurements[(values[CMC.onEntity], values[CMC.measuredProperty])] = values
    batch, run = URIRef(BASE + "lot/site-a/B1"), URIRef(BASE + "run/site-a/R1")
    dissolution = measurements[(batch, concept_named("dissolution", "quality-attributes.ttl"))]
    assert float(dissolution[QUDT.numericValue]) == 91.2
    assert dissolution[QUDT.unit] == UNIT.PERCENT
    assert dissolution[CMC.stage] == concept_named("release", "stages.ttl")
    assert dissolution[CMC.method] == Literal("USP <711>")
    assert dissolution[CMC.device] == URIRef(BASE + "equipment/site-a/DISSO-3")
    assert dissolution[CMC.resultTime].datatype == XSD.dateTime
    # "pH" names a quality attribute on a lot and a process parameter on a run
    lot_ph = concept_named("pH", "quality-attributes.ttl")
    run_ph = concept_named("pH", "process-parameters.ttl")
    assert lot_ph != run_ph
    assert measurements[(batch, lot_ph)][QUDT.unit] == default_unit(
        lot_ph, "quality-attributes.ttl"
    )
    assert float(measurements[(run, run_ph)][QUDT.numericValue]) == 7.02
    text = measurements[(batch, concept_named("appearance", "quality-attributes.ttl"))]
    assert text[CMC.textValue] == Literal("white round tablets")
    assert QUDT.numericValue not in text
    assert (URIRef(BASE + "sample/site-a/S-1"), CMC.sampleOf, batch) in g
    assert len(measurements) == 5


def test_same_iris_and_shapes_as_the_b2mml_mapper():
    path = EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml"
    (mapped,) = B2mmlMapper().map(MapContext(MINT, path, file_sha256(path)), None)
    mapped_graph = mapped.triples.to_graph()
    rec = build.Record("same-lot", issuer="b2mml", minter=MINT)
    lot = rec.lot("CRBN0001_LOT01", material="CRBN0001")
    rec.run("Weighing", inputs=[build.Input(lot, 0.41, "kg")])
    built = rec.graph()
    material = URIRef(BASE + "material/b2mml/CRBN0001")
    for triple in (
        (lot.iri, RDF.type, CMC.MaterialLot),
        (lot.iri, CMC.ofMaterial, material),
        (lot.iri, CMC.identifier, Literal("CRBN0001_LOT01")),
        (material, RDF.type, CMC.Material),
    ):
        assert triple in built and triple in mapped_graph
    mapped_usage = next(mapped_graph.subjects(RDF.type, CMC.Usage))
    built_usage = next(built.subjects(RDF.type, CMC.Usage))
    assert set(mapped_graph.predicates(mapped_usage)) == set(built.predicates(built_usage))
    assert mapped_graph.value(mapped_usage, QUDT.unit) == built.value(built_usage, QUDT.unit)
    assert str(built_usage).endswith("/usage/1") and str(mapped_usage).endswith("/usage/1")


def test_micro_signs_and_symbols_resolve_to_one_unit():
    rec = build.Record("units", minter=MINT)
    lot = rec.lot("L")
    a = rec.measurement(lot, "HCP", 12.0, "\u00b5g/mL")  # micro sign
    b = rec.measurement(lot, "HCP", 13.0, "\u03bcg/mL")  # Greek mu
    g = rec.graph()
    assert g.value(a.iri, QUDT.unit) == g.value(b.iri, QUDT.unit) == UNIT["MicroGM-PER-MilliL"]


@pytest.mark.parametrize(
    ("call", "field", "text"),
    [
        (lambda r, lot: r.measurement(lot, "titr", 1.0, "g/L"), "property", "nearest known labels"),
        (
            lambda r, lot: r.measurement(lot, "titer", 1.0, "furlongs per fortnight"),
            "unit",
            "unknown unit",
        ),
        (lambda r, lot: r.measurement(lot, "titer", "high", "g/L"), "unit", "text result"),
        (lambda r, lot: r.measurement(lot, "titer", True, "g/L"), "value", "not a number"),
        (
            lambda r, lot: r.measurement(lot, "titer", 1.0, "g/L", stage="somewhen"),
            "stage",
            "unknown term",
        ),
        (lambda r, lot: r.lot("X", kind="finished_goods"), "kind", "unknown lot kind"),
        (lambda r, lot: r.lot("X", expires="31/01/2026"), "expires", "not a date"),
        (lambda r, lot: r.run("R", start="yesterday"), "start", "not a date and time"),
        (lambda r, lot: r.run("R", unit_operation="magic"), "unit_operation", "unknown term"),
    ],
)
def test_mistakes_raise_one_line_errors_naming_record_place_and_field(call, field, text):
    rec = build.Record("bad", issuer="site-b", minter=MINT)
    lot = rec.lot("L1")
    with pytest.raises(MappingError) as info:
        call(rec, lot)
    message = str(info.value)
    assert "build:site-b/bad" in message and f"field '{field}'" in message
    assert text in message and "\n" not in message


def test_a_numeric_result_without_unit_or_default_unit_is_an_error():
    rec = build.Record("no-unit", minter=MINT)
    concept = concept_named("appearance", "quality-attributes.ttl")
    assert default_unit(concept, "quality-attributes.ttl") is None
    with pytest.raises(MappingError, match="needs a unit"):
        rec.measurement(rec.lot("L"), "appearance", 3.0)


def test_built_records_ingest_and_answer_lineage(record):
    with KnowledgeGraph.open("memory:", base_iri=BASE) as kg:
        report = kg.ingest_records([record])
        assert report.records == 1 and report.triples == len(record.graph())
        rows = kg.query(
            "PREFIX prov: <http://www.w3.org/ns/prov#> "
            "PREFIX cmc: <https://w3id.org/cmckg/ontology#> "
            "SELECT ?id WHERE { ?batch prov:wasDerivedFrom ?lot . ?lot cmc:identifier ?id }",
            batch=URIRef(BASE + "lot/site-a/B1"),
        )
        assert sorted(rows["id"]) == ["API-7", "L1"]
        stored = kg.store.graph(record.graph_iri)
        assert len(stored) == len(record.graph())


def test_a_record_minted_under_another_base_is_refused():
    rec = build.Record("elsewhere", minter=IriMinter("https://example.org/id/"))
    rec.lot("L1")
    with KnowledgeGraph.open("memory:", base_iri=BASE) as kg:
        with pytest.raises(ConfigError, match="minter=kg.minter"):
            kg.ingest_records([rec])
        assert kg.store.count_quads() == 0
