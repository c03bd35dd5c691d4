"""Presentation: HTML pages, pictures and JSON-LD for the analyses' answers.

Everything here renders; nothing asks the store. Pages are self-contained (styles inline,
pictures as inline SVG, no script, no external reference), so a file opens offline and a page
makes no request beyond itself. Templates are Jinja2 (``templates/``) with autoescaping on.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__
from .tables import records

if TYPE_CHECKING:
    from ..comparability import ComparisonResult
    from ..dossier import Dossier
    from ..drivers import DriversResult
    from ..lineage import Lineage

__all__ = ["comparison_html", "dossier_html", "drivers_html", "lineage_html", "render_page"]


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cmckg.present", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=False,
    )
    env.globals.update(version=__version__, css=_css())
    return env


@cache
def _css() -> str:
    return files("cmckg.present").joinpath("templates/style.css").read_text(encoding="utf-8")


def render_page(
    template: str, *, title: str, standalone: bool = True, nav: str | None = None, **context: Any
) -> str:
    """A template rendered as a whole page (``standalone``) or a fragment for a notebook."""
    return (
        environment()
        .get_template(template)
        .render(title=title, standalone=standalone, nav=nav, **context)
    )


def dossier_html(dossier: Dossier, *, standalone: bool = True, nav: str | None = None) -> str:
    """The batch dossier page."""
    from .lineage_svg import lineage_svg

    nodes = sorted(
        dossier.nodes.values(), key=lambda n: (n.depth if n.depth is not None else 99, n.identifier)
    )
    root = dossier.root
    run_iri = next(
        (
            e["to"]
            for e in dossier.lineage.edges.to_dict("records")
            if e["from"] == dossier.lot and e["relation"] == "prov:wasGeneratedBy"
        ),
        None,
    )
    run = dossier.nodes.get(run_iri) if run_iri else None
    own = {f.label for f in root.facts}
    return render_page(
        "dossier.html.j2",
        title=f"Dossier {dossier.identifier}",
        standalone=standalone,
        nav=nav,
        d=dossier,
        created=dossier.created,
        lineage_svg=lineage_svg(dossier.lineage),
        generated_by=run,
        generated_by_facts=[
            f
            for f in (run.facts if run else [])
            if f.label in ("process version", "started", "ended", "site", "equipment")
            and f.label not in own
        ],
        raw_lots=[n for n in nodes if n.kind == "raw_material_lot"],
        runs=[n for n in nodes if n.kind == "run"],
        spec_results=[
            r
            for r in dossier.results
            if r.limit is not None
            and dossier.nodes.get(r.entity)
            and dossier.nodes[r.entity].kind != "run"
        ],
        other_results=[
            r
            for r in dossier.results
            if r.limit is None
            and (dossier.nodes.get(r.entity) is None or dossier.nodes[r.entity].kind != "run")
        ],
        validated=not dossier.validation_note.startswith("no validation"),
        focus_name=lambda iri: _focus_name(dossier, str(iri)),
    )


def _focus_name(dossier: Dossier, iri: str) -> str:
    if iri in dossier.nodes:
        return dossier.nodes[iri].identifier
    result = next((r for r in dossier.results if r.measurement == iri), None)
    if result is not None:
        return f"{dossier.node_name(result.entity)}: {result.attribute}"
    return iri


def lineage_html(lineage: Lineage, *, standalone: bool = False) -> str:
    """The lineage picture and its node table."""
    from .lineage_svg import lineage_svg

    return render_page(
        "lineage.html.j2",
        title=f"Lineage of {lineage.root}",
        standalone=standalone,
        lineage=lineage,
        svg=lineage_svg(lineage),
        rows=lineage.nodes.astype(object).where(lineage.nodes.notna(), "").to_dict("records"),
        created=None,
    )


def comparison_html(result: ComparisonResult, *, standalone: bool = True) -> str:
    """The comparability report: per attribute a chart and the statistics, with a legend."""
    from .charts import comparison_svg
    from .legends import COMPARISON_COLUMNS

    sections = []
    for row in records(result.table):
        values = result.values
        if not values.empty:
            values = values[(values["attribute"] == row["attribute"])]
            for key in ("kind", "stage", "material"):
                if row.get(key) is not None and key in values:
                    values = values[values[key] == row[key]]
        sections.append(
            {"row": row, "svg": comparison_svg(row, values) if not values.empty else ""}
        )
    columns = [c for c in result.table.columns if result.table[c].notna().any()]
    return render_page(
        "comparison.html.j2",
        title="Comparability report",
        standalone=standalone,
        result=result,
        sections=sections,
        columns=columns,
        legend=COMPARISON_COLUMNS,
        fmt=_fmt,
        created=None,
    )


def drivers_html(result: DriversResult, *, top: int = 3, standalone: bool = True) -> str:
    """The drivers ranking with a scatter and fitted line for each of the top pairs."""
    from ..drivers import pair_column
    from .charts import drivers_svg
    from .legends import DRIVERS_COLUMNS

    charts = []
    for row in records(result.table.head(top)):
        column = pair_column(row["material"], row["attribute"])
        if column in result.data:
            charts.append(
                {
                    "row": row,
                    "svg": drivers_svg(result.data, column, row, result.pqa, result.pqa_unit),
                }
            )
    columns = [c for c in result.table.columns if result.table[c].notna().any()]
    return render_page(
        "drivers.html.j2",
        title=f"Raw-material drivers of {result.pqa}",
        standalone=standalone,
        result=result,
        charts=charts,
        columns=columns,
        rows=result.table.to_dict("records"),
        legend=DRIVERS_COLUMNS,
        fmt=_fmt,
        created=None,
    )


def _fmt(value: object) -> str:
    """A table cell: numbers to 4 significant digits, missing values blank."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:.4g}"
    return str(value)
