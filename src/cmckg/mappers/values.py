"""Numbers, dates and units as RDF terms: the one place every mapper (tables, ASM, B2MML and
``cmckg.build``) reads them, so a value means the same whichever format it came in.

Each function raises :class:`~cmckg.errors.MappingError` naming ``where`` (file, place, field);
the message says what was expected — except ``parse_date`` (the document mappers' date forms),
whose ValueError the caller turns into an error naming the sheet cell or JSON pointer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

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
        raise where.error(
            f"'{text}' is not a date and time (ISO 8601, e.g. 2012-11-29T11:58:25Z)"
        ) from None
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


def formatted_literal(
    text: str, fmt: str, where: Where, months: tuple[tuple[str, int], ...] = ()
) -> Literal:
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


# -- dates as batch records write them (document mappings: day/month order declared, never
#    guessed; Excel serial numbers only when declared)

DATE_ORDERS = ("day-first", "month-first")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # the 1900 date system, past its 1900-02-29 bug
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})[./-](\d{1,2})[./-](\d{4})(?:[ T](\d{1,2}):(\d{2})"
    r"(?::(\d{2}))?)?$"
)
_NAMED_DATE = re.compile(
    r"^(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -](\d{4})(?:[ T](\d{1,2}):(\d{2})"
    r"(?::(\d{2}))?)?$"
)


@dataclass(frozen=True)
class DateOptions:
    """How a mapping reads dates: the order of day and month in numeric text dates (declared,
    never guessed) and whether a number in a date field is an Excel serial date."""

    order: str | None = None
    serial: bool = False


def parse_date(cell: Any, options: DateOptions) -> Literal:
    """A date or date-time cell as an XSD literal. Accepts date cells, ISO 8601 text,
    ``09-May-2024`` (English month names), numeric text dates in the declared order, and Excel
    serial numbers when declared. ValueError says what is missing."""
    if isinstance(cell, datetime):
        if cell.time() == datetime.min.time():
            return Literal(cell.date().isoformat(), datatype=XSD.date)
        return Literal(cell.isoformat(), datatype=XSD.dateTime)
    if isinstance(cell, date):
        return Literal(cell.isoformat(), datatype=XSD.date)
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if not options.serial:
            raise ValueError(
                f"{cell!r} is a number, not a date (if the workbook stores Excel "
                "serial dates, declare dates: {serial: true})"
            )
        moment = _EXCEL_EPOCH + timedelta(minutes=round(float(cell) * 1440))  # to the minute
        return parse_date(moment, options)
    text = str(cell).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return Literal(date.fromisoformat(text).isoformat(), datatype=XSD.date)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?", text):
            return Literal(datetime.fromisoformat(text).isoformat(), datatype=XSD.dateTime)
    except ValueError:
        raise ValueError(f"not a date: '{text}'") from None
    named = _NAMED_DATE.match(text)
    if named:
        month = _MONTHS.get(named.group(2)[:3].casefold())
        if month is None:
            raise ValueError(f"unknown month '{named.group(2)}' in '{text}'")
        return _literal(text, int(named.group(3)), month, int(named.group(1)), named.groups()[3:])
    numeric = _NUMERIC_DATE.match(text)
    if numeric:
        if options.order is None:
            raise ValueError(
                f"'{text}' could be day-first or month-first; declare "
                "dates: {order: day-first} (or month-first) in the mapping"
            )
        first, second = int(numeric.group(1)), int(numeric.group(2))
        day, month = (first, second) if options.order == "day-first" else (second, first)
        return _literal(text, int(numeric.group(3)), month, day, numeric.groups()[3:])
    raise ValueError(
        f"not a date: '{text}' (expected ISO 8601, '09-May-2024', a numeric date "
        "in the declared order or a date cell)"
    )


def _literal(text: str, year: int, month: int, day: int, time: tuple[str | None, ...]) -> Literal:
    try:
        if time[0] is None:
            return Literal(date(year, month, day).isoformat(), datatype=XSD.date)
        moment = datetime(year, month, day, int(time[0]), int(time[1] or 0), int(time[2] or 0))
    except ValueError:
        raise ValueError(f"not a date: '{text}'") from None
    return Literal(moment.isoformat(), datatype=XSD.dateTime)


# -- units


def unit_iri(symbol: str, where: Where) -> URIRef:
    """The QUDT unit a source's unit symbol names (through :mod:`cmckg.units`)."""
    return resolve_unit(symbol, source=where.source, location=where.location, field=where.field)
