"""The one contract every mapper keeps: ``map(source, config) -> Iterator[RecordGraph]``.

Mappers are pure: they read the source and return triples; they never touch a store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from rdflib import BNode, Graph, Literal, URIRef

from ..vocab import CMC, IriMinter, bind_prefixes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class RecordGraph:
    """One source record as RDF: its graph IRI, its triples, and where each subject came from."""

    graph_iri: URIRef
    record_id: str
    source_path: str
    triples: Graph = field(default_factory=lambda: bind_prefixes(Graph()))
    locations: dict[URIRef, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def locate(self, subject: URIRef, location: str) -> None:
        """Record where ``subject`` came from (first location wins) and state it as a triple."""
        if subject not in self.locations:
            self.locations[subject] = location
            self.triples.add((subject, CMC.sourceLocation, Literal(location)))

    def check_no_blank_nodes(self) -> None:
        for triple in self.triples:
            if any(isinstance(term, BNode) for term in triple):
                raise ValueError(f"record graph {self.graph_iri} contains a blank node: {triple}")


@dataclass(frozen=True)
class MapContext:
    """What a mapper needs besides the source: where IRIs are minted and the file's identity."""

    minter: IriMinter
    source_path: Path
    source_sha256: str

    @property
    def display_path(self) -> str:
        return str(self.source_path)


@runtime_checkable
class Mapper(Protocol):
    """A source format. ``detect`` sniffs content; ``map`` yields one RecordGraph per record."""

    name: ClassVar[str]
    version: ClassVar[str]

    def detect(self, path: Path, head: bytes) -> bool: ...

    def map(
        self, context: MapContext, config: Mapping[str, Any] | None
    ) -> Iterator[RecordGraph]: ...
