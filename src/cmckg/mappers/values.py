"""Numbers, dates and units as RDF terms: the one place every mapper (tables, ASM, B2MML and
``cmckg.build``) reads them, so a value means the same whichever format it came in.

Each function raises :class:`~cmckg.errors.MappingError` naming ``where`` (file, place, field);
the message says what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from ..errors import MappingError
from ..units import resolve_unit
from .base import number_literal, typed_literal

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""A decimal number as sources write it (no NaN, no infinity, no digit separators)."""
_XSD_DATETIME = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$"
)
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Where:
    """Where a value was read: the file, the place in it (row, pointer, XPath) and the field."""

    source: str | None = None
    location: str | None = None
    field: str | None = None

    def error(self, message: str) -> MappingError:
        return MappingError(message, self.source, self.location, self.field)


# -- numbers


def parse_number(text: str, where: Where, decimal: str = ".", thousands: str = "") -> float:
    """A decimal number written with ``decimal`` as its mark and ``thousands`` between digit
    groups (both as a table's source options say)."""
    written = text
    text = text.strip()
    if thousands:
        text = text.replace(thousands, "")
    if decimal != ".":
        if "." in text:
            raise where.error(f"not a number: '{text}' (the decimal mark is '{decimal}')")
        text = text.replace(decimal, ".")
    if not NUMBER.fullmatch(text):
        raise where.error(f"not a number: '{written}'")
    return float(text)


def number_value(value: object, where: Where) -> float:
    """A number given as an int, a float or its text (never a bool)."""
    if isinstance(value, bool):
        raise where.error(f"not a number: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return parse_number(value, where)
    raise where.error(f"not a number: {value!r}")


def double(value: object, where: Where) -> Literal:
    """``number_value`` as an ``xsd:double`` literal."""
    return number_literal(number_value(value, where))


# -- dates


def date_literal(value: date | datetime | str, where: Where) -> Literal:
    """An ``xsd:date``: a date, the day of a date-time, or ISO 8601 text of either."""
    if isinstance(value, datetime):
        return typed_literal(value.date().isoformat(), XSD.date)
    if isinstance(value, date):
        return typed_literal(value.isoformat(), XSD.date)
    text = str(value).strip()
    try:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            day = datetime.fromisoformat(text).date()
    except ValueError:
        raise where.error(f"'{text}' is not a date (ISO 8601, e.g. 2024-03-01)") from None
    return typed_literal(day.isoformat(), XSD.date)


def datetime_literal(value: datetime | date | str, where: Where) -> Literal:
    """An ``xsd:dateTime``: a date-time as is when its text is already XSD's lexical form,
    otherwise ISO 8601 text read and written back in that form."""
    if isinstance(value, datetime):
        return typed_literal(value.isoformat(), XSD.dateTime)
    text = str(value).strip()
    if _XSD_DATETIME.match(text):
        return typed_literal(text, XSD.dateTime)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise where.error(f"'{text}' is not a date and time (ISO 8601, e.g. "
                          "2012-11-29T11:58:25Z)") from None
    return typed_literal(parsed.isoformat(), XSD.dateTime)


def cell_date_literal(value: date | datetime, where: Where) -> Literal:
    """A spreadsheet's date cell: a date-time at midnight is a date."""
    if isinstance(value, datetime) and value.time() != datetime.min.time():
        return datetime_literal(value, where)
    return date_literal(value, where)


def iso_literal(text: str, where: Where) -> Literal:
    """An ISO 8601 year, month, date or date-time as its XSD literal (gYear, gYearMonth, date,
    dateTime)."""
    try:
        return _iso_literal(text.strip())
    except ValueError:
        raise where.error(f"not a date in ISO 8601: '{text.strip()}'") from None


@lru_cache(maxsize=1 << 14)
def _iso_literal(text: str) -> Literal:
    """Dates repeat: each distinct text is read once. ValueError if it is no ISO 8601 form."""
    if re.fullmatch(r"\d{4}", text):
        return Literal(text, datatype=XSD.gYear)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        datetime.strptime(text, "%Y-%m")
        return Literal(text, datatype=XSD.gYearMonth)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return Literal(date.fromisoformat(text).isoformat(), datatype=XSD.date)
    return Literal(datetime.fromisoformat(text).isoformat(), datatype=XSD.dateTime)


def formatted_literal(text: str, fmt: str, where: Where,
                      months: tuple[tuple[str, int], ...] = ()) -> Literal:
    """A date written in a ``strptime`` format, with local month names (``months``: casefolded
    name → 1–12, read through ``%b``/``%B``). The literal is as precise as the format: a time
    directive gives a dateTime, a day a date, a month a gYearMonth, else a gYear."""
    text = text.strip()
    try:
        return _formatted_literal(text, fmt, months)
    except ValueError:
        raise where.error(f"not a date in the format '{fmt}': '{text}'") from None


def _formatted_literal(text: str, fmt: str, months: tuple[tuple[str, int], ...]) -> Literal:
    if months:
        names = dict(months)

        def to_number(match: re.Match[str]) -> str:
            number = names.get(match.group(0).casefold())
            if number is None:
                raise ValueError(match.group(0))
            return f"{number:02d}"

        text = _WORD.sub(to_number, text)
        fmt = fmt.replace("%b", "%m").replace("%B", "%m")
    parsed = datetime.strptime(text, fmt)
    if re.search(r"%[HIMSfp]", fmt):
        return Literal(parsed.isoformat(), datatype=XSD.dateTime)
    if "%d" in fmt or "%j" in fmt:
        return Literal(parsed.date().isoformat(), datatype=XSD.date)
    if re.search(r"%[mbB]", fmt):
        return Literal(f"{parsed.year:04d}-{parsed.month:02d}", datatype=XSD.gYearMonth)
    return Literal(f"{parsed.year:04d}", datatype=XSD.gYear)


# -- units


def unit_iri(symbol: str, where: Where) -> URIRef:
    """The QUDT unit a source's unit symbol names (through :mod:`cmckg.units`)."""
    return resolve_unit(symbol, source=where.source, location=where.location,
                        field=where.field)
