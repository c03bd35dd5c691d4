"""Plausible ranges → SHACL shapes: one generated shape per range holder (a concept, or a QUDT
quantity kind), with concrete IRIs and bounds already converted into every unit it applies to.

A value outside the range its concept or its unit's quantity kind declares
(``ontology/terms/plausibility.ttl``, or a project vocabulary) cannot be true: a negative
concentration, a dissolution of −40 %, 140 % of a whole, a pH of 15. The rules:

- a concept's range (``cmc:plausibleMinimum``/``cmc:plausibleMaximum`` in its
  ``cmc:defaultUnit``) applies to results of the concept and of the AFO properties it
  ``skos:exactMatch``es, in any unit that shares a quantity kind with the range's unit;
- a quantity kind's range applies to every result whose unit has that kind (or a narrower one),
  unless the result's concept has a range of its own (the concept's range replaces it);
- a value in another unit is converted through QUDT factors (SI = (value + offset) ×
  multiplier); the bound is converted instead, here, once per unit, with the exact decimal
  multipliers of :mod:`cmckg.units`;
- a unit QUDT gives no multiplier for is still held to a lower bound of 0 when neither unit has
  an offset.

The shapes select, with a SPARQL target that starts from the concrete properties or units, only
the results that break the range, so a run costs one indexed query per holder (no property-path
joins over every result). Messages name the lot, the attribute, the value with its unit and the
limit; tracing adds the file and row.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, SKOS, XSD
from rdflib.term import Node

from ..stores import Store
from ..stores.terms import to_sparql
from ..vocab import CMC, QUANTITYKIND, QUDT, active_vocabularies, bind_prefixes
from .shapes import terms
from .sparql import sparql_constraint, sparql_target
from .unit_facts import known_units, unit_facts

CMCSH = "https://w3id.org/cmckg/shapes#"
SHAPE_PREFIX = f"{CMCSH}PlausibleValueShape/"
_NUMERIC = (XSD.double, XSD.decimal, XSD.integer, XSD.float)
_RANGE_FACTS = (
    CMC.plausibleMinimum,
    CMC.plausibleMaximum,
    CMC.defaultUnit,
    SKOS.prefLabel,
    SKOS.exactMatch,
)


@dataclass(frozen=True)
class PlausibleRange:
    """The plausible range a concept or quantity kind declares, in its default unit."""

    holder: URIRef
    label: str
    unit: URIRef | None
    minimum: Decimal | None
    maximum: Decimal | None
    matches: tuple[URIRef, ...] = ()

    @property
    def is_kind(self) -> bool:
        return str(self.holder).startswith(str(QUANTITYKIND))

    @property
    def properties(self) -> tuple[URIRef, ...]:
        """The measured properties a concept's range covers: itself and its exact matches."""
        return (self.holder, *self.matches)


@dataclass(frozen=True)
class UnitBounds:
    """A range converted into one unit a result may be in."""

    unit: URIRef
    lower: Decimal | None
    upper: Decimal | None


@dataclass(frozen=True)
class PlausibilityCheck:
    """One generated shape: a range and its bounds in every unit it applies to."""

    range: PlausibleRange
    bounds: tuple[UnitBounds, ...]
    excluded: tuple[URIRef, ...] = ()  # a kind's range: properties with a range of their own


_STORE_QUERY = (
    "PREFIX cmc: <https://w3id.org/cmckg/ontology#>\n"
    "SELECT ?c ?p ?o WHERE { "
    "{ SELECT DISTINCT ?c WHERE { ?c cmc:plausibleMinimum|cmc:plausibleMaximum ?x } } "
    f"?c ?p ?o FILTER (?p IN ({', '.join(to_sparql(p) for p in _RANGE_FACTS)})) }}"
)


def read_ranges(store: Store | None = None) -> list[PlausibleRange]:
    """The plausible ranges of the bundled terms, of the project vocabularies in force and of
    those stored in ``store`` (found through the two range predicates: the cost follows the
    vocabulary, not the store)."""
    graph = Graph()
    graph += terms()
    for vocabulary in active_vocabularies():
        graph += vocabulary.graph
    if store is not None:
        for s, p, o in store.query(_STORE_QUERY).rows:
            if s is not None and p is not None and o is not None:
                graph.add((s, p, o))
    holders = {
        h
        for p in (CMC.plausibleMinimum, CMC.plausibleMaximum)
        for h in graph.subjects(p, None)
        if isinstance(h, URIRef)
    }
    return [_range(graph, holder) for holder in sorted(holders)]


def _range(graph: Graph, holder: URIRef) -> PlausibleRange:
    minima = _numbers(graph.objects(holder, CMC.plausibleMinimum))
    maxima = _numbers(graph.objects(holder, CMC.plausibleMaximum))
    units = sorted(u for u in graph.objects(holder, CMC.defaultUnit) if isinstance(u, URIRef))
    return PlausibleRange(
        holder=holder,
        label=_label(graph, holder),
        unit=units[0] if len(units) == 1 else None,  # none or several: no range unit to convert to
        minimum=max(minima) if minima else None,  # several (vocabulary and store): the tightest
        maximum=min(maxima) if maxima else None,
        matches=tuple(
            sorted(m for m in graph.objects(holder, SKOS.exactMatch) if isinstance(m, URIRef))
        ),
    )


def _numbers(terms_: Iterable[Node]) -> list[Decimal]:
    found = []
    for term in terms_:
        if isinstance(term, Literal) and term.datatype in _NUMERIC:
            try:
                found.append(Decimal(str(term.toPython())))
            except (ArithmeticError, ValueError):
                continue
    return found


def _label(graph: Graph, node: URIRef) -> str:
    labels = sorted(
        graph.objects(node, SKOS.prefLabel),
        key=lambda lit: (getattr(lit, "language", None) not in (None, "en"), str(lit)),
    )
    if labels:
        return str(labels[0])
    label = graph.value(node, RDFS.label)
    if label is not None:
        return str(label)
    local = str(node).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    # a QUDT quantity kind's local name in words: MassDensity → mass density
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower() if local.isalpha() else local


def convert_bounds(unit: URIRef, rng: PlausibleRange) -> UnitBounds | None:
    """The range in ``unit``, or None when a result in ``unit`` is not held to it (the units
    share no quantity kind, or one cannot be converted and the lower-bound-0 fallback does not
    hold). A result ``v`` in ``unit`` is below the minimum when ``((v + o) × m) / rm − ro <
    min``, that is ``v < (min + ro) × rm / m − o`` (multipliers are positive)."""
    if rng.unit is None:
        return None
    if unit == rng.unit:
        return UnitBounds(unit, rng.minimum, rng.maximum)
    facts, range_facts = unit_facts(unit), unit_facts(rng.unit)
    if not facts or not range_facts or not facts["kinds"] & range_facts["kinds"]:
        return None
    offset = Decimal(repr(facts["offset"] or 0.0))
    range_offset = Decimal(repr(range_facts["offset"] or 0.0))
    multiplier: Decimal | None = facts["exact_multiplier"]
    range_multiplier: Decimal | None = range_facts["exact_multiplier"]
    if multiplier is None or range_multiplier is None:
        if rng.minimum == 0 and offset == 0 and range_offset == 0:
            return UnitBounds(unit, Decimal(0), None)
        return None

    def into(bound: Decimal | None) -> Decimal | None:
        if bound is None or multiplier is None or range_multiplier is None:
            return None
        converted: Decimal = (bound + range_offset) * range_multiplier / multiplier - offset
        return converted

    return UnitBounds(unit, into(rng.minimum), into(rng.maximum))


def plausibility_checks(ranges: Sequence[PlausibleRange]) -> list[PlausibilityCheck]:
    """The checks to generate: per concept range, its bounds in every known unit comparable
    with its unit; per quantity-kind range, its bounds in every known unit of that kind (a unit
    two kinds hold to the same bounds is checked by the first only: one result, not two)."""
    own = tuple(sorted({p for r in ranges if not r.is_kind for p in r.properties}))
    checks = []
    seen: set[tuple[URIRef, Decimal | None, Decimal | None]] = set()
    for rng in sorted(ranges, key=lambda r: (r.is_kind, str(r.holder))):
        if rng.is_kind:
            units = _units_of_kind(rng.holder)
        else:
            units = () if rng.unit is None else _comparable_units(rng.unit)
        bounds = []
        for unit in units:
            found = convert_bounds(unit, rng)
            if found is None or (found.lower is None and found.upper is None):
                continue
            if rng.is_kind:
                key = (unit, found.lower, found.upper)
                if key in seen:
                    continue
                seen.add(key)
            bounds.append(found)
        if bounds:
            checks.append(PlausibilityCheck(rng, tuple(bounds), own if rng.is_kind else ()))
    return checks


@cache
def _comparable_units_in(table_units: tuple[URIRef, ...], unit: URIRef) -> tuple[URIRef, ...]:
    kinds = unit_facts(unit).get("kinds", frozenset())
    return tuple(
        u for u in table_units if u == unit or unit_facts(u).get("kinds", frozenset()) & kinds
    )


def _comparable_units(unit: URIRef) -> tuple[URIRef, ...]:
    found = _comparable_units_in(known_units(), unit)
    return found if unit in found else (unit, *found)


@cache
def _units_of_kind_in(table_units: tuple[URIRef, ...], kind: URIRef) -> tuple[URIRef, ...]:
    return tuple(u for u in table_units if kind in unit_facts(u).get("kinds", frozenset()))


def _units_of_kind(kind: URIRef) -> tuple[URIRef, ...]:
    return _units_of_kind_in(known_units(), kind)


def checks_digest(checks: Sequence[PlausibilityCheck]) -> str:
    """A digest of the generated checks: a changed range or unit table makes the next run full."""
    digest = hashlib.sha256()
    for check in checks:
        digest.update(repr(check).encode())
    return digest.hexdigest()


def plausibility_shapes(checks: Sequence[PlausibilityCheck]) -> Graph:
    """SHACL-SPARQL node shapes, one per check (see the module docstring). Every node has an
    IRI under ``cmcsh:PlausibleValueShape/``, so the graph is stable and storable."""
    graph = bind_prefixes(Graph())
    graph.bind("sh", SH)
    for check in checks:
        rng = check.range
        node = URIRef(f"{SHAPE_PREFIX}{_slug(rng.holder)}")
        low, high = _conditions(check.bounds)
        limit = _limit_text(rng)
        graph.add((node, RDF.type, SH.NodeShape))
        graph.add((node, RDFS.label, Literal(f"Plausible {rng.label}")))
        graph.add((node, RDFS.seeAlso, rng.holder))
        graph.add((node, SH.severity, SH.Violation))
        attribute = "{?attribute}" if rng.is_kind else rng.label
        graph.add(
            (
                node,
                SH.message,
                Literal(
                    f"Implausible value: {attribute} of {{?lot}} is {{?valueText}} "
                    f"{{?unitSymbol}}, {{?limitText}}"
                ),
            )
        )
        units = " ".join(to_sparql(b.unit) for b in check.bounds)
        unit_list = ", ".join(to_sparql(b.unit) for b in check.bounds)
        broken = f"FILTER (isNumeric(?value) && ({low} || {high})) "
        measured = f"<{QUDT.unit}> ?unit ; <{QUDT.numericValue}> ?value"
        if rng.is_kind:
            own = _own_range_filter(check.excluded)
            target = (
                f"SELECT DISTINCT ?this WHERE {{ VALUES ?unit {{ {units} }} "
                f"?this {measured} ; a <{CMC.Measurement}> . {broken}{own} }}"
            )
            match = f"$this {measured} ; a <{CMC.Measurement}> . FILTER (?unit IN ({unit_list})) "
            match += own.replace("?this", "$this")
            attribute_text = (
                f"OPTIONAL {{ $this <{CMC.measuredProperty}> ?property . "
                f"OPTIONAL {{ ?property <{SKOS.prefLabel}>|<{RDFS.label}> ?propertyLabel }} }} "
                'BIND (COALESCE(STR(?propertyLabel), STR(?property), "a result") AS ?attribute) '
            )
            variables = "?attribute "
        else:
            properties = " ".join(to_sparql(p) for p in rng.properties)
            property_list = ", ".join(to_sparql(p) for p in rng.properties)
            target = (
                f"SELECT DISTINCT ?this WHERE {{ VALUES ?property {{ {properties} }} "
                f"?this <{CMC.measuredProperty}> ?property ; {measured} ; "
                f"a <{CMC.Measurement}> . {broken}}}"
            )
            match = (
                f"$this <{CMC.measuredProperty}> ?property ; {measured} ; a <{CMC.Measurement}> . "
                f"FILTER (?property IN ({property_list})) "
            )
            attribute_text, variables = "", ""
        sparql_target(graph, node, target)
        sparql_constraint(
            graph,
            node,
            (
                f"SELECT DISTINCT $this ?path ?value {variables}?lot ?valueText ?unitSymbol "
                f"?limitText WHERE {{ {match}FILTER (isNumeric(?value)) "
                f"BIND ({low} AS ?low) BIND ({high} AS ?high) FILTER (?low || ?high) "
                f"OPTIONAL {{ ?unit <{QUDT.symbol}> ?symbol }} {attribute_text}{_LOT} "
                f"BIND (<{QUDT.numericValue}> AS ?path) BIND (STR(?value) AS ?valueText) "
                f"BIND (COALESCE(?symbol, STR(?unit)) AS ?unitSymbol) "
                f"BIND (IF(?low, {limit[0]}, {limit[1]}) AS ?limitText) }}"
            ),
        )
    return graph


# binds ?lot: the identifier of the lot (or other entity) the result is about, through samples
_LOT = (
    f"OPTIONAL {{ $this <{CMC.onEntity}> ?entity . ?entity <{CMC.sampleOf}>* ?root . "
    f"FILTER NOT EXISTS {{ ?root <{CMC.sampleOf}> ?parent }} "
    f"OPTIONAL {{ ?root <{CMC.identifier}> ?rootId }} }} "
    'BIND (COALESCE(?rootId, STR(?root), "an unnamed entity") AS ?lot)'
)


def _own_range_filter(properties: Sequence[URIRef]) -> str:
    """FILTER: the result's property has no range of its own (that range replaces the kind's)."""
    if not properties:
        return ""
    listed = ", ".join(to_sparql(p) for p in properties)
    return (
        f"FILTER NOT EXISTS {{ ?this <{CMC.measuredProperty}> ?own . "
        f"FILTER (?own IN ({listed})) }} "
    )


def _conditions(bounds: Sequence[UnitBounds]) -> tuple[str, str]:
    """SPARQL conditions on ?unit and ?value: below the lower bound, above the upper bound
    (units sharing a bound grouped in one IN list)."""

    def side(pick: str, operator: str) -> str:
        groups: dict[Decimal, list[URIRef]] = {}
        for b in bounds:
            bound = getattr(b, pick)
            if bound is not None:
                groups.setdefault(bound, []).append(b.unit)
        clauses = [
            f"(?unit IN ({', '.join(to_sparql(u) for u in units)}) && ?value {operator} "
            f"{_double(bound)})"
            for bound, units in sorted(groups.items())
        ]
        return "(" + " || ".join(clauses) + ")" if clauses else "false"

    return side("lower", "<"), side("upper", ">")


def _limit_text(rng: PlausibleRange) -> tuple[str, str]:
    """The two limit texts as SPARQL string literals (escaped by rdflib)."""
    symbol = str(unit_facts(rng.unit).get("symbol") or rng.unit) if rng.unit is not None else ""
    texts = []
    for side, bound in (("minimum", rng.minimum), ("maximum", rng.maximum)):
        wording = (
            "below the plausible minimum" if side == "minimum" else "above the plausible maximum"
        )
        value = "" if bound is None else f"{float(bound):g}"
        texts.append(Literal(f"{wording} {value} {symbol}".strip()).n3())
    return texts[0], texts[1]


def _double(value: Decimal) -> str:
    return Literal(float(value), datatype=XSD.double).n3()


def _slug(holder: URIRef) -> str:
    local = str(holder).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in local) or "range"
    return f"{safe}-{hashlib.sha256(str(holder).encode()).hexdigest()[:8]}"
