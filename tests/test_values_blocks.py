"""The one VALUES helper (``stores.terms.values_clause`` / ``batches``) that ingest, derived
lineage, the audit trail and validation send term lists through."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef

from cmckg.errors import QueryError
from cmckg.stores.terms import VALUES_BATCH, batches, values_clause


def test_batches_cover_every_item_once_in_order() -> None:
    items = list(range(2 * VALUES_BATCH + 1))
    parts = list(batches(items))
    assert [len(p) for p in parts] == [VALUES_BATCH, VALUES_BATCH, 1]
    assert [x for p in parts for x in p] == items
    assert list(batches([])) == []


def test_values_clause_serialises_each_term_safely() -> None:
    clause = values_clause("g", [URIRef("http://x.org/a"), Literal('say "hi"')])
    assert clause == 'VALUES ?g { <http://x.org/a> "say \\"hi\\"" }'
    with pytest.raises(QueryError):
        values_clause("g", [URIRef("http://x.org/a> } DROP ALL {")])
