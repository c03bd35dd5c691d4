"""Shared fixtures. Real data lives under examples/ (with SOURCES.md); tiny fixtures in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TEST_DATA = Path(__file__).resolve().parent / "data"

STORE_KINDS = ["memory", "oxigraph", "remote"]


def store_location(kind: str, tmp_path: Path) -> str:
    """A fresh store location of the given backend kind.

    "remote" is a real Oxigraph SPARQL server (tests/server.py), shared by the session and
    emptied on every call: one empty dataset per call, so call it once per test.
    """
    if kind == "memory":
        return "memory:"
    if kind == "oxigraph":
        return f"oxigraph:{tmp_path / 'store'}"
    if kind == "remote":
        from server import shared_remote_location

        return shared_remote_location()
    raise ValueError(kind)


@pytest.fixture(params=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param
