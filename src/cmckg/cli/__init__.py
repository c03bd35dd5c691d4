"""The ``cmckg`` command: thin wrappers that parse, call the API, and print.

Each sub-command lives in its own module here with ``register(subparsers)``. User mistakes
(bad input, unknown terms, unreachable stores) print one line and exit 2; a traceback means a bug.
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

COMMAND_MODULES = ["demo", "ingest", "query", "export", "validate", "lineage", "analyses", "cpv",
                   "dossier", "serve", "vocab", "audit"]

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
    for sub in subparsers.choices.values():
        raw = isinstance(sub.formatter_class, type) and issubclass(
            sub.formatter_class, argparse.RawDescriptionHelpFormatter)
        sub.formatter_class = RawDefaultsHelpFormatter if raw else DefaultsHelpFormatter
    return parser


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that names each option's default, unless the text already does or there is none."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default in (None, False, [], argparse.SUPPRESS)
                or not action.option_strings):
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
            help="open the store read-only: any command that would write to it stops with an "
            "error",
        )


def add_change_arguments(parser: argparse.ArgumentParser) -> None:
    """``--by`` and ``--reason``: who makes a change and why, for the audit trail."""
    parser.add_argument("--by", metavar="NAME",
                        help="who makes this change, for the audit trail (default: "
                        "$CMCKG_USER, else the operating-system user)")
    parser.add_argument("--reason", metavar="TEXT",
                        help="why this change is made, for the audit trail (default: none)")


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
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists()
                                                    and not os.access(path, os.W_OK)):
        raise ConfigError(f"cannot write {what}: permission denied", target)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 file``, ``2 files`` (``nouns`` for an irregular plural)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


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
            print(f"cmckg {args.command}: error: cannot write {where}"
                  f"{exc.strerror or exc}", file=sys.stderr)
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
