"""The caches that keep mappers from rebuilding the same rdflib term per row: they must give
exactly the terms an uncached construction gives (issue 5, ingest throughput)."""

from __future__ import annotations

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from cmckg.mappers.base import number_literal, text_literal, typed_literal
from cmckg.vocab import CMC, IriMinter

BASE = "https://example.org/cache-test/"


def test_minting_the_same_text_parts_again_gives_the_same_iri_object():
    minter = IriMinter(BASE)
    first = minter.mint("lot", "site a", "L 001")
    again = minter.mint("lot", "site a", "L 001")
    assert first == URIRef(BASE + "lot/site%20a/L%20001")
    assert again is first


def test_numbers_that_compare_equal_still_mint_their_own_iris():
    # 1 == 1.0 == True in Python (same dict key), but their text differs
    minter = IriMinter(BASE)
    assert minter.mint("run", "x", "r", "1") == URIRef(BASE + "run/x/r/1")
    assert minter.mint("run", "x", "r", 1.0) == URIRef(BASE + "run/x/r/1.0")
    assert minter.mint("run", "x", "r", True) == URIRef(BASE + "run/x/r/True")
    assert minter.mint("run", "x", "r", 1) == URIRef(BASE + "run/x/r/1")


def test_minters_with_different_bases_do_not_share_iris():
    parts = ("material", "erp", "lactose")
    assert IriMinter("https://a.example/").mint(*parts) == URIRef(
        "https://a.example/material/erp/lactose"
    )
    assert IriMinter("https://b.example/").mint(*parts) == URIRef(
        "https://b.example/material/erp/lactose"
    )


def test_a_blank_local_id_is_refused_every_time():
    minter = IriMinter(BASE)
    for _ in range(2):
        try:
            minter.mint("lot", "erp", "  ")
        except ValueError as exc:
            assert "without a local id" in str(exc)
        else:
            raise AssertionError("a blank local id was minted")


def test_number_literals_keep_the_sign_of_zero():
    # 0.0 == -0.0 (one dict key); their xsd:double lexical forms differ
    assert str(number_literal(0.0)) == "0.0"
    assert str(number_literal(-0.0)) == "-0.0"
    assert str(number_literal(0.0)) == "0.0"


def test_number_literals_are_doubles_made_once():
    value = number_literal(12.5)
    assert value is number_literal(12.5)
    assert value == Literal("12.5", datatype=XSD.double)
    assert str(number_literal(1e20)) == "1e+20"


def test_text_and_typed_literals_are_made_once():
    assert text_literal("HPLC") is text_literal("HPLC")
    assert text_literal("HPLC") == Literal("HPLC")
    assert text_literal("HPLC").datatype is None
    day = typed_literal("2016-03-01", XSD.date)
    assert day is typed_literal("2016-03-01", XSD.date)
    assert day == Literal("2016-03-01", datatype=XSD.date)


def test_namespace_items_are_made_once():
    assert CMC["DrugSubstanceBatch"] is CMC["DrugSubstanceBatch"]
    assert CMC["DrugSubstanceBatch"] == URIRef("https://w3id.org/cmckg/ontology#DrugSubstanceBatch")
    assert CMC["DrugSubstanceBatch"] is CMC.DrugSubstanceBatch


def test_the_metadata_graph_is_one_object_per_minter():
    minter = IriMinter(BASE)
    assert minter.metadata_graph == URIRef(BASE + "graph/meta")
    assert minter.metadata_graph is minter.metadata_graph
