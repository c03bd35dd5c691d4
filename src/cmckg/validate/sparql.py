"""Small SPARQL text helpers shared by the validation modules (terms go through to_sparql;
``VALUES`` blocks and their batching are the stores' one helper)."""

from __future__ import annotations

from rdflib.term import Identifier

from ..stores.terms import batches, values_clause

__all__ = ["batches", "text_or_none", "values_clause"]


def text_or_none(term: Identifier | None) -> str | None:
    return None if term is None else str(term)
