"""Small SPARQL text helpers shared by the validation modules (terms go through to_sparql)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from rdflib.term import Identifier

from ..stores.terms import to_sparql

BATCH = 400  # IRIs per VALUES block


def text_or_none(term: Identifier | None) -> str | None:
    return None if term is None else str(term)


def batches(items: Sequence, size: int = BATCH) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def values_clause(name: str, terms: Iterable[Identifier]) -> str:
    return f"VALUES ?{name} {{ {' '.join(to_sparql(t) for t in terms)} }}"
