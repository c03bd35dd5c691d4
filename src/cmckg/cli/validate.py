"""``cmckg validate``: SHACL validation of the store (or of source files) with CI-ready reports."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from ..errors import CmckgError, ConfigError, StoreError
from ..kg import KnowledgeGraph, load_mapping
from ..reports import FORMATS, render
from ..stores import default_location
from ..validate import (
    Severity,
    ValidationReport,
    run_validation,
    store_shapes,
    validate_sources,
)
from ..vocab import bind_prefixes
from . import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_OK,
    add_command,
    add_store_argument,
    add_vocab_argument,
    check_output,
    write_text,
)
from .console import progress_bar

DESCRIPTION = """\
Check records against the SHACL shapes in shapes/ (lots, runs, samples, measurements,
specifications and cross-record rules) and against shapes generated from the specification
records in the store, so a lot's release readiness is one validation run.

By default the run is incremental: only the record graphs added or changed since the last
validation are checked, together with the nodes they reference; the validation state is kept
in the store's metadata graph. --full checks everything (a change of shapes or specifications
makes the next run full by itself). Given SOURCE files, cmckg maps them in memory and validates
them on their own, without a store.

Every result names its severity, shape, focus node, path, value and message, and where it came
from: the source file, the CSV row, JSON pointer or XPath, and the record."""

EPILOG = """\
severities:
  violation  the record breaks a rule it must keep (a missing identifier, a run with no input,
             a result out of specification, a lot consumed before it was produced)
  warning    a gap a reviewer should see, common in real exports (no supplier, no result time)
  info       a hint (a lot without site, a measurement without stage)

exit codes:
  0  nothing at or above the --fail-on severity (default: violation)
  1  at least one result at or above the --fail-on severity
  2  cmckg could not run (unreadable input, bad shapes, no store) -- never 1 for a crash

examples:
  cmckg validate                                  incremental, text report
  cmckg validate --full --format sarif -o cmckg.sarif
  cmckg validate --format github --fail-on warning
  cmckg validate --format github --also sarif:cmckg.sarif --also markdown:summary.md
  cmckg validate examples/asm/*.json              files only, no store"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "validate",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="validate these files on their own instead of the store",
    )
    parser.add_argument("--mapping", metavar="FILE", help="YAML mapping for tabular SOURCE files")
    parser.add_argument(
        "--source-format",
        metavar="NAME",
        help="force a mapper for SOURCE files (asm, b2mml, tables)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="validate every record graph, not only those changed since the last validation",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format")
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report here")
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="FORMAT:FILE",
        help="also write the same run's report in another format "
        "(repeatable), e.g. --also sarif:cmckg.sarif",
    )
    parser.add_argument(
        "--fail-on",
        choices=["violation", "warning", "info"],
        default="violation",
        help="exit 1 when a result has this severity or worse",
    )
    parser.add_argument(
        "--shapes",
        action="append",
        default=[],
        metavar="FILE|DIR",
        help="extra Turtle shapes to use besides the built-in ones",
    )
    parser.add_argument(
        "--export-shapes",
        metavar="FILE",
        help=(
            "also write every shape used (built-in, and generated from specifications and "
            "plausible ranges) as Turtle"
        ),
    )
    add_store_argument(parser)
    add_vocab_argument(parser)
    parser.set_defaults(handler=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    """Validate, write the report, and exit 0/1 by --fail-on; anything unexpected exits 2."""
    try:
        fail_on = Severity.parse(args.fail_on)
        also = [_format_and_file(item) for item in args.also]
        for target in (args.output, args.export_shapes, *(t for _, t in also)):
            check_output(target, "the report")  # before the run, not after it

        def deliver(report: ValidationReport) -> None:
            _write(args.output, render(report, args.format, fail_on))
            for fmt, target in also:
                _write(target, render(report, fmt, fail_on))

        report = _validate(args, deliver)
        return EXIT_FAILED if report.failed(fail_on) else EXIT_OK
    except (CmckgError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a crash must never look like "validation failed" (exit 1)
        traceback.print_exc(file=sys.stderr)
        print(f"cmckg validate: internal error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _validate(
    args: argparse.Namespace, deliver: Callable[[ValidationReport], None]
) -> ValidationReport:
    """Run, ``deliver`` the report, and only then record the state: a run whose report could
    not be written leaves the store as it was."""
    if args.sources:
        if args.store:
            raise ConfigError("give SOURCE files or --store, not both")
        report = validate_sources(
            args.sources,
            load_mapping(args.mapping),
            args.source_format,
            shapes=args.shapes,
            export_shapes=args.export_shapes,
            vocab=args.vocab,
        )
        deliver(report)
        return report
    if args.mapping or args.source_format:
        raise ConfigError("--mapping and --source-format apply to SOURCE files only")
    location = args.store or default_location()
    if not location.startswith(("memory:", "http://", "https://")):
        path = Path(location.removeprefix("oxigraph:"))
        if not path.is_dir():
            raise StoreError("no store here; ingest records first or give SOURCE files", str(path))
    with (
        KnowledgeGraph.open(args.store, read_only=args.read_only, vocab=args.vocab) as kg,
        kg.vocabulary(),
    ):
        kg.require_trusted_answers()
        with progress_bar() as bar:
            bar.add_task("validating", total=None)
            run = run_validation(kg.store, kg.minter, full=args.full, shapes=args.shapes)
        if args.export_shapes:
            _write(
                args.export_shapes,
                bind_prefixes(store_shapes(kg.store, args.shapes)).serialize(format="turtle"),
            )
        deliver(run.report)
        if not args.read_only:
            run.record()
    return run.report


def _format_and_file(item: str) -> tuple[str, str]:
    fmt, sep, target = item.partition(":")
    if not sep or fmt not in FORMATS or not target:
        raise ConfigError(
            f"--also expects FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}, got {item!r}"
        )
    return fmt, target


def _write(target: str | None, text: str) -> None:
    write_text(target, text, "the report")
