"""Conversion between rdflib and pyoxigraph terms, and safe SPARQL term serialisation.

A term's SPARQL text is its N-Triples text (``cmckg.ntriples``, the one serialiser: IRIs checked
against the IRIREF grammar and RFC 3987, language tags checked, literals escaped)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Identifier

from .. import ntriples
from ..errors import QueryError

if TYPE_CHECKING:
    from .base import Store


def check_iri(value: str) -> URIRef:
    """Return ``value`` as an IRI, or QueryError if it is not a valid absolute IRI (so it could
    not break out of ``<…>`` in SPARQL either)."""
    try:
        ntriples.iri(value)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    return URIRef(value)


def to_sparql(term: Identifier) -> str:
    """Serialise a validated rdflib term for SPARQL (IRIs checked, literals escaped)."""
    if not isinstance(term, URIRef | Literal):
        raise QueryError(f"cannot bind a {type(term).__name__} into a query")
    try:
        return ntriples.term(term)
    except ValueError as exc:
        raise QueryError(str(exc)) from None


VALUES_BATCH = 400
"""Terms per ``VALUES`` block when a list of terms is sent in parts (a query stays small enough
for every backend's parser and request limits)."""

_T = TypeVar("_T")


def values_clause(name: str, terms: Iterable[Identifier]) -> str:
    """``VALUES ?name { … }`` of ``terms``, each through ``to_sparql``."""
    return f"VALUES ?{name} {{ {' '.join(to_sparql(t) for t in terms)} }}"


def batches(items: Sequence[_T], size: int = VALUES_BATCH) -> Iterator[Sequence[_T]]:
    """``items`` in consecutive parts of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rows_for_each(
    store: Store, name: str, terms: Sequence[Identifier], select: str, where: str
) -> list[tuple[Any, ...]]:
    """``SELECT select WHERE { VALUES ?name {…} where }`` over ``terms``, a VALUES block of at
    most ``VALUES_BATCH`` terms at a time; the rows of every block."""
    rows: list[tuple[Any, ...]] = []
    for batch in batches(terms):
        values = values_clause(name, batch)
        rows += store.query(f"SELECT {select} WHERE {{ {values} {where} }}").rows
    return rows


@lru_cache(maxsize=1 << 18)
def to_ox(term: Identifier) -> ox.NamedNode | ox.Literal | ox.BlankNode:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_new_str = str.__new__


def from_ox(term: object) -> Identifier | None:
    """An Oxigraph term as an rdflib term (None stays None).

    Every SPARQL answer passes through here, term by term, so the common cases go first and
    cheaply: an IRI is made without ``URIRef``'s validity check (a regular expression per IRI;
    Oxigraph has parsed it as an IRI already), and a literal's datatype IRI is made once.
    """
    kind = type(term)
    if kind is ox.NamedNode:
        return _new_str(URIRef, term.value)
    if kind is ox.Literal:
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(
            term.value, datatype=None if datatype == _XSD_STRING else _datatype(datatype)
        )
    if term is None:
        return None
    if kind is ox.BlankNode:
        return BNode(term.value)
    raise TypeError(f"unsupported term from Oxigraph: {term!r}")


@lru_cache(maxsize=256)
def _datatype(iri: str) -> URIRef:
    return URIRef(iri)


def inline_values(sparql: str, bindings: dict[str, Identifier] | None) -> str:
    """Pre-bind variables with a ``VALUES`` block at the top of the outermost WHERE group.

    Terms are serialised by ``to_sparql`` (IRIs checked, literals escaped), so bound values can
    never change the query's structure.
    """
    if not bindings:
        return sparql
    for name in bindings:
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise QueryError(f"not a SPARQL variable name: {name!r}")
    names = list(bindings)
    values = (
        f" VALUES ({' '.join('?' + n for n in names)}) "
        f"{{ ({' '.join(to_sparql(bindings[n]) for n in names)}) }} "
    )
    position = _outer_group_start(sparql)
    return sparql[: position + 1] + values + sparql[position + 1 :]


def inline_rows(sparql: str, name: str, terms: Sequence[Identifier]) -> str:
    """``sparql`` with ``?name`` bound to each of ``terms`` (a multi-row ``VALUES`` block at the
    top of the outermost WHERE group, each term through ``to_sparql``)."""
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise QueryError(f"not a SPARQL variable name: {name!r}")
    position = _outer_group_start(sparql)
    return f"{sparql[: position + 1]} {values_clause(name, terms)} {sparql[position + 1 :]}"


def _outer_group_start(sparql: str) -> int:
    """Index of the ``{`` opening the query's WHERE clause (skipping comments, IRIs, strings)."""
    is_construct = re.search(r"^\s*CONSTRUCT\b", _strip_prologue(sparql), re.IGNORECASE)
    depth, skip_template = 0, bool(is_construct)
    i = 0
    while i < len(sparql):
        ch = sparql[i]
        if ch == "#":
            i = sparql.find("\n", i)
            if i == -1:
                break
        elif ch == "<" and (iri := _IRI_REF.match(sparql, i)):
            i = iri.end() - 1
        elif ch in "\"'" and (string := _STRING.match(sparql, i)):
            i = string.end() - 1
        elif ch == "{":
            if depth == 0 and not skip_template:
                return i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0 and skip_template:
                skip_template = False
        i += 1
    raise QueryError("cannot find the query's WHERE clause to bind parameters into")


_IRI_REF = re.compile(r"<[^\s<>\"]*>")
_STRING = re.compile(
    r'"""[\s\S]*?"""' r"|'''[\s\S]*?'''" r'|"(?:\\.|[^"\\\n])*"' r"|'(?:\\.|[^'\\\n])*'"
)


def _strip_prologue(sparql: str) -> str:
    text = re.sub(r"#[^\n]*", "", sparql)
    return re.sub(r"(?is)^\s*((PREFIX\s+\S*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*", "", text)
