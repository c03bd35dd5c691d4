"""``cmckg export``: the store as TriG, N-Quads, Turtle or JSON-LD."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..kg import KnowledgeGraph
from . import add_store_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write the store as RDF",
        description="Write every named graph in the store. Turtle merges all graphs into one.",
    )
    parser.add_argument("--format", choices=["trig", "nquads", "turtle", "jsonld"], default="trig")
    parser.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    add_store_argument(parser)
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True) as kg:
        data = kg.export(args.format)
    if args.output:
        tmp = Path(args.output).with_suffix(Path(args.output).suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(args.output)
    else:
        sys.stdout.buffer.write(data)
    return 0
