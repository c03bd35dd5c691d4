"""Golden N-Quads: what each mapper makes of one real or bundled source, checked in as text.

A mapper change shows up here as a reviewable diff of tests/golden/*.nq. After an intended
change, regenerate with ``pytest tests/test_golden.py --update-goldens`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from cmckg.ingest import map_sources
from cmckg.kg import load_mapping
from cmckg.vocab import IriMinter

GOLDEN = Path(__file__).resolve().parent / "golden"

CASES = {
    "asm-vi-cell-xr": (
        "examples/asm/beckman_vi_cell_xr__Beckman_Vi-Cell-XR_example04_instrumentOutput.json",
        None,
    ),
    "b2mml-production-performance": ("examples/b2mml/PES-20121229115825-53107.xml", None),
    "tables-runs": ("tests/data/tables/runs.csv", "tests/data/tables/runs.yaml"),
}


def mapped_nquads(source: str, mapping: str | None) -> str:
    """The sorted N-Quads of every record graph mapped from ``source`` (relative to the repo)."""
    mapped = map_sources([source], IriMinter(), load_mapping(mapping) if mapping else None)
    lines = {
        f"{s.n3()} {p.n3()} {o.n3()} {record.graph_iri.n3()} .\n"
        for _summary, records, _mapper in mapped
        for record in records
        for s, p, o in record.triples
    }
    return "".join(sorted(lines))


@pytest.mark.parametrize("name", sorted(CASES))
def test_mapper_output_matches_golden(
    name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)  # location literals name the source as given: keep them relative
    source, mapping = CASES[name]
    actual = mapped_nquads(source, mapping)
    golden = GOLDEN / f"{name}.nq"
    if request.config.getoption("--update-goldens"):
        golden.write_text(actual, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden.name}: run with --update-goldens"
    expected = golden.read_text(encoding="utf-8")
    assert actual == expected, f"{name}: mapper output differs from {golden.name} (see docstring)"
