"""The audit trail: a change set per ingest (who, why, when, tool), hash-chained revisions,
``cmckg verify`` finding a record graph altered outside cmckg, ``cmckg history``.

The source is the mAb raw-material lot table (examples/mab), copied so it can be edited; the
edits (a supplier renamed, a lot removed) say by hand what each revision must add and remove."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import BASE, EXAMPLES, store_location
from rdflib import Graph, URIRef
from rdflib.namespace import PROV, RDFS

from cmckg import KnowledgeGraph, __version__
from cmckg.cli import main
from cmckg.vocab import CMC, IriMinter

MINT = IriMinter(BASE)
META = MINT.metadata_graph
MAPPING = EXAMPLES / "mab" / "mappings" / "raw_material_lots.yaml"
LOT_GRAPH = MINT.mint("graph", "mab-example", "lot", "A-MED-001")
LOT = MINT.mint("lot", "mab-example", "A-MED-001")
OLD_SUPPLIER = MINT.mint("supplier", "mab-example", "MediaCo")
NEW_SUPPLIER = MINT.mint("supplier", "mab-example", "MediaCorp")


@pytest.fixture
def lots(tmp_path: Path) -> Path:
    path = tmp_path / "raw_material_lots.csv"
    shutil.copy(EXAMPLES / "mab" / "raw_material_lots.csv", path)
    return path


def rename_supplier_of_first_lot(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[1].startswith("A-MED-001,") and ",MediaCo," in lines[1]
    lines[1] = lines[1].replace(",MediaCo,", ",MediaCorp,")
    path.write_text("".join(lines), encoding="utf-8")


def change_set_facts(kg: KnowledgeGraph) -> dict[int, dict[URIRef, list]]:
    rows = kg.store.query(
        f"SELECT ?n ?p ?o WHERE {{ GRAPH <{META}> {{ ?c a ?type ; ?seq ?n ; ?p ?o }} }}",
        {"type": CMC.ChangeSet, "seq": CMC.sequenceNumber},
    ).rows
    found: dict[int, dict[URIRef, list]] = {}
    for n, p, o in rows:
        found.setdefault(int(n), {}).setdefault(p, []).append(o)
    return found


def test_each_ingest_that_changes_something_is_one_change_set(tmp_path, lots):
    before = datetime.now(UTC).replace(microsecond=0)
    with KnowledgeGraph.open(store_location("oxigraph", tmp_path), base_iri=BASE) as kg:
        kg.ingest(lots, mapping=MAPPING, by="alice", reason="initial load")
        kg.ingest(lots, mapping=MAPPING, by="carol", reason="nothing changed")  # a no-op
        rename_supplier_of_first_lot(lots)
        kg.ingest(lots, mapping=MAPPING, by="bob", reason="CAPA-12: supplier renamed")
        sets = change_set_facts(kg)
        assert sorted(sets) == [1, 2]  # the unchanged re-ingest recorded nothing
        first, second = sets[1], sets[2]
        labels = {
            n: kg.store.query(
                f"SELECT ?l WHERE {{ GRAPH <{META}> {{ ?a ?label ?l }} }}",
                {"a": s[PROV.wasAssociatedWith][0], "label": RDFS.label},
            ).rows[0][0]
            for n, s in sets.items()
        }
        assert {n: str(v) for n, v in labels.items()} == {1: "alice", 2: "bob"}
        assert [str(s[CMC.reason][0]) for s in (first, second)] == [
            "initial load",
            "CAPA-12: supplier renamed",
        ]
        assert str(second[CMC.toolVersion][0]) == f"cmckg {__version__}"
        started = second[PROV.startedAtTime][0].toPython()
        ended = second[PROV.endedAtTime][0].toPython()
        assert before <= started <= ended <= datetime.now(UTC)
        # the chain: change set 2 names change set 1 and its hash
        assert second[PROV.wasInformedBy] == [URIRef(BASE + "change/1")]
        assert second[CMC.previousChangeSetSha256] == first[CMC.changeSetSha256]
        assert CMC.previousChangeSetSha256 not in first
        # the record's revisions: 1 made by change set 1, superseded by change set 2
        current = {
            p: o
            for p, o in kg.store.query(
                f"SELECT ?p ?o WHERE {{ GRAPH <{META}> {{ ?g ?p ?o }} }}", {"g": LOT_GRAPH}
            ).rows
        }
        revision = URIRef(f"{LOT_GRAPH}/revision/1")
        old = {
            p: o
            for p, o in kg.store.query(
                f"SELECT ?p ?o WHERE {{ GRAPH <{META}> {{ ?g ?p ?o }} }}", {"g": revision}
            ).rows
        }
        assert current[PROV.wasGeneratedBy] == URIRef(BASE + "change/2")
        assert old[PROV.wasGeneratedBy] == URIRef(BASE + "change/1")
        assert old[PROV.wasInvalidatedBy] == URIRef(BASE + "change/2")
        assert current[CMC.previousContentSha256] == old[CMC.contentSha256]
        # the recorded content hash is the sha256 of the graph's sorted N-Triples lines
        lines = sorted(
            line.removesuffix(" .")
            for line in Graph()
            .parse(data=str(old[CMC.snapshot]), format="nt")
            .serialize(format="nt")
            .splitlines()
            if line
        )
        assert (
            str(old[CMC.contentSha256])
            == hashlib.sha256(" .\n".join(lines).encode() + b" .").hexdigest()
        )


def test_who_defaults_to_the_environment_then_the_os_user(tmp_path, lots, monkeypatch):
    monkeypatch.setenv("CMCKG_USER", "qa-robot")
    with KnowledgeGraph.open("memory:", base_iri=BASE) as kg:
        kg.ingest(lots, mapping=MAPPING)
        agent = change_set_facts(kg)[1][PROV.wasAssociatedWith][0]
        assert agent == MINT.mint("agent", "cmckg", "qa-robot")
    monkeypatch.delenv("CMCKG_USER")
    monkeypatch.setattr("getpass.getuser", lambda: "os-user")
    with KnowledgeGraph.open("memory:", base_iri=BASE) as kg:
        kg.ingest(lots, mapping=MAPPING)
        agent = change_set_facts(kg)[1][PROV.wasAssociatedWith][0]
        assert agent == MINT.mint("agent", "cmckg", "os-user")


def _store_with_two_change_sets(tmp_path: Path, lots: Path) -> str:
    location = str(tmp_path / "store")
    assert (
        main(
            [
                "ingest",
                "--store",
                location,
                str(lots),
                "--mapping",
                str(MAPPING),
                "--by",
                "alice",
                "--reason",
                "initial load",
            ]
        )
        == 0
    )
    rename_supplier_of_first_lot(lots)
    assert (
        main(
            [
                "ingest",
                "--store",
                location,
                str(lots),
                "--mapping",
                str(MAPPING),
                "--by",
                "bob",
                "--reason",
                "CAPA-12",
            ]
        )
        == 0
    )
    return location


def test_verify_passes_an_untouched_store_and_flags_a_raw_sparql_edit(tmp_path, lots, capsys):
    location = _store_with_two_change_sets(tmp_path, lots)
    capsys.readouterr()
    assert main(["verify", "--store", location]) == 0
    out = capsys.readouterr().out
    # 35 lots, the file's local terms and the vocabulary; superseded: lot A-MED-001's first
    # content and the local terms of the file's first version (they are scoped by its sha256)
    assert "verified 37 record graphs, 2 superseded revisions and 2 change sets" in out
    with KnowledgeGraph.open(location, base_iri=BASE) as kg:
        kg.store.native.update(  # an edit outside cmckg: straight through the store
            f"DELETE DATA {{ GRAPH <{LOT_GRAPH}> {{ <{LOT}> <{CMC.suppliedBy}> "
            f"<{NEW_SUPPLIER}> }} }}"
        )
    assert main(["verify", "--store", location]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"record graph <{LOT_GRAPH}> (source {lots}): content differs")
    assert "altered outside cmckg" in out[0]
    assert out[-1].endswith("1 problem found")


def test_verify_flags_altered_metadata_snapshots_and_foreign_graphs(tmp_path, lots, capsys):
    location = _store_with_two_change_sets(tmp_path, lots)
    with KnowledgeGraph.open(location, base_iri=BASE) as kg:
        kg.store.native.update(  # the reason of change set 1 rewritten
            f"DELETE {{ GRAPH <{META}> {{ ?c <{CMC.reason}> ?r }} }} INSERT {{ GRAPH <{META}> "
            f'{{ ?c <{CMC.reason}> "routine" }} }} WHERE {{ GRAPH <{META}> {{ '
            f"BIND(<{BASE}change/1> AS ?c) ?c <{CMC.reason}> ?r }} }}"
        )
        kg.store.native.update(  # a snapshot of a superseded revision rewritten
            f"DELETE {{ GRAPH <{META}> {{ ?r <{CMC.snapshot}> ?s }} }} INSERT {{ GRAPH <{META}> "
            f'{{ ?r <{CMC.snapshot}> "" }} }} WHERE {{ GRAPH <{META}> {{ '
            f"BIND(<{LOT_GRAPH}/revision/1> AS ?r) ?r <{CMC.snapshot}> ?s }} }}"
        )
        kg.store.native.update("INSERT DATA { GRAPH <urn:x:sneaky> { <urn:a> <urn:b> <urn:c> } }")
    capsys.readouterr()
    assert main(["verify", "--store", location]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith(f"revision 1 of record graph <{LOT_GRAPH}> (source {lots})") for line in out
    )
    assert any(line.startswith("change set 1: its recorded sha256 does not match") for line in out)
    assert (
        "graph <urn:x:sneaky>: a named graph no record of cmckg's metadata describes "
        "(written outside cmckg)" in out
    )
    assert out[-1].endswith("3 problems found")


def test_history_shows_who_why_when_and_the_changed_triples(tmp_path, lots, capsys):
    location = _store_with_two_change_sets(tmp_path, lots)
    capsys.readouterr()
    assert main(["history", "--store", location, "A-MED-001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    headings = [line for line in lines if line.startswith("<")]
    assert len(headings) == 2
    assert headings[0].startswith(f"<{LOT_GRAPH}> revision 1: change set 1 by alice at ")
    assert headings[0].endswith(f"— initial load (cmckg {__version__})")
    assert headings[1].startswith(f"<{LOT_GRAPH}> current: change set 2 by bob at ")
    second = lines[lines.index(headings[1]) :]
    changed = [line.strip() for line in second if line.startswith("  +") or line.startswith("  -")]
    # the supplier link, and the supplier the lot's record restates (row 2 of the file)
    assert changed == [
        f"+ <{LOT}> cmc:suppliedBy <{NEW_SUPPLIER}>",
        f'+ <{NEW_SUPPLIER}> cmc:identifier "MediaCorp"',
        f'+ <{NEW_SUPPLIER}> cmc:sourceLocation "row=2"',
        f"+ <{NEW_SUPPLIER}> rdf:type cmc:Supplier",
        f"- <{LOT}> cmc:suppliedBy <{OLD_SUPPLIER}>",
        f'- <{OLD_SUPPLIER}> cmc:identifier "MediaCo"',
        f'- <{OLD_SUPPLIER}> cmc:sourceLocation "row=2"',
        f"- <{OLD_SUPPLIER}> rdf:type cmc:Supplier",
    ]


def test_history_of_a_removed_record_ends_with_its_removal(tmp_path, lots, capsys):
    location = _store_with_two_change_sets(tmp_path, lots)
    lines = lots.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[2].startswith("A-MED-002,")
    lots.write_text("".join(lines[:2] + lines[3:]), encoding="utf-8")
    assert (
        main(
            [
                "ingest",
                "--store",
                location,
                str(lots),
                "--mapping",
                str(MAPPING),
                "--by",
                "carol",
                "--reason",
                "lot withdrawn",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["history", "--store", location, "A-MED-002"]) == 0  # by its record id
    lines = capsys.readouterr().out.splitlines()
    headings = [line for line in lines if line.startswith("<")]
    graph = MINT.mint("graph", "mab-example", "lot", "A-MED-002")
    assert [h.split(" at ")[0] for h in headings] == [
        f"<{graph}> revision 1: change set 1 by alice",
        f"<{graph}> removed: change set 3 by carol",
    ]
    assert headings[1].endswith("— lot withdrawn (cmckg " + __version__ + ")")
    removed = lines[lines.index(headings[1]) :]
    lot = MINT.mint("lot", "mab-example", "A-MED-002")
    assert f'  - <{lot}> cmc:identifier "A-MED-002"' in removed
    assert not any(line.startswith("  +") for line in removed)
    assert main(["verify", "--store", location]) == 0


def test_history_of_an_unknown_name_is_one_line(tmp_path, lots, capsys):
    location = _store_with_two_change_sets(tmp_path, lots)
    capsys.readouterr()
    assert main(["history", "--store", location, "NO-SUCH-LOT"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "NO-SUCH-LOT" in err
