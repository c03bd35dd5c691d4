"""The declarative tables mapper on small hand-made fixtures (tests/data/tables).

Expected values are read off the fixture files by hand; each bad input must raise a one-line
error naming file, row and field and leave the store's quads exactly as they were.
"""

from __future__ import annotations

import copy
from pathlib import Path

import openpyxl
import pytest
import yaml
from conftest import BASE, TEST_DATA, assert_refused_unchanged, store_snapshot
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, XSD

from cmckg.cli import main as cli_main
from cmckg.errors import ConfigError, MappingError
from cmckg.kg import KnowledgeGraph
from cmckg.vocab import CMC, CMCT, QUDT, UNIT, aliases_from_store, term_index_with_aliases

TABLES = TEST_DATA / "tables"


def mapping(name: str) -> dict:
    """A fixture mapping as the dict kg.load_mapping would give (with its __file__)."""
    path = TABLES / f"{name}.yaml"
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    loaded["__file__"] = str(path)
    return loaded


def iri(*parts: str) -> URIRef:
    return URIRef(BASE + "/".join(parts))


def triples_of(kg: KnowledgeGraph) -> set[tuple]:
    return {(s, p, o) for s, p, o, _ in kg.store.quads()}


@pytest.fixture
def kg():
    with KnowledgeGraph.open("memory:") as graph:
        yield graph


def test_lot_table(kg: KnowledgeGraph) -> None:
    report = kg.ingest(TABLES / "lots.csv", mapping=TABLES / "lots.yaml")
    assert report.warnings == []
    t = triples_of(kg)
    l1, l2 = iri("lot", "site-a", "L-001"), iri("lot", "site-a", "L-002")
    lactose = iri("material", "site-a", "lactose")
    assert (l1, RDF.type, CMC.RawMaterialLot) in t
    assert (l1, CMC.ofMaterial, lactose) in t
    assert (lactose, CMC.materialType, CMCT.LactoseMonohydrate) in t
    assert (l1, CMC.suppliedBy, iri("supplier", "site-a", "Meggle")) in t
    assert (l1, CMC.manufactureDate, Literal("2024-01-10", datatype=XSD.date)) in t
    assert (l1, CMC.expiryDate, Literal("2026-01-10", datatype=XSD.date)) in t
    # L-002's expiry cell holds only spaces: a missing value, not an error
    assert not [o for s, p, o in t if s == l2 and p == CMC.expiryDate]
    assert (l2, CMC.sourceLocation, Literal("row=3")) in t
    assert (iri("lot", "site-a", "L-003"), CMC.sourceLocation, Literal("row=4")) in t
    # one record graph per lot, named mint("graph", issuer, entity name, id)
    graphs = {g for *_, g in kg.store.quads()}
    assert iri("graph", "site-a", "lot", "L-002") in graphs


def test_long_results_merge_into_one_record_per_lot(kg: KnowledgeGraph) -> None:
    report = kg.ingest(TABLES / "coa.csv", mapping=TABLES / "coa.yaml")
    # rows 2, 3 and 6 are lot L-001, rows 4-5 are L-003; plus the local-terms record
    assert report.records == 3
    quads = list(kg.store.quads())
    l1_graph = iri("graph", "site-a", "coa_lot", "L-001")
    values = {
        (str(s), float(o)) for s, p, o, g in quads if p == QUDT.numericValue and g == l1_graph
    }
    assert values == {
        (BASE + "measurement/site-a/lot/L-001/result/water/CoA", 5.1),
        (BASE + "measurement/site-a/lot/L-001/result/d50/CoA", 120.0),
    }  # row 3 (LOD) has a blank result: no measurement
    t = {(s, p, o) for s, p, o, _ in quads}
    osmo = iri("measurement", "site-a", "lot", "L-003", "result", "OSMO-FP", "CoA")
    assert (osmo, CMC.measuredProperty, CMCT.Osmolality) in t
    assert (osmo, QUDT.unit, UNIT["MilliOSM-PER-KiloGM"]) in t
    assert (osmo, CMC.resultTime, Literal("2024-03-06", datatype=XSD.date)) in t
    assert (osmo, CMC.stage, CMCT.CoA) in t
    ph = iri("measurement", "site-a", "lot", "L-003", "result", "pH", "CoA")
    assert (ph, CMC.measuredProperty, CMCT.PH) in t  # "pH" on a lot is the quality attribute
    # the local name from the mapping's terms: is an alias of the canonical concept
    assert ("OSMO-FP", CMCT.Osmolality, "site-a") in aliases_from_store(kg.store)
    assert term_index_with_aliases(kg.store).resolve("osmo fp").iri == CMCT.Osmolality


def test_conflicting_rows_of_one_record_warn_and_keep_the_first(
    tmp_path: Path, kg: KnowledgeGraph
) -> None:
    table = tmp_path / "coa.csv"
    table.write_text(
        "lot,test,result,unit,stage,tested\n"
        "L-9,water,5.1,%,CoA,2024-01-12\n"
        "L-9,water,5.10,%,CoA,2024-01-12\n"  # the same number written differently: no conflict
        "L-9,water,6.3,%,CoA,2024-01-12\n",
        encoding="utf-8",
    )
    report = kg.ingest(table, mapping=mapping("coa"))
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert "row=4" in warning and "row=2" in warning and "'result'" in warning
    values = [float(o) for s, p, o, _ in kg.store.quads() if p == QUDT.numericValue]
    assert values == [5.1]


def test_process_runs(kg: KnowledgeGraph) -> None:
    kg.ingest(TABLES / "runs.csv", mapping=TABLES / "runs.yaml")
    t = triples_of(kg)
    r1 = iri("run", "site-a", "R-1")
    l3, seed, hv, ds = (iri("lot", "site-a", x) for x in ("L-003", "SEED-1", "HV-1", "DS-1"))
    assert {o for s, p, o in t if s == r1 and p == PROV.used} == {l3, seed}
    assert (r1, CMC.unitOperation, CMCT.ProductionBioreactor) in t
    assert (r1, PROV.startedAtTime, Literal("2025-01-10T08:00:00", datatype=XSD.dateTime)) in t
    assert (r1, CMC.usedEquipment, iri("equipment", "site-a", "BR-1")) in t
    assert (hv, PROV.wasGeneratedBy, r1) in t
    assert {o for s, p, o in t if s == hv and p == PROV.wasDerivedFrom} == {l3, seed}
    assert (hv, RDF.type, CMC.IntermediateLot) in t
    assert (ds, RDF.type, CMC.DrugSubstanceBatch) in t  # type chosen per row
    assert (ds, PROV.wasDerivedFrom, hv) in t
    # consumed quantities 1400;200 kg, in the order of the inputs cell
    usages = {s for s, p, o in t if p == RDF.type and o == CMC.Usage}
    quantities = {
        (
            next(o for s2, p, o in t if s2 == u and p == CMC.usedLot),
            float(next(o for s2, p, o in t if s2 == u and p == QUDT.numericValue)),
        )
        for u in usages
    }
    assert quantities == {(l3, 1400.0), (seed, 200.0)}
    assert all((u, QUDT.unit, UNIT.KiloGM) in t for u in usages)
    temperature = iri("measurement", "site-a", "run", "R-1", "temperature")
    assert (temperature, CMC.measuredProperty, CMCT.Temperature) in t
    assert (temperature, QUDT.unit, UNIT.DEG_C) in t
    # R-2's temperature cell is empty: no measurement
    assert not any(s == iri("measurement", "site-a", "run", "R-2", "temperature") for s, _, _ in t)


def test_specifications(kg: KnowledgeGraph) -> None:
    kg.ingest(TABLES / "specs.csv", mapping=TABLES / "specs.yaml")
    t = triples_of(kg)
    s1, s2 = iri("specification", "site-a", "S-1", "1"), iri("specification", "site-a", "S-2", "2")
    assert (s1, RDF.type, CMC.Specification) in t
    assert (s1, CMC.forProperty, CMCT.HighMolecularWeightSpecies) in t
    assert (s1, CMC.stage, CMCT.Release) in t
    assert (s1, CMC.lotClass, CMC.DrugSubstanceBatch) in t
    assert (s1, CMC.ofProduct, iri("product", "site-a", "mAb-X")) in t
    assert (s1, QUDT.unit, UNIT.PERCENT) in t
    assert {
        (p, float(o)) for s, p, o in t if s == s1 and p in (CMC.lowerLimit, CMC.upperLimit)
    } == {(CMC.lowerLimit, 0.0), (CMC.upperLimit, 3.0)}
    assert (s2, CMC.forProperty, CMCT.Monomer) in t
    assert (s2, CMC.version, Literal("2")) in t
    assert not [o for s, p, o in t if s == s2 and p == CMC.upperLimit]  # blank upper limit


def _wide_expected(t: set[tuple]) -> None:
    b1, b2, b3 = (iri("lot", "plant", b) for b in ("B1", "B2", "B3"))
    assert (b1, CMC.manufactureDate, Literal("2019-10", datatype=XSD.gYearMonth)) in t
    assert (b2, CMC.manufactureDate, Literal("2020-05", datatype=XSD.gYearMonth)) in t
    assert (b3, CMC.manufactureDate, Literal("2020-08", datatype=XSD.gYearMonth)) in t
    values = {(str(s).rsplit("/lot/", 1)[1], float(o)) for s, p, o in t if p == QUDT.numericValue}
    assert values == {
        ("B1/dissolution_av", 93.8),
        ("B3/dissolution_av", 97.1),
        ("api/A-7/api_water", 1.53),
        ("api/A-8/api_water", 1.61),
    }
    a7 = iri("lot", "plant", "api", "A-7")
    assert (b1, PROV.wasDerivedFrom, a7) in t and (b2, PROV.wasDerivedFrom, a7) in t


def test_wide_tsv_with_decimal_comma(kg: KnowledgeGraph) -> None:
    report = kg.ingest(TABLES / "wide.tsv", mapping=TABLES / "wide.yaml")
    assert report.warnings == []
    _wide_expected(triples_of(kg))


def test_xlsx_gives_the_same_graph(tmp_path: Path, kg: KnowledgeGraph) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Batches"
    rows = [
        line.split("\t") for line in (TABLES / "wide.tsv").read_text(encoding="utf-8").splitlines()
    ]
    for row in rows:
        # numbers as real spreadsheet numbers, the rest as text
        sheet.append(
            [
                float(c.replace(",", ".")) if c.strip() and c.replace(",", "").isdigit() else c
                for c in row
            ]
        )
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    config = mapping("wide")
    config["source"] = {"sheet": "Batches"}
    kg.ingest(path, mapping=config)
    _wide_expected(triples_of(kg))


def test_same_named_tables_of_one_issuer_keep_their_own_aliases(
    tmp_path: Path, kg: KnowledgeGraph
) -> None:
    for site, name in (("a", "water"), ("b", "KF water")):
        (tmp_path / site).mkdir()
        (tmp_path / site / "coa.csv").write_text(
            f"lot,test,result,unit,stage,tested\nL-{site},{name},5.1,%,CoA,\n", encoding="utf-8"
        )
    config = mapping("coa")
    config["terms"] = {"water": "water content", "KF water": "water content"}
    kg.ingest([tmp_path / "a" / "coa.csv", tmp_path / "b" / "coa.csv"], mapping=config)
    kg.ingest(tmp_path / "b" / "coa.csv", mapping=config)
    assert {name for name, _, _ in aliases_from_store(kg.store)} == {"water", "KF water"}
    revisions = kg.query(
        "SELECT ?r WHERE { ?r a <https://w3id.org/cmckg/ontology#SupersededRevision> }"
    )
    assert revisions.empty


def test_reingest_changes_nothing(kg: KnowledgeGraph) -> None:
    for name in ("lots", "coa", "runs", "specs"):
        kg.ingest(TABLES / f"{name}.csv", mapping=TABLES / f"{name}.yaml")
    before = store_snapshot(kg.store)
    for name in ("lots", "coa", "runs", "specs"):
        report = kg.ingest(TABLES / f"{name}.csv", mapping=TABLES / f"{name}.yaml")
        assert report.changed == 0
    assert store_snapshot(kg.store) == before


# ---------------------------------------------------------------------------------------------
# Bad input: the right error, naming file, row and field; the store exactly as before

LOTS = (TABLES / "lots.csv").read_text(encoding="utf-8")
COA = (TABLES / "coa.csv").read_text(encoding="utf-8")


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BAD_TABLES = {
    # case: (fixture mapping, table text, error class, fragments the message must contain)
    "missing required column": (
        "lots",
        LOTS.replace(",supplier", "")
        .replace(",Meggle", "")
        .replace(",JRS", "")
        .replace(",MediaCo", ""),
        MappingError,
        ["row=1", "field 'supplier'", "missing required column"],
    ),
    "unparseable number": (
        "coa",
        _edit(COA, "5.1,%", "5.1x,%"),
        MappingError,
        ["row=2", "field 'result'", "not a number"],
    ),
    "unknown term": (
        "coa",
        _edit(COA, "pH,7.1", "Osmolalty,7.1"),
        MappingError,
        ["row=5", "field 'test'", "unknown term 'Osmolalty'", "osmolality"],
    ),
    "unknown unit": (
        "coa",
        _edit(COA, "5.1,%", "5.1,mgg"),
        MappingError,
        ["row=2", "field 'unit'", "unknown unit 'mgg'"],
    ),
    "lot with two materials": (
        "lots",
        LOTS + "L-001,starch,Roquette,2024-01-10,2026-01-10\n",
        MappingError,
        ["row=5", "field 'material'", "two different materials", "row=2"],
    ),
    "unparseable date": (
        "lots",
        _edit(LOTS, "2024-02-01", "2024-13-45"),
        MappingError,
        ["row=3", "field 'manufactured'", "not a date"],
    ),
    "row with too many fields": (
        "lots",
        _edit(LOTS, "JRS,", "JRS,extra,"),
        MappingError,
        ["row=3", "malformed"],
    ),
    "unterminated quote": (
        "lots",
        LOTS + 'L-004,"lactose,Meggle,2024-01-10,2026-01-10\n',
        MappingError,
        ["row=5", "malformed CSV"],
    ),
    "required id missing": (
        "lots",
        _edit(LOTS, "L-002,", " ,"),
        MappingError,
        ["row=3", "field 'lot'", "required id"],
    ),
}


@pytest.fixture(scope="module")
def loaded():
    """One store for the bad-input tests: each one checks it is left exactly as it was."""
    with KnowledgeGraph.open("memory:") as graph:
        graph.ingest(TABLES / "lots.csv", mapping=TABLES / "lots.yaml")
        graph.ingest(TABLES / "coa.csv", mapping=TABLES / "coa.yaml")
        yield graph


@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_bad_table_is_refused_and_store_unchanged(
    case: str, tmp_path: Path, loaded: KnowledgeGraph
) -> None:
    fixture, text, error, fragments = BAD_TABLES[case]
    table = tmp_path / f"{fixture}.csv"
    table.write_text(text, encoding="utf-8")
    message = assert_refused_unchanged(
        loaded.store, lambda: loaded.ingest(table, mapping=mapping(fixture)), error, fragments
    )
    assert str(table) in message


def test_not_a_workbook(tmp_path: Path, loaded: KnowledgeGraph) -> None:
    path = tmp_path / "wide.xlsx"
    path.write_bytes(b"batch,code\nB1,P1\n")
    assert_refused_unchanged(
        loaded.store,
        lambda: loaded.ingest(path, mapping=mapping("wide")),
        MappingError,
        [str(path), "not a readable XLSX workbook"],
    )


def test_undecodable_bytes(tmp_path: Path, loaded: KnowledgeGraph) -> None:
    table = tmp_path / "lots.csv"
    table.write_bytes(LOTS.encode("utf-8") + "L-005,lactose,Möller,2024-01-10,\n".encode("latin-1"))
    assert_refused_unchanged(
        loaded.store,
        lambda: loaded.ingest(table, mapping=mapping("lots")),
        MappingError,
        [str(table), "row=5", "not utf-8"],
    )


def _set(config: dict, path: str, value: object) -> dict:
    config = copy.deepcopy(config)
    *keys, last = path.split(".")
    node = config
    for key in keys:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return config


BAD_MAPPINGS = {
    # case: (fixture, key path, new value or None to delete, fragments)
    "unknown key": (
        "lots",
        "entities.lot.suplier",
        "x",
        ["entities.lot.suplier", "unknown key 'suplier'"],
    ),
    "unknown constant unit": (
        "wide",
        "entities.batch.measurements.dissolution_av.unit",
        "mgg",
        ["entities.batch.measurements.dissolution_av.unit", "unknown unit 'mgg'"],
    ),
    "unknown constant term": (
        "wide",
        "entities.api_lot.measurements.api_water.property",
        "watr content",
        ["api_water.property", "unknown term", "water content"],
    ),
    "unknown type": ("lots", "entities.lot.type", "RawLot", ["entities.lot.type", "RawLot"]),
    "link to no entity": (
        "wide",
        "entities.run.used",
        ["api"],
        ["entities.run.used[0]", "no entity named 'api'"],
    ),
    "link of the wrong kind": (
        "wide",
        "entities.batch.product",
        "api_lot",
        ["entities.batch.product", "needs a product"],
    ),
    "missing id": ("lots", "entities.lot.id", None, ["entities.lot.id", "required"]),
    "empty id part": ("lots", "entities.lot.id", ["", "{lot}"], ["entities.lot.id[0]", "empty"]),
    "wrong format version": ("lots", "mapping", 2, ["mapping", "version"]),
    "numeric value without unit": (
        "wide",
        "entities.batch.measurements.dissolution_av.unit",
        None,
        ["dissolution_av.unit", "required"],
    ),
    "bad date format": (
        "wide",
        "entities.batch.manufacture_date.format",
        "%q",
        ["manufacture_date.format", "no date directive"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_MAPPINGS))
def test_bad_mapping_names_the_key(case: str, loaded: KnowledgeGraph) -> None:
    fixture, path, value, fragments = BAD_MAPPINGS[case]
    config = _set(mapping(fixture), path, value)
    table = TABLES / ("wide.tsv" if fixture == "wide" else f"{fixture}.csv")
    message = assert_refused_unchanged(
        loaded.store, lambda: loaded.ingest(table, mapping=config), ConfigError, fragments
    )
    assert message.startswith(str(TABLES / f"{fixture}.yaml"))


def test_type_conflict_within_a_table(tmp_path: Path, loaded: KnowledgeGraph) -> None:
    table = tmp_path / "runs.csv"
    text = (TABLES / "runs.csv").read_text(encoding="utf-8")
    table.write_text(text + "R-3,polishing,HV-1,,DS-1,harvest,COL-2,,,\n", encoding="utf-8")
    assert_refused_unchanged(
        loaded.store,
        lambda: loaded.ingest(table, mapping=mapping("runs")),
        MappingError,
        ["row=4", "IntermediateLot", "DrugSubstanceBatch", "row=3"],
    )


def test_table_without_mapping_is_refused(loaded: KnowledgeGraph) -> None:
    assert_refused_unchanged(
        loaded.store, lambda: loaded.ingest(TABLES / "lots.csv"), MappingError, ["--mapping"]
    )


def test_cli_exit_code_2_and_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    table = tmp_path / "coa.csv"
    table.write_text(_edit(COA, "5.1,%", "5.1,mgg"), encoding="utf-8")
    code = cli_main(
        ["ingest", str(table), "--mapping", str(TABLES / "coa.yaml"), "--store", "memory:"]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "row=2" in err[0] and "unknown unit 'mgg'" in err[0]
    assert "Traceback" not in err[0]
