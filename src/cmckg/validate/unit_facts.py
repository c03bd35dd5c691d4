"""QUDT facts about units (symbol, conversion, quantity kinds) from :mod:`cmckg.units`, for the
SHACL-SPARQL rules that compare or convert units."""

from __future__ import annotations

from functools import cache
from typing import Any

from rdflib import URIRef

from ..errors import MappingError
from ..units import UnitTable, unit_table
from ..vocab import QUANTITYKIND


def unit_facts(unit: URIRef) -> dict[str, Any]:
    """QUDT facts for a unit from cmckg.units: symbol, multiplier (and the exact, positive
    ``exact_multiplier`` as a Decimal), offset, kinds (with broader kinds). Empty for a unit
    the table does not know, or that is not its current IRI. Kept per unit table: the project
    vocabularies in scope add units."""
    return _facts(unit_table(), unit)


@cache
def _facts(table: UnitTable, unit: URIRef) -> dict[str, Any]:
    try:
        key = table.lookup(str(unit))
    except MappingError:
        key = None
    if key is None:
        return {}
    info = table.info(key)
    if info.iri != unit:  # a legacy or alias IRI: not a current unit IRI
        return {}
    exact = table.multiplier(key)
    return {
        "symbol": info.symbol,
        "exact_multiplier": exact if exact is None or exact > 0 else None,
        "multiplier": info.multiplier,
        "offset": info.offset,
        "kinds": info.quantity_kinds | {QUANTITYKIND[k] for k in table.kind_closure(key)},
    }


def known_units() -> tuple[URIRef, ...]:
    """The current IRI of every unit of the unit table in force, sorted."""
    return _known(unit_table())


@cache
def _known(table: UnitTable) -> tuple[URIRef, ...]:
    return tuple(sorted({table.info(key).iri for key in table}))
