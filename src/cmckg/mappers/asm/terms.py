"""Which IRI an ASM key names: the AFO IRI the schema release declares (from the vendored
allotropy table ``ontology/vendor/asm-property-iris.csv``), else a local term of cmckg's own."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote

from rdflib import URIRef

from ...resources import resource_dir

ASM_LOCAL = "https://w3id.org/cmckg/terms/asm-local#"
"""Namespace of local terms for ASM keys with no AFO IRI and for custom-information keys."""
ASM_LOCAL_SCHEME = URIRef("https://w3id.org/cmckg/terms/asm-local")
"""The ``skos:ConceptScheme`` the local terms are in."""

_MANIFEST = re.compile(r"/manifests/([^/]+)/([^/]+)/(\d{4})/(\d{2})/")


@dataclass(frozen=True)
class _KeyRow:
    iri: str
    releases: frozenset[str]
    techniques: frozenset[str]
    malformed: bool
    shared: bool


@cache
def _key_rows() -> dict[str, tuple[_KeyRow, ...]]:
    """ASM key → its (key, IRI) rows from the vendored table (allotropy schemas, MIT)."""
    path = resource_dir("ontology") / "vendor" / "asm-property-iris.csv"
    rows: dict[str, list[_KeyRow]] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row["asm_key"], []).append(
                _KeyRow(
                    iri=row["iri"],
                    releases=frozenset(filter(None, row["schema_releases"].split(";"))),
                    techniques=frozenset(filter(None, row["techniques"].split(";"))),
                    malformed="malformed IRI" in row["flags"],
                    shared="IRI also used for" in row["flags"],
                )
            )
    return {key: tuple(found) for key, found in rows.items()}


def schema_release(manifest: str | None) -> tuple[str | None, str | None]:
    """``(release, technique)`` of a manifest IRI, e.g. ``("pcr/REC/2024/09", "pcr")``."""
    match = _MANIFEST.search(manifest or "")
    if match is None:
        return None, None
    technique, status, year, month = match.groups()
    return f"{technique}/{status}/{year}/{month}", technique


@cache
def asm_property_iri(key: str, manifest: str | None = None) -> URIRef | None:
    """The AFO IRI an ASM key stands for under the schema named by ``manifest``, or None.

    Where a key has two IRIs, never take one whose fragment lacks the ``AFR_`` prefix (a slip in
    2024 schemas, fixed in 2025/03) over a well-formed one; then prefer the IRI declared by that
    schema release, then by its technique, then by the core schema; then one used for this key
    only over one the schemas reuse for another key (e.g. ``retention volume`` → AFR_0002521
    rather than retention time's AFR_0001089, both declared by liquid-chromatography 2023/09).
    """
    rows = _key_rows().get(key)
    if not rows:
        return None
    release, technique = schema_release(manifest)

    def rank(row: _KeyRow) -> tuple[bool, bool, bool, bool, bool, str]:
        return (
            row.malformed,
            release not in row.releases,
            technique not in row.techniques,
            "core" not in row.techniques,
            row.shared,
            row.iri,
        )

    return URIRef(min(rows, key=rank).iri)


@cache
def local_term(key: str) -> URIRef:
    """The local term minted for an ASM key that has no AFO IRI."""
    return URIRef(ASM_LOCAL + quote(key, safe=""))
