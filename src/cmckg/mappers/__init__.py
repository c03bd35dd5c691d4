"""Source-format mappers. Each module registers one Mapper; ``mapper_for`` picks by content."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MappingError
from .base import MapContext, Mapper, RecordGraph, file_sha256

_REGISTRY: dict[str, Mapper] = {}


def register(mapper: Mapper) -> Mapper:
    _REGISTRY[mapper.name] = mapper
    return mapper


BUILTIN_MAPPERS = ["asm", "b2mml", "tables", "workbook", "documents"]


def _load_builtin() -> None:
    """Import the built-in mapper modules; each registers itself on import."""
    for module_name in BUILTIN_MAPPERS:
        importlib.import_module(f"{__name__}.{module_name}")


def available() -> dict[str, Mapper]:
    _load_builtin()
    return dict(_REGISTRY)


def mapper_for(
    path: Path, name: str | None = None, mapping: Mapping[str, Any] | None = None
) -> Mapper:
    """The mapper named by ``name`` or the mapping's ``mapper:`` key; a mapping without one means
    the tables mapper; otherwise the mapper whose ``detect`` accepts the file's content."""
    mappers = available()
    if name is None and mapping is not None:
        name = str(mapping.get("mapper", "tables"))
    if name is not None:
        if name not in mappers:
            raise MappingError(
                f"unknown format '{name}'; known formats: {', '.join(sorted(mappers))}", str(path)
            )
        return mappers[name]
    with open(path, "rb") as handle:
        head = handle.read(65536)
    for mapper in mappers.values():
        if mapper.detect(path, head):
            return mapper
    raise MappingError(
        "cannot tell the format from the content (not ASM JSON or B2MML XML); "
        "tables need --mapping FILE, or name the format with --source-format",
        str(path),
    )


__all__ = [
    "MapContext",
    "Mapper",
    "RecordGraph",
    "available",
    "file_sha256",
    "mapper_for",
    "register",
]
