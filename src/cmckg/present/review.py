"""Review pages for ``cmckg serve``: read-only HTML beside the SPARQL endpoint.

``/`` a search box and the products; ``/search?q=ID[&kind=…&material=…]`` lots, runs and
samples by identifier (kind and material narrow an identifier several nodes share);
``/lot?iri=…`` the lot's batch dossier; ``/lineage?iri=…`` the lineage of a run or sample;
``/product?iri=…`` each specified attribute with its capability (Ppk, Cpk) and trend;
``/validation`` the results the last recorded validation (``cmckg validate``) left open. Only
GET is answered; pages make no request of their own.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from .. import queries
from ..attributes import reference_nodes, resolve_attribute, unit_symbol
from ..dossier import recorded_validation
from ..errors import CmckgError
from ..lineage import KINDS, find_nodes, lineage
from . import dossier_html, lineage_html, render_page
from .charts import trend_svg

if TYPE_CHECKING:
    from ..kg import KnowledgeGraph


class ReviewSite:
    """The pages over one knowledge graph (a read-only view of the served store)."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg

    def page(self, target: str) -> tuple[int, str]:
        """(HTTP status, HTML) for a GET of ``target`` (path and query)."""
        parts = urlsplit(target)
        params = {k: v[0] for k, v in parse_qs(parts.query).items() if v and v[0].strip()}
        routes = {
            "/": self.home,
            "/search": self.search,
            "/lot": self.lot,
            "/lineage": self.lineage,
            "/product": self.product,
            "/validation": self.validation_page,
        }
        handler = routes.get(parts.path)
        if handler is None:
            return HTTPStatus.NOT_FOUND, self._message("Not found", f"No page {parts.path}.")
        try:
            return HTTPStatus.OK, handler(params)
        except CmckgError as exc:
            return HTTPStatus.NOT_FOUND, self._message("Not found", str(exc))

    def _message(self, title: str, text: str) -> str:
        return render_page(
            "message.html.j2", title=title, nav="/", heading=title, text=text, created=None
        )

    def home(self, params: dict[str, str]) -> str:
        names = reference_nodes(self.kg.store)
        products = sorted((n for n in names.values() if n.kind == "Product"), key=lambda n: n.name)
        _, note = recorded_validation(self.kg.store, self.kg.minter)
        return render_page(
            "home.html.j2",
            title="cmckg review",
            nav="/",
            products=products,
            kinds=list(KINDS),
            validation_note=note,
            quote=quote,
            created=None,
        )

    def search(self, params: dict[str, str]) -> str:
        text = params.get("q", "")
        kind, material = params.get("kind"), params.get("material")
        found = find_nodes(self.kg.store, text, kind=kind, material=material) if text else []
        for candidate in found:
            page = "/lineage" if candidate["kind"] in ("run", "sample") else "/lot"
            candidate["href"] = f"{page}?iri={quote(candidate['node'], safe='')}"
        return render_page(
            "search.html.j2",
            title=f"Search {text}",
            nav="/",
            q=text,
            kind=kind or "",
            material=material or "",
            kinds=list(KINDS),
            found=found,
            created=None,
        )

    def lot(self, params: dict[str, str]) -> str:
        return dossier_html(self.kg.dossier(params.get("iri", "")), nav="/")

    def lineage(self, params: dict[str, str]) -> str:
        forward = params.get("direction") == "forward"
        trace = lineage(self.kg.store, params.get("iri", ""), "forward" if forward else "backward")
        fragment = lineage_html(trace)
        return render_page(
            "fragment.html.j2",
            title=f"Lineage of {trace.root}",
            nav="/",
            fragment=fragment,
            created=None,
        )

    def product(self, params: dict[str, str]) -> str:
        iri = params.get("iri", "")
        names = reference_nodes(self.kg.store)
        node = names.get(iri)
        if node is None or node.kind != "Product":
            raise CmckgError(f"no product has the IRI <{iri}>")
        specs = queries.to_dataframe(queries.run(self.kg.store, "specification-limits"))
        concepts = set(specs.loc[specs["product"] == iri, "concept"]) if not specs.empty else ()
        sections = []
        for concept in sorted(concepts):
            sections += self._attribute_sections(concept, node.identifier or node.name)
        return render_page(
            "product.html.j2",
            title=f"Product {node.name}",
            nav="/",
            product=node,
            sections=sections,
            fmt=_fmt,
            created=None,
        )

    def _attribute_sections(self, concept: str, product: str) -> list[dict[str, Any]]:
        from ..attributes import batch_values
        from ..summary import capability, specifications

        attribute = resolve_attribute(self.kg.store, concept)
        values = batch_values(self.kg.store, attribute, product=product)
        values = values[values["material"].isna()]  # the batches' own results, not their inputs'
        specs = specifications(self.kg.store, attribute)
        sections = []
        for (kind, stage), group in values.groupby(["kind", "stage"], dropna=False):
            x = group["value"].to_numpy(float)
            stats = {
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)) if len(x) > 1 else math.nan,
                **capability(group, specs, group["unit"].iloc[0]),
            }
            outside = (group["value"] < stats["lsl"]) | (group["value"] > stats["usl"])
            unit = unit_symbol(group["unit"].iloc[0])
            sections.append(
                {
                    "attribute": attribute.label,
                    "kind": _text(kind),
                    "stage": _text(stage),
                    "stats": stats,
                    "unit": unit,
                    "outside": int(outside.sum()),
                    "batches": len(group),
                    "svg": trend_svg(group, attribute.label, unit, stats["lsl"], stats["usl"]),
                }
            )
        return sections

    def validation_page(self, params: dict[str, str]) -> str:
        from ..reports.html import render
        from ..validate.results import Severity, ValidationReport

        results, note = recorded_validation(self.kg.store, self.kg.minter)
        report = ValidationReport(results, [], "open results", 0, 0, 0, 0, 0.0)
        return render(report, Severity.VIOLATION, nav="/", note=note)


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and value != value) else str(value)


def _fmt(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class _Handler(BaseHTTPRequestHandler):
    site: ReviewSite

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        started = time.perf_counter()
        status, body = self.site.page(self.path)
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'",
        )
        self.send_header("Server-Timing", f"page;dur={(time.perf_counter() - started) * 1e3:.1f}")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the review pages do not log each request."""


@dataclass
class ReviewServer:
    """The review pages on ``bind:port``, served from a thread."""

    site: ReviewSite
    bind: str
    port: int
    httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"site": self.site})
        self.httpd = ThreadingHTTPServer((self.bind, self.port), handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, name="cmckg-review", daemon=True).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
