"""The one contract every mapper keeps: ``map(source, config) -> Iterator[RecordGraph]``.

Mappers are pure: they read the source and return triples; they never touch a store.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier

from ..errors import ConfigError
from ..ntriples import KeepsLines, triple_lines
from ..vocab import CMC, IriMinter, TermIndex, bind_prefixes, term_index


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


Triple = tuple[Identifier, Identifier, Identifier]


class RecordTriples(KeepsLines):
    """The triples of one record: a plain set with the small part of rdflib's Graph API that
    mappers use (``add``, iteration, ``len``, ``in``, ``triples``, ``value``, ``objects``).

    Record graphs are built once and written once, so an indexed rdflib Graph (about 70k adds/s)
    would dominate ingest time; ``to_graph()`` gives a real Graph when one is needed.
    """

    __slots__ = ("_lines", "_triples")

    def __init__(self, triples: Iterable[Triple] = ()) -> None:
        self._triples: set[Triple] = set()
        self._lines: list[str] | None = None
        for triple in triples:
            self.add(triple)

    def add(self, triple: Triple) -> RecordTriples:
        s, p, o = triple
        if s is None or p is None or o is None:
            raise ValueError(f"incomplete triple {triple!r}")
        if type(s) is BNode or type(o) is BNode:
            raise ValueError(f"record graphs hold no blank nodes (mint an IRI): {triple!r}")
        self._triples.add(triple)
        self._lines = None
        return self

    def remove(self, triple: Triple) -> None:
        self._triples.discard(triple)
        self._lines = None

    def nt_lines(self) -> list[str]:
        """The triples as sorted N-Triples lines without the closing `` .`` (made once, kept
        until the next change): what ingest hashes and the embedded store loads. Read-only."""
        if self._lines is None:
            lines = triple_lines(self._triples)
            lines.sort()
            self._lines = lines
        return self._lines

    def __iter__(self) -> Iterator[Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def __contains__(self, triple: object) -> bool:
        return triple in self._triples

    def __iadd__(self, other: Iterable[Triple]) -> RecordTriples:
        for triple in other:
            self.add(triple)
        return self

    def triples(self, pattern: tuple) -> Iterator[Triple]:
        ps, pp, po = pattern
        for s, p, o in self._triples:
            if (ps is None or ps == s) and (pp is None or pp == p) and (po is None or po == o):
                yield s, p, o

    def objects(
        self, subject: Identifier | None = None, predicate: Identifier | None = None
    ) -> Iterator[Identifier]:
        return (o for _, _, o in self.triples((subject, predicate, None)))

    def subjects(
        self, predicate: Identifier | None = None, obj: Identifier | None = None
    ) -> Iterator[Identifier]:
        return (s for s, _, _ in self.triples((None, predicate, obj)))

    def value(
        self,
        subject: Identifier | None = None,
        predicate: Identifier | None = None,
        obj: Identifier | None = None,
    ) -> Identifier | None:
        for s, p, o in self.triples((subject, predicate, obj)):
            return o if obj is None else (s if subject is None else p)
        return None

    def to_graph(self) -> Graph:
        graph = bind_prefixes(Graph())
        for triple in self._triples:
            graph.add(triple)
        return graph

    def serialize(self, *args: Any, **kwargs: Any) -> Any:
        return self.to_graph().serialize(*args, **kwargs)


_SOURCE_LOCATION = CMC.sourceLocation


@lru_cache(maxsize=1 << 14)
def _location_literal(location: str) -> Literal:
    """Many subjects share a location (a table row): make its literal once."""
    return Literal(location)


@lru_cache(maxsize=1 << 16, typed=True)
def text_literal(text: str) -> Literal:
    """``Literal(text)``, made once per distinct text: rows repeat identifiers, labels and
    methods, and rdflib's constructor costs more than the rest of a triple."""
    return Literal(text)


@lru_cache(maxsize=1 << 16)
def typed_literal(text: str, datatype: URIRef) -> Literal:
    """``Literal(text, datatype=datatype)``, made once per distinct pair (dates repeat)."""
    return Literal(text, datatype=datatype)


def number_literal(value: float) -> Literal:
    """``Literal(value)`` of a float (an ``xsd:double``), made once per distinct value."""
    return _double(value) if value else Literal(value)  # 0.0 == -0.0: those are not kept


@lru_cache(maxsize=1 << 16, typed=True)  # typed: 1, 1.0 and True are different literals
def _double(value: float) -> Literal:
    return Literal(value)


@dataclass
class RecordGraph:
    """One source record as RDF: its graph IRI, its triples, and where each subject came from."""

    graph_iri: URIRef
    record_id: str
    source_path: str
    triples: RecordTriples = field(default_factory=RecordTriples)
    locations: dict[URIRef, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: the mapping the record was made with (a table mapping's file name), when one names the
    #: record: only a record of the same mapping may replace it (ingest refuses another's)
    origin: str | None = None

    def locate(self, subject: URIRef, location: str) -> None:
        """Record where ``subject`` came from (first location wins) and state it as a triple."""
        if subject not in self.locations:
            self.locations[subject] = location
            self.triples.add((subject, _SOURCE_LOCATION, _location_literal(location)))

    def __post_init__(self) -> None:
        if not isinstance(self.triples, RecordTriples):
            self.triples = RecordTriples(self.triples)


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


class MappedFormat(ABC):
    """A format read only through a mapping file, never detected from content (tables,
    workbooks, certificates). Subclasses read the records (``records``); this class refuses a
    source given without a mapping and marks every record with the mapping that made it: only a
    record of the same mapping may replace it (ingest refuses another's)."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    noun: ClassVar[str]  # what the source is, for the error without a mapping: "a table"

    def detect(self, path: Path, head: bytes) -> bool:
        """Never guessed: without a mapping there is nothing to map the source with."""
        return False

    def map(self, context: MapContext, config: Mapping[str, Any] | None) -> Iterator[RecordGraph]:
        if config is None:
            raise ConfigError(f"{self.noun} needs a mapping (--mapping FILE)", context.display_path)
        records = self.records(context, config, term_index())
        origin = Path(str(config.get("__file__", "mapping"))).name
        for record in records:
            record.origin = origin
        return iter(records)

    @abstractmethod
    def records(
        self, context: MapContext, config: Mapping[str, Any], terms: TermIndex
    ) -> list[RecordGraph]:
        """The records ``config`` (a checked mapping) finds in the source."""
