"""``cmckg verify`` and ``cmckg history``: check and read the audit trail."""

from __future__ import annotations

import argparse
import json

from ..audit import HistoryEntry, iter_history_lines, verify
from ..kg import KnowledgeGraph
from . import EXIT_FAILED, EXIT_OK, add_command, add_store_argument, plural
from .console import out, progress_bar


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    verify_parser = add_command(
        subparsers,
        "verify",
        description=(
            "Recompute the sha256 of every record graph and superseded revision and the hash "
            "chain of the change sets, and compare them with the audit trail. Each mismatch is "
            "one line naming the graph and its source file. Exit 0 when everything matches, "
            "1 when something was altered outside cmckg, 2 when it could not run."
        ),
    )
    add_store_argument(verify_parser, read_only_flag=False)
    verify_parser.set_defaults(handler=run_verify)

    history_parser = add_command(
        subparsers,
        "history",
        description=(
            "Show every revision of the record graphs that TARGET names (a record graph IRI, a "
            "record id, or a lot, run or sample identifier or IRI), oldest first: the change "
            "set that made it (who, when, why, tool version) and the triples it added (+) and "
            "removed (-)."
        ),
        epilog="Example: cmckg history A-DS-1020",
    )
    history_parser.add_argument(
        "target",
        metavar="LOT|RECORD",
        help="a lot, run or sample identifier or IRI, a record id, or a record graph IRI",
    )
    history_parser.add_argument(
        "--all",
        action="store_true",
        help="show every changed triple (default: the first 50 added and removed per revision)",
    )
    history_parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="output format (default: text)"
    )
    add_store_argument(history_parser, read_only_flag=False)
    history_parser.set_defaults(handler=run_history)


def run_verify(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True) as kg, progress_bar() as bar:
        task = bar.add_task("verifying record graphs", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = verify(kg.store, kg.minter, progress)
    for finding in report.findings:
        out.print(str(finding), highlight=False, markup=False, soft_wrap=True)
    checked = (
        f"{plural(report.records, 'record graph')}, "
        f"{plural(report.revisions, 'superseded revision')} and "
        f"{plural(report.change_sets, 'change set')}"
    )
    untracked = (
        f"; {plural(report.untracked, 'revision')} predate the audit trail (content hash only)"
        if report.untracked
        else ""
    )
    if report.ok:
        out.print(
            f"verified {checked}: all match the audit trail{untracked}",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_OK
    out.print(
        f"checked {checked}: {plural(len(report.findings), 'problem')} found{untracked}",
        highlight=False,
        soft_wrap=True,
    )
    return EXIT_FAILED


def run_history(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True) as kg:
        entries = kg.history(args.target)
    if args.format == "json":
        out.print(
            json.dumps([_as_dict(e) for e in entries], indent=2, ensure_ascii=False),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_OK
    if not entries:
        out.print(f"no record revisions for {args.target!r}", markup=False, highlight=False)
    for line in iter_history_lines(entries, None if args.all else 50):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    return EXIT_OK


def _as_dict(entry: HistoryEntry) -> dict[str, object]:
    r, c = entry.revision, entry.change_set
    return {
        "graph": str(r.graph),
        "revision": "removed"
        if not r.content_sha256
        else ("current" if r.number is None else r.number),
        "source": r.source,
        "content_sha256": r.content_sha256,
        "change_set": c.sequence if c else None,
        "by": c.by if c else None,
        "reason": c.reason if c else None,
        "started": c.started if c else None,
        "ended": c.ended if c else None,
        "tool": c.tool if c else None,
        "added": entry.added,
        "removed": entry.removed,
    }
