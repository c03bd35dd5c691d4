"""The ``cmckg`` command: thin wrappers that parse, call the API, and print.

``COMMANDS`` is the one registry: each command, the module here that registers it with
``register(subparsers)``, and its one-line summary. Only the module of the command being run is
imported, so ``cmckg --help`` needs none of the heavy libraries. User mistakes (bad input, unknown
terms, unreachable stores) print one line and exit 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..errors import CmckgError, ConfigError

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "demo",
        "ingest the bundled examples and answer lineage, comparability and quality questions",
    ),
    "ingest": ("ingest", "map source files into the store"),
    "stats": ("ingest", "count what the store holds"),
    "query": ("query", "run a saved SPARQL query"),
    "export": ("export", "write the store as RDF"),
    "validate": ("validate", "check records with SHACL; reports for people and CI"),
    "lineage": ("lineage", "trace a lot backward (what went in) or forward (where it went)"),
    "compare": ("analyses", "comparability of test batches against reference batches"),
    "drivers": ("analyses", "rank raw-material attributes against a product quality attribute"),
    "summary": ("analyses", "n, mean, SD, min, max and Ppk/Cpk per attribute and group"),
    "cpv": ("cpv", "I-MR control chart with Nelson / Western Electric run rules"),
    "dossier": ("dossier", "write a lot's batch dossier (HTML or JSON-LD)"),
    "serve": ("serve", "expose the store as a SPARQL 1.1 endpoint"),
    "vocab": ("vocab", "check project vocabularies (HermiT) and list what resolves to what"),
    "verify": ("audit", "check that no record was altered outside cmckg"),
    "history": ("audit", "every revision of a record or lot: who, why, when, what changed"),
    "reindex": ("reindex", "rebuild the derived analytics layer from the records"),
}

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command listed; the module of ``command`` (``None``: every
    module) registers its full sub-parsers, the others stand as one-line summaries."""
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
            "(bad input, unreachable store). 'cmckg COMMAND --help' explains each command."
        ),
    )
    parser.add_argument("--version", action="version", version=f"cmckg {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    if command is None:
        loaded = dict.fromkeys(module for module, _ in COMMANDS.values())
    else:
        loaded = dict.fromkeys([COMMANDS[command][0]] if command in COMMANDS else [])
    for name, (module_name, summary) in COMMANDS.items():
        if module_name not in loaded:
            subparsers.add_parser(name, help=summary, add_help=False)
    for module_name in loaded:
        importlib.import_module(f"{__name__}.{module_name}").register(subparsers)
    missing = [
        name
        for name, (module, _) in COMMANDS.items()
        if module in loaded and name not in subparsers.choices
    ]
    if missing:
        raise RuntimeError(f"cmckg commands not registered by their modules: {missing}")
    for sub in subparsers.choices.values():
        raw = isinstance(sub.formatter_class, type) and issubclass(
            sub.formatter_class, argparse.RawDescriptionHelpFormatter
        )
        sub.formatter_class = RawDefaultsHelpFormatter if raw else DefaultsHelpFormatter
    return parser


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str, **kwargs: object
) -> argparse.ArgumentParser:
    """Add the sub-parser of command ``name`` with its summary from ``COMMANDS``."""
    return subparsers.add_parser(name, help=COMMANDS[name][1], **kwargs)  # type: ignore[arg-type]


def _command_in(argv: Sequence[str]) -> str | None:
    """The command word of ``argv`` (the first argument that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that names each option's default, unless the text already does or there is none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, [], argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


class RawDefaultsHelpFormatter(argparse.RawDescriptionHelpFormatter, DefaultsHelpFormatter):
    """``DefaultsHelpFormatter`` keeping the description's own line breaks."""


def add_store_argument(parser: argparse.ArgumentParser, *, read_only_flag: bool = True) -> None:
    """``--store``, and ``--read-only`` for the commands that write (the others always open the
    store read-only)."""
    parser.add_argument(
        "--store",
        metavar="PATH|URL",
        default=None,
        help="the store: an Oxigraph directory (default ./cmckg-store or $CMCKG_STORE), "
        "memory:, or a SPARQL endpoint URL",
    )
    if read_only_flag:
        parser.add_argument(
            "--read-only",
            action="store_true",
            help="open the store read-only: any command that would write to it stops with an error",
        )


def add_change_arguments(parser: argparse.ArgumentParser) -> None:
    """``--by`` and ``--reason``: who makes a change and why, for the audit trail."""
    parser.add_argument(
        "--by",
        metavar="NAME",
        help="who makes this change, for the audit trail (default: "
        "$CMCKG_USER, else the operating-system user)",
    )
    parser.add_argument(
        "--reason",
        metavar="TEXT",
        help="why this change is made, for the audit trail (default: none)",
    )


def check_output(target: str | None, what: str = "the output") -> None:
    """Stop before any work when ``target`` cannot be written: its folder is missing or not
    writable, or it is a folder itself."""
    if not target:
        return
    path = Path(target)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ConfigError(f"cannot write {what}: it is a folder", target)
    if not folder.is_dir():
        raise ConfigError(f"cannot write {what}: the folder {folder} does not exist", target)
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ConfigError(f"cannot write {what}: permission denied", target)


def write_text(target: str | None, text: str, what: str = "the output") -> None:
    """Write ``text`` to ``target`` atomically (a partial file never stands), or to stdout."""
    if not target:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(target)
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write {what}: {exc.strerror}", str(path)) from exc


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 file``, ``2 files`` (``nouns`` for an irregular plural)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def add_vocab_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--vocab",
        action="append",
        default=[],
        metavar="FILE",
        help="a project vocabulary (YAML or SKOS Turtle) with your own concepts and units "
        "(repeatable); ingest stores it, so later questions resolve it without the file",
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(arguments) or "")
    args = parser.parse_args(arguments)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        code = int(args.handler(args) or EXIT_OK)
        sys.stdout.flush()  # a full device or closed pipe shows here, not at exit
        return code
    except CmckgError as exc:
        print(f"cmckg {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:  # the output could not be written (full device, closed pipe)
        _silence_stdout()
        if exc.errno != errno.EPIPE:
            where = f"{exc.filename}: " if exc.filename else "standard output: "
            print(
                f"cmckg {args.command}: error: cannot write {where}{exc.strerror or exc}",
                file=sys.stderr,
            )
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("cmckg: interrupted; nothing was written by the interrupted step", file=sys.stderr)
        return EXIT_ERROR


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of unwritable output does
    not print a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
