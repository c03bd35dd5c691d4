"""Shared printing helpers for the CLI (rich tables and progress bars on stderr)."""

from __future__ import annotations

import sys

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

# Piped or captured output gets room for wide tables instead of the 80-column fallback, and
# lines are never hard-wrapped there (a log keeps one message per line).
# No emoji codes: ":x:" in an IRI or a message stays as written.
out = Console(
    width=None if sys.stdout.isatty() else 160, soft_wrap=not sys.stdout.isatty(), emoji=False
)
err = Console(
    stderr=True,
    width=None if sys.stderr.isatty() else 160,
    soft_wrap=not sys.stderr.isatty(),
    emoji=False,
)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def print_frame(frame: pd.DataFrame, fmt: str = "table", title: str | None = None) -> None:
    """Print a DataFrame as a rich table, CSV or JSON records."""
    if fmt == "csv":
        out.print(frame.to_csv(index=False), end="", markup=False, highlight=False, soft_wrap=True)
        return
    if fmt == "json":
        out.print(
            frame.to_json(orient="records", indent=2, date_format="iso"),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return
    table = Table(title=title, show_lines=False)
    for column in frame.columns:
        table.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    out.print(table)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
