"""The ``cmckg`` command: thin wrappers that parse, call the API, and print.

Each sub-command lives in its own module here with ``register(subparsers)``. User mistakes
(bad input, unknown terms, unreachable stores) print one line and exit 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import CmckgError

COMMAND_MODULES = ["demo", "ingest", "query", "export", "validate", "lineage", "analyses", "serve",
                   "vocab"]

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmckg",
        description=(
            "A knowledge graph for biopharmaceutical CMC data: ingest process, assay and material "
            "records as RDF aligned to Allotrope (AFO), PROV-O and QUDT; validate them with SHACL; "
            "ask lineage, comparability and raw-material questions."
        ),
        epilog=(
            "The store defaults to ./cmckg-store (an embedded Oxigraph directory) or $CMCKG_STORE; "
            "--store also takes memory: or a SPARQL endpoint URL. Exit codes: 0 success, "
            "1 a check failed (e.g. validation found violations), 2 cmckg could not run "
            "(bad input, unreachable store)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"cmckg {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{module_name}":
                continue
            raise
        module.register(subparsers)
    return parser


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="PATH|URL",
        default=None,
        help="the store: an Oxigraph directory (default ./cmckg-store or $CMCKG_STORE), "
        "memory:, or a SPARQL endpoint URL",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="open the store read-only: any command that would write to it stops with an error",
    )


def add_vocab_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vocab", action="append", default=[], metavar="FILE",
        help="a project vocabulary (YAML or SKOS Turtle) with your own concepts and units "
        "(repeatable); ingest stores it, so later questions resolve it without the file",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.handler(args) or EXIT_OK)
    except CmckgError as exc:
        print(f"cmckg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("cmckg: interrupted; nothing was written by the interrupted step", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
