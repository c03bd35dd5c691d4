"""Load the hand-built TriG fixtures of tests/data/questions into a store (one graph per record)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from rdflib import Dataset

from cmckg.kg import KnowledgeGraph
from cmckg.stores import ChangeSet

QUESTIONS = Path(__file__).resolve().parent / "data" / "questions"


def load_trig(kg: KnowledgeGraph, *paths: Path, layer: bool = True) -> None:
    """Put the graphs of ``paths`` into the store as they are (no ingest), then (``layer``)
    build the analytics layer from them as ``cmckg reindex`` does."""
    changes = ChangeSet()
    for path in paths:
        dataset = Dataset()
        dataset.parse(path, format="trig")
        for graph in dataset.graphs():
            if len(graph) and graph.identifier != dataset.default_graph.identifier:
                changes.put_graphs[graph.identifier] = graph
    kg.store.apply(changes)
    if layer:
        kg.reindex()


ZAGAR_CSV = QUESTIONS.parents[2] / "examples" / "zagar2022" / "Laboratory.csv"
ZAGAR_MAPPING = ZAGAR_CSV.with_name("mapping.yaml")


@cache
def zagar_graph() -> KnowledgeGraph:
    """The Žagar table ingested once per test process into an in-memory Oxigraph store."""
    kg = KnowledgeGraph.open("oxigraph:memory")
    kg.ingest(ZAGAR_CSV, mapping=ZAGAR_MAPPING)
    return kg


@cache
def zagar_rows() -> tuple[dict[str, str | None], ...]:
    """The CSV rows read with the csv module; blank or space-only cells are None."""
    with ZAGAR_CSV.open(newline="", encoding="utf-8") as handle:
        return tuple(
            {k: (v.strip() or None) for k, v in row.items()}
            for row in csv.DictReader(handle, delimiter=";")
        )


MAB_TRUTH = QUESTIONS.parents[2] / "examples" / "mab" / "truth.csv"


@cache
def mab_graph() -> KnowledgeGraph:
    """The bundled mAb example (its records through the mappers) in an in-memory Oxigraph."""
    from cmckg.examples import example_groups

    kg = KnowledgeGraph.open("oxigraph:memory")
    for group in example_groups():
        if group.name.startswith("mAb"):
            kg.ingest(group.files, mapping=group.mapping)
    return kg
