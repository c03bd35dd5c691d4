"""The bundled example records (``examples/examples.yaml``), as ingest groups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import ConfigError
from .resources import resource_dir


@dataclass(frozen=True)
class ExampleGroup:
    """Files that one ingest reads, with the mapping they need (None: detected from content)."""

    name: str
    files: tuple[Path, ...]
    mapping: Path | None


def example_groups(directory: Path | None = None) -> list[ExampleGroup]:
    directory = directory or resource_dir("examples")
    manifest = directory / "examples.yaml"
    try:
        spec = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the example manifest: {exc}", str(manifest)) from exc
    groups = []
    for entry in spec["groups"]:
        files = tuple(sorted(p for pattern in entry["files"] for p in directory.glob(pattern)))
        if not files:
            raise ConfigError(f"no files match {entry['files']}", str(manifest), entry["name"])
        mapping = directory / entry["mapping"] if entry.get("mapping") else None
        groups.append(ExampleGroup(entry["name"], files, mapping))
    return groups
