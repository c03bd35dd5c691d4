"""``cmckg lineage``: what went into a lot, or where a lot went."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..kg import KnowledgeGraph
from ..lineage import KINDS, Lineage
from . import add_command, add_store_argument, add_vocab_argument
from .console import print_frame

FORMATS = ["table", "json", "csv", "dot", "mermaid", "graphml"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "lineage",
        description=(
            "Trace a lot, run or sample through the genealogy. Backward lists every run, "
            "intermediate and raw-material lot upstream; forward lists every run, lot and sample "
            "downstream (the recall question). An identifier that names several nodes is an "
            "error listing them: narrow it with --kind, --material or --supplier, or give the IRI. "
            "Edges keep the PROV direction (a batch prov:wasDerivedFrom a lot)."
        ),
        epilog="Example: cmckg lineage 2 --material lactose --direction forward",
    )
    parser.add_argument("node", metavar="ID", help="identifier or IRI of a lot, run or sample")
    parser.add_argument(
        "--direction",
        choices=["backward", "forward"],
        default="backward",
        help="backward: what went in; forward: where it went (default: backward)",
    )
    parser.add_argument(
        "--depth", type=int, metavar="N", help="stop after N lot generations (default: all)"
    )
    parser.add_argument(
        "--kind", choices=list(KINDS), help="only consider nodes of this kind (default: any)"
    )
    parser.add_argument(
        "--material",
        metavar="NAME",
        help="only consider lots of this material (a term, alias, label or id)",
    )
    parser.add_argument("--supplier", metavar="ID", help="only consider lots from this supplier")
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    parser.add_argument(
        "--edges",
        action="store_true",
        help="with table or csv: print the edges instead of the nodes",
    )
    add_store_argument(parser, read_only_flag=False)
    add_vocab_argument(parser)
    parser.set_defaults(handler=run_lineage)


def run_lineage(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True, vocab=args.vocab) as kg:
        result = kg.lineage(
            args.node,
            direction=args.direction,
            depth=args.depth,
            kind=args.kind,
            material=args.material,
            supplier=args.supplier,
        )
    print_lineage(result, args.format, edges=args.edges)
    return 0


def print_lineage(result: Lineage, fmt: str, *, edges: bool = False) -> None:
    from ..present import lineage_formats

    renderers: dict[str, Callable[[Lineage], str]] = {
        "json": Lineage.to_json,
        "dot": lineage_formats.to_dot,
        "mermaid": lineage_formats.to_mermaid,
        "graphml": lineage_formats.to_graphml,
    }
    if fmt in renderers:
        text = renderers[fmt](result)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    frame = result.edges if edges else result.nodes
    root = result.nodes.iloc[0]
    title = (
        f"{result.direction.capitalize()} lineage of {root['kind']} "
        f"{root['identifier'] or root['iri']}: {len(result.nodes)} nodes, "
        f"{len(result.edges)} edges"
    )
    print_frame(frame, fmt, title=title)
