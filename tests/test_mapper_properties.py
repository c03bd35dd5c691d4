"""Property-based tests of the three mappers on mutated real files (hypothesis).

A real file from examples/ gets a few bytes inserted, deleted or replaced (quotes, separators,
brackets, digits, invalid UTF-8, NUL...). Whatever the mutation, ``cmckg ingest`` either ingests
it (exit 0) or stops with exactly one line on stderr and exit 2, leaving the store exactly as it
was. Every CLI call of a test works on one in-memory Oxigraph store (the disk adds nothing to
what is checked here; tests/test_cli_errors.py covers stores on disk). The number of cases tried
is reported in the test summary (conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pyoxigraph as ox
import pytest
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmckg.cli import main
from cmckg.kg import KnowledgeGraph
from cmckg.stores.oxigraph import OxigraphStore

SOURCES = {
    "tables": (
        EXAMPLES / "mab" / "coa_results.csv",
        EXAMPLES / "mab" / "mappings" / "coa_results.yaml",
    ),
    "asm": (EXAMPLES / "asm" / "chemometec_nucleoview__chemometec_nucleoview_example01.json", None),
    "b2mml": (EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml", None),
}
EXAMPLES_PER_MAPPER = 40

# Bytes that matter to CSV, JSON and XML parsers, numbers and encodings.
INTERESTING = [
    b",",
    b'"',
    b"'",
    b"\n",
    b"\r\n",
    b";",
    b"{",
    b"}",
    b"[",
    b"]",
    b"<",
    b">",
    b"&",
    b":",
    b"/",
    b"\\",
    b"-",
    b".",
    b"0",
    b"9",
    b"1e999",
    b"NaN",
    b"e",
    b" ",
    b"\t",
    b"\x00",
    b"\xff",
    b"\xc3",
    "é".encode(),
    "µ".encode(),
    b"<!DOCTYPE x>",
    b"null",
    b"&amp;",
    b"]]>",
    b"--",
]


@st.composite
def mutations(draw: st.DrawFn, size: int) -> list[tuple[str, int, bytes]]:
    """One to three edits: (insert | delete | replace, position, bytes)."""
    chunk = st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=3))
    return [
        (
            draw(st.sampled_from(["insert", "delete", "replace"])),
            draw(st.integers(0, size)),
            draw(chunk),
        )
        for _ in range(draw(st.integers(1, 3)))
    ]


def mutate(data: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    for kind, position, chunk in edits:
        position = min(position, len(data))
        if kind == "insert":
            data = data[:position] + chunk + data[position:]
        elif kind == "delete":
            data = data[:position] + data[position + len(chunk) :]
        else:
            data = data[:position] + chunk + data[position + len(chunk) :]
    return data


class _KeptOpen(KnowledgeGraph):
    """The one store every CLI call of a test opens (in memory: fast), never closed by it."""

    def close(self) -> None:
        pass


def quads(store: OxigraphStore) -> list[bytes]:
    """Every quad, the union copy in the default graph included, as sorted N-Quads lines."""
    return sorted(store.native.dump(format=ox.RdfFormat.N_QUADS).splitlines())


@pytest.mark.parametrize("mapper", sorted(SOURCES))
def test_a_mutated_file_ingests_or_fails_in_one_line_leaving_the_store_as_it_was(
    mapper: str,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    source, mapping = SOURCES[mapper]
    folder = tmp_path_factory.mktemp(f"mutated-{mapper}")
    store = OxigraphStore()
    kept = _KeptOpen(store)
    monkeypatch.setattr(KnowledgeGraph, "open", classmethod(lambda cls, *a, **k: kept))
    target = folder / source.name  # one path: a mutated file replaces the record it maps to
    original = source.read_bytes()
    target.write_bytes(original)
    extra = ["--mapping", str(mapping)] if mapping else []
    assert main(["ingest", str(target), *extra]) == 0
    capsys.readouterr()
    outcomes = {"ingested": 0, "refused": 0}

    @settings(
        max_examples=EXAMPLES_PER_MAPPER,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(edits=mutations(len(original)))
    def check(edits: list[tuple[str, int, bytes]]) -> None:
        target.write_bytes(mutate(original, edits))
        before = quads(store)
        code = main(["ingest", str(target), *extra])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code == 0:
            outcomes["ingested"] += 1
            return
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2, err
        assert len(lines) == 1, err
        assert lines[0].startswith("cmckg ingest: error: "), err
        assert quads(store) == before
        outcomes["refused"] += 1

    check()
    tried = outcomes["ingested"] + outcomes["refused"]
    assert tried >= EXAMPLES_PER_MAPPER // 2
    record_property(
        "hypothesis_cases",
        f"{mapper}: {tried} mutated files "
        f"({outcomes['ingested']} ingested, {outcomes['refused']} refused)",
    )
    print(f"{mapper}: {tried} cases tried")
