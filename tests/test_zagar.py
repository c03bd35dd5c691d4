"""The real Žagar & Mihelič (2022) table through examples/zagar2022/mapping.yaml.

Every expected value is read from Laboratory.csv with Python's csv module, independently of the
mapper; units come from examples/zagar2022/SOURCES.md (the paper's Table 4).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import EXAMPLES, assert_refused_unchanged, store_snapshot

from cmckg.errors import MappingError
from cmckg.kg import KnowledgeGraph
from cmckg.vocab import CMCT, term_index_with_aliases

ZAGAR = EXAMPLES / "zagar2022"
CSV_PATH = ZAGAR / "Laboratory.csv"
MAPPING = ZAGAR / "mapping.yaml"

with open(CSV_PATH, newline="", encoding="utf-8") as _handle:
    ROWS = list(csv.DictReader(_handle, delimiter=";"))

PREFIXES = """PREFIX cmc: <https://w3id.org/cmckg/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX qudt: <http://qudt.org/schema/qudt/>
"""

# material family → (its concept, the CSV columns naming a lot: identity parts)
MATERIALS = {
    "api": (CMCT.ActivePharmaceuticalIngredient, ("api_code", "api_batch")),
    "smcc": (CMCT.SilicifiedMicrocrystallineCellulose, ("smcc_batch",)),
    "lactose": (CMCT.LactoseMonohydrate, ("lactose_batch",)),
    "starch": (CMCT.Starch, ("starch_batch",)),
}
ID_COLUMNS = {
    "batch",
    "code",
    "strength",
    "size",
    "start",
    "api_code",
    "api_batch",
    "smcc_batch",
    "lactose_batch",
    "starch_batch",
}
LOT_COLUMNS = {
    family: [c for c in ROWS[0] if c.startswith(family + "_") and c not in ID_COLUMNS]
    for family in MATERIALS
}
TABLET_CORE_COLUMNS = [c for c in ROWS[0] if c.startswith("tbl_")]
BATCH_COLUMNS = [c for c in ROWS[0] if c.startswith("fct_")] + [
    "size",
    "batch_yield",
    "dissolution_av",
    "dissolution_min",
    "resodual_solvent",
    "impurities_total",
    "impurity_o",
    "impurity_l",
]

UNIT = "http://qudt.org/vocab/unit/"


def expected_unit(column: str) -> str:
    """The unit SOURCES.md gives for a column (Table 4 of the paper)."""
    if column.endswith(("_ps01", "_ps05", "_ps09")):
        return UNIT + "MicroM"
    if column in ("smcc_td", "smcc_bd"):
        return UNIT + "GM-PER-MilliL"
    if "thickness" in column or "diameter" in column:
        return UNIT + "MilliM"
    if column in ("tbl_min_weight", "tbl_max_weight"):
        return UNIT + "MilliGM"
    if "hardness" in column:
        return UNIT + "N"
    if "tensile" in column:
        return UNIT + "MegaPA"
    if column == "starch_ph":
        return UNIT + "PH"
    if column == "size":
        return UNIT + "NUM"
    return UNIT + "PERCENT"  # water, impurities, contents, sieve fractions, dissolution, yields,
    # residual solvent, weight RSD


def value(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


def lot_key(family: str, row: dict[str, str]) -> tuple[str, ...]:
    return (family, *(row[c] for c in MATERIALS[family][1]))


def first_lot_values() -> tuple[dict, int]:
    """Each lot's value per column: the first non-blank one in file order; and how many other
    values later rows give it (each must be reported once, at the first row giving it)."""
    first: dict[tuple, float] = {}
    disagreeing: set[tuple] = set()
    for row in ROWS:
        for family, columns in LOT_COLUMNS.items():
            for column in columns:
                cell = value(row[column])
                if cell is None:
                    continue
                key = (lot_key(family, row), column)
                if key not in first:
                    first[key] = cell
                elif first[key] != cell:
                    disagreeing.add((key, cell))
    return first, len(disagreeing)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory):
    location = f"oxigraph:{tmp_path_factory.mktemp('zagar') / 'store'}"
    with KnowledgeGraph.open(location) as kg:
        report = kg.ingest(CSV_PATH, mapping=MAPPING)
        yield kg, report


def query(kg: KnowledgeGraph, body: str):
    return kg.query(PREFIXES + body)


def test_ingests_1005_batches(ingested) -> None:
    kg, report = ingested
    assert len(ROWS) == 1005
    found = query(kg, "SELECT ?id WHERE { ?b a cmc:DrugProductBatch ; cmc:identifier ?id }")
    assert len(found) == 1005
    assert set(found["id"]) == {row["batch"] for row in ROWS}


def test_each_batch_used_its_four_raw_material_lots(ingested) -> None:
    kg, _ = ingested
    found = query(
        kg,
        """
        SELECT ?batch ?type ?lot ?supplier WHERE {
          ?b a cmc:DrugProductBatch ; cmc:identifier ?batch ; prov:wasGeneratedBy ?coating .
          ?coating prov:used ?cores ; cmc:unitOperation ?coat .
          ?cores a cmc:IntermediateLot ; prov:wasGeneratedBy ?compression .
          ?compression prov:used ?l ; cmc:unitOperation ?press .
          ?l a cmc:RawMaterialLot ; cmc:identifier ?lot ; cmc:ofMaterial ?m .
          ?m cmc:materialType ?type .
          OPTIONAL { ?l cmc:suppliedBy ?s . ?s cmc:identifier ?supplier }
          FILTER (?coat = <https://w3id.org/cmckg/terms#FilmCoating>
                  && ?press = <https://w3id.org/cmckg/terms#Compression>)
        }""",
    )
    got: dict[str, set] = defaultdict(set)
    for batch, concept, lot, supplier in found.itertuples(index=False):
        got[batch].add((concept, lot, supplier if isinstance(supplier, str) else None))
    expected = {
        row["batch"]: {
            (str(CMCT.ActivePharmaceuticalIngredient), row["api_batch"], row["api_code"]),
            (str(CMCT.SilicifiedMicrocrystallineCellulose), row["smcc_batch"], None),
            (str(CMCT.LactoseMonohydrate), row["lactose_batch"], None),
            (str(CMCT.Starch), row["starch_batch"], None),
        }
        for row in ROWS
    }
    assert got == expected


def test_lineage_is_materialised(ingested) -> None:
    kg, _ = ingested
    found = query(
        kg,
        """
        SELECT ?batch (COUNT(DISTINCT ?raw) AS ?n) WHERE {
          ?b a cmc:DrugProductBatch ; cmc:identifier ?batch ; prov:wasDerivedFrom ?cores .
          ?cores prov:wasDerivedFrom ?raw . ?raw a cmc:RawMaterialLot .
        } GROUP BY ?batch""",
    )
    assert len(found) == 1005 and set(found["n"]) == {4}


def test_distinct_lots_per_material(ingested) -> None:
    kg, _ = ingested
    found = query(
        kg,
        """
        SELECT ?type (COUNT(DISTINCT ?l) AS ?n) WHERE {
          ?l a cmc:RawMaterialLot ; cmc:ofMaterial ?m . ?m cmc:materialType ?type
        } GROUP BY ?type""",
    )
    got = dict(zip(found["type"], found["n"], strict=True))
    expected = {
        str(concept): len({lot_key(family, row) for row in ROWS})
        for family, (concept, _) in MATERIALS.items()
    }
    assert got == expected
    assert expected[str(CMCT.ActivePharmaceuticalIngredient)] == len(
        {(r["api_code"], r["api_batch"]) for r in ROWS}
    )


@pytest.fixture(scope="module")
def measurements(ingested) -> dict[str, list[tuple]]:
    """Every measurement with a local column name, grouped by what it is on: ``batch`` and
    ``cores`` keyed by batch id, ``lot`` keyed by (material, [supplier,] lot)."""
    kg, _ = ingested
    found = query(
        kg,
        """
        SELECT ?e ?column ?value ?unit ?stage WHERE {
          ?m a cmc:Measurement ; cmc:onEntity ?e ; qudt:numericValue ?value ; qudt:unit ?unit ;
             cmc:localTerm ?alias . ?alias cmc:localName ?column .
          OPTIONAL { ?m cmc:stage ?stage } }""",
    )
    batches = query(kg, "SELECT ?b ?id WHERE { ?b a cmc:DrugProductBatch ; cmc:identifier ?id }")
    cores = query(
        kg,
        """
        SELECT ?c ?id WHERE {
          ?b a cmc:DrugProductBatch ; cmc:identifier ?id ; prov:wasDerivedFrom ?c .
          ?c a cmc:IntermediateLot }""",
    )
    lots = query(
        kg,
        """
        SELECT ?l ?material ?supplier ?lot WHERE {
          ?l a cmc:RawMaterialLot ; cmc:identifier ?lot ; cmc:ofMaterial ?m .
          ?m cmc:identifier ?material .
          OPTIONAL { ?l cmc:suppliedBy ?s . ?s cmc:identifier ?supplier } }""",
    )
    owner: dict[str, tuple[str, object]] = {}
    owner.update((b, ("batch", i)) for b, i in batches.itertuples(index=False))
    owner.update((c, ("cores", i)) for c, i in cores.itertuples(index=False))
    for lot_iri, material, supplier, lot in lots.itertuples(index=False):
        key = (material, supplier, lot) if isinstance(supplier, str) else (material, lot)
        owner[lot_iri] = ("lot", key)
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for entity, column, val, unit, stage in found.itertuples(index=False):
        kind, key = owner.get(entity, ("other", entity))
        grouped[kind].append((key, column, val, unit, stage if isinstance(stage, str) else None))
    return grouped


def test_final_batch_and_tablet_core_values_match_each_row(measurements) -> None:
    for kind, columns, stages in (
        ("batch", BATCH_COLUMNS, {"InProcess", "Release", None}),
        ("cores", TABLET_CORE_COLUMNS, {"Intermediate"}),
    ):
        found = measurements[kind]
        got = {(key, column): val for key, column, val, _, _ in found}
        expected = {
            (row["batch"], c): value(row[c])
            for row in ROWS
            for c in columns
            if value(row[c]) is not None
        }
        assert len(found) == len(got)  # one measurement per batch and column
        assert got == expected
        assert all(unit == expected_unit(column) for _, column, _, unit, _ in found)
        assert {stage.rsplit("#", 1)[1] if stage else None for *_, stage in found} <= stages
    release = {
        column for _, column, _, _, stage in measurements["batch"] if stage == str(CMCT.Release)
    }
    assert {
        "dissolution_av",
        "dissolution_min",
        "resodual_solvent",
        "impurities_total",
        "impurity_o",
        "impurity_l",
    } <= release


def test_lot_values_once_per_lot(measurements) -> None:
    got = {}
    for lot_id, column, val, unit, stage in measurements["lot"]:
        assert (lot_id, column) not in got  # written once per lot
        got[(lot_id, column)] = val
        assert unit == expected_unit(column)
        assert stage == str(CMCT.CoA)
    expected, _ = first_lot_values()
    assert got == expected
    # a row whose lot's rows all agree carries exactly its lot's values
    row = ROWS[0]
    assert got[(("api", row["api_code"], row["api_batch"]), "api_water")] == value(row["api_water"])
    assert set(measurements) <= {"batch", "cores", "lot", "other"}


def test_disagreeing_lot_values_are_warned_not_averaged(ingested) -> None:
    _, report = ingested
    _, disagreeing = first_lot_values()
    assert disagreeing > 0
    assert len(report.warnings) == disagreeing
    # e.g. the first disagreeing cell in file order names its row, the first row and the field
    first_seen: dict[tuple, tuple[int, float]] = {}
    for number, row in enumerate(ROWS, start=2):
        for family, columns in LOT_COLUMNS.items():
            for column in columns:
                cell = value(row[column])
                if cell is None:
                    continue
                key = (lot_key(family, row), column)
                if key not in first_seen:
                    first_seen[key] = (number, cell)
                elif first_seen[key][1] != cell:
                    matching = [
                        w for w in report.warnings if f"row={number}," in w and f"'{column}'" in w
                    ]
                    assert any(f"in row={first_seen[key][0]}" in w for w in matching), matching
                    return


def test_product_strength_and_start_month(ingested) -> None:
    kg, _ = ingested
    strengths = query(
        kg,
        """
        SELECT ?code ?value WHERE {
          ?m cmc:onEntity ?p ; cmc:measuredProperty <https://w3id.org/cmckg/terms#DoseStrength> ;
             qudt:numericValue ?value . ?p a cmc:Product ; cmc:identifier ?code }""",
    )
    # "5MG", "10M", "20M", "40M": the strength in mg per tablet
    expected = {row["code"]: float(row["strength"].rstrip("GM")) for row in ROWS}
    assert dict(zip(strengths["code"], strengths["value"], strict=True)) == expected
    months = {
        "jan": 1,
        "feb": 2,
        "mar": 3,
        "apr": 4,
        "maj": 5,
        "jun": 6,
        "jul": 7,
        "avg": 8,
        "sep": 9,
        "okt": 10,
        "nov": 11,
        "dec": 12,
    }
    found = query(
        kg,
        """
        SELECT ?batch (STR(?date) AS ?month) (DATATYPE(?date) AS ?type) WHERE {
          ?b a cmc:DrugProductBatch ; cmc:identifier ?batch ; cmc:manufactureDate ?date }""",
    )
    got = {b: (m, t) for b, m, t in found.itertuples(index=False)}
    gym = "http://www.w3.org/2001/XMLSchema#gYearMonth"
    assert got == {
        row["batch"]: (f"20{row['start'][-2:]}-{months[row['start'][:3]]:02d}", gym) for row in ROWS
    }


def test_source_rows(ingested) -> None:
    kg, _ = ingested
    found = query(
        kg,
        """
        SELECT ?batch ?where WHERE {
          ?b a cmc:DrugProductBatch ; cmc:identifier ?batch ; cmc:sourceLocation ?where }""",
    )
    assert dict(zip(found["batch"], found["where"], strict=True)) == {
        row["batch"]: f"row={number}" for number, row in enumerate(ROWS, start=2)
    }


def test_local_names_are_aliases(ingested) -> None:
    kg, _ = ingested
    index = term_index_with_aliases(kg.store, issuer="zagar2022")
    assert index.resolve("dissolution_av").iri == CMCT.DissolutionMean
    assert index.resolve("dissolution_min").iri == CMCT.DissolutionMin
    assert index.resolve("api_water").iri == CMCT.WaterContent
    assert index.resolve("resodual_solvent").iri == CMCT.ResidualSolvent
    assert index.resolve("lactose").iri == CMCT.LactoseMonohydrate
    assert index.resolve("smcc").iri == CMCT.SilicifiedMicrocrystallineCellulose
    # asking by the local name finds exactly the non-blank cells of that column
    found = query(
        kg,
        """
        SELECT (COUNT(?m) AS ?n) WHERE {
          ?m cmc:localTerm ?a . ?a cmc:localName "dissolution_av" }""",
    )
    assert int(found["n"][0]) == sum(1 for row in ROWS if row["dissolution_av"].strip())


def test_reingest_changes_nothing(ingested) -> None:
    kg, _ = ingested
    before = store_snapshot(kg.store)
    report = kg.ingest(CSV_PATH, mapping=MAPPING)
    assert report.changed == 0
    assert store_snapshot(kg.store) == before


# Bad input against the real mapping, on a 30-row slice of the real file (a full-size store
# would make the before/after quad comparison the slowest part of the suite).


@pytest.fixture(scope="module")
def sliced(tmp_path_factory: pytest.TempPathFactory):
    lines = CSV_PATH.read_text(encoding="utf-8").splitlines(keepends=True)[:31]
    with KnowledgeGraph.open("memory:") as kg:
        path = tmp_path_factory.mktemp("slice") / "Laboratory.csv"
        path.write_text("".join(lines), encoding="utf-8")
        kg.ingest(path, mapping=MAPPING)
        yield kg, lines


def _cells(line: str) -> list[str]:
    return line.rstrip("\r\n").split(";")


@pytest.mark.parametrize("case", ["bad number", "missing column", "unknown month", "malformed row"])
def test_bad_input_leaves_store_unchanged(case: str, sliced, tmp_path: Path) -> None:
    kg, lines = sliced
    header = _cells(lines[0])
    lines = list(lines)
    if case == "bad number":
        cells = _cells(lines[13])  # row=14
        cells[header.index("api_water")] = "1.5x"
        lines[13] = ";".join(cells) + "\n"
        fragments = ["row=14", "field 'api_water'", "not a number: '1.5x'"]
    elif case == "missing column":
        drop = header.index("dissolution_av")
        lines = [
            ";".join(c for i, c in enumerate(_cells(line)) if i != drop) + "\n" for line in lines
        ]
        fragments = ["row=1", "field 'dissolution_av'", "missing required column"]
    elif case == "unknown month":
        cells = _cells(lines[4])  # row=5
        cells[header.index("start")] = "xyz.19"
        lines[4] = ";".join(cells) + "\n"
        fragments = ["row=5", "field 'start'", "not a date"]
    else:
        lines[7] = lines[7].rstrip("\n") + ";0.1\n"  # row=8 gets one field too many
        fragments = ["row=8", "malformed"]
    path = tmp_path / "Laboratory.csv"
    path.write_text("".join(lines), encoding="utf-8")
    message = assert_refused_unchanged(
        kg.store, lambda: kg.ingest(path, mapping=MAPPING), MappingError, fragments
    )
    assert message.startswith(str(path))


def test_sliced_store_holds_the_slice(sliced) -> None:
    kg, lines = sliced
    found = query(kg, "SELECT (COUNT(?b) AS ?n) WHERE { ?b a cmc:DrugProductBatch }")
    assert int(found["n"][0]) == len(lines) - 1
    assert Counter(_cells(line)[0] for line in lines[1:]).most_common(1)[0][1] == 1
