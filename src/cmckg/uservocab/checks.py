"""The rules a project vocabulary must keep before it is used (schemes, quantity kinds, units,
broader concepts, no label that already names another concept)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from ..errors import ConfigError, MappingError
from ..units import UnitTable, bundled_unit_table, units_declared_in
from ..vocab import (
    CMC,
    CMCT,
    QUANTITYKIND,
    QUDT,
    TermIndex,
    bundled_term_index,
)
from .reading import scheme_names, schemes

if TYPE_CHECKING:
    from . import Vocabulary

_ATTRIBUTE_SCHEMES = frozenset({CMCT.QualityAttributes, CMCT.ProcessParameters})


class Checker:
    """The rules a vocabulary must keep before it is used: known schemes, quantity kinds, units
    and broader concepts; no label or alias that already names another concept."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        fields: Mapping[tuple[URIRef, str], int],
        others: Sequence[Vocabulary],
    ) -> None:
        self.vocabulary = vocabulary
        self.fields = fields
        graph = Graph()
        graph += bundled_term_index().graph
        for other in others:
            graph += other.graph
        self.known = TermIndex(graph)
        self.others = others

    def fail(self, subject: URIRef, message: str, key: str) -> ConfigError:
        line = self.fields.get((subject, key)) or self.vocabulary.lines.get(subject)
        return ConfigError(message, self.vocabulary.source, f"line {line}" if line else None, key)

    def check(self) -> None:
        table = self.units()
        g = self.vocabulary.graph
        mine = TermIndex(g)
        for concept in sorted(mine.terms(), key=lambda t: self.vocabulary.lines.get(t.iri, 0)):
            self.concept(concept.iri, table, mine)

    def units(self) -> UnitTable:
        """Resolve conversion units written as text, then build the unit table with these
        units (a symbol clash or an impossible conversion is an error on its unit)."""
        g = self.vocabulary.graph
        table = bundled_unit_table().extended(
            [u for o in self.others for u in units_declared_in(o.graph)]
        )
        for unit in sorted(
            {u for u in g.subjects(RDF.type, QUDT.Unit) if isinstance(u, URIRef)}, key=str
        ):
            kind = g.value(unit, QUDT.hasQuantityKind)
            if kind is None:
                raise self.fail(
                    unit,
                    f"unit '{g.value(unit, QUDT.symbol)}' has no quantity kind",
                    "quantity_kind",
                )
            self.quantity_kind(unit, kind)
            target = g.value(unit, CMC.conversionUnit)
            if isinstance(target, Literal):
                key = table.lookup(str(target))
                if key is None:
                    raise self.fail(unit, f"unknown unit '{target}' to convert to", "conversion")
                g.set((unit, CMC.conversionUnit, table.info(key).iri))
        try:
            return table.extended(units_declared_in(g))
        except MappingError as exc:
            symbol = re.search(r"'([^']*)'", exc.message)
            units = (
                [
                    u
                    for u in g.subjects(QUDT.symbol, Literal(symbol.group(1)))
                    if isinstance(u, URIRef)
                ]
                if symbol
                else []
            )
            raise (
                self.fail(units[0], exc.message, exc.field or "symbol")
                if units
                else ConfigError(exc.message, self.vocabulary.source)
            ) from exc

    def quantity_kind(self, subject: URIRef, kind: Any) -> None:
        name = str(kind).removeprefix(str(QUANTITYKIND))
        kinds = bundled_unit_table().data["quantity_kinds"]
        if name not in kinds:
            near = difflib.get_close_matches(name, list(kinds), n=3)
            hint = f"; nearest QUDT kinds: {', '.join(near)}" if near else ""
            raise self.fail(subject, f"unknown quantity kind '{name}'{hint}", "quantity_kind")

    def concept(self, iri: URIRef, table: UnitTable, mine: TermIndex) -> None:
        g = self.vocabulary.graph
        label = str(g.value(iri, SKOS.prefLabel) or "")
        if not label:
            raise self.fail(iri, f"concept {iri} has no skos:prefLabel", "label")
        if g.value(iri, SKOS.definition) is None:
            raise self.fail(iri, f"concept '{label}' has no definition", "definition")
        scheme = g.value(iri, SKOS.inScheme)
        if scheme not in set(schemes().values()):
            raise self.fail(
                iri, f"concept '{label}' is in no known scheme; known: {scheme_names()}", "scheme"
            )
        kind = g.value(iri, QUDT.hasQuantityKind)
        unit = g.value(iri, CMC.defaultUnit)
        if unit is not None and kind is None:
            raise self.fail(
                iri,
                f"concept '{label}' has a unit but no quantity_kind (the QUDT "
                "quantity kind its values are, e.g. MassConcentration)",
                "quantity_kind",
            )
        if kind is not None:
            self.quantity_kind(iri, kind)
        if unit is not None:
            self.unit(iri, label, unit, kind, table)
        self.names(iri, label, scheme, mine)
        broader = g.value(iri, SKOS.broader)
        if broader is not None and broader not in mine:
            in_scheme = URIRef(str(scheme))
            found = (
                self.known.candidates(str(broader), in_scheme)
                if isinstance(broader, Literal)
                else ({broader} if broader in self.known else set())
            )
            if len(found) != 1:
                raise self.fail(
                    iri,
                    f"unknown broader concept '{broader}' (a label or IRI of a "
                    "concept of the same scheme)",
                    "broader",
                )
            g.set((iri, SKOS.broader, next(iter(found))))

    def unit(self, iri: URIRef, label: str, unit: Any, kind: Any, table: UnitTable) -> None:
        key = table.lookup(str(unit))
        if key is None:
            near = table.nearest(str(unit))
            hint = f"; nearest known symbols: {', '.join(near)}" if near else ""
            raise self.fail(iri, f"unknown unit '{unit}'{hint}; declare it under units:", "unit")
        name = str(kind).removeprefix(str(QUANTITYKIND))
        if not table.has_kind(key, name):
            raise self.fail(
                iri,
                f"unit '{table.info(key).symbol}' of concept '{label}' is not a {name} unit",
                "unit",
            )
        self.vocabulary.graph.set((iri, CMC.defaultUnit, table.info(key).iri))

    def names(self, iri: URIRef, label: str, scheme: Any, mine: TermIndex) -> None:
        """Every label and alias names only this concept, here and in the known terms of the
        same scheme (quality attributes and process parameters count as one)."""
        g = self.vocabulary.graph
        group = _ATTRIBUTE_SCHEMES if scheme in _ATTRIBUTE_SCHEMES else {scheme}
        line = self.vocabulary.lines.get(iri, 0)
        before = {
            t.iri
            for t in mine.terms()
            if (self.vocabulary.lines.get(t.iri, 0), str(t.iri)) < (line, str(iri))
        }
        aliases = sorted(map(str, g.objects(iri, SKOS.altLabel)))
        for name, key in [(label, "label")] + [(a, "alt_labels") for a in aliases]:
            for index, among in ((self.known, None), (mine, before)):
                clash = {c for s in group for c in index.candidates(name, s)} - {iri}
                clash = clash if among is None else clash & among
                if clash:
                    other = index.get(next(iter(sorted(clash))))
                    raise self.fail(
                        iri,
                        f"'{name}' of concept '{label}' already names "
                        f"'{other.label}' ({other.iri})",
                        key,
                    )
