"""Results and specifications as laboratories write them.

A reported result is a number (``"94.5"``), a censored value (``"<0.5"``, ``"≥ 100"``,
``"<LOQ"`` when the limit of quantitation is declared), a qualitative outcome (``"conforms"``,
``"complies"``, ``"does not conform"``) or no result at all (``"NT"``, ``"not tested"``).
A specification is written ``"≥ 95.0"``, ``"NLT 95.0"``, ``"NMT 2.0"``, ``"≤ 2.0"``,
``"90 – 110"``, ``"Report result"`` or ``"Conforms"``.

A censored value is never read as its limit: it keeps its qualifier, limit and text
(``cmc:resultQualifier``, ``cmc:censoringLimit``, ``cmc:reportedText``), has no
``qudt:numericValue``, and is judged against a specification by :func:`censored_verdict`:
a pass only when every value the censored result allows is inside the limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from .vocab import CMC, QUDT

__all__ = [
    "Censoring",
    "Reported",
    "SpecLimits",
    "Verdict",
    "censored_verdict",
    "parse_result",
    "parse_specification",
    "result_triples",
]

LESS, AT_MOST, MORE, AT_LEAST = "<", "≤", ">", "≥"
_QUALIFIERS = {
    "<": LESS,
    "≤": AT_MOST,
    "<=": AT_MOST,
    "=<": AT_MOST,
    ">": MORE,
    "≥": AT_LEAST,
    ">=": AT_LEAST,
    "=>": AT_LEAST,
}
_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
_CENSORED = re.compile(rf"^(<=|=<|>=|=>|[<>≤≥])\s*({_NUMBER}|LOQ|LOD|LLOQ|ULOQ)\s*(.*)$", re.I)
_MISSING = {
    "nt",
    "n.t.",
    "not tested",
    "not done",
    "n/t",
    "not performed",
    "not applicable",
    "n/a",
    "-",
    "—",
    "–",
}
_PASS = {
    "conforms",
    "complies",
    "conform",
    "comply",
    "pass",
    "passes",
    "meets requirements",
    "conforms to reference",
    "complies with reference",
    "meets",
}
_FAIL = {
    "does not conform",
    "does not comply",
    "fail",
    "fails",
    "not conforming",
    "does not meet requirements",
    "nonconforming",
    "non-conforming",
}
_SPACES = re.compile(r"\s+")
_RANGE = re.compile(rf"^({_NUMBER})\s*(?:–|—|-|to|\.\.)\s*({_NUMBER})\s*(.*)$", re.I)
_ONE_SIDED = re.compile(
    rf"^(NLT|NMT|not less than|not more than|<=|=<|>=|=>|[<>≤≥])\s*"
    rf"({_NUMBER})\s*(.*)$",
    re.I,
)
_REPORT = re.compile(
    r"^(report(ed)?( result| value)?|for information( only)?|record|"
    r"report \(?for information\)?)$",
    re.I,
)


class Censoring(Enum):
    NONE = "number"
    CENSORED = "censored"
    QUALITATIVE = "qualitative"
    MISSING = "missing"


@dataclass(frozen=True)
class Reported:
    """One reported result: its kind, and the number, or qualifier and limit, or outcome."""

    text: str
    kind: Censoring
    value: float | None = None
    qualifier: str | None = None
    limit: float | None = None
    conforms: bool | None = None
    unit_text: str | None = None  # a unit written after the number ("<0.5 EU/mL"), if any


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text.replace("\u00a0", " ")).strip()


def _float(text: str, decimal: str) -> float:
    """A number with the declared decimal mark; the other mark is refused, not guessed."""
    other = "," if decimal == "." else "."
    if other in text:
        raise ValueError(f"'{text}' has '{other}' but the decimal mark is '{decimal}'")
    return float(text.replace(decimal, "."))


def parse_result(
    cell: object,
    *,
    decimal: str = ".",
    limits: dict[str, float] | None = None,
    missing: frozenset[str] = frozenset(),
) -> Reported:
    """Read a reported result. ``limits`` gives the numbers of ``LOQ``/``LOD`` for a result
    written ``"<LOQ"``; ``missing`` adds texts that mean "no result". ValueError names what
    could not be read."""
    if isinstance(cell, bool):
        raise ValueError(f"not a result: {cell!r}")
    if isinstance(cell, int | float):
        return Reported(_show(float(cell)), Censoring.NONE, value=float(cell))
    text = _normalise(str(cell))
    folded = text.casefold()
    if not text or folded in _MISSING or text in missing:
        return Reported(text, Censoring.MISSING)
    if folded in _PASS or folded.startswith(("conforms to", "complies with")):
        return Reported(text, Censoring.QUALITATIVE, conforms=True)
    if folded in _FAIL:
        return Reported(text, Censoring.QUALITATIVE, conforms=False)
    match = _CENSORED.match(text)
    if match:
        qualifier = _QUALIFIERS[match.group(1)]
        bound = match.group(2)
        if bound.upper() in {"LOQ", "LOD", "LLOQ", "ULOQ"}:
            known = {k.upper(): v for k, v in (limits or {}).items()}
            if bound.upper() not in known:
                raise ValueError(
                    f"'{text}' is censored at the {bound.upper()}, but no "
                    f"{bound.upper()} is declared for this result"
                )
            limit = float(known[bound.upper()])
        else:
            limit = _float(bound, decimal)
        return Reported(
            text,
            Censoring.CENSORED,
            qualifier=qualifier,
            limit=limit,
            unit_text=match.group(3).strip() or None,
        )
    number = re.match(rf"^({_NUMBER})\s*(.*)$", text)
    if number:
        try:
            value = _float(number.group(1), decimal)
        except ValueError:
            value = None
        if value is not None:
            return Reported(
                text, Censoring.NONE, value=value, unit_text=number.group(2).strip() or None
            )
    raise ValueError(f"not a result: '{text}' (expected a number, '<0.5', 'NT' or 'conforms')")


def _show(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class SpecLimits:
    """A specification as written: inclusive limits, a report-only test or a qualitative one."""

    text: str
    lower: float | None = None
    upper: float | None = None
    report_only: bool = False
    qualitative: bool = False
    unit_text: str | None = None


def parse_specification(text: str, *, decimal: str = ".") -> SpecLimits:
    """Read acceptance criteria. Limits are inclusive (NLT/≥ and NMT/≤, ``a – b``); a strict
    ``<``/``>`` limit is refused rather than silently read as inclusive."""
    raw = _normalise(str(text))
    if not raw:
        raise ValueError("empty acceptance criterion")
    if _REPORT.match(raw):
        return SpecLimits(raw, report_only=True)
    folded = raw.casefold()
    if folded in _PASS or folded.startswith(
        ("conforms", "complies", "clear", "colourless", "colorless")
    ):
        return SpecLimits(raw, qualitative=True)
    ranged = _RANGE.match(raw)
    if ranged:
        lower, upper = _float(ranged.group(1), decimal), _float(ranged.group(2), decimal)
        if lower > upper:
            raise ValueError(f"'{raw}': the lower limit is above the upper limit")
        return SpecLimits(raw, lower, upper, unit_text=ranged.group(3).strip() or None)
    one = _ONE_SIDED.match(raw)
    if one:
        word = one.group(1).casefold()
        value = _float(one.group(2), decimal)
        unit_text = one.group(3).strip() or None
        if word in ("<", ">"):
            raise ValueError(
                f"'{raw}': a strict limit is not supported; write "
                f"{'NMT / ≤' if word == '<' else 'NLT / ≥'} with the limit"
            )
        if word in ("nlt", "not less than", ">=", "=>", "≥"):
            return SpecLimits(raw, lower=value, unit_text=unit_text)
        return SpecLimits(raw, upper=value, unit_text=unit_text)
    raise ValueError(
        f"not an acceptance criterion: '{raw}' (expected '≥ 95.0', 'NMT 2.0', "
        "'90 – 110', 'Report result' or 'Conforms')"
    )


class Verdict(Enum):
    PASS = "pass"
    FAIL = "fail"
    INDETERMINATE = "indeterminate"


def censored_verdict(
    qualifier: str, limit: float, lower: float | None, upper: float | None
) -> Verdict:
    """A censored result against inclusive limits: PASS when every value it allows is inside,
    FAIL when none is, else INDETERMINATE. ``<0.5`` against ``≤ 2.0`` passes; ``<5`` against
    ``≤ 2.0`` is indeterminate; ``<0.5`` against ``≥ 1`` fails."""
    if qualifier in (LESS, AT_MOST):  # the true value is below (or at) the limit
        if lower is not None and (limit < lower or (qualifier == LESS and limit <= lower)):
            return Verdict.FAIL
        if lower is None and upper is not None and limit <= upper:
            return Verdict.PASS
        return Verdict.INDETERMINATE
    if qualifier in (MORE, AT_LEAST):
        if upper is not None and (limit > upper or (qualifier == MORE and limit >= upper)):
            return Verdict.FAIL
        if upper is None and lower is not None and limit >= lower:
            return Verdict.PASS
        return Verdict.INDETERMINATE
    raise ValueError(f"unknown qualifier '{qualifier}'")


def result_triples(
    measurement: URIRef, result: Reported, unit: URIRef | None
) -> list[tuple[URIRef, URIRef, Literal | URIRef]]:
    """The value triples of a reported result (not its property, entity or stage): a number with
    its unit; a censored value's qualifier, limit, unit and text; a qualitative outcome's text and
    conformance. A missing result has none."""
    m = measurement
    if result.kind is Censoring.NONE:
        assert result.value is not None
        out: list[tuple[URIRef, URIRef, Literal | URIRef]] = [
            (m, QUDT.numericValue, Literal(result.value, datatype=XSD.double))
        ]
        return out + ([(m, QUDT.unit, unit)] if unit is not None else [])
    if result.kind is Censoring.CENSORED:
        assert result.qualifier is not None and result.limit is not None
        out = [
            (m, CMC.resultQualifier, Literal(result.qualifier)),
            (m, CMC.censoringLimit, Literal(result.limit, datatype=XSD.double)),
            (m, CMC.reportedText, Literal(result.text)),
        ]
        return out + ([(m, QUDT.unit, unit)] if unit is not None else [])
    if result.kind is Censoring.QUALITATIVE:
        return [
            (m, CMC.textValue, Literal(result.text)),
            (m, CMC.reportedConformance, Literal(bool(result.conforms))),
        ]
    return []
