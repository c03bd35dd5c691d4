"""Dossiers, reports with pictures and review pages, checked against the mAb example's own files.

Expectations come from examples/mab (batch_records.csv walked with the csv module for the
upstream lots, lims_results.csv and specifications.csv for each result and its verdict,
raw_material_lots.csv and coa_results.csv for the certificates, README for the planted
effects), never from cmckg's output. Pages are rendered in headless Chromium
(tests/browser.py) and checked in the DOM; screenshots go to the test's temp folder.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from urllib.parse import quote

import matplotlib
import pytest
from browser import Browser, require_browser
from conftest import EXAMPLES
from question_fixtures import mab_graph
from rdflib import Dataset, Literal, URIRef
from server import free_port

from cmckg.attributes import resolve_attribute
from cmckg.cli import main
from cmckg.kg import KnowledgeGraph
from cmckg.vocab import CMC, QUDT

MAB = EXAMPLES / "mab"
LOT = "A-DP-1020"  # README: the planted out-of-specification drug-product lot


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@cache
def upstream(lot: str) -> dict[str, str]:
    """Every lot upstream of ``lot`` (itself included) by walking the batch records' inputs,
    each with the step that made it ('' for lots no run made)."""
    runs = {
        r["output"]: r
        for site in ("site-a", "site-b")
        for r in _rows(MAB / site / "batch_records.csv")
    }
    found: dict[str, str] = {}
    todo = [lot]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        run = runs.get(current)
        found[current] = run["step"] if run else ""
        if run:
            todo += run["inputs"].split(";")
    return found


def raw_material_lots(lot: str) -> set[str]:
    known = {r["lot"] for r in _rows(MAB / "raw_material_lots.csv")}
    return {x for x in upstream(lot) if x in known}


def expected_results(lot: str) -> list[tuple[str, float, str, str]]:
    """(lot, value, verdict, row) for each LIMS result with a specification on ``lot`` or a
    lot upstream of it: the spec of its test, stage and material stage (drug substance for
    the polishing step's output, drug product for fill-finish's)."""
    stage_of = {
        "anion exchange polishing": "drug substance",
        "drug product fill finish": "drug product",
    }
    specs = {
        (s["test"], s["stage"], s["material_stage"]): s for s in _rows(MAB / "specifications.csv")
    }
    lots = upstream(lot)
    found = []
    for number, row in enumerate(_rows(MAB / "site-a" / "lims_results.csv"), start=2):
        step = lots.get(row["lot"])
        spec = specs.get((row["test"], row["stage"], stage_of.get(step or "", "")))
        if row["lot"] in lots and spec:
            value = float(row["value"])
            inside = float(spec["lower_limit"]) <= value <= float(spec["upper_limit"])
            found.append((row["lot"], value, "pass" if inside else "fail", f"row={number}"))
    return found


def test_expected_results_hold_the_planted_failures() -> None:
    """The expectation itself: README's two out-of-specification lots, and nothing else."""
    failures = {
        (lot, value) for lot, value, verdict, _ in expected_results(LOT) if verdict == "fail"
    }
    assert failures == {("A-DS-1020", 3.4), ("A-DP-1020", 3.5499)}
    assert raw_material_lots(LOT) == {"A-MED-007", "A-FEED-005", "A-PRA-002", "A-SUC-002"}


@pytest.fixture(scope="module")
def kg() -> KnowledgeGraph:
    return mab_graph()


@pytest.fixture(scope="module")
def report(kg: KnowledgeGraph):
    return kg.validate(full=True, record=False)


@pytest.fixture(scope="module")
def dossier(kg: KnowledgeGraph, report):
    return kg.dossier(LOT, validation=report)


def test_dossier_judges_every_result_against_its_specification(dossier) -> None:
    got = sorted(
        (dossier.node_name(r.entity), round(r.value, 6), r.verdict)
        for r in dossier.results
        if r.limit is not None
    )
    want = sorted(
        (lot, round(value, 6), verdict) for lot, value, verdict, _ in expected_results(LOT)
    )
    assert got == want


def test_dossier_traces_each_result_to_file_row_and_revision(kg, dossier) -> None:
    rows = {(lot, round(value, 6)): row for lot, value, _, row in expected_results(LOT)}
    for result in dossier.results:
        key = (dossier.node_name(result.entity), round(result.value or 0, 6))
        if key not in rows:
            continue
        source = result.sources[0]
        assert Path(source.path).name == "lims_results.csv"
        assert source.location == rows[key]
        stored = kg.query(
            "SELECT ?sha WHERE { GRAPH ?g { ?m ?p ?o } GRAPH ?meta { ?g ?has ?sha } }",
            m=URIRef(result.measurement),
            meta=kg.minter.metadata_graph,
            has=CMC.contentSha256,
        )
        assert source.sha256 in set(stored["sha"])
        assert re.fullmatch(r"[0-9a-f]{64}", source.sha256)


def test_dossier_lists_open_validation_results_on_its_lots(dossier) -> None:
    records = sorted(r.source.record_id for r in dossier.validation)
    assert records == ["A-DP-1020", "A-DS-1020"]


def _mab_store(location: str) -> KnowledgeGraph:
    from cmckg.examples import example_groups

    kg = KnowledgeGraph.open(location)
    for group in example_groups():
        if group.name.startswith("mAb"):
            kg.ingest(group.files, mapping=group.mapping)
    return kg


def test_dossier_reads_the_open_results_a_recorded_validation_left() -> None:
    with _mab_store("oxigraph:memory") as fresh:
        before = fresh.dossier(LOT)
        assert before.validation == [] and "no validation is recorded" in before.validation_note
        fresh.validate(full=True)  # recorded: its open results stay in the metadata graph
        after = fresh.dossier(LOT)
    assert sorted(r.source.record_id for r in after.validation) == ["A-DP-1020", "A-DS-1020"]
    assert after.validation_note.startswith("open results of the last recorded validation")


def test_dossier_of_a_run_or_unknown_lot_is_a_clear_error() -> None:
    assert main(["dossier", "A-FILL-1020", "--store", "memory:"]) == 2


def test_dossier_jsonld_uses_the_published_context(dossier) -> None:
    text = dossier.to_jsonld()
    document = json.loads(text)
    published = json.loads((Path(__file__).parents[1] / "ontology" / "context.jsonld").read_text())[
        "@context"
    ]
    assert document["@context"] == published
    dataset = Dataset()
    dataset.parse(data=text, format="json-ld")
    hmw = {
        (m, g)
        for m, _, v, g in dataset.quads((None, QUDT.numericValue, None, None))
        if str(v) == "3.5499"
    }
    assert len(hmw) == 1  # stated in the one LIMS record that holds the result
    measurement, record = hmw.pop()
    assert dataset.value(measurement, CMC.withinSpecification) == Literal(False)
    meta = dataset.graph(URIRef(dossier.metadata_graph))
    assert Path(str(meta.value(record, CMC.sourcePath))).name == "lims_results.csv"
    assert re.fullmatch(r"[0-9a-f]{64}", str(meta.value(record, CMC.contentSha256)))


def test_export_jsonld_round_trips_with_the_same_context(tmp_path: Path) -> None:
    store = f"oxigraph:{tmp_path / 'store'}"
    assert (
        main(
            [
                "ingest",
                "--store",
                store,
                str(MAB / "raw_material_lots.csv"),
                "--mapping",
                str(MAB / "mappings" / "raw_material_lots.yaml"),
            ]
        )
        == 0
    )
    out = tmp_path / "all.jsonld"
    assert main(["export", "--store", store, "--format", "jsonld", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["@context"]["identifier"] == "cmc:identifier"
    parsed = Dataset()
    parsed.parse(out, format="json-ld")
    with KnowledgeGraph.open(store, read_only=True) as kg:
        assert {tuple(q) for q in parsed.quads()} == {tuple(q) for q in kg.store.quads()}


def test_drivers_plot_leaves_the_matplotlib_backend_alone(kg, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    matplotlib.use("svg")
    before = matplotlib.get_backend(), plt.get_fignums()
    kg.drivers("afucosylation").plot(tmp_path / "top.png")
    assert (matplotlib.get_backend(), plt.get_fignums()) == before
    assert (tmp_path / "top.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_notebook_displays_are_html(kg, report, dossier) -> None:
    shown = [
        kg.lineage(LOT)._repr_html_(),
        report._repr_html_(),
        dossier._repr_html_(),
        kg.drivers("afucosylation")._repr_html_(),
        kg.compare(
            "HMW (SEC)",
            "site=Site-A,process_version=v1",
            "site=Site-A,process_version=v2",
            method="tost",
        )._repr_html_(),
    ]
    for fragment in shown:
        assert fragment.lstrip().startswith('<div class="cmckg">')
        assert "<script" not in fragment and "<html" not in fragment
    assert "A-MED-007" in shown[0] and "<svg" in shown[0]


# --- in the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    binary = require_browser()
    opened = Browser(binary)
    yield opened
    opened.close()


def _load(browser: Browser, url: str, shot: Path, allowed: set[str]) -> None:
    page = browser.open(url)
    browser.screenshot(shot)
    assert page.errors == []
    assert set(page.requests) <= allowed, f"requests beyond the page: {page.requests}"


ROWS_JS = """Array.from(document.querySelectorAll('tr.result')).map(tr => ({
  lot: tr.dataset.lot, verdict: tr.dataset.verdict,
  value: tr.querySelector('.value').textContent, text: tr.textContent,
  sha: Array.from(tr.querySelectorAll('[data-sha256]')).map(e => e.dataset.sha256)}))"""


def check_dossier_dom(browser: Browser, lot: str) -> None:
    assert browser.dom("document.getElementById('lot-identifier').textContent") == lot
    raw = browser.dom(
        "Array.from(document.querySelectorAll('tr.raw-material-lot'))"
        ".map(tr => [tr.dataset.identifier, tr.textContent])"
    )
    assert {identifier for identifier, _ in raw} == raw_material_lots(lot)
    coa = [r for r in _rows(MAB / "coa_results.csv") if r["lot"] in raw_material_lots(lot)]
    text_of = dict(raw)
    for row in coa:
        assert f"{float(row['result']):.6g}" in text_of[row["lot"]], row
    shown = browser.dom(ROWS_JS)
    judged = [r for r in shown if r["verdict"] in ("pass", "fail")]
    assert len(judged) == len(expected_results(lot))
    for want_lot, value, verdict, row in expected_results(lot):
        match = [
            r
            for r in judged
            if r["lot"] == want_lot
            and r["verdict"] == verdict
            and r["value"].startswith(f"{value:.6g}")
        ]
        assert len(match) == 1, (want_lot, value, verdict)
        assert "lims_results.csv" in match[0]["text"] and row in match[0]["text"]
        assert all(re.fullmatch(r"[0-9a-f]{64}", s) for s in match[0]["sha"])


def test_dossier_page_offline(browser: Browser, dossier, tmp_path: Path) -> None:
    path = tmp_path / "dossier.html"
    path.write_text(dossier.to_html(), encoding="utf-8")
    _load(browser, path.as_uri(), tmp_path / "dossier.png", {path.as_uri()})
    check_dossier_dom(browser, LOT)
    validation = browser.dom(
        "Array.from(document.querySelectorAll('#validation tr.validation-result')).length"
    )
    assert validation == 2


def test_comparability_report_page(browser: Browser, kg, tmp_path: Path) -> None:
    """README: Site-A v2 raises HMW (not equivalent by TOST); main peak, potency and HCP are
    unchanged (equivalent)."""
    path = tmp_path / "compare.html"
    names = ["HMW (SEC)", "Main peak (CEX)", "Relative potency", "HCP"]
    assert (
        main(
            [
                "compare",
                "--store",
                "memory:",
                "-a",
                "HMW",
                "--reference",
                "site=X",
                "--test",
                "site=Y",
            ]
        )
        == 2
    )  # nothing to compare: one line, exit 2
    result = kg.compare(
        names, "site=Site-A,process_version=v1", "site=Site-A,process_version=v2", method="tost"
    )
    path.write_text(result.to_html(), encoding="utf-8")
    _load(browser, path.as_uri(), tmp_path / "compare.png", {path.as_uri()})
    sections = browser.dom(
        "Array.from(document.querySelectorAll('section.attribute'))"
        ".map(s => [s.dataset.attribute, s.dataset.verdict, "
        "s.querySelectorAll('svg').length])"
    )
    labels = {n: resolve_attribute(kg.store, n).label for n in names}  # the mapping's names
    hmw = labels["HMW (SEC)"]
    assert {a for a, _, _ in sections} == set(labels.values())
    for attribute, verdict, charts in sections:
        assert verdict == ("not equivalent" if attribute == hmw else "equivalent")
        assert charts == 1
    headers = browser.dom(
        "Array.from(new Set(Array.from(document.querySelectorAll("
        "'table.stats th')).map(th => th.textContent)))"
    )
    legend = dict(
        browser.dom(
            "Array.from(document.querySelectorAll('#legend dt'))"
            ".map(dt => [dt.textContent, dt.nextElementSibling.textContent])"
        )
    )
    assert set(headers) <= set(legend) and all(len(legend[h]) > 10 for h in headers)


def test_validation_report_page(browser: Browser, report, tmp_path: Path) -> None:
    from cmckg.reports import render

    path = tmp_path / "validation.html"
    path.write_text(render(report, "html"), encoding="utf-8")
    _load(browser, path.as_uri(), tmp_path / "validation.png", {path.as_uri()})
    rows = browser.dom(
        "Array.from(document.querySelectorAll('tr.validation-result'))"
        ".map(tr => [tr.dataset.record, tr.querySelector('.value').textContent,"
        " tr.querySelector('.row').textContent, tr.closest('section')"
        ".dataset.shape])"
    )
    want = {
        (lot, f"{value:g}", row)
        for lot, value, verdict, row in expected_results(LOT)
        if verdict == "fail"
    }
    assert {(r, v, row) for r, v, row, _ in rows} == want
    assert len({shape for *_, shape in rows}) == 2  # one shape per specification
    assert browser.dom("document.getElementById('verdict').textContent") == "FAILED"


# --- the review pages of cmckg serve ---------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """``cmckg serve`` over an on-disk store of the mAb example, its review pages' URL."""
    require_browser()
    folder = tmp_path_factory.mktemp("served")
    store = folder / "store"
    with _mab_store(str(store)) as kg:
        kg.validate(full=True)  # recorded: the pages show what it left open
    port = free_port()
    pages = free_port()
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from cmckg.cli import main; sys.exit(main())",
            "serve",
            "--store",
            str(store),
            "--port",
            str(port),
            "--pages-port",
            str(pages),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{pages}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/", timeout=30):
                    break
            except (urllib.error.URLError, OSError):
                pass
            if process.poll() is not None:
                pytest.fail((folder / "serve.log").read_text())
            time.sleep(0.5)
        else:
            pytest.fail("the review pages did not answer in 120 s")
        yield base
    finally:
        process.terminate()
        process.wait(30)
        log.close()
        shutil.rmtree(store, ignore_errors=True)


def _lot_iri(identifier: str) -> str:
    return f"https://w3id.org/cmckg/id/lot/mab-example/{identifier}"


def test_serve_home_and_search(browser: Browser, served: str, tmp_path: Path) -> None:
    _load(browser, f"{served}/", tmp_path / "home.png", {f"{served}/"})
    products = browser.dom(
        "Array.from(document.querySelectorAll('#products a')).map(a => a.textContent)"
    )
    assert products == sorted({r["product"] for r in _rows(MAB / "specifications.csv")})
    for query, hits in (
        (f"q={LOT}", [LOT]),
        ("q=A-MED-007&kind=raw_material_lot", ["A-MED-007"]),
        ("q=A-MED-007&kind=run", []),
        ("q=A-MED-007&material=sucrose", []),
        ("q=A-FILL-1020", ["A-FILL-1020"]),
    ):
        url = f"{served}/search?{query}"
        _load(browser, url, tmp_path / "search.png", {url})
        assert (
            browser.dom("Array.from(document.querySelectorAll('tr.hit a')).map(a => a.textContent)")
            == hits
        )


def test_serve_lot_page_is_the_dossier(browser: Browser, served: str, tmp_path: Path) -> None:
    url = f"{served}/lot?iri={quote(_lot_iri(LOT), safe='')}"
    _load(browser, url, tmp_path / "lot.png", {url})
    check_dossier_dom(browser, LOT)
    assert browser.dom("document.querySelectorAll('#validation tr.validation-result').length") == 2


def test_serve_product_and_validation(browser: Browser, served: str, tmp_path: Path) -> None:
    product = "https://w3id.org/cmckg/id/product/mab-example/mAb-X"
    url = f"{served}/product?iri={quote(product, safe='')}"
    _load(browser, url, tmp_path / "product.png", {url})
    rows = browser.dom(
        "Array.from(document.querySelectorAll('tr.attribute-row')).map(tr => tr.dataset.attribute)"
    )
    specified = {s["test"] for s in _rows(MAB / "specifications.csv")}
    assert len(set(rows)) == len(specified)
    assert browser.dom("document.querySelectorAll('section.trend svg').length") == len(rows)
    url = f"{served}/validation"
    _load(browser, url, tmp_path / "validation.png", {url})
    assert sorted(
        browser.dom(
            "Array.from(document.querySelectorAll('tr.validation-result'))"
            ".map(tr => tr.dataset.record)"
        )
    ) == ["A-DP-1020", "A-DS-1020"]


def test_serve_pages_are_read_only(served: str) -> None:
    request = urllib.request.Request(f"{served}/lot", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert error.value.code == 501
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{served}/lot?iri={quote('http://example.org/x')}", timeout=30)
    assert error.value.code == 404


def test_lineage_picture_groups_repeated_runs_and_collapses_depth(kg) -> None:
    """A-SUC-001 (sucrose) went into fill-finish runs: the batch records say which."""
    from cmckg.present.lineage_svg import lineage_svg

    fills = [
        r
        for r in _rows(MAB / "site-a" / "batch_records.csv")
        if "A-SUC-001" in r["inputs"].split(";")
    ]
    assert len(fills) > 6  # more than one box's worth: they are grouped
    forward = kg.lineage("A-SUC-001", direction="forward")
    svg = lineage_svg(forward)
    assert svg.count("<g class='node") == 3  # the lot, one box of runs, one of batches
    assert f"{len(fills)} runs" in svg and f"{len(fills)} batches" in svg
    deep = lineage_svg(kg.lineage(LOT), max_depth=1)
    assert "more nodes beyond generation 1 are not drawn" in deep
    assert "A-MED-007" not in deep and "A-DS-1020" in deep
