"""What resolves to what (``cmckg vocab list``): every label and alias with its concept, and
every declared unit with what it converts to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from rdflib import Graph
from rdflib.namespace import RDF, SKOS

from ..errors import ConfigError
from ..units import units_declared_in
from ..vocab import (
    CMC,
    QUANTITYKIND,
    QUDT,
    bundled_term_index,
    vocabulary_scope,
)
from .reading import scheme_named, scheme_names

if TYPE_CHECKING:
    from . import Vocabulary

CONCEPT_COLUMNS = ["name", "kind", "concept", "iri", "scheme", "unit", "quantity_kind", "source"]
UNIT_COLUMNS = [
    "symbol",
    "iri",
    "label",
    "quantity_kind",
    "converts_to",
    "multiplier",
    "offset",
    "source",
]


def _sources(vocabularies: Sequence[Vocabulary]) -> list[tuple[str, Graph]]:
    return [("bundled", bundled_term_index().graph)] + [(v.source, v.graph) for v in vocabularies]


def _short(graph: Graph, iri: Any) -> str:
    if iri is None:
        return ""
    label = graph.value(iri, SKOS.prefLabel)
    return str(label) if label is not None else str(iri)


def concept_table(vocabularies: Sequence[Vocabulary], scheme: str | None = None) -> pd.DataFrame:
    """Every label and alias that resolves, the concept it names, its scheme, unit, quantity
    kind, and where it comes from (``bundled`` or the vocabulary's file); one scheme with
    ``scheme`` (a scheme label such as ``quality attributes``)."""
    wanted = None
    if scheme is not None:
        wanted = scheme_named(scheme)
        if wanted is None:
            raise ConfigError(
                f"unknown scheme '{scheme}'; known: {scheme_names()}", field="--scheme"
            )
    from ..units import symbol as unit_symbol

    rows = []
    with vocabulary_scope(list(vocabularies)):
        everything = bundled_term_index().graph + Graph()
        for _, graph in _sources(vocabularies)[1:]:
            everything += graph
        for source, graph in _sources(vocabularies):
            for iri in sorted(set(graph.subjects(RDF.type, SKOS.Concept)), key=str):
                in_scheme = graph.value(iri, SKOS.inScheme)
                if wanted is not None and in_scheme != wanted:
                    continue
                label = str(graph.value(iri, SKOS.prefLabel) or iri)
                unit = graph.value(iri, CMC.defaultUnit)
                kind = graph.value(iri, QUDT.hasQuantityKind)
                common = {
                    "concept": label,
                    "iri": str(iri),
                    "scheme": _short(everything, in_scheme),
                    "unit": unit_symbol(str(unit)) if unit is not None else "",
                    "quantity_kind": str(kind).removeprefix(str(QUANTITYKIND)) if kind else "",
                    "source": source,
                }
                names = [(label, "label")]
                names += [(a, "alias") for a in sorted(map(str, graph.objects(iri, SKOS.altLabel)))]
                names += [
                    (n, "notation") for n in sorted(map(str, graph.objects(iri, SKOS.notation)))
                ]
                rows += [{"name": name, "kind": kind_, **common} for name, kind_ in names]
    return pd.DataFrame(rows, columns=CONCEPT_COLUMNS)


def unit_declarations_table(vocabularies: Sequence[Vocabulary]) -> pd.DataFrame:
    """The units the bundled ``units.ttl`` and ``vocabularies`` declare (QUDT's own are not
    listed), with what each converts to."""
    from ..units import symbol as unit_symbol

    rows = []
    with vocabulary_scope(list(vocabularies)):
        for source, graph in _sources(vocabularies):
            for unit in units_declared_in(graph):
                rows.append(
                    {
                        "symbol": unit.symbol,
                        "iri": str(unit.iri),
                        "label": unit.label,
                        "quantity_kind": str(unit.quantity_kind or "").removeprefix(
                            str(QUANTITYKIND)
                        ),
                        "converts_to": unit_symbol(unit.conversion_unit)
                        if unit.conversion_unit is not None
                        else "(never converted)",
                        "multiplier": unit.multiplier if unit.conversion_unit is not None else None,
                        "offset": unit.offset if unit.conversion_unit is not None else None,
                        "source": source,
                    }
                )
    return pd.DataFrame(rows, columns=UNIT_COLUMNS)
