"""``cmckg ingest`` and ``cmckg stats``."""

from __future__ import annotations

import argparse

from ..kg import KnowledgeGraph
from . import EXIT_ERROR, add_store_argument, add_vocab_argument
from .console import err, out, print_frame, progress_bar


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="map source files into the store",
        description=(
            "Map source files (ASM JSON, B2MML XML, or CSV/TSV/XLSX with a --mapping) into one "
            "named graph per source record. The whole ingest is atomic: if any file fails, "
            "nothing is written (with --each, each file is all-or-nothing on its own). "
            "Re-ingesting unchanged files changes nothing; a changed record "
            "replaces its graph and the old one is kept as a superseded revision."
        ),
    )
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="files to ingest")
    parser.add_argument("--mapping", metavar="FILE", help="YAML mapping for tabular sources")
    parser.add_argument(
        "--format", dest="format_name", metavar="NAME", help="force a mapper (asm, b2mml, tables)"
    )
    parser.add_argument(
        "--each", action="store_true",
        help="ingest file by file, each all-or-nothing: a file that cannot be mapped is refused "
        "(and named, with why) while the others land; exit 2 if any was refused",
    )
    add_store_argument(parser)
    add_vocab_argument(parser)
    parser.set_defaults(handler=run_ingest)

    stats = subparsers.add_parser("stats", help="count what the store holds")
    add_store_argument(stats)
    stats.set_defaults(handler=run_stats)


def run_ingest(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=args.read_only) as kg, progress_bar() as bar:
        task = bar.add_task("mapping", total=len(args.sources))

        def progress(path: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"mapping {path}")

        report = kg.ingest(args.sources, mapping=args.mapping, format=args.format_name,
                           progress=progress, vocab=args.vocab, each=args.each)
    for source in report.sources:
        out.print(
            f"{source.path}: {source.records} records, {source.triples} triples via "
            f"{source.mapper} — {source.added} new, {source.replaced} replaced, "
            f"{source.unchanged} unchanged, {source.superseded} superseded",
            highlight=False,
        )
    for vocabulary in report.vocabularies:
        out.print(
            f"{vocabulary.path}: vocabulary, {vocabulary.triples} triples — "
            f"{vocabulary.added} new, {vocabulary.replaced} replaced, "
            f"{vocabulary.unchanged} unchanged",
            highlight=False,
        )
    for warning in report.warnings:
        err.print(f"warning: {warning}", highlight=False, markup=False)
    out.print(
        f"ingested {report.records} records, {report.triples} triples, "
        f"{len(report.warnings)} warnings",
        highlight=False,
    )
    for refusal in report.refused:
        err.print(f"refused: {refusal.reason}", highlight=False, markup=False, soft_wrap=True)
    if report.refused:
        err.print(f"{len(report.refused)} of {len(report.refused) + len(report.sources)} files "
                  "refused; the others were ingested", highlight=False)
        return EXIT_ERROR
    return 0


def run_stats(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True) as kg:
        print_frame(kg.stats(), title=f"cmckg store {kg.store.location}")
    return 0
