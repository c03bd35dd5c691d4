"""The result model of a validation run: severities, results with their source trace, reports.

Report writers (``cmckg.reports``) import only this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SH
from rdflib.term import Identifier

from ..errors import ConfigError
from ..vocab import CMC, bind_prefixes

__all__ = [
    "RecordInfo",
    "Severity",
    "Source",
    "ValidationReport",
    "ValidationResult",
    "add_result",
    "read_results",
    "results_graph",
]


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
        return (
            self.severity,
            self.focus,
            self.path_text,
            self.value,
            self.shape_name,
            self.message,
            self.source,
        )


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
    carried: int = 0  # results still open from earlier runs, in records this run did not check

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

    def _repr_html_(self) -> str:
        from ..reports.html import repr_html

        return repr_html(self)

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
            add_result(graph, node, result)
        return graph


def add_result(graph: Graph, node: BNode, result: ValidationResult) -> None:
    """Add one ``sh:ValidationResult`` (W3C SHACL terms) with its ``cmc:`` source trace."""
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


def results_graph(results: Iterable[ValidationResult]) -> Graph:
    """The results as RDF, as :func:`add_result` writes them, plus each shape's label (a
    blank-node shape cannot be looked up again later): what the validation state keeps."""
    graph = Graph()
    for result in results:
        add_result(graph, BNode(), result)
        if result.shape_label:
            graph.add((result.shape, RDFS.label, Literal(result.shape_label)))
    return graph


def read_results(
    triples: Iterable[tuple[Identifier, Identifier, Identifier]],
) -> list[ValidationResult]:
    """The results in ``triples`` (as :func:`results_graph` writes them)."""
    about: dict[Identifier, dict[Identifier, list[Identifier]]] = {}
    for s, p, o in triples:
        about.setdefault(s, {}).setdefault(p, []).append(o)

    def one(node: Identifier | None, predicate: URIRef) -> Identifier | None:
        found = about.get(node, {}).get(predicate) if node is not None else None
        return found[0] if found else None

    def text(node: Identifier, predicate: URIRef) -> str | None:
        value = one(node, predicate)
        return None if value is None else str(value)

    def closure(start: Identifier) -> Iterator[tuple[Identifier, Identifier, Identifier]]:
        stack, seen = [start], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for p, objects in about.get(current, {}).items():
                for o in objects:
                    yield current, p, o
                    if isinstance(o, BNode):
                        stack.append(o)

    results = []
    for node, props in about.items():
        if SH.ValidationResult not in props.get(RDF.type, ()):
            continue
        focus, shape = one(node, SH.focusNode), one(node, SH.sourceShape)
        if focus is None or shape is None:
            continue  # not a result cmckg wrote
        path = one(node, SH.resultPath)
        graph = one(node, PROV.wasDerivedFrom)
        results.append(
            ValidationResult(
                severity=Severity.from_iri(one(node, SH.resultSeverity) or SH.Violation),
                focus=focus,
                path=path,
                value=one(node, SH.value),
                shape=shape,
                shape_label=text(shape, RDFS.label) or "",
                constraint=one(node, SH.sourceConstraintComponent),
                message=text(node, SH.resultMessage) or "",
                source=Source(
                    graph if isinstance(graph, URIRef) else None,
                    text(node, CMC.recordId),
                    text(node, CMC.sourcePath),
                    text(node, CMC.sourceLocation),
                ),
                path_triples=tuple(closure(path)) if isinstance(path, BNode) else (),
            )
        )
    return results


def _path_text(graph: Graph, path: Identifier) -> str:
    if isinstance(path, URIRef):
        return graph.namespace_manager.normalizeUri(path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path_text(graph, inverse)
    for predicate, suffix in (
        (SH.zeroOrMorePath, "*"),
        (SH.oneOrMorePath, "+"),
        (SH.zeroOrOnePath, "?"),
    ):
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
