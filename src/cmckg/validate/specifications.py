"""Specification records → SHACL shapes: one property shape per specification (latest version per
product, property, stage and lot class) for results in its unit, and one SHACL-SPARQL node shape
for results in another unit, converted through QUDT factors; censored results are judged by
``cmckg.censoring``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Identifier

from ..censoring import add_censored_shapes
from ..stores import Store
from ..stores.terms import to_sparql
from ..vocab import CMC, QUDT, bind_prefixes
from .shapes import terms
from .sparql import sparql_constraint, sparql_target
from .unit_facts import unit_facts

_NUMERIC = (XSD.double, XSD.decimal, XSD.integer, XSD.float)


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
        unit = unit_symbol(self.unit)
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
        if (
            limits == [None, None]
            or any(
                raw is not None and value is None
                for raw, value in zip((lower, upper), limits, strict=True)
            )
            or (None not in limits and limits[0] > limits[1])
        ):
            continue
        specs.append(
            Specification(
                iri=iri,
                identifier=str(ident),
                version=None if version is None else str(version),
                product=product,
                property=prop,
                unit=unit,
                lower=limits[0],
                upper=limits[1],
                stage=stage if isinstance(stage, URIRef) else None,
                lot_class=lot_class if isinstance(lot_class, URIRef) else None,
            )
        )
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

    Per specification (its latest version per scope), two SHACL-SPARQL node shapes whose targets
    select the measurements of the property (or a concept's exact matches) and stage on lots (or
    samples of lots) of the product and lot class that break it: one for results in the
    specification's unit, outside its limits; one for results in another unit, converted through
    QUDT factors, which also flags a unit that cannot be converted; and the censored-result
    shapes of ``cmckg.censoring`` (out: Violation; indeterminate: Warning). Messages name the
    lot, the value and its unit.
    All nodes have IRIs under the specification's IRI, so the graph is stable and storable.
    """
    graph = bind_prefixes(Graph())
    graph.bind("sh", SH)
    term_graph = terms()
    for spec in latest_specifications(specs):
        matches = term_graph.objects(spec.property, SKOS.exactMatch)
        properties = sorted({spec.property, *(o for o in matches if isinstance(o, URIRef))})
        label = _label(term_graph, spec.property)
        match = _spec_match(spec, properties)
        on_this = _spec_match(spec, properties, constraint=True)
        text = spec.describe()

        node = URIRef(f"{spec.iri}/shape")
        outside = _outside(spec)
        in_unit = f"?this <{QUDT.unit}> {to_sparql(spec.unit)} ; <{QUDT.numericValue}> ?value . "
        graph.add((node, RDF.type, SH.NodeShape))
        graph.add((node, RDFS.label, Literal(f"{label} within {text}")))
        graph.add((node, PROV.wasDerivedFrom, spec.iri))
        graph.add((node, SH.severity, SH.Violation))
        graph.add(
            (
                node,
                SH.message,
                Literal(
                    f"Out of specification: {label} of {{?lotName}} is {{?valueText}} "
                    f"{unit_symbol(spec.unit)}, outside {text}"
                ),
            )
        )
        sparql_target(
            graph, node, f"SELECT DISTINCT ?this WHERE {{ {match} {in_unit} FILTER ({outside}) }}"
        )
        sparql_constraint(
            graph,
            node,
            (
                f"SELECT DISTINCT $this ?path ?value ?lotName ?valueText WHERE {{ "
                f"{on_this} {in_unit.replace('?this', '$this')} FILTER ({outside}) "
                f"BIND (<{QUDT.numericValue}> AS ?path) BIND (STR(?value) AS ?valueText) "
                f"{_LOT_NAME} }}"
            ),
        )

        converted = URIRef(f"{node}/converted")
        check = _converted_check(spec)
        graph.add((converted, RDF.type, SH.NodeShape))
        graph.add((converted, RDFS.label, Literal(f"{label} in another unit: {text}")))
        graph.add((converted, PROV.wasDerivedFrom, spec.iri))
        graph.add((converted, SH.severity, SH.Violation))
        graph.add(
            (
                converted,
                SH.message,
                Literal(
                    f"Out of specification or not comparable: "
                    f"{label} of {{?lotName}} is {{?value}} "
                    f"{{?unitSymbol}} ({{?reason}}) against {text}"
                ),
            )
        )
        sparql_target(
            graph,
            converted,
            f"SELECT DISTINCT ?this WHERE {{ {match} {check.replace('$this', '?this')} }}",
        )
        sparql_constraint(
            graph,
            converted,
            (
                f"SELECT DISTINCT $this ?path ?value ?unitSymbol ?reason ?lotName WHERE {{ "
                f"{on_this} {check} "
                f"OPTIONAL {{ ?unit <{QUDT.symbol}> ?symbol }} "
                f"BIND (<{QUDT.numericValue}> AS ?path) "
                f"BIND (COALESCE(?symbol, STR(?unit)) AS ?unitSymbol) {_LOT_NAME} }}"
            ),
        )
        add_censored_shapes(graph, spec, match, label, text)
    return graph


# binds ?lotName: the identifier of the lot (?lot of the specification match) the result is about
_LOT_NAME = (
    f"OPTIONAL {{ ?lot <{CMC.identifier}> ?lotId }} BIND (COALESCE(?lotId, STR(?lot)) AS ?lotName)"
)


def _outside(spec: Specification) -> str:
    """SPARQL condition: ?value is outside the specification's limits (in its unit)."""
    bounds = []
    if spec.lower is not None:
        bounds.append(f"?value < {_double(spec.lower)}")
    if spec.upper is not None:
        bounds.append(f"?value > {_double(spec.upper)}")
    return " || ".join(bounds)


def _spec_match(spec: Specification, properties: list[URIRef], *, constraint: bool = False) -> str:
    """SPARQL pattern: ?this is a measurement the specification applies to (for a SPARQL
    constraint, ``$this``, and the properties as a FILTER: SHACL forbids VALUES there)."""
    lot_class = (
        f"?lot <{RDF.type}>/<{RDFS.subClassOf}>* {to_sparql(spec.lot_class)} . "
        if spec.lot_class is not None
        else ""
    )
    stage = f"?this <{CMC.stage}> {to_sparql(spec.stage)} . " if spec.stage is not None else ""
    listed = " ".join(to_sparql(p) for p in properties)
    pattern = (
        ("" if constraint else f"VALUES ?property {{ {listed} }} ")
        + f"?this <{CMC.measuredProperty}> ?property ; <{CMC.onEntity}> ?entity . {stage}"
        f"?entity <{CMC.sampleOf}>* ?lot . ?lot <{CMC.ofProduct}> {to_sparql(spec.product)} . "
        f"{lot_class}"
        + (
            f"FILTER (?property IN ({', '.join(to_sparql(p) for p in properties)})) "
            if constraint
            else ""
        )
    )
    return pattern.replace("?this", "$this") if constraint else pattern


def _converted_check(spec: Specification) -> str:
    """SPARQL pattern binding ?value ?unit ?reason for a result in another unit that is out of
    limits after QUDT conversion (SI = (value + offset) × multiplier) or cannot be converted."""
    info = unit_facts(spec.unit)
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
        f'"unit cannot be converted to the specification\'s unit", '
        f'IF({out_of_limits}, "outside the limits after conversion", "")) AS ?reason) '
        f'FILTER (?reason != "")'
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


def unit_symbol(unit: URIRef) -> str:
    facts = unit_facts(unit)
    return str(facts.get("symbol") or _label(Graph(), unit))
