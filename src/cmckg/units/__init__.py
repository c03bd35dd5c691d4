"""Units: any unit spelling → one current QUDT unit IRI, and conversion through QUDT factors.

``resolve_unit`` accepts a unit symbol as sources write it (``mg/mL``, ``µm`` or ``μm``,
``degC``, ``10^6 cells/mL``, ``mosm/kg``), a UCUM code (``mg.mL-1``, ``Cel``, ``10*6/mL``,
``[pH]``), a current QUDT IRI (``http://qudt.org/vocab/unit/MilliGM-PER-MilliL``), a deprecated
QUDT IRI (mapped to its ``dcterms:isReplacedBy``), a QUDT-1 IRI as ASM writes it
(``http://qudt.org/vocab/unit#Micrometer``) or an Allotrope extension IRI
(``http://purl.allotrope.org/ontology/qudt-ext/unit#MillionCellsPerMilliliter``).

Everything comes from one table, ``cmckg/data/qudt_units.json``, derived from the vendored QUDT
vocabularies (QUDT.org, CC BY 4.0) by ``ontology/tools/derive_unit_table.py``: symbols, UCUM
codes, conversion multipliers and offsets, dimension vectors and quantity kinds. No conversion
factor is typed by hand. A spelling that is not in the table verbatim is matched by its
factorised form (``mg/mL`` = ``mg.mL-1``, ``mm^3`` = ``mm3`` = ``mm³``, ``ug`` = ``µg`` = ``μg``,
``cells``/``counts``/``{#}`` = ``#``, ``ml`` = ``mL``; the parser is ``units.expressions``).

Units QUDT lacks get an IRI in the cmckg ontology namespace, ``cmc:unit-…``
(``https://w3id.org/cmckg/ontology#unit-…``), defined in the derivation script as a product of
QUDT units, so they convert through QUDT factors too:

- absorbance ``AU`` (``cmc:unit-AU``; this overrides QUDT's astronomical unit, whose symbol is
  also ``AU``: in CMC records AU means absorbance), ``mAU`` (``cmc:unit-MilliAU``), ``mAU·s``,
  ``mAU·min``, ``mAU·mL``;
- arbitrary instrument units ``RFU``, ``RLU`` (and ``·s``, ``·mL``), endotoxin units ``EU``
  (``EU/mL``, ``EU/mg``), colony-forming units ``CFU`` (``CFU/mL``, ``CFU/g``, ``CFU/100 mL``),
  column volumes ``CV`` (``CV/h``): each has a base dimension of its own, so it converts only
  within its family (``mAU·s`` → ``mAU·min``), never to a QUDT unit;
- ``10^6 cells/mL`` (``cmc:unit-MegaNUM-PER-MilliL``, exactly 10⁶ × QUDT ``NUM-PER-MilliL``;
  QUDT's ``NUM-PER-NanoL`` has the same size, but a cell density is not written ``#/nL``),
  ``10^6 cells``, ``kDa``, ``U/mL``, ``U/mg``, ``m°`` (millidegree), ``μL/min``, ``g/(L·d)``,
  ``pg/(cell·d)``, ``cm²/mol`` and the ASM peak-area products ``#·s``, ``S/m·s``, ``mV·s``,
  ``nC·s``, ``pA·s``. Those defined beside a QUDT unit of the same dimension carry its quantity
  kinds (``10^6 cells/mL`` → ``NumberDensity``, ``kDa`` → ``MolecularMass``) and so convert to
  QUDT units; the others have none and convert only to units without quantity kinds.

Counts map to QUDT ``NUM`` (``#``, ``cell``, ``Counts``), ``(unitless)`` to ``UNITLESS``, ``M``
to ``MOL-PER-L``, ``rpm`` to ``REV-PER-MIN``, ``% w/w``, ``% v/v`` and ``% area`` to ``PERCENT``
(``% w/v`` is a mass concentration and stays unknown unless a mapping says what it means).

Two units convert only when their dimension vectors are equal and they share a quantity kind
(or a broader one, per the QUDT quantity-kind hierarchy, which the derivation extends so that
mass, mole and volume ratios and fractions are dimensionless ratios: ppm ↔ ng/mg ↔ %), or both
have none. So ``#`` does not convert to ``%``, nor ``rpm`` to ``Hz`` (QUDT: rev/min is 2π/60
rad/s). QUDT units without a conversion multiplier (pH, IU, mOsmol/kg) convert only to
themselves.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from ..errors import MappingError
from ..vocab import (
    CMC,
    QUANTITYKIND,
    QUDT,
    UNIT,
    active_vocabularies,
    bundled_term_index,
)
from .expressions import (
    ExpressionKey,
    normalise_text,
    parse_unit_expression,
    unit_expression_key,
)

__all__ = [
    "ALLOTROPE_UNIT_NS",
    "LEGACY_QUDT_UNIT_NS",
    "TABLE_PATH",
    "Unit",
    "UnitDeclaration",
    "UnitTable",
    "convert",
    "fold_label",
    "parse_unit_expression",
    "quantity_kinds",
    "resolve_unit",
    "same_dimension",
    "symbol",
    "unit_expression_key",
    "unit_info",
    "unit_table",
    "units_declared_in",
]

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "qudt_units.json"
LEGACY_QUDT_UNIT_NS = "http://qudt.org/vocab/unit#"
ALLOTROPE_UNIT_NS = "http://purl.allotrope.org/ontology/qudt-ext/unit#"
_QUDT_NS = str(UNIT)
_CMC_NS = str(CMC)
_CMC_UNIT_PREFIX = "unit-"


@dataclass(frozen=True)
class Unit:
    """One unit of the table: display symbol, label, QUDT factors and kinds."""

    iri: URIRef
    symbol: str
    label: str
    multiplier: float | None  # to the SI coherent unit; None when QUDT gives none
    offset: float  # QUDT conversionOffset: SI value = (value + offset) * multiplier
    dimension: str  # QUDT dimension vector, plus "+X1" for a cmckg base dimension X
    quantity_kinds: frozenset[URIRef]


@dataclass(frozen=True)
class UnitDeclaration:
    """A unit a vocabulary declares (``ontology/terms/units.ttl`` or a project vocabulary):
    a value in it is ``value × multiplier + offset`` in ``conversion_unit``; without a
    conversion unit it is a unit of its own, never converted."""

    iri: URIRef
    symbol: str
    label: str
    quantity_kind: URIRef | None
    conversion_unit: URIRef | None = None
    multiplier: float = 1.0
    offset: float = 0.0


def units_declared_in(graph: Graph) -> list[UnitDeclaration]:
    """The ``qudt:Unit``s a vocabulary graph declares with a ``qudt:symbol``, sorted by IRI."""
    found = []
    for iri in sorted({u for u in graph.subjects(RDF.type, QUDT.Unit) if isinstance(u, URIRef)}):
        symbol_ = graph.value(iri, QUDT.symbol)
        if symbol_ is None:
            continue
        label = graph.value(iri, RDFS.label)
        multiplier = graph.value(iri, CMC.conversionMultiplier)
        offset = graph.value(iri, CMC.conversionOffset)
        kind = graph.value(iri, QUDT.hasQuantityKind)
        target = graph.value(iri, CMC.conversionUnit)
        found.append(
            UnitDeclaration(
                iri=iri,
                symbol=str(symbol_),
                label=str(label) if label is not None else str(symbol_),
                quantity_kind=kind if isinstance(kind, URIRef) else None,
                conversion_unit=target if isinstance(target, URIRef) else None,
                multiplier=float(multiplier.toPython()) if isinstance(multiplier, Literal) else 1.0,
                offset=float(offset.toPython()) if isinstance(offset, Literal) else 0.0,
            )
        )
    return found


# --- the table -----------------------------------------------------------------------------


def _iri(key: str) -> URIRef:
    if key.startswith(("http://", "https://")):  # a project vocabulary's unit
        return URIRef(key)
    return URIRef((_CMC_NS if key.startswith(_CMC_UNIT_PREFIX) else _QUDT_NS) + key)


def _key(iri: str) -> str | None:
    if iri.startswith(_QUDT_NS):
        return iri[len(_QUDT_NS) :]
    if iri.startswith(_CMC_NS + _CMC_UNIT_PREFIX):
        return iri[len(_CMC_NS) :]
    return None


def fold_label(text: str) -> str:
    """Fold a label or QUDT-1 name: 'Millimeter of Mercury' ~ 'MillimeterOfMercury'."""
    return re.sub(r"[^0-9a-z]", "", text.casefold())


class UnitTable:
    """Lookups over the derived unit table (a dict as stored in ``qudt_units.json``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self._units: dict[str, list[Any]] = data["units"]
        self._aliases: dict[str, str] = data["aliases"]
        self._iris: dict[str, str] = data["iris"]
        self._labels: dict[str, str] = data["labels"]
        self._kinds: dict[str, list[Any]] = data["quantity_kinds"]
        self._by_expression: dict[ExpressionKey, str] | None = None
        self._info: dict[str, Unit] = {}
        self._kind_closure: dict[str, frozenset[str]] = {}
        self._spellings: list[str] | None = None
        self._found: dict[str, tuple[str, URIRef] | None] = {}
        self._conversions: dict[tuple[str, str], tuple[float, float, float]] = {}

    # lookups -----------------------------------------------------------------------------
    def lookup(self, text: str) -> str | None:
        """The table key of the unit ``text`` names, or None."""
        if text in self._aliases:
            return self._aliases[text]
        stripped = text.strip()
        if stripped.startswith(("http://", "https://")):
            return self._lookup_iri(stripped)
        normal = normalise_text(stripped)
        for candidate in (stripped, normal):
            if candidate in self._aliases:
                return self._aliases[candidate]
        key = unit_expression_key(normal)
        return None if key is None else self.by_expression.get(key)

    def _lookup_iri(self, iri: str) -> str | None:
        if iri in self._iris:
            return self._iris[iri]
        key = _key(iri)
        if key is not None and key in self._units:
            return key
        if iri.startswith(LEGACY_QUDT_UNIT_NS):
            return self._labels.get(fold_label(iri[len(LEGACY_QUDT_UNIT_NS) :]))
        return None

    @property
    def by_expression(self) -> dict[ExpressionKey, str]:
        """Factorised spelling → unit key, built once from the aliases in priority order."""
        if self._by_expression is None:
            index: dict[ExpressionKey, str] = {}
            for text, key in self._aliases.items():
                expression = unit_expression_key(text)
                if expression is not None:
                    index.setdefault(expression, key)
            self._by_expression = index
        return self._by_expression

    def nearest(self, text: str, n: int = 5) -> list[str]:
        """Known spellings closest to ``text`` (for error messages)."""
        if self._spellings is None:  # display symbols and aliases, not bare QUDT local names
            spellings = {row[0] for row in self._units.values()}
            spellings |= {text for text in self._aliases if text not in self._units}
            self._spellings = sorted(spellings)
        return difflib.get_close_matches(normalise_text(text), self._spellings, n=n, cutoff=0.5)

    def extended(self, declarations: list[UnitDeclaration]) -> UnitTable:
        """A new table that also holds ``declarations``; MappingError for a symbol another
        unit already has, or a conversion unit that is unknown or cannot carry the kind."""
        data = dict(self.data)
        for name in ("units", "aliases", "iris"):
            data[name] = dict(self.data[name])
        table = UnitTable(data)
        for unit in declarations:
            table._declare(unit)
        return table

    def _declare(self, unit: UnitDeclaration) -> None:
        key = _key(str(unit.iri)) or str(unit.iri)
        known = self.lookup(unit.symbol)
        if known is not None and known != key:
            raise MappingError(
                f"unit symbol '{unit.symbol}' is already {_iri(known)}", field="symbol"
            )
        kinds = (
            [str(unit.quantity_kind).removeprefix(str(QUANTITYKIND))]
            if unit.quantity_kind is not None
            else []
        )
        if unit.conversion_unit is None:
            row = [unit.symbol, unit.label, "1", None, f"A0E0L0I0M0H0T0D1+{unit.symbol}1", kinds]
        else:
            target = self.lookup(str(unit.conversion_unit))
            if target is None:
                raise MappingError(
                    f"unit '{unit.symbol}' converts to an unknown unit {unit.conversion_unit}",
                    field="conversion",
                )
            if kinds and not self.has_kind(target, kinds[0]):
                raise MappingError(
                    f"unit '{unit.symbol}' is a {kinds[0]} but {self.info(target).symbol} is not",
                    field="conversion",
                )
            base = self.multiplier(target)
            if base is None:
                raise MappingError(
                    f"unit '{unit.symbol}' converts to "
                    f"{self.info(target).symbol}, which QUDT cannot convert",
                    field="conversion",
                )
            factor = Decimal(repr(unit.multiplier))
            offset = (Decimal(repr(unit.offset)) + Decimal(repr(self.info(target).offset))) / factor
            kinds = list(dict.fromkeys([*kinds, *self._units[target][5]]))
            row = [
                unit.symbol,
                unit.label,
                str(factor * base),
                str(offset) if offset else None,
                self._units[target][4],
                kinds,
            ]
        self._units[key] = row
        self._aliases[unit.symbol] = key
        self._aliases.setdefault(key, key)
        self._iris[str(unit.iri)] = key
        expression = unit_expression_key(unit.symbol)
        if self._by_expression is not None and expression is not None:
            self._by_expression.setdefault(expression, key)
        self._spellings = None
        self._found.clear()

    def has_kind(self, key: str, kind: str) -> bool:
        """Whether unit ``key`` can carry quantity kind ``kind`` (a QUDT local name): one of
        its kinds or their broader kinds, or a kind of the same QUDT dimension vector (QUDT
        gives ``g/L`` MassDensity, not MassConcentration)."""
        if kind in self.kind_closure(key):
            return True
        found = self._kinds.get(kind)
        return found is not None and found[1] == self._units[key][4]

    # unit facts --------------------------------------------------------------------------
    def multiplier(self, key: str) -> Decimal | None:
        """The exact QUDT conversion multiplier (None when QUDT gives none)."""
        text = self._units[key][2]
        return None if text is None else Decimal(text)

    def __contains__(self, key: object) -> bool:
        return key in self._units

    def __iter__(self) -> Iterator[str]:
        return iter(self._units)

    def info(self, key: str) -> Unit:
        found = self._info.get(key)
        if found is None:
            symbol_, label, multiplier, offset, dimension, kinds = self._units[key]
            found = Unit(
                iri=_iri(key),
                symbol=symbol_,
                label=label,
                multiplier=None if multiplier is None else float(multiplier),
                offset=float(offset) if offset else 0.0,
                dimension=dimension,
                quantity_kinds=frozenset(QUANTITYKIND[k] for k in kinds),
            )
            self._info[key] = found
        return found

    def kind_closure(self, key: str) -> frozenset[str]:
        """The unit's quantity kinds with every broader kind (QUDT specializationOf/broader)."""
        found = self._kind_closure.get(key)
        if found is None:
            seen: set[str] = set()
            stack = list(self._units[key][5])
            while stack:
                kind = stack.pop()
                if kind not in seen:
                    seen.add(kind)
                    stack.extend(self._kinds.get(kind, ("", "", []))[2])
            found = frozenset(seen)
            self._kind_closure[key] = found
        return found


@cache
def bundled_unit_table() -> UnitTable:
    """The shipped unit table plus the units the bundled term files declare (``RU``), loaded
    once per process."""
    with open(TABLE_PATH, encoding="utf-8") as handle:
        table = UnitTable(json.load(handle))
    return table.extended(units_declared_in(bundled_term_index().graph))


_EXTENDED: dict[tuple[str, ...], UnitTable] = {}


def unit_table() -> UnitTable:
    """The unit table: the shipped one plus the units of the project vocabularies in scope
    (``cmckg.vocab.vocabulary_scope``)."""
    active = active_vocabularies()
    if not active:
        return bundled_unit_table()
    key = tuple(v.digest for v in active)
    table = _EXTENDED.get(key)
    if table is None:
        declared = [u for v in active for u in units_declared_in(v.graph)]
        if len(_EXTENDED) >= 16:
            _EXTENDED.clear()
        table = _EXTENDED[key] = bundled_unit_table().extended(declared)
    return table


# --- public API ----------------------------------------------------------------------------


def _lookup(text: str) -> tuple[str, URIRef] | None:
    table = unit_table()
    try:
        return table._found[text]
    except KeyError:
        pass
    key = table.lookup(text)
    found = table._found[text] = None if key is None else (key, _iri(key))
    return found


def _unknown(
    text: object, source: str | None, location: str | None, field: str | None
) -> MappingError:
    near = unit_table().nearest(str(text)) if str(text).strip() else []
    hint = f"; nearest known symbols: {', '.join(near)}" if near else ""
    declare = (
        f"; if it is a unit of its own, declare it in a vocabulary YAML (--vocab or the "
        f"mapping's vocab:): units: [{{symbol: {json.dumps(str(text), ensure_ascii=False)}"
        ", label: <name>, quantity_kind: <QUDT kind>, conversion: null}]"
    )
    return MappingError(
        f"unknown unit '{text}'{hint}{declare if str(text).strip() else ''}",
        source,
        location,
        field,
    )


def resolve_unit(
    text: str,
    *,
    source: str | None = None,
    location: str | None = None,
    field: str | None = None,
) -> URIRef:
    """The current QUDT (or cmckg) unit IRI for a symbol, UCUM code or unit IRI.

    An unknown unit raises MappingError naming ``source``, ``location``, ``field`` and the
    nearest known symbols.
    """
    found = _lookup(text if type(text) is str else str(text))
    if found is None:
        raise _unknown(text, source, location, field)
    return found[1]


def _unit_key(unit: URIRef | str) -> str:
    found = _lookup(str(unit))
    if found is None:
        raise _unknown(unit, None, None, None)
    return found[0]


def unit_info(unit: URIRef | str) -> Unit:
    """Symbol, label, QUDT factors, dimension and quantity kinds of a unit."""
    return unit_table().info(_unit_key(unit))


def symbol(unit: URIRef | str) -> str:
    """Display symbol of a unit (QUDT ``qudt:symbol``, or the cmckg symbol)."""
    return unit_info(unit).symbol


def quantity_kinds(unit: URIRef | str) -> frozenset[URIRef]:
    """The QUDT quantity kinds a unit is declared for."""
    return unit_info(unit).quantity_kinds


def same_dimension(a: URIRef | str, b: URIRef | str) -> bool:
    """True when the two units have the same dimension vector."""
    return unit_info(a).dimension == unit_info(b).dimension


def _conversion(from_key: str, to_key: str) -> tuple[float, float, float]:
    """(ratio of multipliers, offset from, offset to) for a convertible pair, else raise."""
    table = unit_table()
    found = table._conversions.get((from_key, to_key))
    if found is None:
        found = table._conversions[(from_key, to_key)] = _ratio(table, from_key, to_key)
    return found


def _ratio(table: UnitTable, from_key: str, to_key: str) -> tuple[float, float, float]:
    a, b = table.info(from_key), table.info(to_key)
    if a.dimension != b.dimension:
        raise MappingError(
            f"cannot convert {a.symbol} to {b.symbol}: different dimensions "
            f"({a.dimension} vs {b.dimension})"
        )
    kinds_a, kinds_b = table.kind_closure(from_key), table.kind_closure(to_key)
    if (kinds_a or kinds_b) and not kinds_a & kinds_b:
        raise MappingError(f"cannot convert {a.symbol} to {b.symbol}: no common quantity kind")
    m_from, m_to = table.multiplier(from_key), table.multiplier(to_key)
    if m_from is None or m_to is None:
        raise MappingError(
            f"cannot convert {a.symbol} to {b.symbol}: QUDT gives no conversion multiplier"
        )
    return float(m_from / m_to), a.offset, b.offset


def convert(value: float, from_unit: URIRef | str, to_unit: URIRef | str) -> float:
    """Convert ``value`` through QUDT multipliers and offsets (SI = (v + offset) × multiplier).

    Raises MappingError when the units differ in dimension or share no quantity kind, or when
    QUDT gives one of them no multiplier.
    """
    from_key, to_key = _unit_key(from_unit), _unit_key(to_unit)
    if from_key == to_key:
        return value
    ratio, offset_from, offset_to = _conversion(from_key, to_key)
    if offset_from or offset_to:
        return (value + offset_from) * ratio - offset_to
    return value * ratio
