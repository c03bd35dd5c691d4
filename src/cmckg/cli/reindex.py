"""``cmckg reindex``: rebuild the derived analytics layer from the records."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import StoreError
from ..kg import KnowledgeGraph
from ..stores import default_location
from . import add_command, add_store_argument
from .console import progress_bar


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "reindex",
        description=(
            "Make the analytics layer (one row per measured value, one summary with its "
            "upstream lots per batch; ontology/MODEL.md) again from the records, in one atomic "
            "change set. Ingest keeps it in step; run this once on a store written by an older "
            "cmckg or loaded around ingest."
        ),
    )
    add_store_argument(parser, read_only_flag=False)
    parser.set_defaults(handler=run_reindex)


def run_reindex(args: argparse.Namespace) -> int:
    location = args.store or default_location()
    if not location.startswith(("memory:", "http://", "https://")):
        path = Path(location.removeprefix("oxigraph:"))
        if not path.is_dir():  # a layer of nothing: no store is made here
            raise StoreError("no store here; ingest records first (cmckg ingest)", str(path))
    with KnowledgeGraph.open(args.store) as kg, progress_bar() as bar:
        task = bar.add_task("reading the records", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=f"computing {what} graphs", completed=done, total=total)

        written, dropped = kg.reindex(progress)
    print(f"analytics layer rebuilt: {written} graphs written, {dropped} stale graphs dropped")
    return 0
