"""JSON-LD with cmckg's published compact ``@context`` (``ontology/context.jsonld``), for the
store export and the batch dossier alike."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from rdflib import RDF, XSD, Dataset, Literal, URIRef
from rdflib.namespace import PROV
from rdflib.term import Node

from ..resources import resource_dir
from ..vocab import CMC, QUDT, bind_prefixes

if TYPE_CHECKING:
    from ..dossier import Dossier, Source

#: Where the context is published (the file ships in the package as ontology/context.jsonld).
CONTEXT_IRI = "https://w3id.org/cmckg/context.jsonld"
_RELATIONS = {
    "prov:wasDerivedFrom": PROV.wasDerivedFrom,
    "prov:wasGeneratedBy": PROV.wasGeneratedBy,
    "prov:used": PROV.used,
    "cmc:sampleOf": CMC.sampleOf,
}


@cache
def context() -> dict[str, Any]:
    """The compact ``@context`` object (prefixes and short property names)."""
    path = resource_dir("ontology") / "context.jsonld"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["@context"]
    return loaded


def serialize(dataset: Dataset) -> bytes:
    """A dataset as JSON-LD compacted with the cmckg context (named graphs kept)."""
    return dataset.serialize(format="json-ld", context=context(), encoding="utf-8")


def dossier_dataset(dossier: Dossier) -> Dataset:
    """The dossier as RDF: each fact in the named graph of the record that states it (with the
    node's place in that record), the metadata graph describing those records (file and
    revision), and in the default graph the lineage edges and each result's verdict."""
    dataset = Dataset()
    bind_prefixes(dataset)
    default = dataset.default_graph.identifier
    described: dict[str, Source] = {}

    def add(s: Node, p: Node, o: Node, g: Node) -> None:
        dataset.add((s, p, o, g))  # type: ignore[arg-type]  # rdflib's stubs type add as triples

    def state(subject: URIRef, prop: URIRef, value: Node, sources: list[Source]) -> None:
        graphs: list[Source | None] = [s for s in sources if s.graph] or [None]
        for source in graphs:
            graph = URIRef(source.graph) if source else default
            add(subject, prop, value, graph)
            if source is not None:
                described.setdefault(source.graph, source)
                if source.location:
                    add(subject, CMC.sourceLocation, Literal(source.location), graph)

    for node in dossier.nodes.values():
        subject = URIRef(node.iri)
        for cls in sorted(node.classes):
            add(subject, RDF.type, URIRef(cls), default)
        for fact in node.facts:
            if fact.term is not None:
                state(subject, URIRef(fact.property), fact.term, fact.sources)
    for edge in dossier.lineage.edges.to_dict("records"):
        add(URIRef(edge["from"]), _RELATIONS[edge["relation"]], URIRef(edge["to"]), default)
    for result in dossier.results:
        m = URIRef(result.measurement)
        add(m, RDF.type, CMC.Measurement, default)
        state(m, CMC.onEntity, URIRef(result.entity), result.sources)
        for key, prop in (
            ("property", CMC.measuredProperty),
            ("value", QUDT.numericValue),
            ("text", CMC.textValue),
            ("unit", QUDT.unit),
            ("stage", CMC.stage),
            ("time", CMC.resultTime),
            ("method", CMC.method),
        ):
            if key in result.terms:
                state(m, prop, result.terms[key], result.sources)
        if result.limit is not None:
            spec = URIRef(result.limit.iri)
            add(m, CMC.judgedAgainst, spec, default)
            if result.verdict in ("pass", "fail"):
                add(m, CMC.withinSpecification, Literal(result.verdict == "pass"), default)
            add(spec, RDF.type, CMC.Specification, default)
            for prop, limit in (
                (CMC.lowerLimit, result.limit.lower),
                (CMC.upperLimit, result.limit.upper),
            ):
                if limit is not None:
                    state(
                        spec, prop, Literal(limit, datatype=XSD.double), list(result.limit.sources)
                    )
            if result.limit.identifier:
                state(
                    spec,
                    CMC.identifier,
                    Literal(result.limit.identifier),
                    list(result.limit.sources),
                )
    meta = URIRef(dossier.metadata_graph)
    for graph, source in sorted(described.items()):
        g = URIRef(graph)
        add(g, RDF.type, CMC.RecordGraph, meta)
        for prop, value in (
            (CMC.sourcePath, source.path),
            (CMC.contentSha256, source.sha256),
            (CMC.recordId, source.record),
        ):
            if value:
                add(g, prop, Literal(value), meta)
    return dataset


def dossier_jsonld(dossier: Dossier) -> str:
    """The dossier as compact JSON-LD (see ``dossier_dataset``)."""
    return serialize(dossier_dataset(dossier)).decode("utf-8")
