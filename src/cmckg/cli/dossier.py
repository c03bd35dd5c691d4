"""``cmckg dossier``: one lot's batch dossier as a self-contained HTML page or JSON-LD."""

from __future__ import annotations

import argparse

from ..kg import KnowledgeGraph
from . import add_command, add_store_argument, write_text
from .console import err


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "dossier",
        description=(
            "Everything known about one lot and what went into it: identity, the lineage "
            "picture (raw-material lots with supplier and CoA values, intermediates, runs with "
            "equipment and process parameters), every result against its specification with "
            "pass/fail, the open validation results, and for each fact the source file, row "
            "and record revision (sha256). The HTML file opens offline (no scripts, nothing "
            "fetched); --format jsonld writes the same facts as JSON-LD compacted with the "
            "published context (ontology/context.jsonld)."
        ),
    )
    parser.add_argument("lot", metavar="LOT", help="the lot's identifier or IRI")
    parser.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument(
        "--format",
        choices=["html", "jsonld"],
        default=None,
        help="html or jsonld (default: from the file's suffix, else html)",
    )
    parser.add_argument(
        "--kind", help="narrow an ambiguous identifier: raw_material_lot, intermediate or batch"
    )
    parser.add_argument("--material", help="narrow an ambiguous identifier by material")
    parser.add_argument("--supplier", help="narrow an ambiguous identifier by supplier")
    parser.add_argument(
        "--validate",
        action="store_true",
        help="run a full SHACL validation now (not recorded) for the open "
        "results, instead of reading those the last recorded validation left",
    )
    add_store_argument(parser, read_only_flag=False)
    parser.set_defaults(handler=run_dossier)


def output_format(fmt: str | None, output: str | None) -> str:
    if fmt:
        return fmt
    return "jsonld" if output and output.endswith((".jsonld", ".json")) else "html"


def run_dossier(args: argparse.Namespace) -> int:
    fmt = output_format(args.format, args.output)
    with KnowledgeGraph.open(args.store, read_only=True) as kg:
        dossier = kg.dossier(
            args.lot, kind=args.kind, material=args.material, supplier=args.supplier
        )
        if args.validate:
            err.print("validating every record (SHACL)…", highlight=False, markup=False)
            report = kg.validate(full=True, record=False)
            dossier.attach_validation(
                report.results,
                "open results of a full validation run for this dossier (not recorded)",
            )
    text = dossier.to_html() if fmt == "html" else dossier.to_jsonld()
    write_text(args.output, text)
    if args.output:
        err.print(f"wrote {args.output}", highlight=False, markup=False)
    return 0
