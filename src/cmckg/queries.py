"""Saved SPARQL queries: load ``queries/*.rq``, bind parameters as typed RDF terms, return rows.

A saved query starts with a header of comment lines::

    # title: Backward lineage of a lot
    # param: lot iri            the lot to trace from
    # param: max_depth integer=20  optional, with a default
    # param: site string=  optional, empty by default (a query may read "" as "any")
    # columns: node, identifier, kind, depth

Parameters are never pasted into the query text: each value is parsed into an RDF term of the
declared type (an IRI must parse as an absolute IRI, a number as a number) and pre-bound, so a
value with quotes or braces is only ever a literal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from .errors import QueryError
from .resources import resource_dir
from .stores import QueryResult, Store
from .stores.terms import batches, check_iri, inline_rows

_PARAM_TYPES = {
    "iri": None,
    "string": XSD.string,
    "integer": XSD.integer,
    "decimal": XSD.decimal,
    "double": XSD.double,
    "boolean": XSD.boolean,
    "date": XSD.date,
    "dateTime": XSD.dateTime,
}
_HEADER = re.compile(r"^#\s*(\w+):\s*(.*)$")
_PARAM = re.compile(r"^(\w+)\s+(\w+)(?:=(\S*))?\s*(.*)$")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None = None
    description: str = ""


@dataclass(frozen=True)
class SavedQuery:
    name: str
    text: str
    title: str = ""
    parameters: tuple[Parameter, ...] = ()
    columns: tuple[str, ...] = field(default_factory=tuple)

    def bind(self, params: Mapping[str, object]) -> dict[str, Identifier]:
        known = {p.name: p for p in self.parameters}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise QueryError(
                f"query '{self.name}' has no parameter {', '.join(unknown)}; "
                f"it takes: {', '.join(known) or 'none'}"
            )
        bound: dict[str, Identifier] = {}
        for parameter in self.parameters:
            value = params.get(parameter.name, parameter.default)
            if value is None:
                raise QueryError(f"query '{self.name}' needs parameter '{parameter.name}'")
            bound[parameter.name] = to_term(value, parameter.type, parameter.name)
        return bound


def to_term(value: object, type_name: str, name: str = "value") -> Identifier:
    """Parse ``value`` into an RDF term of ``type_name``; raise QueryError if it does not parse."""
    if isinstance(value, URIRef | Literal):
        return value
    if type_name not in _PARAM_TYPES:
        raise QueryError(f"parameter '{name}' has unknown type '{type_name}'")
    text = str(value)
    if type_name == "iri":
        return check_iri(text.removeprefix("<").removesuffix(">"))
    parsers = {
        "integer": int,
        "decimal": float,
        "double": float,
        "boolean": _parse_bool,
        "date": date.fromisoformat,
        "dateTime": datetime.fromisoformat,
    }
    if type_name in parsers:
        try:
            parsers[type_name](text)
        except ValueError as exc:
            raise QueryError(f"parameter '{name}': {text!r} is not a valid {type_name}") from exc
    return Literal(text, datatype=None if type_name == "string" else _PARAM_TYPES[type_name])


def _parse_bool(text: str) -> bool:
    if text.lower() in {"true", "1"}:
        return True
    if text.lower() in {"false", "0"}:
        return False
    raise ValueError(text)


def parse_saved_query(name: str, text: str) -> SavedQuery:
    title, columns, parameters = "", (), []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "title":
            title = value.strip()
        elif key == "columns":
            columns = tuple(c.strip() for c in value.split(",") if c.strip())
        elif key == "param":
            param = _PARAM.match(value.strip())
            if not param:
                raise QueryError(f"bad parameter header in query '{name}': {value}")
            pname, ptype, default, description = param.groups()
            if ptype not in _PARAM_TYPES:
                raise QueryError(f"query '{name}': parameter '{pname}' has unknown type '{ptype}'")
            parameters.append(Parameter(pname, ptype, default, description))
    return SavedQuery(name, text, title, tuple(parameters), columns)


@cache
def saved_queries(directory: Path | None = None) -> dict[str, SavedQuery]:
    directory = directory or resource_dir("queries")
    return {
        path.stem: parse_saved_query(path.stem, path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.rq"))
    }


def get_query(name: str) -> SavedQuery:
    queries = saved_queries()
    if name not in queries:
        raise QueryError(f"no saved query '{name}'; saved queries: {', '.join(sorted(queries))}")
    return queries[name]


def run(
    store: Store, name_or_sparql: str, params: Mapping[str, object] | None = None
) -> QueryResult:
    """Run a saved query by name, or literal SPARQL with already-typed RDF term bindings."""
    params = params or {}
    if re.fullmatch(r"[\w-]+", name_or_sparql.strip()):
        query = get_query(name_or_sparql.strip())
        return store.query(query.text, query.bind(params))
    bindings = {
        k: to_term(v, "iri" if isinstance(v, URIRef) else "string", k) for k, v in params.items()
    }
    return store.query(name_or_sparql, bindings)


def run_each(
    store: Store,
    name: str,
    variable: str,
    terms: Sequence[Identifier],
    params: Mapping[str, object] | None = None,
) -> QueryResult:
    """Run a saved query with ``?variable`` bound to each of ``terms`` (``VALUES`` blocks of at
    most ``VALUES_BATCH``) and its parameters as ``run`` binds them; the rows of every block.
    For an answer asked of many nodes at once: the nodes found by an earlier query, not text a
    user typed."""
    query = get_query(name)
    bound = query.bind(params or {})
    columns: list[str] = []
    rows: list[tuple[Identifier | None, ...]] = []
    for batch in batches(terms):
        result = store.query(inline_rows(query.text, variable, batch), bound)
        columns, rows = result.columns, rows + result.rows
    return QueryResult(columns, rows)


def python_value(term: Identifier | None) -> object:
    """An IRI's text, a literal's Python value (its text if it has none), or None: the one
    conversion of answers to Python values."""
    if type(term) is URIRef:  # most terms; an isinstance check on rdflib's ABCs costs more
        return str(term)
    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        return str(value) if isinstance(value, Identifier) else value
    return str(term)


def to_records(result: QueryResult) -> list[dict[str, Any]]:
    """Rows as dicts of ``python_value``s: for few rows each read once, where a DataFrame
    would cost more than the query."""
    columns = result.columns
    return [dict(zip(columns, map(python_value, row), strict=True)) for row in result.rows]


def to_dataframe(result: QueryResult) -> pd.DataFrame:
    """Rows as a DataFrame of ``python_value``s (numbers, dates, strings; IRIs as strings)."""
    return pd.DataFrame(
        [[python_value(t) for t in row] for row in result.rows], columns=result.columns
    )
