"""B2MML / BatchML mapper: every vendored example maps; expected values read from the XML with
plain ElementTree (not the mapper); lineage asked of the store after ingest."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import BASE, EXAMPLES, TEST_DATA, assert_refused_unchanged
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

from cmckg import KnowledgeGraph
from cmckg.errors import ConfigError, MappingError
from cmckg.mappers import MapContext, file_sha256, mapper_for
from cmckg.mappers.b2mml import B2mmlMapper
from cmckg.vocab import CMC, CMCT, QUDT, UNIT, IriMinter

B2MML_DIR = EXAMPLES / "b2mml"
V0401 = "http://www.wbf.org/xml/B2MML-V0401"
BATCHML = "http://www.wbf.org/xml/BatchML-V02"
NS = {"b2mml": V0401}
PES = B2MML_DIR / "PES-20121229115825-53107.xml"
LOT = B2MML_DIR / "LOT-20121210170718-0001L0001.xml"
INV = B2MML_DIR / "INV-20121210175555-0001L0001_01.xml"
MAT = B2MML_DIR / "MAT-20121210170256-CRBN0001.xml"
PRO = B2MML_DIR / "PRO-20121210181416-27942.xml"
RECIPE = B2MML_DIR / "cough-syrup-pmw.xml"


def map_file(path: Path, config: dict | None = None) -> list:
    context = MapContext(IriMinter(BASE), path, file_sha256(path))
    return list(B2mmlMapper().map(context, config))


def union(records: list) -> set:
    return {t for r in records for t in r.triples}


def locate(root: ET.Element, xpath: str, namespaces: dict[str, str]) -> ET.Element | None:
    """Resolve a mapper XPath with ElementTree: the first step is the root itself."""
    steps = xpath.lstrip("/").split("/")
    assert root.tag.endswith("}" + steps[0].split(":")[-1])
    return root if len(steps) == 1 else root.find("./" + "/".join(steps[1:]), namespaces)


@pytest.fixture(scope="module")
def kg_all():
    kg = KnowledgeGraph.open("memory:", base_iri=BASE)
    kg.ingest(sorted(B2MML_DIR.glob("*.xml")))
    yield kg
    kg.close()


def test_every_example_is_detected_and_maps():
    files = sorted(B2MML_DIR.glob("*.xml"))
    assert len(files) == 6
    for path in files:
        assert mapper_for(path).name == "b2mml", path
        records = map_file(path)
        assert records and all(len(r.triples) for r in records), path


def test_detect_rejects_other_xml_and_json():
    mapper = B2mmlMapper()
    other = TEST_DATA / "b2mml" / "not-b2mml.xml"
    assert not mapper.detect(other, other.read_bytes())
    assert not mapper.detect(Path("x.json"), b'{"a": 1}')
    assert mapper.detect(RECIPE, RECIPE.read_bytes()[:300])  # truncated head is enough


def test_production_performance_run_used_crbn0001_lot01(kg_all):
    root = ET.parse(PES).getroot()
    actuals = root.findall(".//b2mml:SegmentResponse/b2mml:MaterialActual", NS)
    consumed = [a for a in actuals if a.findtext("b2mml:MaterialUse", namespaces=NS) == "Consumed"]
    lot_ids = {a.findtext("b2mml:MaterialLotID", namespaces=NS) for a in consumed}
    assert lot_ids == {"CRBN0001_LOT01"}
    segment_id = root.find(".//b2mml:SegmentResponse/b2mml:ID", NS).text

    rows = kg_all.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#> "
        "PREFIX prov: <http://www.w3.org/ns/prov#> "
        "SELECT ?run ?runId ?lot WHERE { ?run a cmc:ProcessRun ; cmc:identifier ?runId ; "
        "prov:used ?lot . ?lot cmc:identifier ?lotId }",
        lotId="CRBN0001_LOT01",
    )
    assert set(rows["runId"]) == {segment_id}
    assert set(rows["lot"]) == {BASE + "lot/b2mml/CRBN0001_LOT01"}


def test_consumed_quantity_is_a_usage_in_qudt_units(kg_all):
    root = ET.parse(PES).getroot()
    quantity = root.find(".//b2mml:MaterialActual/b2mml:Quantity", NS)
    expected = float(quantity.findtext("b2mml:QuantityString", namespaces=NS))
    assert quantity.findtext("b2mml:UnitOfMeasure", namespaces=NS) == "KG"
    rows = kg_all.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#> "
        "PREFIX qudt: <http://qudt.org/schema/qudt/> "
        "SELECT ?value ?unit WHERE { ?u a cmc:Usage ; cmc:usedLot ?lot ; "
        "qudt:numericValue ?value ; qudt:unit ?unit }",
        lot=URIRef(BASE + "lot/b2mml/CRBN0001_LOT01"),
    )
    assert len(rows) == 1
    assert float(rows["value"][0]) == pytest.approx(expected)
    assert rows["unit"][0] == str(UNIT["KiloGM"])


def test_lot_message_and_performance_name_one_lot_node(kg_all):
    rows = kg_all.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#> "
        "SELECT DISTINCT ?lot ?expiry ?material WHERE { ?lot a cmc:MaterialLot ; "
        "cmc:identifier ?id ; cmc:expiryDate ?expiry ; cmc:ofMaterial ?material }",
        id="CRBN0001_LOT01",
    )
    root = ET.parse(LOT).getroot()
    prop = root.find(".//b2mml:MaterialLotProperty", NS)
    assert prop.findtext("b2mml:ID", namespaces=NS) == "ExpiryDate"
    value = prop.findtext("b2mml:Value/b2mml:ValueString", namespaces=NS)  # 2013-12-08T00:00..
    assert len(rows) == 1
    assert str(rows["expiry"][0]) == value[:10]
    assert rows["material"][0] == BASE + "material/b2mml/CRBN0001"


def test_material_definition(kg_all):
    root = ET.parse(MAT).getroot()
    description = root.findtext(".//b2mml:MaterialDefinition/b2mml:Description", namespaces=NS)
    rows = kg_all.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#> "
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "SELECT ?label WHERE { ?m a cmc:Material ; cmc:identifier ?id ; rdfs:label ?label }",
        id="CRBN0001",
    )
    assert list(rows["label"]) == [description]


def test_sublot_is_derived_from_its_lot():
    root = ET.parse(INV).getroot()
    lot = root.find(".//b2mml:MaterialLot", NS)
    lot_id = lot.findtext("b2mml:ID", namespaces=NS)
    sub_id = lot.findtext("b2mml:MaterialSubLot/b2mml:ID", namespaces=NS)
    triples = union(map_file(INV))
    sublot = URIRef(f"{BASE}lot/b2mml/{lot_id}/{sub_id}")
    assert (sublot, PROV.wasDerivedFrom, URIRef(f"{BASE}lot/b2mml/{lot_id}")) in triples
    assert (sublot, CMC.identifier, Literal(sub_id)) in triples


def test_production_schedule_names_lots_but_no_lineage():
    records = map_file(PRO)
    triples = union(records)
    root = ET.parse(PRO).getroot()
    requirements = root.findall(".//b2mml:MaterialRequirement", NS)
    lot_ids = {r.findtext("b2mml:MaterialLotID", namespaces=NS) for r in requirements} - {None}
    materials = {r.findtext("b2mml:MaterialDefinitionID", namespaces=NS) for r in requirements}
    assert lot_ids == {"CRBN0001_LOT01", "CRBN0002_LOT01"}
    found_lots = {
        str(o)
        for s, p, o in triples
        if p == CMC.identifier and (s, RDF.type, CMC.MaterialLot) in triples
    }
    assert lot_ids <= found_lots
    found_materials = {
        str(o)
        for s, p, o in triples
        if p == CMC.identifier and (s, RDF.type, CMC.Material) in triples
    }
    assert found_materials == materials
    assert not any(p in {PROV.used, PROV.wasGeneratedBy} for _, p, _ in triples)
    warnings = [w for r in records for w in r.warnings]
    assert any(
        "is a plan" in w and f"{len(requirements)} material requirements" in w for w in warnings
    )


def test_master_recipe_is_a_process_version_with_its_elements():
    records = map_file(RECIPE)
    triples = union(records)
    ns = {"b": BATCHML}
    root = ET.parse(RECIPE).getroot()
    elements = root.findall(".//b:RecipeElement", ns)
    kinds = [e.findtext("b:RecipeElementType", namespaces=ns) for e in elements]
    expected = {
        e.findtext("b:ID", namespaces=ns): k
        for e, k in zip(elements, kinds, strict=True)
        if k not in {"Begin", "End", "Procedure"}
    }
    assert kinds.count("UnitProcedure") == 2
    plans = {s for s, p, o in triples if p == RDF.type and o == PROV.Plan}
    assert len(plans) == len(expected)
    for plan in plans:
        element_id = str(next(o for s, p, o in triples if s == plan and p == CMC.identifier))
        kind = next(str(o) for s, p, o in triples if s == plan and p.endswith("/type"))
        assert expected[element_id] == kind
    recipe = URIRef(BASE + "process-version/b2mml/1/1.0")
    assert (recipe, RDF.type, CMC.ProcessVersion) in triples
    master = root.find("b:MasterRecipe", ns)
    assert (recipe, CMC.version, Literal(master.findtext("b:Version", namespaces=ns))) in triples
    unit_procedures = {s for s, p, o in triples if str(o) == "UnitProcedure"}
    assert all(
        any(s == up and o == recipe for s, p, o in triples if p.endswith("isPartOf"))
        for up in unit_procedures
    )
    with_values = sum(
        1
        for p in root.iter(f"{{{BATCHML}}}Parameter")
        for v in p.findall("b:Value", ns)
        if (v.findtext("b:ValueString", namespaces=ns) or "").strip()
    )
    assert any(f"{with_values} recipe parameters" in w for r in records for w in r.warnings)


def test_every_source_location_is_an_xpath_to_the_element():
    for path, namespaces in (
        (PES, NS),
        (RECIPE, {"batchml": BATCHML}),
        (TEST_DATA / "b2mml" / "performance-produced.xml", NS),
    ):
        root = ET.parse(path).getroot()
        records = map_file(path)
        checked = 0
        for record in records:
            for subject, xpath in record.locations.items():
                element = locate(root, xpath, namespaces)
                assert element is not None, (path, xpath)
                if (subject, RDF.type, CMC.ProcessRun) in record.triples:
                    assert element.tag.endswith("SegmentResponse")
                    identifier = record.triples.value(subject, CMC.identifier)
                    assert element.findtext(f"{{{V0401}}}ID") == str(identifier)
                checked += 1
        assert checked >= 3


def test_lot_properties_become_dates_supplier_and_measurements():
    path = TEST_DATA / "b2mml" / "lot-properties-v0600.xml"
    records = map_file(path)
    triples = union(records)
    lot = URIRef(BASE + "lot/b2mml/LAC-2024-017")
    assert (lot, CMC.expiryDate, Literal("2026-01-31", datatype=XSD.date)) in triples
    assert (lot, CMC.manufactureDate, Literal("2024-01-15", datatype=XSD.date)) in triples
    assert (lot, CMC.suppliedBy, URIRef(BASE + "supplier/b2mml/DFE-Pharma")) in triples
    assert (lot, CMC.ofMaterial, URIRef(BASE + "material/b2mml/LACTOSE-MH")) in triples

    measurements = {s for s, p, o in triples if p == CMC.onEntity and o == lot}
    by_property = {}
    for m in measurements:
        prop = next(o for s, p, o in triples if s == m and p == CMC.measuredProperty)
        by_property[prop] = {p: o for s, p, o in triples if s == m}
    # worked out by hand from the file: pH on a lot is the quality attribute, not process pH;
    # G/ML is an ERP code for g/mL; Colour is a text result
    assert set(by_property) == {CMCT.WaterContent, CMCT.PH, CMCT.BulkDensity, CMCT.Color}
    assert float(by_property[CMCT.WaterContent][QUDT.numericValue]) == 4.92
    assert by_property[CMCT.WaterContent][QUDT.unit] == UNIT.PERCENT
    assert by_property[CMCT.PH][QUDT.unit] == UNIT.PH
    assert by_property[CMCT.BulkDensity][QUDT.unit] == UNIT["GM-PER-MilliL"]
    assert by_property[CMCT.Color][CMC.textValue] == Literal("white")
    warnings = [w for r in records for w in r.warnings]
    assert any("StorageCondition" in w for w in warnings)
    sublot = URIRef(BASE + "lot/b2mml/LAC-2024-017/LAC-2024-017-D01")
    assert (sublot, PROV.wasDerivedFrom, lot) in triples
    assert {r.record_id for r in records} == {
        "lot/LAC-2024-017",
        "sub-lot/LAC-2024-017/LAC-2024-017-D01",
    }


def test_produced_lot_lineage_times_equipment_and_nesting():
    path = TEST_DATA / "b2mml" / "performance-produced.xml"
    records = map_file(path)
    triples = union(records)
    run = URIRef(BASE + "run/b2mml/PO-4711/BLEND-01")
    lot = BASE + "lot/b2mml/"
    produced = URIRef(lot + "BL-24-0301")
    consumed = {
        URIRef(lot + "LAC-2024-017"),
        URIRef(lot + "LAC-2024-017/LAC-2024-017-D01"),
        URIRef(lot + "MGS-88"),
    }
    assert {o for s, p, o in triples if s == run and p == PROV.used} == consumed
    assert (produced, PROV.wasGeneratedBy, run) in triples
    assert {o for s, p, o in triples if s == produced and p == PROV.wasDerivedFrom} == consumed
    assert (
        run,
        PROV.startedAtTime,
        Literal("2024-03-02T08:00:00+01:00", datatype=XSD.dateTime),
    ) in triples
    assert (run, CMC.usedEquipment, URIRef(BASE + "equipment/b2mml/BLENDER-07")) in triples
    assert (run, CMC.unitOperation, CMCT.Blending) in triples
    nested = URIRef(BASE + "run/b2mml/PO-4711/BLEND-01/DISCHARGE")
    assert (nested, RDF.type, CMC.ProcessRun) in triples
    assert any(s == nested and o == run and p.endswith("isPartOf") for s, p, o in triples)
    usages = {
        s: {p: o for s2, p, o in triples if s2 == s}
        for s, p, o in triples
        if p == RDF.type and o == CMC.Usage
    }
    units = {
        str(u[CMC.usedLot]).rsplit("/", 1)[-1]: (float(u[QUDT.numericValue]), u[QUDT.unit])
        for u in usages.values()
    }
    assert units == {"LAC-2024-017": (24.5, UNIT.KiloGM), "MGS-88": (250.0, UNIT.GM)}
    temperature = [s for s, p, o in triples if p == CMC.measuredProperty and o == CMCT.Temperature]
    assert len(temperature) == 1
    assert (temperature[0], QUDT.unit, UNIT.DEG_C) in triples
    assert (temperature[0], CMC.onEntity, run) in triples
    warnings = " ".join(w for r in records for w in r.warnings)
    assert "PURIFIED-WATER" in warnings and "'Sample'" in warnings
    assert "OperatorComment" in warnings


def test_issuer_config_scopes_every_iri():
    triples = union(map_file(PES, {"issuer": "mes-site-a"}))
    lots = {s for s, p, o in triples if o == Literal("CRBN0001_LOT01")}
    assert lots == {URIRef(BASE + "lot/mes-site-a/CRBN0001_LOT01")}
    with pytest.raises(ConfigError, match="issuer"):
        map_file(PES, {"issuer": ""})


def test_malformed_xml_names_file_line_and_column():
    path = TEST_DATA / "b2mml" / "malformed.xml"
    lines = path.read_text().splitlines()
    bad_line = next(i for i, line in enumerate(lines, start=1) if "</MaterialLotte>" in line)
    with pytest.raises(MappingError) as info:
        map_file(path)
    message = str(info.value)
    assert str(path) in message
    assert f"line {bad_line}," in message
    assert "\n" not in message


def test_unknown_unit_names_the_element_and_field():
    path = TEST_DATA / "b2mml" / "unknown-unit.xml"
    with pytest.raises(MappingError) as info:
        map_file(path)
    message = str(info.value)
    assert str(path) in message and "XYZQ" in message and "UnitOfMeasure" in message
    root = ET.parse(path).getroot()
    assert locate(root, info.value.location, NS).tag == f"{{{V0401}}}Quantity"


def test_bad_input_through_kg_leaves_store_unchanged():
    with KnowledgeGraph.open("memory:", base_iri=BASE) as kg:
        kg.ingest(LOT)
        for bad in ("malformed.xml", "unknown-unit.xml"):
            assert_refused_unchanged(
                kg.store,
                lambda bad=bad: kg.ingest([PES, TEST_DATA / "b2mml" / bad]),
                MappingError,
                [bad],
            )
