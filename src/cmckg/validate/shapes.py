"""The static shapes (``shapes/`` plus extra files), the ontology and the bundled term schemes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import SH

from .. import __version__
from ..errors import ConfigError
from ..resources import ontology_path, resource_dir, term_files
from ..vocab import IriMinter, bind_prefixes


def shapes_graph_iri(minter: IriMinter) -> URIRef:
    """The named graph that holds the generated specification shapes."""
    return URIRef(minter.base + "graph/shapes")


def shape_files(extra: Sequence[str | Path] = ()) -> list[Path]:
    files = sorted(resource_dir("shapes").glob("*.ttl"))
    for item in extra:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(path.glob("*.ttl")))
        elif path.is_file():
            files.append(path)
        else:
            raise ConfigError("no such shapes file or folder", str(path))
    return files


@cache
def _parse_turtle(path: Path, mtime: float) -> Graph:
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises many parser-specific types
        raise ConfigError(f"cannot read the shapes file: {exc}", str(path)) from exc
    return graph


def static_shapes(extra: Sequence[str | Path] = ()) -> Graph:
    """The shapes in ``shapes/`` plus any extra Turtle files or folders."""
    shapes = bind_prefixes(Graph())
    shapes.bind("sh", SH)
    shapes.bind("cmcsh", "https://w3id.org/cmckg/shapes#")
    for path in shape_files(extra):
        shapes += _parse_turtle(path, path.stat().st_mtime)
    return shapes


@cache
def ontology() -> Graph:
    graph = Graph()
    graph.parse(ontology_path(), format="turtle")
    return graph


@cache
def terms() -> Graph:
    graph = Graph()
    for path in term_files():
        graph.parse(path, format="turtle")
    return graph


def files_digest(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
