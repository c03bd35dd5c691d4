"""``cmckg cpv``: an I-MR control chart with run rules for continued process verification."""

from __future__ import annotations

import argparse
import json

from ..cpv import DEFAULT_BASELINE, GROUPINGS, KINDS
from ..kg import KnowledgeGraph
from . import add_command, add_store_argument
from .console import err, out, print_frame

FORMATS = ["table", "csv", "json"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cpv = add_command(
        subparsers,
        "cpv",
        description=(
            "Individuals and moving-range chart of one attribute over a product's batches in "
            "date order (manufacture date, else the producing run's start; same date: batch "
            "identifier in natural order; undated batches are left out with a note). Limits "
            "from a baseline: x̄ ± 3·MR̄/1.128, MR chart up to 3.267·MR̄ (NIST/SEMATECH "
            "e-Handbook 6.3.2). Every point is checked against the selected run rules; each "
            "signal names its rule and the lots that make it up. Ppk and Cpk against the "
            "product's specification per window and per site and process version. --format csv "
            "prints one row per batch; json everything."
        ),
        epilog="Example: cmckg cpv HMW --product mAb-X --kind drug_substance "
        "--baseline A-DS-1001:A-DS-1014 --plot hmw.png",
    )
    cpv.add_argument(
        "attribute", metavar="ATTRIBUTE", help="the attribute to chart (a term, alias or label)"
    )
    cpv.add_argument(
        "--product",
        required=True,
        metavar="PRODUCT",
        help="the product whose batches are charted (identifier or label)",
    )
    cpv.add_argument("--stage", metavar="STAGE", help="testing stage (release, in-process…)")
    cpv.add_argument("--kind", choices=KINDS, help="batch kind, where both have the attribute")
    base = cpv.add_mutually_exclusive_group()
    base.add_argument(
        "--baseline",
        metavar="FIRST:LAST",
        help="baseline batches from FIRST to LAST (identifiers or YYYY-MM-DD)",
    )
    base.add_argument(
        "--baseline-n",
        type=_at_least_two,
        metavar="N",
        help=f"the first N batches (default {DEFAULT_BASELINE})",
    )
    cpv.add_argument(
        "--rules",
        default="nelson",
        metavar="RULES",
        help="nelson (all 8), weco (Western Electric: 1, 2 with a run of 8, 5, 6) "
        "or Nelson rule numbers such as 1,2,5",
    )
    cpv.add_argument("--by", choices=GROUPINGS, help="one chart per site or process version")
    cpv.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    cpv.add_argument("--plot", metavar="FILE.png|FILE.svg", help="write the chart as a picture")
    add_store_argument(cpv, read_only_flag=False)
    cpv.set_defaults(handler=run_cpv)


def _at_least_two(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 2:
        raise argparse.ArgumentTypeError("a baseline needs at least 2 batches")
    return value


def run_cpv(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True) as kg:
        chart = kg.control_chart(
            args.attribute,
            args.product,
            stage=args.stage,
            kind=args.kind,
            baseline=args.baseline,
            baseline_n=args.baseline_n,
            rules=args.rules,
            by=args.by,
        )
    if args.plot:
        path = chart.plot(args.plot)
        err.print(f"wrote {path}", highlight=False, markup=False)
    if args.format == "json":
        out.print(
            json.dumps(chart.to_dict(), indent=2), markup=False, highlight=False, soft_wrap=True
        )
    elif args.format == "csv":
        print_frame(chart.points, "csv")
    else:
        what = f"{chart.attribute} [{chart.unit}]" if chart.unit else chart.attribute
        title = f"{what}, {chart.product} {chart.kind}" + (f" {chart.stage}" if chart.stage else "")
        print_frame(chart.limits.dropna(axis=1, how="all"), title=f"I-MR limits: {title}")
        flagged = chart.points[chart.points["rules"] != ""]
        shown = ["group", "order", "batch", "date", "site", "process_version", "value", "rules"]
        print_frame(
            flagged[shown].dropna(axis=1, how="all"),
            title=f"flagged batches (rules {','.join(map(str, chart.rules.rules))}; "
            "--format json lists the lots behind each signal)",
        )
        print_frame(chart.capability.dropna(axis=1, how="all"), title="capability")
    for note in chart.notes:
        err.print(f"note: {note}", highlight=False, markup=False)
    return 0
