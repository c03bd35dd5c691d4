"""``cmckg demo``: build a store from the bundled examples and answer the weekly questions."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ..errors import CmckgError
from ..examples import example_groups
from ..kg import KnowledgeGraph
from . import (
    add_change_arguments,
    add_command,
    add_store_argument,
    add_vocab_argument,
    plural,
    write_text,
)
from .console import err, out, print_frame, progress_bar

DEMO_DP_LOT = "A-DP-1003"
DEMO_MEDIUM_LOT = "A-MED-002"
DEMO_ATTRIBUTES = ["HMW (SEC)", "Main peak (CEX)", "Relative potency", "HCP"]
DEMO_DOSSIER_LOT = "A-DP-1020"  # the planted out-of-specification drug-product lot
REPORTS = Path("cmckg-reports")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers,
        "demo",
        description=(
            "Ingest everything under examples/ (a generated two-site mAb data set with planted "
            "effects, 15 real ASM instrument files, B2MML messages and 1,005 real tablet batches "
            "from Žagar & Mihelič 2022) into the store, then show lineage, a comparability "
            "test, raw-material drivers and a validation summary. Re-running it changes nothing."
        ),
    )
    add_store_argument(parser)
    add_change_arguments(parser)
    add_vocab_argument(parser)
    parser.add_argument(
        "--skip-validation", action="store_true", help="do not run the SHACL validation step"
    )
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, vocab=args.vocab) as kg:
        out.rule(f"[bold]1. Ingest the bundled examples into {kg.store.location}")
        _ingest(kg, args.by, args.reason)
        print_frame(kg.stats(), title="What the store holds")

        out.rule("[bold]2. Lineage: what went into a drug-product lot, and where a lot went")
        backward = kg.lineage(DEMO_DP_LOT, direction="backward")
        print_frame(
            _lineage_table(backward.nodes),
            title=f"Backward lineage of drug-product lot {DEMO_DP_LOT}",
        )
        forward = kg.lineage(DEMO_MEDIUM_LOT, direction="forward")
        reached = forward.nodes[forward.nodes["kind"] == "batch"]
        out.print(
            f"Medium lot {DEMO_MEDIUM_LOT} reached {plural(len(reached), 'batch', 'batches')}: "
            + ", ".join(sorted(reached["identifier"].astype(str))),
            highlight=False,
        )

        out.rule("[bold]3. Comparability: Site-A process v1 → v2 (TOST, margin 1.5·σR)")
        comparison = kg.compare(
            DEMO_ATTRIBUTES,
            "site=Site-A,process_version=v1",
            "site=Site-A,process_version=v2",
            method="tost",
        )
        print_frame(_comparison_table(comparison.table), title="Equivalence of v2 to v1")
        transfer = kg.compare(
            DEMO_ATTRIBUTES, "site=Site-A,process_version=v2", "site=Site-B", method="quality-range"
        )
        print_frame(
            _comparison_table(transfer.table),
            title="Site-B (its own test names and units) inside Site-A v2 mean ± 3 SD",
        )

        out.rule("[bold]4. Which raw-material attributes drive afucosylation?")
        drivers = kg.drivers("afucosylation")
        columns = [
            c
            for c in ("material", "attribute", "n", "effect", "p", "q")
            if c in drivers.table.columns
        ]
        print_frame(drivers.table[columns].head(5), title="Top raw-material drivers (Spearman)")

        if not args.skip_validation:
            out.rule("[bold]5. Validate every record (SHACL, specifications as shapes)")
            _validation(kg)

        out.rule("[bold]6. Look: a batch dossier and a comparability report")
        dossier = kg.dossier(DEMO_DOSSIER_LOT)  # with the open results step 5 recorded
        written = [
            _write(f"dossier-{DEMO_DOSSIER_LOT}.html", dossier.to_html()),
            _write("comparability-v1-v2.html", comparison.to_html()),
        ]
        for path in written:
            out.print(f"wrote {path}", highlight=False)
    out.print(
        "\nNext: [bold]cmckg query --list[/bold], [bold]cmckg lineage ID[/bold], "
        "[bold]cmckg compare --help[/bold], [bold]cmckg validate --format github[/bold].",
        highlight=False,
    )
    return 0


def _ingest(kg: KnowledgeGraph, by: str | None, reason: str | None) -> None:
    groups = example_groups()
    with progress_bar() as bar:
        task = bar.add_task("ingesting", total=len(groups))
        for group in groups:
            bar.update(task, description=f"ingesting {group.name}")
            report = kg.ingest(group.files, mapping=group.mapping, by=by, reason=reason)
            bar.advance(task)
            out.print(
                f"{group.name}: {plural(len(group.files), 'file')}, "
                f"{plural(report.records, 'record')}, {plural(report.triples, 'triple')}, "
                f"{report.changed} changed, {plural(len(report.warnings), 'warning')}",
                highlight=False,
            )


def _lineage_table(nodes: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in ("depth", "kind", "identifier", "material", "site") if c in nodes]
    return nodes[columns].sort_values(["depth", "kind", "identifier"]).reset_index(drop=True)


def _comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    wanted = [
        "attribute",
        "kind",
        "unit",
        "n_ref",
        "mean_ref",
        "sd_ref",
        "n_test",
        "mean_test",
        "inside",
        "ci_low",
        "ci_high",
        "margin",
        "verdict",
    ]
    frame = table[[c for c in wanted if c in table.columns]]
    return frame.dropna(axis="columns", how="all")


def _write(name: str, text: str) -> Path:
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / name
    write_text(str(path), text)
    return path.resolve()


def _validation(kg: KnowledgeGraph) -> None:
    from ..validate import Severity, validate_store

    try:
        with kg.vocabulary(), progress_bar() as bar:
            bar.add_task("validating every record", total=None)
            report = validate_store(kg.store, kg.minter, full=True)
    except CmckgError as exc:
        err.print(f"validation could not run: {exc}", markup=False)
        return
    counts = report.counts()
    out.print(
        f"{report.focus_nodes} focus nodes, {report.triples} triples in {report.seconds:.1f} s: "
        + ", ".join(plural(counts[s], s.name.lower()) for s in sorted(counts, reverse=True)),
        highlight=False,
    )
    rows = [
        {
            "severity": r.severity.name.lower(),
            "file": r.source.path,
            "where": r.source.location,
            "message": r.message,
        }
        for r in report.at_or_above(Severity.VIOLATION)
    ]
    if rows:
        print_frame(pd.DataFrame(rows), title="Violations (release by exception)")
