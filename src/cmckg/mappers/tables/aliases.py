"""Local names a table gives canonical concepts — a material's own code or label for its
material type, a wide column's name for its property, a mapping's ``terms:`` name as a cell
says it — each one ``cmc:LocalTerm`` (``cmc:aliasOf`` the concept), kept in one record per file
and mapping so that questions can be asked in the source's own words."""

from __future__ import annotations

from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from ...vocab import CMC, IriMinter, normalise_label
from ..base import RecordGraph


class LocalTerms:
    """The aliases one table's rows name, collected as they are met."""

    def __init__(self, minter: IriMinter, issuer: str) -> None:
        self.minter = minter
        self.issuer = issuer
        # (normalised local name, concept) → (the name as first written, where it was seen)
        self.found: dict[tuple[str, URIRef], tuple[str, str]] = {}
        self._iris: dict[tuple[str, URIRef], URIRef] = {}

    def alias(self, name: str, concept: URIRef, where: str) -> URIRef:
        """The IRI of a local name's alias node (spellings differing only in case are one)."""
        iri = self._iris.get((name, concept))
        if iri is None:
            kept, _ = self.found.setdefault((normalise_label(name), concept), (name, where))
            iri = self._iris[(name, concept)] = self.minter.mint("term", self.issuer, kept)
        return iri

    def record(self, file: str, source_scope: str, mapping_file: str) -> RecordGraph | None:
        """The record of every alias found (None without any): per file (``source_scope``)
        and mapping, so two mappings of one file keep their own aliases."""
        if not self.found:
            return None
        mapping_name = Path(mapping_file).name
        graph_iri = self.minter.mint(
            "graph", self.issuer, "local-terms", source_scope, mapping_name
        )
        record = RecordGraph(graph_iri, f"local-terms/{source_scope}/{mapping_name}", file)
        for (_, concept), (name, where) in self.found.items():
            iri = self.minter.mint("term", self.issuer, name)
            record.locate(iri, where)
            add = record.triples.add
            add((iri, RDF.type, CMC.LocalTerm))
            add((iri, CMC.localName, Literal(name)))
            add((iri, CMC.issuer, Literal(self.issuer)))
            add((iri, CMC.aliasOf, concept))
        return record
