"""``cmckg compare``, ``cmckg drivers`` and ``cmckg summary``: the questions over batches."""

from __future__ import annotations

import argparse

import pandas as pd

from ..attributes import CENSORED_CHOICES
from ..comparability import FILTER_KEYS, METHODS
from ..drivers import METHODS as DRIVER_METHODS
from ..errors import ConfigError
from ..kg import KnowledgeGraph
from ..summary import GROUPINGS
from . import add_command, add_store_argument, add_vocab_argument, check_output, write_text
from .console import err, print_frame

FORMATS = ["table", "csv", "json"]


def register(subparsers: argparse._SubParsersAction) -> None:
    compare = add_command(
        subparsers,
        "compare",
        description=(
            "Compare the batches selected by --test with those selected by --reference, per "
            "attribute: quality range (reference mean ± k·SD, pass when ≥ 90 % of test lots are "
            "inside), TOST equivalence (90 % CI of the mean difference inside ±margin·SD_R, "
            "Welch df) or a tolerance interval (Howe's k2; pass when every test lot is inside). "
            "Attribute names resolve through the term schemes and site aliases; values are "
            f"converted to one unit first. Filter keys: {', '.join(FILTER_KEYS)}."
        ),
        epilog="Example: cmckg compare --attribute HMW --reference site=Site-A,process_version=v1 "
        "--test site=Site-A,process_version=v2 --method tost",
    )
    compare.add_argument(
        "--attribute",
        "-a",
        action="extend",
        nargs="+",
        default=[],
        metavar="TERM",
        help="attribute(s) to compare (repeatable)",
    )
    compare.add_argument(
        "--all-cqas",
        action="store_true",
        help="also every attribute flagged as a CQA that both groups have",
    )
    compare.add_argument(
        "--reference",
        required=True,
        metavar="FILTER",
        help="the reference batches, e.g. site=Site-A,process_version=v1 or date=2024-01..2024-06",
    )
    compare.add_argument(
        "--test", required=True, metavar="FILTER", help="the batches to compare, e.g. site=Site-B"
    )
    compare.add_argument(
        "--method",
        choices=METHODS,
        default="quality-range",
        help="the comparison (default: quality-range)",
    )
    compare.add_argument(
        "--k", type=float, default=3.0, help="quality range: mean ± k·SD (default 3)"
    )
    compare.add_argument(
        "--margin",
        type=float,
        default=1.5,
        help="TOST: equivalence margin as a multiple of the reference SD (default 1.5)",
    )
    compare.add_argument(
        "--coverage", type=float, default=0.90, help="tolerance interval coverage (default 0.90)"
    )
    compare.add_argument(
        "--confidence",
        type=float,
        default=0.99,
        help="tolerance interval confidence (default 0.99)",
    )
    compare.add_argument(
        "--values",
        metavar="FILE.csv",
        help="also write lot-level values as CSV (default: not written)",
    )
    compare.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    compare.add_argument(
        "--censored",
        choices=CENSORED_CHOICES,
        default="exclude",
        help="censored results ('<0.5'): left out and counted (default), or a "
        "result below a limit counted as the limit or half of it",
    )
    compare.add_argument(
        "--report",
        metavar="FILE.html",
        help="also write an HTML report: per attribute the lots of both groups "
        "with the range or confidence interval that decides, and a legend "
        "of every column (default: none)",
    )
    add_store_argument(compare, read_only_flag=False)
    add_vocab_argument(compare)
    compare.set_defaults(handler=run_compare)

    drivers = add_command(
        subparsers,
        "drivers",
        description=(
            "Pair every raw-material lot attribute reachable through lineage with the PQA of "
            "the batches made from the lot (several lots of one material in a batch: their "
            "mean), then rank the pairs by correlation p with Benjamini–Hochberg q; --method pls "
            "ranks by PLS VIP instead."
        ),
    )
    drivers.add_argument(
        "--pqa",
        required=True,
        metavar="TERM",
        help="the batch quality attribute to explain, e.g. afucosylation",
    )
    drivers.add_argument(
        "--material", metavar="NAME", help="only lots of this material (default: every material)"
    )
    drivers.add_argument(
        "--method",
        choices=DRIVER_METHODS,
        default="spearman",
        help="ranking method (default: spearman)",
    )
    drivers.add_argument("--stage", metavar="STAGE", help="the PQA's testing stage (default: any)")
    drivers.add_argument(
        "--top",
        type=int,
        default=20,
        metavar="N",
        help="show the top N pairs (default 20; 0 shows all)",
    )
    drivers.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also save a scatter plot of the top pair (default: none)",
    )
    drivers.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    drivers.add_argument(
        "--report",
        metavar="FILE.html",
        help="also write an HTML report: the ranking, and a scatter with the "
        "fitted line for each of the top three pairs (default: none)",
    )
    add_store_argument(drivers, read_only_flag=False)
    add_vocab_argument(drivers)
    drivers.set_defaults(handler=run_drivers)

    summary = add_command(
        subparsers,
        "summary",
        description=(
            "Summarise attributes over batches, as in an annual product quality review: a "
            "raw-material attribute is joined through lineage to the batches that used the lot. "
            "Ppk and Cpk are given where a specification has limits."
        ),
    )
    summary.add_argument(
        "--attribute",
        "-a",
        action="extend",
        nargs="+",
        required=True,
        metavar="TERM",
        help="attribute(s) to summarise (repeatable)",
    )
    summary.add_argument(
        "--by",
        choices=GROUPINGS,
        action="append",
        help="group by (repeatable; default: no grouping)",
    )
    summary.add_argument(
        "--material", metavar="NAME", help="only lots of this material (default: every material)"
    )
    summary.add_argument(
        "--format", choices=FORMATS, default="table", help="output format (default: table)"
    )
    summary.add_argument(
        "--censored",
        choices=CENSORED_CHOICES,
        default="exclude",
        help="censored results ('<0.5'): left out and counted (default), or a "
        "result below a limit counted as the limit or half of it",
    )
    add_store_argument(summary, read_only_flag=False)
    add_vocab_argument(summary)
    summary.set_defaults(handler=run_summary)


def run_compare(args: argparse.Namespace) -> int:
    check_output(args.values, "the values")
    with KnowledgeGraph.open(args.store, read_only=True, vocab=args.vocab) as kg:
        result = kg.compare(
            args.attribute,
            args.reference,
            args.test,
            method=args.method,
            k=args.k,
            margin=args.margin,
            all_cqas=args.all_cqas,
            coverage=args.coverage,
            confidence=args.confidence,
            censored=args.censored,
        )
    table = result.table
    if args.format == "table":
        shown = [
            "attribute",
            "kind",
            "material",
            "stage",
            "unit",
            "n_ref",
            "mean_ref",
            "sd_ref",
            "n_test",
            "mean_test",
            "sd_test",
        ]
        shown += (
            ["difference", "ci_low", "ci_high", "margin"]
            if args.method == "tost"
            else ["lower", "upper", "inside"]
        )
        table = _drop_empty(table[[*shown, "verdict"]])
    print_frame(
        table,
        args.format,
        title=f"{args.method}: test {_filter(result.test)} "
        f"vs reference {_filter(result.reference)}",
    )
    if args.values:
        try:
            result.values.to_csv(args.values, index=False)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the values: {exc.strerror or exc}", args.values
            ) from None
    if args.report:
        write_text(args.report, result.to_html())
        err.print(f"wrote {args.report}", highlight=False, markup=False)
    _notes(result.notes)
    return 0


def run_drivers(args: argparse.Namespace) -> int:
    check_output(args.plot, "the plot")
    with KnowledgeGraph.open(args.store, read_only=True, vocab=args.vocab) as kg:
        result = kg.drivers(args.pqa, material=args.material, method=args.method, stage=args.stage)
    table = result.table.head(args.top) if args.top else result.table
    if args.format == "table" and args.method != "pls":
        table = table.drop(columns="vip")
    unit = f" [{result.pqa_unit}]" if result.pqa_unit else ""
    print_frame(
        table, args.format, title=f"raw-material drivers of {result.pqa}{unit} ({args.method})"
    )
    if args.plot:
        path = result.plot(args.plot)
        err.print(f"wrote {path}", highlight=False, markup=False)
    if args.report:
        write_text(args.report, result.to_html())
        err.print(f"wrote {args.report}", highlight=False, markup=False)
    _notes(result.notes)
    return 0


def run_summary(args: argparse.Namespace) -> int:
    with KnowledgeGraph.open(args.store, read_only=True, vocab=args.vocab) as kg:
        frame = kg.summary(
            args.attribute, by=args.by, material=args.material, censored=args.censored
        )
    if args.format == "table":
        frame = _drop_empty(frame)
    print_frame(frame, args.format, title="summary")
    return 0


def _drop_empty(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.dropna(axis=1, how="all")


def _filter(group: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in group.items())


def _notes(notes: list[str]) -> None:
    for note in notes:
        err.print(f"note: {note}", highlight=False, markup=False)
