"""``cmckg export``: the store as TriG, N-Quads, Turtle or JSON-LD."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import ConfigError
from ..kg import KnowledgeGraph
from . import add_command, add_store_argument, check_output
from .console import progress_bar


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "export",
        description="Write every named graph in the store. Turtle merges all graphs into one.",
    )
    parser.add_argument(
        "--format",
        choices=["trig", "nquads", "turtle", "jsonld"],
        default="trig",
        help="RDF format (default: trig)",
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write here instead of standard output"
    )
    add_store_argument(parser, read_only_flag=False)
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    check_output(args.output, "the export")
    with KnowledgeGraph.open(args.store, read_only=True) as kg, progress_bar() as bar:
        bar.add_task(f"exporting {args.format}", total=None)
        data = kg.export(args.format)
    if args.output:
        tmp = Path(args.output).with_suffix(Path(args.output).suffix + ".part")
        try:
            tmp.write_bytes(data)
            tmp.replace(args.output)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ConfigError(
                f"cannot write the export: {exc.strerror or exc}", args.output
            ) from None
    else:
        sys.stdout.buffer.write(data)
    return 0
