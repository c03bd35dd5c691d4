"""``cmckg query``: run a saved query from ``queries/`` with typed parameters."""

from __future__ import annotations

import argparse

from .. import queries
from ..errors import QueryError
from ..kg import KnowledgeGraph
from . import add_command, add_store_argument
from .console import out, print_frame


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "query",
        description=(
            "Run a saved query from queries/ by name. Parameters are bound as typed RDF terms, "
            "never pasted into the query text. 'cmckg query --list' shows the saved queries "
            "with their parameters."
        ),
    )
    parser.add_argument("name", nargs="?", help="the saved query's name (file name without .rq)")
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of the query, bound as a typed term (repeatable)",
    )
    parser.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="output format (default: table)",
    )
    parser.add_argument("--list", action="store_true", help="list saved queries and exit")
    add_store_argument(parser, read_only_flag=False)
    parser.set_defaults(handler=run_query)


def run_query(args: argparse.Namespace) -> int:
    if args.list or not args.name:
        for saved in queries.saved_queries().values():
            params = ", ".join(f"{p.name} ({p.type})" for p in saved.parameters) or "none"
            out.print(f"[bold]{saved.name}[/bold] — {saved.title}\n    parameters: {params}")
        return 0
    params = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            raise QueryError(f"--param expects KEY=VALUE, got {item!r}")
        params[key.strip()] = value
    saved = queries.get_query(args.name)
    with KnowledgeGraph.open(args.store, read_only=True) as kg:
        frame = kg.query(saved.name, **params)
    print_frame(frame, args.format, title=saved.title or saved.name)
    return 0
