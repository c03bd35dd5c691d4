"""SHACL for censored results against a specification (``"<0.5"`` against ``"≤ 2.0"``).

A censored result (``cmc:resultQualifier`` + ``cmc:censoringLimit``, no numeric value) is judged
as :func:`cmckg.results.censored_verdict` does: out of specification (a Violation) when no value
it allows is inside the limits; indeterminate (a Warning) when some are and some are not, or when
it is in another unit than the specification; nothing when every value it allows is inside.
The limit is never read as the value.
"""

from __future__ import annotations

from typing import Protocol

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SH, XSD

from .vocab import CMC, QUDT

__all__ = ["add_censored_shapes"]

_LOW = '("<", "≤")'
_HIGH = '(">", "≥")'


class _Limits(Protocol):
    iri: URIRef
    unit: URIRef
    lower: float | None
    upper: float | None


def _d(value: float) -> str:
    return Literal(float(value), datatype=XSD.double).n3()


def _fails(lower: float | None, upper: float | None) -> str:
    """SPARQL: a censored result (?q, ?limit) allows no value inside the limits."""
    tests = []
    if lower is not None:
        tests.append(
            f'(?q IN {_LOW} && (?limit < {_d(lower)} || (?q = "<" && ?limit <= {_d(lower)})))'
        )
    if upper is not None:
        tests.append(
            f'(?q IN {_HIGH} && (?limit > {_d(upper)} || (?q = ">" && ?limit >= {_d(upper)})))'
        )
    return " || ".join(tests) or "false"


def _passes(lower: float | None, upper: float | None) -> str:
    """SPARQL: every value a censored result (?q, ?limit) allows is inside the limits."""
    if lower is None and upper is not None:
        return f"(?q IN {_LOW} && ?limit <= {_d(upper)})"
    if upper is None and lower is not None:
        return f"(?q IN {_HIGH} && ?limit >= {_d(lower)})"
    return "false"


def _node(
    graph: Graph,
    node: URIRef,
    spec: URIRef,
    label: str,
    severity: URIRef,
    message: str,
    match: str,
    condition: str,
) -> None:
    censored = (
        f"?this <{CMC.censoringLimit}> ?limit ; <{CMC.resultQualifier}> ?q ; "
        f"<{QUDT.unit}> ?unit . FILTER ({condition})"
    )
    graph.add((node, RDF.type, SH.NodeShape))
    graph.add((node, RDFS.label, Literal(label)))
    graph.add((node, PROV.wasDerivedFrom, spec))
    graph.add((node, SH.severity, severity))
    graph.add((node, SH.message, Literal(message)))
    target = URIRef(f"{node}/target")
    graph.add((node, SH.target, target))
    graph.add((target, RDF.type, SH.SPARQLTarget))
    graph.add((target, SH.select, Literal(f"SELECT DISTINCT ?this WHERE {{ {match} {censored} }}")))
    constraint = URIRef(f"{node}/constraint")
    graph.add((node, SH.sparql, constraint))
    graph.add((constraint, RDF.type, SH.SPARQLConstraint))
    check = censored.replace("?this", "$this")  # the target applied the specification's scope
    graph.add(
        (
            constraint,
            SH.select,
            Literal(
                f"SELECT $this ?path ?value WHERE {{ {check} $this <{CMC.reportedText}> ?value . "
                f"BIND (<{CMC.reportedText}> AS ?path) }}"
            ),
        )
    )


def add_censored_shapes(graph: Graph, spec: _Limits, match: str, label: str, text: str) -> None:
    """Add the censored-result shapes of one specification. ``match`` is the SPARQL pattern
    binding ``?this`` to the measurements the specification applies to."""
    unit = f"<{spec.unit}>"
    fails, passes = _fails(spec.lower, spec.upper), _passes(spec.lower, spec.upper)
    base = f"{spec.iri}/shape/censored"
    _node(
        graph,
        URIRef(f"{base}/out"),
        spec.iri,
        f"{label} censored result within {text}",
        SH.Violation,
        f"Out of specification: {label} reported {{?value}} is outside {text}",
        match,
        f"?unit = {unit} && ({fails})",
    )
    _node(
        graph,
        URIRef(f"{base}/indeterminate"),
        spec.iri,
        f"{label} censored result judged against {text}",
        SH.Warning,
        f"Indeterminate: {label} reported {{?value}} may or may not be within {text} "
        "(a censored result is not read as its limit)",
        match,
        f"?unit != {unit} || (!({fails}) && !({passes}))",
    )
