"""SHACL validation of the knowledge graph, traced back to the source records.

pyshacl is the engine. It validates a copy of the data in an in-memory Oxigraph store, read
through oxrdflib (``_OxigraphGraph``: with pyshacl's truth-value tests made cheap and ``$this``
sent as VALUES, it runs several times faster than on an rdflib in-memory graph, and SPARQL
targets and constraints are evaluated by Oxigraph). The copy holds, in a full run, every record
graph; in an incremental run (the default), only the record graphs added or changed since the
last validation plus the nodes they reference. Into it go the term schemes and, for every unit it
mentions, its QUDT facts (``a qudt:Unit``, quantity kinds with every broader kind, conversion
multiplier and offset) from :mod:`cmckg.units`, so the SHACL-SPARQL rules can compare units; the
ontology is passed as pyshacl's ``ont_graph`` so class hierarchies count.

Shapes are the static ones in ``shapes/`` plus one generated per specification record (see
:func:`specification_shapes`); the generated ones are kept in the store's shapes graph
``{base}graph/shapes``. Each result names its severity, shape, focus node, path, value and
message, and where it came from: the record graph, its source file and the focus node's
``cmc:sourceLocation`` (CSV row, JSON pointer or XPath).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from oxrdflib import OxigraphStore as _RdflibOxigraph
from pyshacl import validate as pyshacl_validate
from pyshacl.errors import ReportableRuntimeError, ShapeLoadError, ValidationFailure
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import PROV, RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Identifier

from . import __version__
from .censoring import add_censored_shapes
from .errors import ConfigError, MappingError
from .resources import ontology_path, resource_dir, term_files
from .stores import ChangeSet, Store, open_store
from .stores.terms import from_ox, inline_values, to_ox, to_sparql
from .units import unit_table
from .vocab import CMC, QUANTITYKIND, QUDT, IriMinter, bind_prefixes

__all__ = [
    "RecordInfo",
    "Severity",
    "Source",
    "Specification",
    "ValidationReport",
    "ValidationResult",
    "latest_specifications",
    "read_specifications",
    "shapes_graph_iri",
    "specification_shapes",
    "static_shapes",
    "store_shapes",
    "validate_sources",
    "validate_store",
]

_BATCH = 400  # IRIs per VALUES block
_OUTBOUND_HOPS = 3  # enough for measurement → sample → sample → lot → product
# links into a node that rules follow backwards: its consumers, its outputs, its results
_INBOUND = (PROV.used, PROV.wasGeneratedBy, CMC.onEntity)
_NUMERIC = (XSD.double, XSD.decimal, XSD.integer, XSD.float)


class Severity(IntEnum):
    """SHACL severities, ordered: a run fails on results at or above the --fail-on level."""

    INFO = 1
    WARNING = 2
    VIOLATION = 3

    @property
    def iri(self) -> URIRef:
        return SH[self.label]

    @property
    def label(self) -> str:
        return self.name.capitalize()

    @classmethod
    def from_iri(cls, iri: Identifier) -> Severity:
        for severity in cls:
            if severity.iri == iri:
                return severity
        return cls.VIOLATION  # SHACL: a custom severity counts as a violation

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ConfigError(
                f"unknown severity '{text}'; choose violation, warning or info"
            ) from None


@dataclass(frozen=True)
class Source:
    """Where a result's focus node came from."""

    record_graph: URIRef | None = None
    record_id: str | None = None
    path: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class RecordInfo:
    """A record graph as the metadata graph describes it."""

    graph: URIRef
    record_id: str | None
    source_path: str | None


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result with its source trace."""

    severity: Severity
    focus: Identifier
    path: Identifier | None
    value: Identifier | None
    shape: Identifier
    shape_label: str
    constraint: Identifier | None
    message: str
    source: Source = field(default_factory=Source)
    path_triples: tuple[tuple[Identifier, Identifier, Identifier], ...] = ()

    @property
    def path_text(self) -> str | None:
        """The result path in SPARQL property-path syntax with the usual prefixes."""
        if self.path is None:
            return None
        graph = bind_prefixes(Graph())
        for triple in self.path_triples:
            graph.add(triple)
        return _path_text(graph, self.path)

    @property
    def shape_name(self) -> str:
        """A short stable name for the shape (its IRI's local name, or the constraint's)."""
        if isinstance(self.shape, URIRef):
            text = str(self.shape)
            return text.rsplit("#", 1)[-1] if "#" in text else text
        constraint = str(self.constraint or "shape")
        return constraint.rsplit("#", 1)[-1]

    def key(self) -> tuple:
        """What identifies the result regardless of run (blank-node ids differ between runs)."""
        return (self.severity, self.focus, self.path_text, self.value, self.shape_name,
                self.message, self.source)


@dataclass
class ValidationReport:
    """The results of one validation run and what it covered."""

    results: list[ValidationResult]
    records: list[RecordInfo]
    mode: str  # "full", "incremental" or "files"
    focus_nodes: int
    triples: int
    shapes: int
    specification_shapes: int
    seconds: float
    note: str | None = None

    def counts(self) -> dict[Severity, int]:
        counts = dict.fromkeys(Severity, 0)
        for result in self.results:
            counts[result.severity] += 1
        return counts

    def at_or_above(self, level: Severity) -> list[ValidationResult]:
        return [r for r in self.results if r.severity >= level]

    def failed(self, level: Severity = Severity.VIOLATION) -> bool:
        """True when any result is at or above ``level`` (the CLI then exits 1)."""
        return any(r.severity >= level for r in self.results)

    def conforms(self) -> bool:
        return not self.results

    def to_graph(self) -> Graph:
        """The W3C ``sh:ValidationReport``, each result with its ``cmc:`` source trace."""
        graph = bind_prefixes(Graph())
        graph.bind("sh", SH)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms())))
        for result in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.resultSeverity, result.severity.iri))
            graph.add((node, SH.focusNode, result.focus))
            graph.add((node, SH.sourceShape, result.shape))
            graph.add((node, SH.resultMessage, Literal(result.message)))
            if result.constraint is not None:
                graph.add((node, SH.sourceConstraintComponent, result.constraint))
            if result.path is not None:
                graph.add((node, SH.resultPath, result.path))
                for triple in result.path_triples:
                    graph.add(triple)
            if result.value is not None:
                graph.add((node, SH.value, result.value))
            source = result.source
            if source.record_graph is not None:
                graph.add((node, PROV.wasDerivedFrom, source.record_graph))
            if source.record_id is not None:
                graph.add((node, CMC.recordId, Literal(source.record_id)))
            if source.path is not None:
                graph.add((node, CMC.sourcePath, Literal(source.path)))
            if source.location is not None:
                graph.add((node, CMC.sourceLocation, Literal(source.location)))
        return graph


# --- shapes ----------------------------------------------------------------------------------


def shapes_graph_iri(minter: IriMinter) -> URIRef:
    """The named graph that holds the generated specification shapes."""
    return URIRef(minter.base + "graph/shapes")


def _validation_run_iri(minter: IriMinter) -> URIRef:
    return URIRef(minter.base + "graph/meta/validation")


# The validation state's format (the run's cmc:version): since "2", ingest marks every record
# graph it adds or replaces cmc:validationPending until a recorded validation checks it.
_STATE_VERSION = "2"


def _vocabulary_graph_iri(minter: IriMinter) -> URIRef:
    return URIRef(minter.base + "graph/vocabulary")


def _shape_files(extra: Sequence[str | Path] = ()) -> list[Path]:
    files = sorted(resource_dir("shapes").glob("*.ttl"))
    for item in extra:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(path.glob("*.ttl")))
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError("no such shapes file or folder", str(path))
    return files


@cache
def _parse_turtle(path: Path, mtime: float) -> Graph:
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises many parser-specific types
        raise ConfigError(f"cannot read the shapes file: {exc}", str(path)) from exc
    return graph


def static_shapes(extra: Sequence[str | Path] = ()) -> Graph:
    """The shapes in ``shapes/`` plus any extra Turtle files or folders."""
    shapes = bind_prefixes(Graph())
    shapes.bind("sh", SH)
    shapes.bind("cmcsh", "https://w3id.org/cmckg/shapes#")
    for path in _shape_files(extra):
        shapes += _parse_turtle(path, path.stat().st_mtime)
    return shapes


@cache
def _ontology() -> Graph:
    graph = Graph()
    graph.parse(ontology_path(), format="turtle")
    return graph


@cache
def _terms() -> Graph:
    graph = Graph()
    for path in term_files():
        graph.parse(path, format="turtle")
    return graph


def _files_digest(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# --- specifications → shapes -----------------------------------------------------------------


@dataclass(frozen=True)
class Specification:
    """A specification record's limits for one product, attribute, stage and lot class."""

    iri: URIRef
    identifier: str
    version: str | None
    product: URIRef
    property: URIRef
    unit: URIRef
    lower: float | None
    upper: float | None
    stage: URIRef | None = None
    lot_class: URIRef | None = None

    @property
    def scope(self) -> tuple:
        return (self.product, self.property, self.stage, self.lot_class)

    def describe(self) -> str:
        unit = _unit_symbol(self.unit)
        if self.lower is not None and self.upper is not None:
            limits = f"{_num(self.lower)} to {_num(self.upper)} {unit}"
        elif self.lower is not None:
            limits = f"at least {_num(self.lower)} {unit}"
        else:
            limits = f"at most {_num(self.upper)} {unit}"
        version = f" v{self.version}" if self.version else ""
        return f"specification {self.identifier}{version} ({limits})"


_SPEC_QUERY = """
PREFIX cmc: <https://w3id.org/cmckg/ontology#>
PREFIX qudt: <http://qudt.org/schema/qudt/>
SELECT ?spec ?id ?version ?product ?property ?unit ?lower ?upper ?stage ?lotClass WHERE {
    ?spec a cmc:Specification ; cmc:identifier ?id ; cmc:ofProduct ?product ;
          cmc:forProperty ?property ; qudt:unit ?unit .
    OPTIONAL { ?spec cmc:version ?version }
    OPTIONAL { ?spec cmc:lowerLimit ?lower }
    OPTIONAL { ?spec cmc:upperLimit ?upper }
    OPTIONAL { ?spec cmc:stage ?stage }
    OPTIONAL { ?spec cmc:lotClass ?lotClass }
}"""


def read_specifications(store: Store) -> list[Specification]:
    """Every well-formed specification in the store (malformed ones are left to the shapes)."""
    rows: dict[URIRef, list[tuple]] = {}
    for row in store.query(_SPEC_QUERY).rows:
        rows.setdefault(row[0], []).append(row)
    specs = []
    for iri, found in sorted(rows.items()):
        if len(found) != 1:
            continue  # several values for one field: the specification shapes report it
        _, ident, version, product, prop, unit, lower, upper, stage, lot_class = found[0]
        if not all(isinstance(t, URIRef) for t in (product, prop, unit)):
            continue
        limits = [_number(lower), _number(upper)]
        if limits == [None, None] or any(
            raw is not None and value is None for raw, value in zip((lower, upper), limits,
                                                                   strict=True)
        ) or (None not in limits and limits[0] > limits[1]):
            continue
        specs.append(Specification(
            iri=iri, identifier=str(ident), version=None if version is None else str(version),
            product=product, property=prop, unit=unit, lower=limits[0], upper=limits[1],
            stage=stage if isinstance(stage, URIRef) else None,
            lot_class=lot_class if isinstance(lot_class, URIRef) else None,
        ))
    return specs


def _number(term: Identifier | None) -> float | None:
    if not isinstance(term, Literal) or term.datatype not in _NUMERIC:
        return None
    try:
        return float(term.toPython())
    except (TypeError, ValueError):
        return None


def _version_key(spec: Specification) -> tuple:
    version = spec.version or ""
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in version.split("."))
    return parts, spec.identifier


def latest_specifications(specs: Iterable[Specification]) -> list[Specification]:
    """The latest version of each specification scope (product, property, stage, lot class)."""
    latest: dict[tuple, Specification] = {}
    for spec in specs:
        current = latest.get(spec.scope)
        if current is None or _version_key(spec) > _version_key(current):
            latest[spec.scope] = spec
    return sorted(latest.values(), key=lambda s: str(s.iri))


def specification_shapes(specs: Iterable[Specification]) -> Graph:
    """SHACL shapes that flag results outside each specification's limits.

    Per specification (its latest version per scope): a property shape on ``qudt:numericValue``
    holding the limits, whose SPARQL target selects the measurements of the property (or a
    concept's exact matches) and stage on lots (or samples of lots) of the product and lot class,
    in the specification's unit; and a node shape for results in another unit, converted through
    QUDT factors, which also flags a unit that cannot be converted; and the censored-result
    shapes of ``cmckg.censoring`` (out: Violation; indeterminate: Warning).
    All nodes have IRIs under the specification's IRI, so the graph is stable and storable.
    """
    graph = bind_prefixes(Graph())
    graph.bind("sh", SH)
    terms = _terms()
    for spec in latest_specifications(specs):
        properties = sorted({spec.property, *terms.objects(spec.property, SKOS.exactMatch)})
        label = _label(terms, spec.property)
        match = _spec_match(spec, properties)
        text = spec.describe()

        node = URIRef(f"{spec.iri}/shape")
        target = URIRef(f"{node}/target")
        graph.add((node, RDF.type, SH.PropertyShape))
        graph.add((node, RDFS.label, Literal(f"{label} within {text}")))
        graph.add((node, PROV.wasDerivedFrom, spec.iri))
        graph.add((node, SH.target, target))
        graph.add((target, RDF.type, SH.SPARQLTarget))
        graph.add((target, SH.select, Literal(
            f"SELECT ?this WHERE {{ {match} ?this <{QUDT.unit}> {to_sparql(spec.unit)} . }}"
        )))
        graph.add((node, SH.path, QUDT.numericValue))
        graph.add((node, SH.severity, SH.Violation))
        graph.add((node, SH.message, Literal(f"Out of specification: {label} is outside {text}")))
        if spec.lower is not None:
            graph.add((node, SH.minInclusive, Literal(spec.lower)))
        if spec.upper is not None:
            graph.add((node, SH.maxInclusive, Literal(spec.upper)))

        converted = URIRef(f"{node}/converted")
        check = _converted_check(spec)
        graph.add((converted, RDF.type, SH.NodeShape))
        graph.add((converted, RDFS.label, Literal(f"{label} in another unit: {text}")))
        graph.add((converted, PROV.wasDerivedFrom, spec.iri))
        graph.add((converted, SH.severity, SH.Violation))
        graph.add((converted, SH.message, Literal(
            f"Out of specification or not comparable: {label} {{?value}} {{?unitSymbol}} "
            f"({{?reason}}) against {text}"
        )))
        converted_target = URIRef(f"{converted}/target")
        graph.add((converted, SH.target, converted_target))
        graph.add((converted_target, RDF.type, SH.SPARQLTarget))
        graph.add((converted_target, SH.select, Literal(
            f"SELECT DISTINCT ?this WHERE {{ {match} {check.replace('$this', '?this')} }}"
        )))
        constraint = URIRef(f"{converted}/constraint")
        graph.add((converted, SH.sparql, constraint))
        graph.add((constraint, RDF.type, SH.SPARQLConstraint))
        graph.add((constraint, SH.select, Literal(
            f"SELECT $this ?path ?value ?unitSymbol ?reason WHERE {{ {check} "
            f"OPTIONAL {{ ?unit <{QUDT.symbol}> ?symbol }} BIND (<{QUDT.numericValue}> AS ?path) "
            "BIND (COALESCE(?symbol, STR(?unit)) AS ?unitSymbol) }"
        )))
        add_censored_shapes(graph, spec, match, label, text)
    return graph


def _spec_match(spec: Specification, properties: list[URIRef]) -> str:
    """SPARQL pattern: ?this is a measurement the specification applies to."""
    lot_class = (
        f"?lot <{RDF.type}>/<{RDFS.subClassOf}>* {to_sparql(spec.lot_class)} . "
        if spec.lot_class is not None else ""
    )
    stage = f"?this <{CMC.stage}> {to_sparql(spec.stage)} . " if spec.stage is not None else ""
    return (
        f"VALUES ?property {{ {' '.join(to_sparql(p) for p in properties)} }} "
        f"?this <{CMC.measuredProperty}> ?property ; <{CMC.onEntity}> ?entity . {stage}"
        f"?entity <{CMC.sampleOf}>* ?lot . ?lot <{CMC.ofProduct}> {to_sparql(spec.product)} . "
        f"{lot_class}"
    )


def _converted_check(spec: Specification) -> str:
    """SPARQL pattern binding ?value ?unit ?reason for a result in another unit that is out of
    limits after QUDT conversion (SI = (value + offset) × multiplier) or cannot be converted."""
    info = _unit_facts(spec.unit)
    multiplier = info.get("multiplier")
    offset = info.get("offset") or 0.0
    bounds = []
    if multiplier is not None and spec.lower is not None:
        bounds.append(f"?si < {_double((spec.lower + offset) * multiplier)}")
    if multiplier is not None and spec.upper is not None:
        bounds.append(f"?si > {_double((spec.upper + offset) * multiplier)}")
    out_of_limits = " || ".join(bounds) or "false"
    unit = to_sparql(spec.unit)
    return (
        f"$this <{QUDT.numericValue}> ?value ; <{QUDT.unit}> ?unit . FILTER (?unit != {unit}) "
        f"OPTIONAL {{ ?unit <{QUDT.conversionMultiplier}> ?m }} "
        f"OPTIONAL {{ ?unit <{QUDT.conversionOffset}> ?o }} "
        f"BIND (EXISTS {{ ?unit <{QUDT.hasQuantityKind}> ?k . {unit} <{QUDT.hasQuantityKind}> ?k }}"
        f" AS ?sameKind) "
        f"BIND ((?value + COALESCE(?o, 0)) * ?m AS ?si) "
        f"BIND (IF(!?sameKind || !BOUND(?si) || {'true' if multiplier is None else 'false'}, "
        f"\"unit cannot be converted to the specification's unit\", "
        f"IF({out_of_limits}, \"outside the limits after conversion\", \"\")) AS ?reason) "
        f"FILTER (?reason != \"\")"
    )


def _double(value: float) -> str:
    return Literal(float(value), datatype=XSD.double).n3()


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _label(graph: Graph, node: Identifier) -> str:
    for predicate in (SKOS.prefLabel, RDFS.label):
        found = graph.value(node, predicate)
        if found is not None:
            return str(found)
    text = str(node)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _unit_symbol(unit: URIRef) -> str:
    facts = _unit_facts(unit)
    return str(facts.get("symbol") or _label(Graph(), unit))


@cache
def _unit_facts(unit: URIRef) -> dict[str, Any]:
    """QUDT facts for a unit from cmckg.units: symbol, multiplier, offset, kinds (with broader
    kinds). Empty for a unit the table does not know, or that is not its current IRI."""
    table = unit_table()
    try:
        key = table.lookup(str(unit))
    except MappingError:
        key = None
    if key is None:
        return {}
    info = table.info(key)
    if info.iri != unit:  # a legacy or alias IRI: not a current unit IRI
        return {}
    return {
        "symbol": info.symbol,
        "multiplier": info.multiplier,
        "offset": info.offset,
        "kinds": info.quantity_kinds | {QUANTITYKIND[k] for k in table.kind_closure(key)},
    }


# --- the data graph: an in-memory Oxigraph store read by pyshacl through oxrdflib -------------


class _InlinedBindings(_RdflibOxigraph):
    """oxrdflib's store, with pre-bound variables sent as a VALUES block.

    pyshacl pre-binds ``$this`` for each focus node of a SPARQL constraint; oxrdflib passes it
    as Oxigraph ``substitutions``, which Oxigraph does not use to plan the query: a constraint
    that starts from ``$this`` took 60 ms per focus node instead of 0.2 ms with VALUES."""

    def query(self, query, initNs, initBindings, queryGraph, **kwargs):  # noqa: ANN001, ANN201, N803
        if initBindings and isinstance(query, str) and all(
                isinstance(v, URIRef | Literal) for v in initBindings.values()):
            query, initBindings = inline_values(query, dict(initBindings)), {}
        return super().query(query, initNs, initBindings, queryGraph, **kwargs)


class _OxigraphGraph(Graph):
    """An rdflib view of an in-memory Oxigraph store for pyshacl.

    pyshacl tests a data graph's truth value for every result it builds (``datagraph or sg``),
    and rdflib answers through ``len()``, which counts the whole store (oxrdflib with a SPARQL
    count; even Oxigraph's native count walks every quad): a run becomes quadratic in the number
    of results. The graph exists, so it is true, and its length is counted once, when the view is
    made (pyshacl adds only the ontology's axioms after that)."""

    def __init__(self, native: ox.Store) -> None:
        super().__init__(store=_InlinedBindings(store=native), identifier=DATASET_DEFAULT_GRAPH_ID)
        self._length = len(native)

    def __bool__(self) -> bool:
        return True

    def __len__(self) -> int:
        return self._length


class _Data:
    """The triples to validate, in an in-memory Oxigraph store (fast to fill and to query)."""

    def __init__(self) -> None:
        self.native = ox.Store()

    def __len__(self) -> int:
        return len(self.native)

    def construct(self, store: Store, sparql: str) -> list[ox.Triple]:
        """Run a CONSTRUCT on ``store``, add its triples here and return them."""
        native_query = getattr(store, "native_query", None)
        if native_query is not None:
            found = list(native_query(sparql))
        else:
            found = [ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in store.construct(sparql)]
        self.native.extend(ox.Quad(t.subject, t.predicate, t.object) for t in found)
        return found

    def add_graph(self, graph: Graph) -> None:
        self.native.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in graph)

    def select(self, sparql: str) -> list[tuple]:
        return [tuple(from_ox(v) for v in row) for row in self.native.query(sparql)]

    def rdflib_graph(self) -> Graph:
        return _OxigraphGraph(self.native)

    def add_unit_facts(self) -> None:
        """State, for every unit the data mentions, what cmckg.units knows about it."""
        rows = self.select(
            f"SELECT DISTINCT ?u WHERE {{ {{ ?x <{QUDT.unit}> ?u }} "
            f"UNION {{ ?x <{CMC.defaultUnit}> ?u }} FILTER (isIRI(?u)) }}"
        )
        facts = Graph()
        for (unit,) in rows:
            found = _unit_facts(unit)
            if not found:
                continue
            facts.add((unit, RDF.type, QUDT.Unit))
            facts.add((unit, QUDT.symbol, Literal(found["symbol"])))
            for kind in found["kinds"]:
                facts.add((unit, QUDT.hasQuantityKind, kind))
            if found["multiplier"] is not None:
                facts.add((unit, QUDT.conversionMultiplier, Literal(found["multiplier"])))
                facts.add((unit, QUDT.conversionOffset, Literal(found["offset"])))
        self.add_graph(facts)

    def typed_record_nodes(self, among: set[URIRef] | None = None) -> set[URIRef]:
        """Nodes with a cmc: class: the focus nodes of the shapes."""
        rows = self.select(
            f"SELECT DISTINCT ?s WHERE {{ ?s a ?type . FILTER (isIRI(?s) && "
            f"STRSTARTS(STR(?type), {Literal(str(CMC)).n3()})) }}"
        )
        found = {row[0] for row in rows}
        return found if among is None else found & among


# --- collecting the data from a store ---------------------------------------------------------


@dataclass
class _RecordState:
    info: RecordInfo
    content: str | None
    validated: str | None


def _record_states(
    store: Store, minter: IriMinter, *, pending: bool = False, changed_only: bool = False,
    graphs: Iterable[URIRef] | None = None,
) -> dict[URIRef, _RecordState]:
    """Record graphs with their metadata: all; those named; those ingest marked
    ``cmc:validationPending`` (``pending``: found through that one pattern, so the cost follows
    the change, not the store); or those not validated at their current content
    (``changed_only``: looks at every record graph, for a state recorded before the marks; the
    filter runs in the store, so a big store sends back few rows)."""
    vocabulary = _vocabulary_graph_iri(minter)
    wanted = [None] if graphs is None else list(_batches(sorted(graphs)))
    selected = "?g cmc:validationPending true ." if pending else "?g a cmc:RecordGraph ."
    states: dict[URIRef, _RecordState] = {}
    for batch in wanted:
        values = "" if batch is None else _values("g", batch)
        condition = "FILTER (!BOUND(?validated) || ?validated != ?hash)" if changed_only else ""
        result = store.query(
            "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
            f"SELECT ?g ?id ?path ?hash ?validated WHERE {{ GRAPH "
            f"{to_sparql(minter.metadata_graph)} {{ {values} {selected} "
            "OPTIONAL { ?g cmc:recordId ?id } OPTIONAL { ?g cmc:sourcePath ?path } "
            "OPTIONAL { ?g cmc:contentSha256 ?hash } "
            f"OPTIONAL {{ ?g cmc:validatedSha256 ?validated }} }} {condition} }}"
        )
        for g, ident, path, content, validated in result.rows:
            if isinstance(g, URIRef) and g != vocabulary:
                states[g] = _RecordState(
                    RecordInfo(g, _str(ident), _str(path)), _str(content), _str(validated)
                )
    return states


def _some_record_unchanged(store: Store, minter: IriMinter, *, marked: bool) -> bool:
    """Whether some record graph is validated at its current content: one without a
    ``cmc:validationPending`` mark (``marked``), else one whose ``cmc:validatedSha256`` is its
    ``cmc:contentSha256``. An ASK: the store stops at the first one, so when few records
    changed it looks at a few, not at all of them."""
    unchanged = ("FILTER NOT EXISTS { ?g cmc:validationPending ?mark }" if marked
                 else "?g cmc:contentSha256 ?hash ; cmc:validatedSha256 ?hash .")
    return bool(store.query(
        "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
        f"ASK {{ GRAPH {to_sparql(minter.metadata_graph)} {{ ?g a cmc:RecordGraph . "
        f"{unchanged} FILTER (?g != {to_sparql(_vocabulary_graph_iri(minter))}) }} }}"
    ).boolean)


def _str(term: Identifier | None) -> str | None:
    return None if term is None else str(term)


def _batches(items: Sequence, size: int = _BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _values(name: str, terms: Iterable[Identifier]) -> str:
    return f"VALUES ?{name} {{ {' '.join(to_sparql(t) for t in terms)} }}"


def _load_graphs(store: Store, graphs: Sequence[URIRef], data: _Data) -> list[ox.Triple]:
    found: list[ox.Triple] = []
    for batch in _batches(sorted(graphs)):
        found += data.construct(
            store,
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {_values('g', batch)} GRAPH ?g {{ ?s ?p ?o }} }}",
        )
    return found


def _outbound(store: Store, nodes: Iterable[URIRef], data: _Data) -> list[ox.Triple]:
    found: list[ox.Triple] = []
    for batch in _batches(sorted(nodes)):
        found += data.construct(
            store, f"CONSTRUCT {{ ?n ?p ?o }} WHERE {{ {_values('n', batch)} ?n ?p ?o }}"
        )
    return found


def _inbound(store: Store, nodes: Iterable[URIRef], data: _Data) -> list[ox.Triple]:
    """The ``_INBOUND`` links into ``nodes``. One VALUES block of (predicate, node) pairs:
    with two separate blocks Oxigraph matched ``?s ?p ?n`` against the whole store first
    (0.9 s for 67 nodes at 4.5 M quads; 3 ms as pairs)."""
    found: list[ox.Triple] = []
    for batch in _batches(sorted(nodes)):
        pairs = " ".join(f"({to_sparql(p)} {to_sparql(n)})" for n in batch for p in _INBOUND)
        found += data.construct(
            store, f"CONSTRUCT {{ ?s ?p ?n }} WHERE {{ VALUES (?p ?n) {{ {pairs} }} ?s ?p ?n }}"
        )
    return found


def _upstream(store: Store, nodes: Iterable[URIRef], data: _Data) -> None:
    """prov:wasDerivedFrom chains upstream of ``nodes``, with the types of the nodes reached."""
    seen = set(nodes)
    frontier = sorted(seen)
    derived = to_sparql(PROV.wasDerivedFrom)
    while frontier:
        step: list[ox.Triple] = []
        for batch in _batches(frontier):
            step += data.construct(
                store,
                f"CONSTRUCT {{ ?n {derived} ?up . ?up a ?type }} WHERE {{ {_values('n', batch)} "
                f"?n {derived} ?up . OPTIONAL {{ ?up a ?type }} }}",
            )
        reached = {
            URIRef(t.object.value) for t in step
            if t.predicate.value == str(PROV.wasDerivedFrom) and isinstance(t.object, ox.NamedNode)
        }
        frontier = sorted(reached - seen)
        seen |= reached


def _mentioned(triples: Iterable[ox.Triple]) -> set[URIRef]:
    """Subjects and objects (not classes) that are record nodes rather than vocabulary."""
    rdf_type = str(RDF.type)
    nodes: set[URIRef] = set()
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            nodes.add(URIRef(t.subject.value))
        if isinstance(t.object, ox.NamedNode) and t.predicate.value != rdf_type:
            nodes.add(URIRef(t.object.value))
    return {n for n in nodes if _is_record_node(n)}


def _is_record_node(node: URIRef) -> bool:
    """Nodes worth fetching: not a class, term, unit or quantity kind."""
    return not str(node).startswith(("http://qudt.org/", "https://w3id.org/cmckg/terms",
                                     "https://w3id.org/cmckg/ontology#", "http://www.w3.org/"))


def _add_neighbourhood(store: Store, core: set[URIRef], data: _Data) -> None:
    """Add everything the shapes look at around the ``core`` nodes: their triples in every
    graph; the runs that used them, the lots they generated and the results about them, with
    those nodes' own triples (not followed further: a raw-material lot used by hundreds of runs
    must not pull in their whole neighbourhood); a few hops of the nodes they reference; and the
    upstream lineage of drug-product lots."""
    inbound = _mentioned(_inbound(store, core, data)) - core
    _outbound(store, inbound, data)
    fetched = set(inbound)
    frontier = set(core)
    for _ in range(_OUTBOUND_HOPS):
        step = _outbound(store, frontier, data)
        fetched |= frontier
        frontier = _mentioned(step) - fetched
        if not frontier:
            break
    rows = data.select(
        f"SELECT DISTINCT ?lot WHERE {{ ?lot a {to_sparql(CMC.DrugProductBatch)} }}"
    )
    products = {row[0] for row in rows} & core
    if products:
        _upstream(store, products, data)


# --- running pyshacl and reading its report ---------------------------------------------------


def _run_pyshacl(
    data: Graph, shapes: Graph, focus: Sequence[URIRef] | None
) -> list[ValidationResult]:
    """Validate ``data`` (modified in place: the ontology is mixed in) and read the results."""
    try:
        _, results_graph, _ = pyshacl_validate(
            data,
            shacl_graph=shapes,
            ont_graph=_ontology(),
            inference="none",
            advanced=True,
            inplace=True,
            allow_infos=False,
            allow_warnings=False,
            focus_nodes=list(focus) if focus is not None else None,
        )
    except (ShapeLoadError, ReportableRuntimeError, ValidationFailure) as exc:
        raise ConfigError(f"the shapes cannot be used: {exc}") from exc
    if isinstance(results_graph, ValidationFailure):  # pyshacl returns some failures
        raise ConfigError(f"the shapes cannot be used: {results_graph}")
    return _read_results(results_graph, shapes)


def _read_results(report: Graph, shapes: Graph) -> list[ValidationResult]:
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(node, SH.sourceShape)
        path = report.value(node, SH.resultPath)
        messages = sorted({str(m) for m in report.objects(node, SH.resultMessage)})
        results.append(ValidationResult(
            severity=Severity.from_iri(report.value(node, SH.resultSeverity)),
            focus=report.value(node, SH.focusNode),
            path=path,
            value=_plain(report.value(node, SH.value)),
            shape=shape,
            shape_label=_shape_label(shapes, shape),
            constraint=report.value(node, SH.sourceConstraintComponent),
            message="; ".join(messages) or _shape_label(shapes, shape),
            path_triples=tuple(_bnode_closure(report, path)) if isinstance(path, BNode) else (),
        ))
    return results


def _plain(term: Identifier | None) -> Identifier | None:
    """A literal as the store gives it back: xsd:string literals plain (RDF 1.1 equates them)."""
    if isinstance(term, Literal) and term.datatype == XSD.string and not term.language:
        return Literal(str(term))
    return term


def _shape_label(shapes: Graph, shape: Identifier | None) -> str:
    if shape is None:
        return ""
    label = shapes.value(shape, RDFS.label)
    if label is None:
        parent = shapes.value(None, SH.property, shape)
        label = shapes.value(parent, RDFS.label) if parent is not None else None
    if label is None:
        return str(shape) if isinstance(shape, URIRef) else ""
    return str(label)


def _bnode_closure(graph: Graph, node: BNode) -> Iterator[tuple]:
    stack, seen = [node], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for s, p, o in graph.triples((current, None, None)):
            yield s, p, o
            if isinstance(o, BNode):
                stack.append(o)


def _path_text(graph: Graph, path: Identifier) -> str:
    if isinstance(path, URIRef):
        return graph.namespace_manager.normalizeUri(path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path_text(graph, inverse)
    for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                              (SH.zeroOrOnePath, "?")):
        inner = graph.value(path, predicate)
        if inner is not None:
            return f"({_path_text(graph, inner)}){suffix}"
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_path_text(graph, p) for p in graph.items(alternatives)) + ")"
    steps = list(graph.items(path))
    if steps:
        return "/".join(_path_text(graph, p) for p in steps)
    return str(path)


# --- tracing results to their source ----------------------------------------------------------


def _trace(
    store: Store, minter: IriMinter, results: list[ValidationResult],
    known: Mapping[URIRef, RecordInfo],
) -> list[ValidationResult]:
    """Attach to each result the record graph, source file and location of its focus node.

    The record chosen is the same whatever the run covered: the graph holding the offending
    triple (focus, path, value) if there is one, else a graph where the focus node is typed,
    else the first graph (by IRI) that locates it.
    """
    focus = sorted({r.focus for r in results if isinstance(r.focus, URIRef)})
    located: dict[URIRef, list[tuple[URIRef, str, bool]]] = {}
    for batch in _batches(focus):
        rows = store.query(
            f"SELECT ?s ?g ?loc ?typed WHERE {{ {_values('s', batch)} GRAPH ?g {{ "
            f"?s {to_sparql(CMC.sourceLocation)} ?loc . "
            "BIND (EXISTS { ?s a ?type } AS ?typed) } }"
        ).rows
        for s, g, loc, typed in rows:
            located.setdefault(s, []).append((g, str(loc), bool(typed and typed.toPython())))
    holding = _graphs_holding(store, results)
    chosen = []
    for result in results:
        candidates = sorted(located.get(result.focus, []), key=lambda c: (not c[2], str(c[0])))
        preferred = [c for c in candidates if c[0] in holding.get(_triple_of(result), set())]
        chosen.append((preferred or candidates or [None])[0])
    records = dict(known)
    missing = {c[0] for c in chosen if c is not None} - set(records)
    if missing:
        records.update((g, s.info) for g, s in _record_states(store, minter,
                                                               graphs=missing).items())
    traced = []
    for result, choice in zip(results, chosen, strict=True):
        if choice is None:
            traced.append(result)
            continue
        graph, location, _ = choice
        info = records.get(graph, RecordInfo(graph, None, None))
        traced.append(replace(result, source=Source(graph, info.record_id, info.source_path,
                                                    location)))
    return traced


def _triple_of(result: ValidationResult) -> tuple | None:
    if isinstance(result.path, URIRef) and result.value is not None:
        return (result.focus, result.path, result.value)
    return None


def _graphs_holding(store: Store, results: list[ValidationResult]) -> dict[tuple, set[URIRef]]:
    triples = sorted({t for r in results if (t := _triple_of(r)) is not None}, key=str)
    holding: dict[tuple, set[URIRef]] = {}
    for batch in _batches(triples):
        values = " ".join(f"({' '.join(to_sparql(t) for t in triple)})" for triple in batch)
        rows = store.query(
            f"SELECT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p ?o) {{ {values} }} "
            "GRAPH ?g { ?s ?p ?o } }"
        ).rows
        for s, p, o, g in rows:
            holding.setdefault((s, p, o), set()).add(g)
    return holding


def _sort_key(result: ValidationResult) -> tuple:
    source = result.source
    return (-result.severity, source.path or "~", _location_order(source.location),
            str(result.focus), result.shape_name, str(result.value))


def _location_order(location: str | None) -> tuple:
    if location and location.startswith("row="):
        digits = location[4:]
        if digits.isdigit():
            return (0, int(digits), "")
    return (1, 0, location or "")


# --- the runs ---------------------------------------------------------------------------------


def _shapes_digest(extra: Sequence[str | Path], specs: Sequence[Specification]) -> str:
    digest = hashlib.sha256(
        _files_digest([*_shape_files(extra), ontology_path(), *term_files()]).encode()
    )
    for spec in latest_specifications(specs):
        digest.update(repr(spec).encode())
    return digest.hexdigest()


def _stored_state(store: Store, minter: IriMinter) -> tuple[str | None, bool]:
    """The shapes digest of the last recorded validation (None if there is none), and whether
    its state is kept by ``cmc:validationPending`` marks (its ``cmc:version`` is
    ``_STATE_VERSION``; a state recorded before the marks existed has no version)."""
    run = to_sparql(_validation_run_iri(minter))
    rows = store.query(
        f"SELECT ?digest ?version WHERE {{ GRAPH {to_sparql(minter.metadata_graph)} {{ "
        f"{run} {to_sparql(CMC.shapesSha256)} ?digest "
        f"OPTIONAL {{ {run} {to_sparql(CMC.version)} ?version }} }} }}"
    ).rows
    if not rows:
        return None, False
    return str(rows[0][0]), any(_str(version) == _STATE_VERSION for _, version in rows)


def validate_store(
    store: Store,
    minter: IriMinter | None = None,
    *,
    full: bool = False,
    record: bool = True,
    shapes: Sequence[str | Path] = (),
) -> ValidationReport:
    """Validate the store: incrementally (record graphs changed since the last run, plus what
    they reference) unless ``full``; ``record`` writes the validation state and the generated
    specification shapes back to the store (skipped for a read-only store)."""
    started = time.perf_counter()
    minter = minter or IriMinter()
    specs = read_specifications(store)
    spec_shapes = specification_shapes(specs)
    shape_graph = static_shapes(shapes) + spec_shapes
    digest = _shapes_digest(shapes, specs)
    stored_digest, marked = _stored_state(store, minter)

    note = None
    if not full and stored_digest is None:
        full, note = True, "no earlier validation is recorded"
    if not full and stored_digest != digest:
        full, note = True, "the shapes or specifications changed since the last validation"
    if full:
        states = _record_states(store, minter)
    else:
        # the records ingest marked pending; for a state recorded before the marks, those
        # whose hashes differ (every record graph is looked at, this once)
        states = _record_states(store, minter, pending=marked, changed_only=not marked)
        if states and not _some_record_unchanged(store, minter, marked=marked):
            full, note = True, "every record graph changed"
    selected = sorted(states)

    data = _Data()
    core = _mentioned(_load_graphs(store, selected, data))
    focus: list[URIRef] | None = None
    if full:
        focus_count = len(data.typed_record_nodes())
    else:
        _add_neighbourhood(store, core, data)
        focus = sorted(data.typed_record_nodes(core))
        focus_count = len(focus)
    triples = len(data)
    results: list[ValidationResult] = []
    if focus_count:
        data.add_graph(_terms())
        data.add_unit_facts()
        results = _run_pyshacl(data.rdflib_graph(), shape_graph, focus)
    results = sorted(_trace(store, minter, results, {g: s.info for g, s in states.items()}),
                     key=_sort_key)
    report = ValidationReport(
        results=results,
        records=[states[g].info for g in selected],
        mode="full" if full else "incremental",
        focus_nodes=focus_count,
        triples=triples,
        shapes=len(set(shape_graph.subjects(RDF.type, SH.NodeShape))
                   | set(shape_graph.subjects(RDF.type, SH.PropertyShape))),
        specification_shapes=len(set(spec_shapes.subjects(RDF.type, SH.NodeShape))),
        seconds=time.perf_counter() - started,
        note=note,
    )
    if record and not store.read_only:
        _record_state(store, minter, {g: states[g] for g in selected}, digest,
                      stored_digest, spec_shapes)
    return report


def _record_state(
    store: Store,
    minter: IriMinter,
    validated: Mapping[URIRef, _RecordState],
    digest: str,
    stored_digest: str | None,
    spec_shapes: Graph,
) -> None:
    """Write what was validated: each record's ``cmc:validatedSha256``, its pending mark
    removed (unless its content changed during the run: then it stays pending), and the run."""
    meta = minter.metadata_graph
    changes = ChangeSet()
    for g, state in validated.items():
        if state.content is None or state.validated == state.content:
            continue
        if state.validated is not None:
            changes.remove.append((g, CMC.validatedSha256, Literal(state.validated), meta))
        changes.add.append((g, CMC.validatedSha256, Literal(state.content), meta))
    marks = store.query(
        f"SELECT ?g ?mark ?hash WHERE {{ GRAPH {to_sparql(meta)} {{ "
        f"?g {to_sparql(CMC.validationPending)} ?mark "
        f"OPTIONAL {{ ?g {to_sparql(CMC.contentSha256)} ?hash }} }} }}"
    ).rows
    changes.remove.extend(
        (g, CMC.validationPending, mark, meta) for g, mark, content in marks
        if g in validated and validated[g].content == _str(content)
    )
    run = _validation_run_iri(minter)
    old_run = store.query(
        f"SELECT ?p ?o WHERE {{ GRAPH {to_sparql(meta)} {{ {to_sparql(run)} ?p ?o }} }}"
    ).rows
    changes.remove.extend((run, p, o, meta) for p, o in old_run)
    now = Literal(datetime.now(UTC).isoformat(timespec="seconds"), datatype=XSD.dateTime)
    changes.add.extend([
        (run, RDF.type, CMC.ValidationRun, meta),
        (run, CMC.shapesSha256, Literal(digest), meta),
        (run, CMC.version, Literal(_STATE_VERSION), meta),
        (run, PROV.endedAtTime, now, meta),
    ])
    if digest != stored_digest:
        shapes_iri = shapes_graph_iri(minter)
        if len(spec_shapes):
            changes.put_graphs[shapes_iri] = spec_shapes
        elif shapes_iri in store.graph_names():
            changes.drop_graphs.append(shapes_iri)
    store.apply(changes)


def store_shapes(store: Store, shapes: Sequence[str | Path] = ()) -> Graph:
    """Every shape a validation of ``store`` uses: the static ones and the generated ones."""
    graph = static_shapes(shapes) + specification_shapes(read_specifications(store))
    graph.bind("sh", SH)
    graph.bind("cmcsh", "https://w3id.org/cmckg/shapes#")
    return graph


def validate_sources(
    sources: Iterable[str | Path],
    mapping: Mapping[str, Any] | None = None,
    format_name: str | None = None,
    minter: IriMinter | None = None,
    shapes: Sequence[str | Path] = (),
    export_shapes: str | Path | None = None,
) -> ValidationReport:
    """Map source files in memory (no store on disk) and validate all of them; with
    ``export_shapes``, also write every shape used (generated ones included) there as Turtle."""
    from .ingest import ingest

    minter = minter or IriMinter()
    store = open_store("oxigraph:memory")
    try:
        ingest(store, sources, minter, mapping, format_name)
        report = validate_store(store, minter, full=True, record=False, shapes=shapes)
        if export_shapes is not None:
            _write_turtle(store_shapes(store, shapes), Path(export_shapes))
    finally:
        store.close()
    report.mode = "files"
    report.note = None
    return report


def _write_turtle(graph: Graph, path: Path) -> None:
    partial = path.with_name(path.name + ".part")
    try:
        bind_prefixes(graph).serialize(partial, format="turtle")
        partial.replace(path)
    except OSError as exc:
        raise ConfigError(f"cannot write the shapes: {exc.strerror}", str(path)) from exc
