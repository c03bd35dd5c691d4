"""``cmckg ingest`` and ``cmckg stats``."""

from __future__ import annotations

import argparse
import json

from ..errors import ConfigError, MappingError
from ..ingest import IngestReport
from ..kg import KnowledgeGraph
from ..mappers import MAPPERS, unknown_format
from . import (
    EXIT_ERROR,
    add_change_arguments,
    add_command,
    add_store_argument,
    add_vocab_argument,
    plural,
)
from .console import err, out, print_frame, progress_bar

OUTPUT_FORMATS = ["text", "json"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = add_command(
        subparsers,
        "ingest",
        description=(
            "Map source files (ASM JSON, B2MML XML, or CSV/TSV/XLSX with a --mapping) into one "
            "named graph per source record. The whole ingest is atomic: if any file fails, "
            "nothing is written (with --each, each file is all-or-nothing on its own). "
            "Re-ingesting unchanged files changes nothing; a changed record "
            "replaces its graph and the old one is kept as a superseded revision. Each ingest "
            "that changes something is recorded in the audit trail with who (--by), why "
            "(--reason), when and the cmckg version (see cmckg history, cmckg verify)."
        ),
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="files to ingest")
    parser.add_argument(
        "--mapping", metavar="FILE", help="YAML mapping for tabular sources (default: none)"
    )
    parser.add_argument(
        "--source-format",
        metavar="NAME",
        help=f"force a mapper: {', '.join(MAPPERS)} (default: detected from "
        "the content; tables when --mapping is given)",
    )
    parser.add_argument(
        "--format",
        type=_output_or_source_format,
        default="text",
        metavar="FORMAT",
        help="output format: text or json (default: text); json lists every "
        "warning. (A mapper name here is the deprecated spelling of "
        "--source-format.)",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="print every warning, not only a count per kind",
    )
    parser.add_argument(
        "--each",
        action="store_true",
        help="ingest file by file, each all-or-nothing: a file that cannot be mapped is refused "
        "(and named, with why) while the others land; exit 2 if any was refused",
    )
    add_change_arguments(parser)
    add_store_argument(parser)
    add_vocab_argument(parser)
    parser.set_defaults(handler=run_ingest)

    stats = add_command(
        subparsers,
        "stats",
        description="Count the record graphs, superseded revisions, products, sites, lots by "
        "kind, runs, samples, measurements and specifications in the store, and its quads.",
    )
    add_store_argument(stats, read_only_flag=False)
    stats.set_defaults(handler=run_stats)


def _output_or_source_format(value: str) -> str:
    if value in OUTPUT_FORMATS or value in MAPPERS:
        return value
    raise argparse.ArgumentTypeError(
        f"choose from {', '.join(OUTPUT_FORMATS)} (or use --source-format for a mapper)"
    )


def run_ingest(args: argparse.Namespace) -> int:
    source_format = args.source_format
    if args.format in MAPPERS:
        err.print(
            f"warning: --format {args.format} is deprecated for the source format; use "
            f"--source-format {args.format}",
            highlight=False,
            markup=False,
        )
        if source_format not in (None, args.format):
            raise ConfigError("--format and --source-format name different mappers")
        source_format, args.format = args.format, "text"
    if source_format is not None and source_format not in MAPPERS:
        raise MappingError(unknown_format(source_format))
    with KnowledgeGraph.open(args.store, read_only=args.read_only) as kg, progress_bar() as bar:
        task = bar.add_task("mapping", total=len(args.sources))

        def progress(path: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"mapping {path}")

        report = kg.ingest(
            args.sources,
            mapping=args.mapping,
            format=source_format,
            progress=progress,
            vocab=args.vocab,
            each=args.each,
            by=args.by,
            reason=args.reason,
        )
    if args.format == "json":
        out.print(
            json.dumps(_as_json(report), indent=2, ensure_ascii=False),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_ERROR if report.refused else 0
    for source in report.sources:
        out.print(
            f"{source.path}: {plural(source.records, 'record')}, "
            f"{plural(source.triples, 'triple')} via {source.mapper} — {source.added} new, "
            f"{source.replaced} replaced, {source.unchanged} unchanged, "
            f"{source.superseded} superseded",
            highlight=False,
            soft_wrap=True,
        )
    for vocabulary in report.vocabularies:
        out.print(
            f"{vocabulary.path}: vocabulary, {plural(vocabulary.triples, 'triple')} — "
            f"{vocabulary.added} new, {vocabulary.replaced} replaced, "
            f"{vocabulary.unchanged} unchanged",
            highlight=False,
            soft_wrap=True,
        )
    print_warnings(report, verbose=args.verbose)
    out.print(
        f"ingested {plural(report.records, 'record')}, {plural(report.triples, 'triple')}, "
        f"{plural(len(report.warnings), 'warning')}",
        highlight=False,
        soft_wrap=True,
    )
    for refusal in report.refused:
        err.print(f"refused: {refusal.reason}", highlight=False, markup=False, soft_wrap=True)
    if report.refused:
        total = len(report.refused) + len(report.sources)
        err.print(
            f"{len(report.refused)} of {plural(total, 'file')} refused; the others were ingested",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_ERROR
    return 0


def print_warnings(report: IngestReport, *, verbose: bool = False) -> None:
    """Every warning with ``verbose``; otherwise one line per kind with its count and an
    example."""
    if verbose:
        for warning in report.warnings:
            err.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
        return
    kinds = report.warning_kinds()
    for kind in kinds:
        err.print(
            f"warning: {plural(kind.count, 'time', 'times')} {kind.kind} (e.g. {kind.example})"
            if kind.count > 1
            else f"warning: {kind.example}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if any(kind.count > 1 for kind in kinds):
        err.print(
            "(--verbose or --format json lists every warning)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _as_json(report: IngestReport) -> dict[str, object]:
    return {
        "records": report.records,
        "triples": report.triples,
        "sources": [
            {
                "path": s.path,
                "mapper": s.mapper,
                "sha256": s.sha256,
                "records": s.records,
                "triples": s.triples,
                "added": s.added,
                "replaced": s.replaced,
                "unchanged": s.unchanged,
                "superseded": s.superseded,
                "warnings": s.warnings,
            }
            for s in report.sources
        ],
        "warning_kinds": [
            {"kind": k.kind, "count": k.count, "example": k.example} for k in report.warning_kinds()
        ],
        "refused": [{"path": r.path, "reason": r.reason} for r in report.refused],
    }


def run_stats(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True) as kg:
        print_frame(kg.stats(), title=f"cmckg store {kg.store.location}")
    return 0
