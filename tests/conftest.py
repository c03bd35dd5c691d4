"""Shared fixtures. Real data lives under examples/ (see SOURCES.md); small ones in tests/data."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cmckg import KnowledgeGraph
    from cmckg.errors import CmckgError
    from cmckg.stores import Store

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TEST_DATA = Path(__file__).resolve().parent / "data"

STORE_KINDS = ["memory", "oxigraph", "remote"]
#: The base IRI of the tests' stores (cmckg's default), for IRIs written out in assertions.
BASE = "https://w3id.org/cmckg/id/"


def store_location(kind: str, tmp_path: Path) -> str:
    """A fresh store location of the given backend kind.

    "remote" is the query URL of a new, empty Oxigraph SPARQL server (tests/server.py), stopped
    when the test module ends; "virtuoso" the session's Virtuoso server, emptied
    (tests/virtuoso.py; one such store at a time, skipped without Virtuoso).
    """
    if kind == "memory":
        return "memory:"
    if kind == "oxigraph":
        return f"oxigraph:{tmp_path / 'store'}"
    if kind == "remote":
        from server import remote_location

        return remote_location()
    if kind == "virtuoso":
        from virtuoso import virtuoso_location

        return virtuoso_location()
    raise ValueError(kind)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def kg(store_kind: str, tmp_path: Path) -> Iterator[KnowledgeGraph]:
    """An empty knowledge graph (base IRI ``BASE``) on a fresh store of each kind; a module
    wanting other content defines its own ``kg``."""
    from cmckg import KnowledgeGraph

    with KnowledgeGraph.open(store_location(store_kind, tmp_path), base_iri=BASE) as opened:
        yield opened


@pytest.fixture
def no_user_sparql_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep a developer's own ~/.config/cmckg/sparql.yaml and CMCKG_SPARQL_* out of the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in list(os.environ):
        if name.startswith("CMCKG_SPARQL_"):
            monkeypatch.delenv(name)


def store_snapshot(store: Store) -> list[tuple[str, ...]]:
    """Every quad of the named graphs as sortable text: the exact state of the store."""
    return sorted(tuple(t.n3() if t is not None else "" for t in quad) for quad in store.quads())


def assert_refused_unchanged(
    store: Store,
    action: Callable[[], object],
    error: type[CmckgError] | None = None,
    fragments: tuple[str, ...] | list[str] = (),
) -> str:
    """``action`` must raise ``error`` (default: any cmckg error) with a one-line message
    holding every fragment, and leave ``store`` exactly as it was; returns the message."""
    from cmckg.errors import CmckgError

    before = store_snapshot(store)
    with pytest.raises(error or CmckgError) as caught:
        action()
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert store_snapshot(store) == before
    return message


@pytest.fixture(autouse=True, scope="module")
def _stop_remote_servers_after_module() -> Iterator[None]:
    """Stops the SPARQL servers that store_location("remote") started for this module."""
    from server import module_servers

    with module_servers():
        yield


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite tests/golden/*.nq from the mappers' current output (then review the diff)",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The number of cases the property-based tests tried (tests/test_mapper_properties.py)."""
    cases = [
        value
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", ())
        if name == "hypothesis_cases"
    ]
    if cases:
        terminalreporter.write_sep("-", "property-based cases tried")
        for line in sorted(cases):
            terminalreporter.write_line(str(line))
