"""Source-format mappers, found through one static table: ``MAPPERS`` names each mapper and the
class that implements it (as allotropy maps a vendor to its parser). Only the mapper in use is
imported; ``mapper_for`` picks one by name, by a mapping's ``mapper:`` key, or by content."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import MappingError
from .base import MapContext, Mapper, RecordGraph, file_sha256

#: name → ``module:Class`` under ``cmckg.mappers``, in the order content detection tries them
MAPPERS: dict[str, str] = {
    "asm": "asm:AsmMapper",
    "b2mml": "b2mml:B2mmlMapper",
    "tables": "tables:TablesMapper",
    "workbook": "workbook:WorkbookMapper",
    "documents": "documents:DocumentsMapper",
}


def unknown_format(name: str) -> str:
    """The one line that says ``name`` is no mapper and which ones there are."""
    return f"unknown format '{name}'; known formats: {', '.join(sorted(MAPPERS))}"


@cache
def mapper(name: str) -> Mapper:
    """The mapper called ``name``: a MappingError for an unknown name."""
    if name not in MAPPERS:
        raise MappingError(unknown_format(name))
    module_name, class_name = MAPPERS[name].split(":")
    found: Mapper = getattr(importlib.import_module(f"{__name__}.{module_name}"), class_name)()
    return found


def mapper_for(
    path: Path, name: str | None = None, mapping: Mapping[str, Any] | None = None
) -> Mapper:
    """The mapper named by ``name`` or the mapping's ``mapper:`` key; a mapping without one means
    the tables mapper; otherwise the mapper whose ``detect`` accepts the file's content."""
    if name is None and mapping is not None:
        name = str(mapping.get("mapper", "tables"))
    if name is not None:
        if name not in MAPPERS:
            raise MappingError(unknown_format(name), str(path))
        return mapper(name)
    with open(path, "rb") as handle:
        head = handle.read(65536)
    for candidate in MAPPERS:
        if mapper(candidate).detect(path, head):
            return mapper(candidate)
    raise MappingError(
        "cannot tell the format from the content (not ASM JSON or B2MML XML); "
        "tables need --mapping FILE, or name the format with --source-format",
        str(path),
    )


__all__ = [
    "MAPPERS",
    "MapContext",
    "Mapper",
    "RecordGraph",
    "file_sha256",
    "mapper",
    "mapper_for",
    "unknown_format",
]
