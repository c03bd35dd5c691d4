"""The saved queries in queries/: honest headers, they run on every backend, and parameters are
typed terms that can never change a query (hostile text matches nothing, the store is unchanged).
"""

from __future__ import annotations

import json

import pytest
from conftest import STORE_KINDS, store_location
from question_fixtures import QUESTIONS, load_trig
from rdflib import Literal, URIRef

from cmckg import queries
from cmckg.cli import main
from cmckg.errors import QueryError
from cmckg.kg import KnowledgeGraph

SAVED = queries.saved_queries()
HOSTILE = [
    '2" } ; DROP ALL ; { "',
    "} ; DROP ALL",
    "{ ?s ?p ?o }",
    "'; DROP ALL; '",
    '\\" . } DELETE WHERE { ?s ?p ?o } #',
    "B-1\n}",
]
SAMPLE = {"iri": "https://w3id.org/cmckg/id/lot/test/B-1", "string": "B-1"}
QUESTION_QUERIES = [
    "lineage-backward",
    "lineage-forward",
    "find-node",
    "node-details",
    "attribute-values",
    "attribute-values-upstream",
    "raw-material-values",
    "specifications",
    "local-terms",
    "reference-nodes",
    "measured-properties",
    "attribute-measured-upstream",
]


@pytest.fixture(scope="module", params=STORE_KINDS)
def kg(request, tmp_path_factory):
    graph = KnowledgeGraph.open(store_location(request.param, tmp_path_factory.mktemp("s")))
    load_trig(graph, QUESTIONS / "chain.trig")
    yield graph
    graph.close()


def sample_params(saved: queries.SavedQuery) -> dict[str, str]:
    return {p.name: SAMPLE[p.type] for p in saved.parameters if p.default is None}


def test_the_question_queries_are_saved_with_headers():
    for name in QUESTION_QUERIES:
        saved = SAVED[name]
        assert saved.title and (saved.columns or "\nASK" in saved.text), name
        for parameter in saved.parameters:
            assert parameter.description, (name, parameter.name)


@pytest.mark.parametrize("name", QUESTION_QUERIES)
def test_header_columns_are_the_result_columns(kg, name):
    saved = SAVED[name]
    frame = kg.query(name, **sample_params(saved))
    assert tuple(frame.columns) == saved.columns


def test_optional_parameters_default_to_any(kg):
    every = kg.query("attribute-values", attribute="https://w3id.org/cmckg/terms#Dissolution")
    assert set(every["identifier"]) == {"B-1", "B-2", "B-3"}
    site_b = kg.query(
        "attribute-values",
        attribute="https://w3id.org/cmckg/terms#Dissolution",
        site="https://w3id.org/cmckg/id/site/test/B",
    )
    assert set(site_b["identifier"]) == {"B-2", "B-3"}


@pytest.mark.parametrize(
    "name", [n for n in QUESTION_QUERIES if any(p.type == "string" for p in SAVED[n].parameters)]
)
def test_hostile_strings_are_literals_that_match_nothing(kg, name):
    saved = SAVED[name]
    before = sorted(kg.store.quads())
    for text in HOSTILE:
        params = sample_params(saved)
        for parameter in saved.parameters:
            if parameter.type == "string":
                params[parameter.name] = text
        assert kg.query(name, **params).empty, (name, text)
    assert sorted(kg.store.quads()) == before


@pytest.mark.parametrize(
    "name", [n for n in QUESTION_QUERIES if any(p.type == "iri" for p in SAVED[n].parameters)]
)
def test_hostile_iris_are_refused(kg, name):
    before = kg.store.count_quads()
    saved = SAVED[name]
    iri = next(p.name for p in saved.parameters if p.type == "iri")
    for text in [
        "http://x/> } ; DROP ALL ; <http://y",
        "http://x/{?s}",
        "not an iri",
        'http://x/" .',
    ]:
        with pytest.raises(QueryError, match="not a valid absolute IRI"):
            kg.query(name, **{**sample_params(saved), iri: text})
    assert kg.store.count_quads() == before


def test_parameter_mistakes_are_errors(kg):
    with pytest.raises(QueryError, match="has no parameter colour"):
        kg.query("find-node", identifier="B-1", colour="red")
    with pytest.raises(QueryError, match="needs parameter 'root'"):
        kg.query("lineage-backward")
    with pytest.raises(QueryError, match="no saved query 'lineage-sideways'"):
        kg.query("lineage-sideways")


def test_cli_query_binds_hostile_text_as_a_literal(tmp_path, capsys):
    location = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(location) as graph:
        load_trig(graph, QUESTIONS / "chain.trig")
        before = sorted(graph.store.quads())
    assert (
        main(
            [
                "query",
                "find-node",
                "--param",
                "identifier=B-1",
                "--format",
                "json",
                "--store",
                location,
            ]
        )
        == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert row["node"] == "https://w3id.org/cmckg/id/lot/test/B-1"
    assert (
        main(
            [
                "query",
                "find-node",
                "--param",
                'identifier=B-1" } ; DROP ALL ; { "',
                "--format",
                "json",
                "--store",
                location,
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out) == []
    assert (
        main(
            [
                "query",
                "lineage-backward",
                "--param",
                "root=http://x/> } DROP ALL {",
                "--store",
                location,
            ]
        )
        == 2
    )
    assert "not a valid absolute IRI" in capsys.readouterr().err
    with KnowledgeGraph.open(location) as graph:
        assert sorted(graph.store.quads()) == before


def test_run_each_binds_every_term_across_values_blocks(monkeypatch) -> None:
    """A saved query asked of many nodes: every node answered once, in VALUES blocks of at most
    VALUES_BATCH (three blocks here), the saved query's own parameters bound beside them."""
    from cmckg.stores import open_store
    from cmckg.stores import terms as store_terms
    from cmckg.stores.base import ChangeSet

    monkeypatch.setattr(store_terms, "VALUES_BATCH", 4)
    monkeypatch.setattr(
        store_terms.batches, "__defaults__", (4,)
    )  # the default is read at definition time
    store = open_store("oxigraph:memory")
    series = [URIRef(f"https://example.org/series/{i}") for i in range(10)]
    row = URIRef("https://w3id.org/cmckg/ontology#seriesRow")
    graph = URIRef("https://example.org/g")
    store.apply(
        ChangeSet(
            put_graphs={graph: {(s, row, Literal(f'{{"n":{i}}}')) for i, s in enumerate(series)}}
        )
    )
    result = queries.run_each(store, "analytics-values", "series", series[:9])
    assert result.columns == ["series", "rows"]
    assert sorted((str(s), str(r)) for s, r in result.rows) == sorted(
        (str(s), f'{{"n":{i}}}') for i, s in enumerate(series[:9])
    )


def test_inline_rows_refuses_a_bad_variable_and_escapes_terms() -> None:
    from cmckg.errors import QueryError
    from cmckg.stores.terms import inline_rows

    with pytest.raises(QueryError):
        inline_rows("SELECT * WHERE { ?s ?p ?o }", "s } DROP ALL {", [URIRef("https://e.org/a")])
    text = inline_rows("SELECT * WHERE { ?s ?p ?o }", "s", [Literal('x" } DROP ALL { "')])
    assert "DROP ALL" in text and '\\"' in text and text.count("{") == text.count("}")
