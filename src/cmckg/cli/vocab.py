"""``cmckg vocab check`` and ``cmckg vocab list``: project vocabularies before and after use."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..kg import KnowledgeGraph
from ..reasoning import check_consistency
from ..stores import default_location
from ..uservocab import Vocabulary, load_vocabularies, merge, stored_vocabularies
from ..uservocab.listing import concept_table, unit_declarations_table
from . import EXIT_FAILED, EXIT_OK, add_command, add_vocab_argument
from .console import out, print_frame

FORMATS = ["table", "csv", "json"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "vocab",
        description=(
            "Project vocabularies (YAML or SKOS Turtle, given with --vocab or stored by an "
            "earlier ingest) add your own concepts and units. 'check' validates them and runs "
            "the HermiT OWL reasoner over the ontology, the bundled terms and them (needs Java; "
            "skipped otherwise); 'list' shows every label and alias with the concept, unit and "
            "quantity kind it resolves to."
        ),
    )
    commands = parser.add_subparsers(dest="vocab_command", metavar="ACTION", required=True)
    check = commands.add_parser(
        "check",
        help="validate and reason; exit 1 if inconsistent",
        description="Validate the project vocabularies and run the HermiT OWL reasoner over the "
        "ontology, the bundled terms and them (needs Java; skipped otherwise); exit 1 if they "
        "are inconsistent.",
    )
    listing = commands.add_parser(
        "list",
        help="labels and aliases → concept, unit, kind",
        description="List every label and alias with the concept, unit and quantity kind it "
        "resolves to.",
    )
    listing.add_argument(
        "--scheme",
        metavar="SCHEME",
        help="only this scheme (quality attributes, process parameters, "
        "materials, unit operations, stages), or 'units' for declared units",
    )
    listing.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    for sub in (check, listing):
        sub.add_argument(
            "--store",
            metavar="PATH|URL",
            default=None,
            help="also the vocabularies this store holds (default ./cmckg-store "
            "or $CMCKG_STORE, when it exists)",
        )
        add_vocab_argument(sub)
    check.set_defaults(handler=run_check)
    listing.set_defaults(handler=run_list)


@contextmanager
def _vocabularies(args: argparse.Namespace) -> Iterator[list[Vocabulary]]:
    """The store's vocabularies (when there is a store) with the --vocab files over them."""
    location = args.store or default_location()
    exists = args.store is not None or Path(location.removeprefix("oxigraph:")).is_dir()
    if not exists:
        yield load_vocabularies(args.vocab)
        return
    with KnowledgeGraph.open(location, read_only=True) as kg:
        stored = stored_vocabularies(kg.store)
        yield merge(stored, load_vocabularies(args.vocab, stored, kg.minter.base))


def run_check(args: argparse.Namespace) -> int:
    with _vocabularies(args) as vocabularies:
        names = ", ".join(v.source for v in vocabularies) or "no project vocabulary"
        out.print(
            f"checked: {names} (labels, aliases, units, quantity kinds, broader concepts)",
            highlight=False,
            soft_wrap=True,
        )
        result = check_consistency(vocabularies)
    if not result.ran:
        out.print(
            "skipped: the OWL consistency check needs Java for HermiT (no 'java' on PATH)",
            highlight=False,
        )
        return EXIT_OK
    if not result.consistent:
        out.print(f"inconsistent: {result.detail} with {names}", highlight=False, soft_wrap=True)
        return EXIT_FAILED
    if result.unsatisfiable:
        out.print(
            f"inconsistent: unsatisfiable classes {', '.join(result.unsatisfiable)}",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_FAILED
    out.print(
        "consistent: HermiT finds the ontology, the bundled terms and units and "
        f"{names} consistent",
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    with _vocabularies(args) as vocabularies:
        if args.scheme is not None and args.scheme.strip().casefold() == "units":
            print_frame(
                unit_declarations_table(vocabularies),
                args.format,
                title="Declared units (QUDT's own resolve too)",
            )
        else:
            frame = concept_table(vocabularies, args.scheme)
            print_frame(frame, args.format, title="What resolves to what")
    return EXIT_OK
