"""Derived lineage (cmckg.derivation) and validation: a drug-product lot whose run's inputs
arrive in a later ingest is checked again, so its lineage finding does not go stale."""

from __future__ import annotations

from pathlib import Path

from cmckg.kg import KnowledgeGraph

RUNS = "run,output,product\nR-FILL-1,DP-1,P-1\n"
INPUTS = "run,input\nR-FILL-1,RM-1\n"
LOTS = "lot\nRM-1\n"


def _mapping(entities: dict) -> dict:
    return {"mapping": 1, "issuer": "t", "entities": entities}


RUNS_MAPPING = _mapping(
    {
        "run": {
            "type": "ProcessRun",
            "id": "{run}",
            "produced": [
                {
                    "type": "DrugProductBatch",
                    "id": "{output}",
                    "product": {"type": "Product", "id": "{product}"},
                }
            ],
        }
    }
)
INPUTS_MAPPING = _mapping(
    {"run_input": {"type": "ProcessRun", "id": "{run}", "used": [{"id": "{input}"}]}}
)
LOTS_MAPPING = _mapping({"lot": {"type": "RawMaterialLot", "id": "{lot}"}})


def _lineage_findings(kg: KnowledgeGraph) -> list[str]:
    report = kg.validate()
    return [str(r.focus) for r in report.results if "reaches no raw-material lot" in r.message]


def test_a_lineage_completed_later_clears_its_finding_in_an_incremental_run(tmp_path: Path) -> None:
    for name, text in (("runs.csv", RUNS), ("inputs.csv", INPUTS), ("lots.csv", LOTS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    with KnowledgeGraph.open(f"oxigraph:{tmp_path / 'store'}") as kg:
        kg.ingest(tmp_path / "lots.csv", mapping=LOTS_MAPPING)
        kg.ingest(tmp_path / "runs.csv", mapping=RUNS_MAPPING)
        dp = str(kg.minter.mint("lot", "t", "DP-1"))
        assert _lineage_findings(kg) == [dp]
        kg.ingest(tmp_path / "inputs.csv", mapping=INPUTS_MAPPING)
        assert _lineage_findings(kg) == []
        assert sorted(kg.lineage("DP-1").nodes["identifier"]) == ["DP-1", "R-FILL-1", "RM-1"]
