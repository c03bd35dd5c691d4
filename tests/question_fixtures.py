"""Load the hand-built TriG fixtures of tests/data/questions into a store (one graph per record)."""

from __future__ import annotations

from pathlib import Path

from rdflib import Dataset

from cmckg.kg import KnowledgeGraph
from cmckg.stores import ChangeSet

QUESTIONS = Path(__file__).resolve().parent / "data" / "questions"


def load_trig(kg: KnowledgeGraph, *paths: Path) -> None:
    changes = ChangeSet()
    for path in paths:
        dataset = Dataset()
        dataset.parse(path, format="trig")
        for graph in dataset.graphs():
            if len(graph) and graph.identifier != dataset.default_graph.identifier:
                changes.put_graphs[graph.identifier] = graph
    kg.store.apply(changes)
