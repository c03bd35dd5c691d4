"""Ingest on every backend: idempotent re-ingest, replaced graphs with superseded revisions,
vanished records, all-or-nothing failures, and the metadata graph. Sources are B2MML files
(copied to a temporary directory so they can be edited) and records made with cmckg.build."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import BASE, EXAMPLES, TEST_DATA, store_snapshot
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF

from cmckg import KnowledgeGraph, build
from cmckg.errors import MappingError
from cmckg.vocab import CMC, IriMinter

MINT = IriMinter(BASE)
META = MINT.metadata_graph
LOT_FILE = EXAMPLES / "b2mml" / "LOT-20121210170718-0001L0001.xml"
PES_FILE = EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml"
TWO_LOTS = TEST_DATA / "ingest" / "two-lots.xml"
MALFORMED = TEST_DATA / "b2mml" / "malformed.xml"
LOT_GRAPH = MINT.mint("graph", "b2mml", "lot", "CRBN0001_LOT01")
API1_GRAPH = MINT.mint("graph", "b2mml", "lot", "API-LOT-1")
API2_GRAPH = MINT.mint("graph", "b2mml", "lot", "API-LOT-2")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    for path in (LOT_FILE, PES_FILE, TWO_LOTS):
        shutil.copy(path, folder / path.name)
    return folder


def meta_of(kg: KnowledgeGraph, subject: URIRef) -> dict[URIRef, list]:
    found: dict[URIRef, list] = {}
    for p, o in kg.store.query(
        f"SELECT ?p ?o WHERE {{ GRAPH <{META}> {{ ?s ?p ?o }} }}", {"s": subject}
    ).rows:
        found.setdefault(p, []).append(o)
    return found


def revisions_of(kg: KnowledgeGraph, graph: URIRef) -> list[URIRef]:
    rows = kg.store.query(
        f"SELECT ?r WHERE {{ GRAPH <{META}> {{ ?r a ?type ; ?of ?g }} }}",
        {"type": CMC.SupersededRevision, "of": CMC.revisionOf, "g": graph},
    ).rows
    return [row[0] for row in rows]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8-sig")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_reingest_of_unchanged_sources_changes_nothing(kg, src):
    files = sorted(src.glob("*.xml"))
    first = kg.ingest(files)
    assert first.records == 4  # lot, production response, two lots
    before = store_snapshot(kg.store)
    again = kg.ingest(files)
    assert again.changed == 0
    assert sum(s.unchanged for s in again.sources) == 4
    assert store_snapshot(kg.store) == before


def test_a_changed_source_replaces_its_graph_and_keeps_one_revision(kg, src):
    lot_file = src / LOT_FILE.name
    kg.ingest(lot_file)
    old_triples = set(kg.store.graph(LOT_GRAPH))
    old_digest = meta_of(kg, LOT_GRAPH)[CMC.contentSha256]
    assert any(str(o) == "2013-12-08" for _, p, o in old_triples if p == CMC.expiryDate)

    edit(lot_file, "2013-12-08T00:00:00.0Z", "2014-06-30T00:00:00.0Z")
    report = kg.ingest(lot_file)
    assert sum(s.replaced for s in report.sources) == 1

    expiry = {str(o) for _, p, o in kg.store.graph(LOT_GRAPH) if p == CMC.expiryDate}
    assert expiry == {"2014-06-30"}
    revisions = revisions_of(kg, LOT_GRAPH)
    assert len(revisions) == 1
    revision = meta_of(kg, revisions[0])
    assert revision[CMC.contentSha256] == old_digest
    assert len(revision[PROV.invalidatedAtTime]) == 1
    old_graph = Graph().parse(data=str(revision[CMC.snapshot][0]), format="nt")
    assert set(old_graph) == old_triples
    current = meta_of(kg, LOT_GRAPH)
    assert len(current[CMC.contentSha256]) == 1 and current[CMC.contentSha256] != old_digest
    assert current[CMC.sourceSha256] == [Literal(hashlib.sha256(lot_file.read_bytes()).hexdigest())]


def test_changing_back_and_forth_keeps_one_revision_per_change(kg, src):
    lot_file = src / LOT_FILE.name
    kg.ingest(lot_file)
    for new, old in [
        ("2014-06-30", "2013-12-08"),
        ("2013-12-08", "2014-06-30"),
        ("2014-06-30", "2013-12-08"),
    ]:
        edit(lot_file, f"{old}T00:00:00.0Z", f"{new}T00:00:00.0Z")
        kg.ingest(lot_file)
    revisions = revisions_of(kg, LOT_GRAPH)
    assert len(revisions) == 3
    expiries = []
    for revision in revisions:
        meta = meta_of(kg, revision)
        assert len(meta[PROV.invalidatedAtTime]) == 1
        assert len(meta[CMC.snapshot]) == 1
        snap = Graph().parse(data=str(meta[CMC.snapshot][0]), format="nt")
        expiries += [str(o) for _, p, o in snap if p == CMC.expiryDate]
    assert sorted(expiries) == ["2013-12-08", "2013-12-08", "2014-06-30"]


def test_a_vanished_record_is_superseded(kg, src):
    two = src / TWO_LOTS.name
    kg.ingest(two)
    old_triples = set(kg.store.graph(API2_GRAPH))
    assert old_triples
    text = two.read_text()
    start, end = (
        text.index("<MaterialLot>\n        <ID>API-LOT-2"),
        text.index("</MaterialLot>", text.index("API-LOT-2")),
    )
    two.write_text(text[:start] + text[end + len("</MaterialLot>") :])

    report = kg.ingest(two)
    assert sum(s.superseded for s in report.sources) == 1
    assert API2_GRAPH not in kg.store.graph_names()
    assert API1_GRAPH in kg.store.graph_names()
    assert meta_of(kg, API2_GRAPH) == {}
    revisions = revisions_of(kg, API2_GRAPH)
    assert len(revisions) == 1
    snap = meta_of(kg, revisions[0])[CMC.snapshot][0]
    assert set(Graph().parse(data=str(snap), format="nt")) == old_triples


def test_a_failed_ingest_leaves_the_store_exactly_as_before(kg, src):
    lot_file = src / LOT_FILE.name
    kg.ingest(lot_file)
    before = store_snapshot(kg.store)
    edit(lot_file, "2013-12-08", "2015-01-01")  # a change that would replace a graph
    for sources in (
        [src / PES_FILE.name, MALFORMED],
        [lot_file, MALFORMED],
        [MALFORMED, src / TWO_LOTS.name],
    ):
        with pytest.raises(MappingError, match="malformed.xml"):
            kg.ingest(sources)
        assert store_snapshot(kg.store) == before


def test_the_metadata_graph_describes_each_record_graph(kg, src):
    pes = src / PES_FILE.name
    started = datetime.now(UTC).replace(microsecond=0)
    kg.ingest(pes)
    finished = datetime.now(UTC)
    graph = MINT.mint("graph", "b2mml", "production-response", "53107")
    meta = meta_of(kg, graph)
    assert meta[RDF.type] == [CMC.RecordGraph]
    assert meta[CMC.recordId] == [Literal("production-response/53107")]
    assert meta[CMC.sourcePath] == [Literal(str(pes))]
    assert meta[CMC.sourceSha256] == [Literal(hashlib.sha256(pes.read_bytes()).hexdigest())]
    assert meta[CMC.mapper] == [Literal("b2mml")]
    assert meta[CMC.mapperVersion] == [Literal("1")]
    (generated,) = meta[PROV.generatedAtTime]
    assert started <= generated.toPython() <= finished
    assert len(meta[CMC.contentSha256][0]) == 64


def test_source_sha_follows_the_file_when_a_record_is_unchanged(kg, src):
    two = src / TWO_LOTS.name
    kg.ingest(two)
    edit(two, "98.7", "98.9")  # changes API-LOT-2 only
    report = kg.ingest(two)
    assert (sum(s.replaced for s in report.sources), sum(s.unchanged for s in report.sources)) == (
        1,
        1,
    )
    sha = Literal(hashlib.sha256(two.read_bytes()).hexdigest())
    assert meta_of(kg, API1_GRAPH)[CMC.sourceSha256] == [sha]
    assert meta_of(kg, API2_GRAPH)[CMC.sourceSha256] == [sha]


def _only_lot_1(path: Path) -> None:
    text = path.read_text()
    start = text.index("<MaterialLot>\n        <ID>API-LOT-2")
    end = text.index("</MaterialLot>", start) + len("</MaterialLot>")
    path.write_text(text[:start] + text[end:])


def _lots_3_and_2(path: Path) -> None:
    """Lot 1 renamed to lot 3: lot 2 stays the second lot, so its content (XPaths) is the same."""
    edit(path, "<ID>API-LOT-1</ID>", "<ID>API-LOT-3</ID>")


def test_a_record_moving_to_another_file_in_one_ingest_is_kept(kg, src):
    a, b = src / TWO_LOTS.name, src / "lot-2-now-here.xml"
    kg.ingest(a)
    lot2 = set(kg.store.graph(API2_GRAPH))
    shutil.copy(a, b)
    _only_lot_1(a)
    _lots_3_and_2(b)
    kg.ingest([a, b])
    assert set(kg.store.graph(API2_GRAPH)) == lot2
    assert meta_of(kg, API2_GRAPH)[CMC.sourcePath] == [Literal(str(b))]
    assert revisions_of(kg, API2_GRAPH) == []


def test_a_record_moved_to_another_file_survives_its_old_file(kg, src):
    a, b = src / TWO_LOTS.name, src / "lot-2-now-here.xml"
    kg.ingest(a)
    lot2 = set(kg.store.graph(API2_GRAPH))
    shutil.copy(a, b)
    _lots_3_and_2(b)
    kg.ingest(b)  # same content: unchanged, but now it comes from b
    assert meta_of(kg, API2_GRAPH)[CMC.sourcePath] == [Literal(str(b))]
    _only_lot_1(a)
    kg.ingest(a)
    assert set(kg.store.graph(API2_GRAPH)) == lot2


def _record(value: float) -> build.Record:
    rec = build.Record("coa-L1", issuer="site-a", minter=MINT)
    lot = rec.lot("L1", material="lactose", kind="raw_material_lot")
    rec.measurement(lot, "water content", value, "%", stage="CoA")
    return rec


def test_builder_records_ingest_like_files(kg):
    report = kg.ingest_records([_record(4.9)])
    assert report.records == 1
    before = store_snapshot(kg.store)
    assert kg.ingest_records([_record(4.9)]).changed == 0
    assert store_snapshot(kg.store) == before
    graph = MINT.mint("graph", "site-a", "coa-L1")
    meta = meta_of(kg, graph)
    assert meta[CMC.mapper] == [Literal("build")]
    assert meta[CMC.sourcePath] == [Literal("build:site-a/coa-L1")]

    kg.ingest_records([_record(5.1)])
    values = {
        float(o)
        for _, p, o in kg.store.graph(graph)
        if p == URIRef("http://qudt.org/schema/qudt/numericValue")
    }
    assert values == {5.1}
    assert len(revisions_of(kg, graph)) == 1


def test_a_file_named_twice_is_ingested_once(kg, src):
    lot_file = src / LOT_FILE.name
    report = kg.ingest([lot_file, src / PES_FILE.name, lot_file])
    assert [s.path for s in report.sources] == [str(lot_file), str(src / PES_FILE.name)]
    assert report.records == 2
