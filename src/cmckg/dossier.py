"""A batch dossier: everything known about one lot and what went into it, each fact traced to
the source file, place and record revision it was read from.

The store answers through saved queries (``queries/dossier-*.rq``, ``product-specifications.rq``)
and the backward lineage; this module only assembles the answer. Rendering (HTML, JSON-LD) is
in ``cmckg.present``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from rdflib import RDF, URIRef
from rdflib.namespace import PROV
from rdflib.term import Identifier

from . import queries, units
from .attributes import identifier_of, label_of, reference_nodes, stage_name, unit_symbol
from .errors import MappingError, QueryError
from .lineage import Lineage, kind_of, lineage
from .stores import QueryResult, Store
from .vocab import CMC, IriMinter

if TYPE_CHECKING:
    from .validate.results import ValidationReport, ValidationResult

#: The facts a dossier shows per node, in display order, with their labels.
FACT_LABELS: dict[str, str] = {
    str(CMC.identifier): "identifier",
    str(CMC.ofProduct): "product",
    str(CMC.ofMaterial): "material",
    str(CMC.suppliedBy): "supplier",
    str(CMC.atSite): "site",
    str(CMC.unitOperation): "unit operation",
    str(CMC.usedEquipment): "equipment",
    str(CMC.processVersion): "process version",
    str(CMC.manufactureDate): "manufactured",
    str(CMC.expiryDate): "expires",
    str(PROV.startedAtTime): "started",
    str(PROV.endedAtTime): "ended",
}
_TYPE = str(RDF.type)
_NAMED = {
    str(CMC.ofProduct),
    str(CMC.ofMaterial),
    str(CMC.suppliedBy),
    str(CMC.atSite),
    str(CMC.processVersion),
    str(CMC.usedEquipment),
}


@dataclass(frozen=True)
class Source:
    """Where a fact was read: the record graph, its source file, the place in that file (a CSV
    row, JSON pointer or XPath) and the record's content revision (sha256)."""

    graph: str
    record: str | None
    path: str | None
    location: str | None
    sha256: str | None


#: (node, record graph) → where that record read the node.
SourceIndex = dict[tuple[str, str], list[Source]]
#: Every specification's rows, (spec, graph) → places, and record graphs looked up so far.
_SpecificationRows = tuple[
    list[dict[str, Any]], dict[tuple[str, str], list[str | None]], dict[str, dict[str, Any]]
]


@dataclass
class Fact:
    """One statement about a node (``label``: ``value``) and the records that state it."""

    label: str
    value: str
    sources: list[Source] = field(default_factory=list)
    property: str = ""
    term: Identifier | None = None  # the RDF value, for the JSON-LD


@dataclass
class Node:
    """A lot or run in the dossier, with its facts."""

    iri: str
    identifier: str
    kind: str | None
    depth: int | None
    facts: list[Fact] = field(default_factory=list)
    classes: frozenset[str] = frozenset()

    def fact(self, label: str) -> str | None:
        """The value of the first fact with this label (None if the node has none)."""
        return next((f.value for f in self.facts if f.label == label), None)


@dataclass(frozen=True)
class Limit:
    """The specification a result was judged against (latest version for its scope)."""

    iri: str
    identifier: str | None
    version: str | None
    lower: float | None
    upper: float | None
    unit: str | None  # its symbol
    unit_iri: str | None = None
    sources: tuple[Source, ...] = ()

    def text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.lower is not None and self.upper is not None:
            return f"{_num(self.lower)} – {_num(self.upper)}{unit}"
        if self.lower is not None:
            return f"≥ {_num(self.lower)}{unit}"
        return f"≤ {_num(self.upper)}{unit}" if self.upper is not None else "no limits"


@dataclass
class Result:
    """One result on a node of the dossier, with its verdict against the specification:
    ``pass``, ``fail``, ``no specification`` (none applies) or ``not numeric``."""

    entity: str
    measurement: str
    attribute: str
    value: float | None
    text: str | None
    unit: str | None
    stage: str | None
    time: str | None
    method: str | None
    limit: Limit | None
    verdict: str
    sources: list[Source] = field(default_factory=list)
    terms: dict[str, Identifier] = field(default_factory=dict)  # the RDF values, for JSON-LD

    @property
    def value_text(self) -> str:
        if self.value is None:
            return self.text or ""
        return _num(self.value) + (f" {self.unit}" if self.unit else "")


@dataclass
class Dossier:
    """A lot, its lineage, its nodes' facts, every result with its verdict, and the open
    validation results on any of them (``validation_note`` says what validation was asked)."""

    lot: str
    identifier: str
    kind: str | None
    lineage: Lineage
    nodes: dict[str, Node]
    results: list[Result]
    validation: list[ValidationResult]
    validation_note: str
    created: str
    metadata_graph: str

    @property
    def root(self) -> Node:
        return self.nodes[self.lot]

    def results_of(self, iri: str) -> list[Result]:
        return [r for r in self.results if r.entity == iri]

    def node_name(self, iri: str) -> str:
        node = self.nodes.get(iri)
        return node.identifier if node else iri.rsplit("/", 1)[-1]

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.verdict == "fail"]

    def attach_validation(self, results: Iterable[ValidationResult], note: str) -> None:
        """Show those of ``results`` on this dossier's lots, runs and results as open."""
        focus = set(self.nodes) | {r.measurement for r in self.results}
        self.validation = [r for r in results if str(r.focus) in focus]
        self.validation_note = note

    def _repr_html_(self) -> str:
        from .present import dossier_html

        return dossier_html(self, standalone=False)

    def to_html(self) -> str:
        """One self-contained HTML file (no network: styles inline, pictures as inline SVG)."""
        from .present import dossier_html

        return dossier_html(self)

    def to_jsonld(self) -> str:
        """JSON-LD compacted with the published cmckg context (``cmckg.present.jsonld``)."""
        from .present.jsonld import dossier_jsonld

        return dossier_jsonld(self)


def dossier(
    store: Store,
    lot: str,
    *,
    minter: IriMinter | None = None,
    validation: ValidationReport | None = None,
    validation_note: str | None = None,
    kind: str | None = None,
    material: str | None = None,
    supplier: str | None = None,
) -> Dossier:
    """The dossier of one lot (identifier or IRI; narrowed as in ``lineage``). Its open
    validation results are those the last recorded validation left open, or those of
    ``validation`` (a report of a run made now) when given."""
    minter = minter or IriMinter()
    trace = lineage(store, lot, "backward", kind=kind, material=material, supplier=supplier)
    root = URIRef(trace.root)
    names = reference_nodes(store)
    sources = _sources(store, root, minter.metadata_graph)
    nodes = _nodes(store, root, trace, names, sources)
    if nodes[trace.root].kind in ("run", "sample"):
        raise QueryError(
            f"{lot!r} is a {nodes[trace.root].kind}; a dossier is about a lot "
            "(give the lot it made or was taken of)"
        )
    results = _results(store, root, nodes, names, sources, minter.metadata_graph)
    node = nodes[trace.root]
    made = Dossier(
        trace.root,
        node.identifier,
        node.kind,
        trace,
        nodes,
        results,
        [],
        "",
        datetime.now(UTC).isoformat(timespec="seconds"),
        str(minter.metadata_graph),
    )
    if validation is not None:
        made.attach_validation(
            validation.results,
            validation_note
            or (f"this {validation.mode} validation of {len(validation.records)} record graphs"),
        )
    else:
        made.attach_validation(*recorded_validation(store, minter))
    return made


def recorded_validation(store: Store, minter: IriMinter) -> tuple[list[ValidationResult], str]:
    """The results the last recorded validation left open (``cmckg validate`` keeps them in
    the metadata graph until the data that caused them changes), and a note saying when that
    validation ended, or that none is recorded."""
    from .validate.state import open_results, stored_state, validation_run_iri

    digest, _ = stored_state(store, minter)
    if digest is None:
        return [], "no validation is recorded in the store: run `cmckg validate`"
    results = [r for kept in open_results(store, minter).values() for r in kept.results]
    ended = queries.to_records(
        queries.run(
            store,
            "validation-run",
            {"run": validation_run_iri(minter), "meta": minter.metadata_graph},
        )
    )
    when = f" (ended {ended[0]['ended']})" if ended else ""
    return results, f"open results of the last recorded validation{when}"


def _term_rows(result: QueryResult) -> list[tuple[dict[str, Any], dict[str, Identifier | None]]]:
    """Each row as plain values and as the RDF terms themselves."""
    return [
        (
            {c: queries.python_value(t) for c, t in zip(result.columns, row, strict=True)},
            dict(zip(result.columns, row, strict=True)),
        )
        for row in result.rows
    ]


def _sources(store: Store, root: URIRef, meta: URIRef) -> SourceIndex:
    """(node, record graph) → where that record read the node."""
    found: SourceIndex = {}
    for row in queries.to_records(
        queries.run(store, "dossier-sources", {"root": root, "meta": meta})
    ):
        source = Source(row["graph"], row["record"], row["path"], row["location"], row["sha256"])
        found.setdefault((row["node"], row["graph"]), []).append(source)
    return found


def _sources_of(node: str, graphs: Iterable[str | None], sources: SourceIndex) -> list[Source]:
    out: list[Source] = []
    for graph in sorted({g for g in graphs if g}):
        out += sources.get((node, graph)) or [Source(graph, None, None, None, None)]
    return out


def _nodes(
    store: Store, root: URIRef, trace: Lineage, names: dict[str, Any], sources: SourceIndex
) -> dict[str, Node]:
    depth = dict(zip(trace.nodes["iri"], trace.nodes["depth"], strict=True))
    facts: dict[str, dict[tuple[str, str], tuple[Identifier | None, set[str]]]] = {}
    classes: dict[str, set[str]] = {}
    for row, terms in _term_rows(queries.run(store, "dossier-facts", {"root": root})):
        node, prop = row["node"], row["property"]
        classes.setdefault(node, set())
        if prop == _TYPE:
            classes[node].add(row["value"])
            continue
        value = _fact_value(prop, row["value"], names)
        facts.setdefault(node, {}).setdefault((prop, value), (terms["value"], set()))[1].add(
            row["graph"]
        )
    order = list(FACT_LABELS)
    nodes: dict[str, Node] = {}
    for iri, by_fact in facts.items():
        kinds = [kind_of(c) for c in sorted(classes[iri]) if kind_of(c)]
        node_facts = [
            Fact(FACT_LABELS[p], v, _sources_of(iri, graphs, sources), p, term)
            for (p, v), (term, graphs) in sorted(
                by_fact.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1])
            )
        ]
        identifier = next(
            (f.value for f in node_facts if f.label == "identifier"), iri.rsplit("/", 1)[-1]
        )
        nodes[iri] = Node(
            iri,
            identifier,
            kinds[0] if kinds else None,
            _int(depth.get(iri)),
            node_facts,
            frozenset(classes[iri]),
        )
    for iri, identifier, kind, generation in zip(  # lineage nodes the facts query missed
        trace.nodes["iri"],
        trace.nodes["identifier"],
        trace.nodes["kind"],
        trace.nodes["depth"],
        strict=True,
    ):
        nodes.setdefault(iri, Node(iri, identifier or "", kind, _int(generation)))
    if str(root) not in nodes:
        raise QueryError(f"nothing is known of <{root}>")
    return nodes


def _int(value: object) -> int | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else int(value)  # type: ignore[call-overload]


def _fact_value(prop: str, value: object, names: dict[str, Any]) -> str:
    if prop in _NAMED:
        known = names.get(str(value))
        if known is not None:
            return str(
                known.name if prop == str(CMC.ofMaterial) else (known.identifier or known.name)
            )
        return identifier_of(value, names) or str(value)
    if prop == str(CMC.unitOperation):
        return label_of(value) or str(value)
    return str(value)


@dataclass(frozen=True)
class _Spec:
    limit: Limit
    property: str
    stage: str | None
    lot_class: str | None
    order: float


def _specs(store: Store, products: set[str], meta: URIRef) -> list[_Spec]:
    """The latest version of each specification of the products, per property, stage and
    lot class (a spec for a concept applies to its exact matches too)."""
    every, located, records = _specification_rows(store)
    rows = [r for r in every if r["product"] in products]
    by_spec: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_spec.setdefault(row["spec"], []).append(row)
    found: dict[tuple[str, str, str | None, str | None], _Spec] = {}
    for spec_iri, spec_rows in by_spec.items():
        first = spec_rows[0]
        graphs = sorted({r["graph"] for r in spec_rows if r["graph"]})
        srcs = tuple(
            _source(g, _record(store, g, meta, records), location)
            for g in graphs
            for location in (located.get((spec_iri, g)) or [None])
        )
        limit = Limit(
            spec_iri,
            first["identifier"],
            _text(first["version"]),
            _float(first["lower"]),
            _float(first["upper"]),
            unit_symbol(first["unit"]),
            first["unit"],
            srcs,
        )
        order = pd.to_numeric(first["version"], errors="coerce")
        for prop in {r["property"] for r in spec_rows}:
            spec = _Spec(
                limit,
                prop,
                first["stage"],
                first["lot_class"],
                0.0 if pd.isna(order) else float(order),
            )
            key = (first["product"], prop, spec.stage, spec.lot_class)
            if key not in found or found[key].order <= spec.order:
                found[key] = spec
    return list(found.values())


#: The specification rows per store, kept until its revision changes (as reference_nodes).
_SPECIFICATIONS: weakref.WeakKeyDictionary[Store, tuple[int, _SpecificationRows]] = (
    weakref.WeakKeyDictionary()
)


def _specification_rows(store: Store) -> _SpecificationRows:
    """Every specification's rows, where each record read it, and a cache of record graphs
    (a store others write to is asked every time)."""
    kept = _SPECIFICATIONS.get(store) if store.sole_writer else None
    if kept is not None and kept[0] == store.revision:
        return kept[1]
    revision = store.revision
    located: dict[tuple[str, str], list[str | None]] = {}
    for row in queries.to_records(queries.run(store, "specification-sources")):
        located.setdefault((row["spec"], row["graph"]), []).append(row["location"])
    found: _SpecificationRows = (
        queries.to_records(queries.run(store, "specification-limits")),
        located,
        {},
    )
    if store.sole_writer:
        _SPECIFICATIONS[store] = (revision, found)
    return found


def _record(
    store: Store, graph: str, meta: URIRef, seen: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """A record graph's record id, source path and sha256 (each looked up once per dossier)."""
    if graph not in seen:
        rows = queries.to_records(
            queries.run(store, "record-graph", {"graph": URIRef(graph), "meta": meta})
        )
        seen[graph] = rows[0] if rows else {"record": None, "path": None, "sha256": None}
    return seen[graph]


def _source(graph: str, record: dict[str, Any], location: str | None) -> Source:
    return Source(graph, record["record"], record["path"], location, record["sha256"])


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _results(
    store: Store,
    root: URIRef,
    nodes: dict[str, Node],
    names: dict[str, Any],
    sources: SourceIndex,
    meta: URIRef,
) -> list[Result]:
    rows = _term_rows(queries.run(store, "dossier-results", {"root": root}))
    products = {n.iri: _product_iri(n, names) for n in nodes.values()}
    specs = _specs(store, {p for p in products.values() if p}, meta)
    by_measurement: dict[str, list[dict[str, Any]]] = {}
    term_of: dict[str, dict[str, Identifier]] = {}
    for row, terms in rows:
        by_measurement.setdefault(row["measurement"], []).append(row)
        term_of.setdefault(
            row["measurement"], {k: v for k, v in terms.items() if v is not None and k != "graph"}
        )
    results = []
    for measurement, found in by_measurement.items():
        row = found[0]
        entity = row["entity"]
        classes = nodes[entity].classes if entity in nodes else frozenset()
        limit = _limit_for(row, products.get(entity), classes, specs)
        value = None if row["value"] is None else float(row["value"])
        results.append(
            Result(
                entity=entity,
                measurement=measurement,
                attribute=label_of(row["property"]) or str(row["property"]),
                value=value,
                text=_text(row["text"]),
                unit=unit_symbol(row["unit"]),
                stage=stage_name(row["stage"]),
                time=_text(row["time"]),
                method=_text(row["method"]),
                limit=limit,
                verdict=_verdict(value, row["unit"], limit),
                sources=_sources_of(measurement, (r["graph"] for r in found), sources),
                terms=term_of[measurement],
            )
        )
    order = {
        iri: (n.depth if n.depth is not None else 99, n.identifier) for iri, n in nodes.items()
    }
    results.sort(
        key=lambda r: (
            order.get(r.entity, (99, r.entity)),
            r.stage or "",
            r.attribute,
            r.measurement,
        )
    )
    return results


def _product_iri(node: Node, names: dict[str, Any]) -> str | None:
    product = node.fact("product")
    if product is None:
        return None
    return next(
        (
            iri
            for iri, n in names.items()
            if n.kind == "Product" and (n.identifier or n.name) == product
        ),
        None,
    )


def _limit_for(
    row: dict[str, Any], product: str | None, classes: frozenset[str], specs: Sequence[_Spec]
) -> Limit | None:
    """The specification for a result: same product and property, the result's stage (or a
    spec without stage), the lot's class (or a spec without class); the most specific wins."""
    if product is None:
        return None
    matching = [
        s
        for s in specs
        if s.property == row["property"]
        and (s.stage is None or s.stage == row["stage"])
        and (s.lot_class is None or s.lot_class in classes)
    ]
    if not matching:
        return None
    return max(
        matching, key=lambda s: (s.stage is not None, s.lot_class is not None, s.order)
    ).limit


def _verdict(value: float | None, unit: str | None, limit: Limit | None) -> str:
    if limit is None:
        return "no specification"
    if value is None:
        return "not numeric"
    lower, upper = limit.lower, limit.upper
    spec_unit = limit.unit_iri
    if spec_unit and unit and spec_unit != unit:
        try:
            lower = None if lower is None else units.convert(lower, spec_unit, unit)
            upper = None if upper is None else units.convert(upper, spec_unit, unit)
        except MappingError as exc:
            raise QueryError(f"specification {limit.identifier}: {exc.message}") from exc
    inside = (lower is None or value >= lower) and (upper is None or value <= upper)
    return "pass" if inside else "fail"


def _num(value: float) -> str:
    return f"{value:.6g}"
