"""The benchmark generator's records go through cmckg's mappers and mean what they say.

Twenty batches are generated into a temporary folder and ingested as ``ingest.yaml`` lists them.
Expected counts come from the generator's parameters (N batches, five runs each) and from the
generated CSV/JSON files read with ``csv`` and ``json``; expected lineage is walked through the
batch-record CSVs by hand.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
import yaml

from cmckg import KnowledgeGraph

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from generate import generate  # noqa: E402

N = 20
PREFIX = (
    "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\nPREFIX prov: <http://www.w3.org/ns/prov#>\n"
)


@pytest.fixture(scope="module")
def enterprise(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, KnowledgeGraph]:
    out = tmp_path_factory.mktemp("enterprise")
    generate(out, N, seed=7)
    plan = yaml.safe_load((out / "ingest.yaml").read_text(encoding="utf-8"))
    kg = KnowledgeGraph.open("oxigraph:memory")
    for group in plan["groups"]:
        kg.ingest([out / f for f in group["files"]], mapping=out / group["mapping"])
    return out, kg


def csv_rows(out: Path, pattern: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(out.glob(pattern)):
        with open(path, encoding="utf-8", newline="") as handle:
            rows += list(csv.DictReader(handle))
    return rows


def count(kg: KnowledgeGraph, where: str) -> int:
    return int(kg.query(PREFIX + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}")["n"][0])


def upstream(runs: list[dict[str, str]], lot: str) -> set[str]:
    """Every lot upstream of ``lot``, walking the batch-record rows (output ← inputs)."""
    inputs_of = {}
    for run in runs:
        lots = [run["upstream"], *run["materials"].split(";"), *run["other_lots"].split(";")]
        inputs_of[run["output"]] = {x for x in lots if x}
    found: set[str] = set()
    frontier = {lot}
    while frontier:
        step = set().union(*(inputs_of.get(x, set()) for x in frontier)) - found
        found |= step
        frontier = step
    return found


def test_counts_follow_from_the_parameters_and_files(enterprise):
    out, kg = enterprise
    runs = csv_rows(out, "*/batch-records/*.csv")
    assert len(runs) == 5 * N  # five unit operations per batch
    assert count(kg, "?x a cmc:DrugSubstanceBatch") == N
    assert count(kg, "?x a cmc:DrugProductBatch") == N
    assert count(kg, "?x a cmc:ProcessRun") == 5 * N
    assert count(kg, "?x a cmc:IntermediateLot") == 3 * N  # N-1 seed, harvest, eluate
    raw = csv_rows(out, "raw-materials/lots_*.csv")
    assert count(kg, "?x a cmc:RawMaterialLot") == len(raw)
    lims = csv_rows(out, "*/lims/*.csv")
    coa = csv_rows(out, "raw-materials/coa_*.csv")
    parameters = sum(1 for r in runs for c in ("temperature", "ph", "do", "column_load") if r[c])
    cell_counts = 0
    for path in out.glob("*/asm/*.json"):
        documents = json.loads(path.read_text(encoding="utf-8"))[
            "cell counting aggregate document"
        ]["cell counting document"]
        cell_counts += 3 * len(documents)  # viability, viable and total cell density
    assert len(lims) == N * (1 + 7 + 3)  # titer, seven DS and three DP release tests
    assert count(kg, "?x a cmc:Measurement") == len(lims) + len(coa) + parameters + cell_counts


def test_backward_lineage_of_a_drug_product_lot_reaches_its_raw_lots(enterprise):
    out, kg = enterprise
    runs = csv_rows(out, "*/batch-records/*.csv")
    raw = {r["lot"] for r in csv_rows(out, "raw-materials/lots_*.csv")}
    dp = next(r["output"] for r in runs if r["output"].startswith("B-DP-"))
    expected = upstream(runs, dp) & raw
    assert len(expected) == 7  # medium, feed, cell bank, two resins, sucrose, polysorbate 80
    found = kg.lineage(dp, "backward").nodes
    assert set(found.loc[found["kind"] == "raw_material_lot", "identifier"]) == expected


def test_a_medium_lot_feeds_several_batches(enterprise):
    out, kg = enterprise
    runs = csv_rows(out, "*/batch-records/*.csv")
    medium = "A-MED-00001"  # Site-A makes 8 of the 20 batches; a medium lot lasts 5-20
    expected = {
        r["output"]
        for r in runs
        if r["output"].startswith("A-DP-") and medium in upstream(runs, r["output"])
    }
    assert len(expected) >= 5
    found = kg.lineage(medium, "forward").nodes
    dp_lots = {i for i in found["identifier"].dropna() if i.startswith("A-DP-")}
    assert dp_lots == expected
