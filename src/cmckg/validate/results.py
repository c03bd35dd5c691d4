"""The result model of a validation run: severities, results with their source trace, reports.

Report writers (``cmckg.reports``) import only this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, SH
from rdflib.term import Identifier

from ..errors import ConfigError
from ..vocab import CMC, bind_prefixes

__all__ = ["RecordInfo", "Severity", "Source", "ValidationReport", "ValidationResult"]


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

