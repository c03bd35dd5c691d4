"""Locate the declarative resources (ontology, shapes, queries, examples).

In a source checkout they live at the repository's top level; in an installed wheel they are
packaged under ``cmckg/_resources``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    """Return the directory ``name`` (``ontology``, ``shapes``, ``queries``, ``examples``)."""
    for candidate in (_PACKAGE_DIR / "_resources" / name, _PACKAGE_DIR.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cmckg resource directory '{name}' not found (broken install?)")


def ontology_path() -> Path:
    return resource_dir("ontology") / "cmckg.ttl"


def term_files() -> list[Path]:
    return sorted((resource_dir("ontology") / "terms").glob("*.ttl"))
