"""A lineage as text other tools draw: Graphviz DOT, a Mermaid flowchart, GraphML (networkx).

The analysis (``cmckg.lineage``) returns nodes and edges; drawing them is done here, beside the
SVG picture (``lineage_svg``) and the HTML page. ``Lineage.to_dot()`` and its siblings call these.
"""

from __future__ import annotations

import html
from collections.abc import Hashable, Mapping
from typing import Any

import networkx as nx

from ..lineage import Lineage


def to_dot(lineage: Lineage) -> str:
    """Graphviz DOT; nodes labelled with kind and identifier, runs as ellipses."""
    ids = _ids(lineage)
    lines = [
        f"digraph lineage {{\n  // {lineage.direction} lineage of <{lineage.root}>",
        "  rankdir=RL;",
        "  node [shape=box, fontname=Helvetica];",
    ]
    for row in lineage.nodes.to_dict("records"):
        label = _dot_escape(_node_label(row))
        shape = "ellipse" if row["kind"] == "run" else "box"
        lines.append(
            f'  {ids[row["iri"]]} [label="{label}", shape={shape}, '
            f'tooltip="{_dot_escape(row["iri"])}"];'
        )
    for row in lineage.edges.to_dict("records"):
        lines.append(
            f'  {ids[row["from"]]} -> {ids[row["to"]]} [label="{_dot_escape(row["relation"])}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(lineage: Lineage) -> str:
    """A Mermaid flowchart (renders in GitHub and GitLab markdown)."""
    ids = _ids(lineage)
    lines = ["flowchart RL"]
    for row in lineage.nodes.to_dict("records"):
        label = html.escape(_node_label(row), quote=True).replace("\n", "<br/>")
        opening, closing = ("([", "])") if row["kind"] == "run" else ("[", "]")
        lines.append(f'  {ids[row["iri"]]}{opening}"{label}"{closing}')
    for row in lineage.edges.to_dict("records"):
        lines.append(f"  {ids[row['from']]} -->|{row['relation']}| {ids[row['to']]}")
    return "\n".join(lines) + "\n"


def to_graphml(lineage: Lineage) -> str:
    """GraphML of ``Lineage.to_networkx()`` (missing values as empty text)."""
    graph = lineage.to_networkx()
    for _, data in graph.nodes(data=True):
        for key, value in data.items():
            data[key] = "" if value is None or value != value else value
    graph.graph = {k: str(v) for k, v in graph.graph.items()}
    return "\n".join(nx.generate_graphml(graph))


def _ids(lineage: Lineage) -> dict[str, str]:
    return {iri: f"n{i}" for i, iri in enumerate(lineage.nodes["iri"])}


def _node_label(row: Mapping[Hashable, Any]) -> str:
    parts = [f"{row['kind'] or 'node'} {row['identifier'] or row['iri'].rsplit('/', 1)[-1]}"]
    if isinstance(row.get("material"), str):
        parts.append(row["material"])
    return "\n".join(parts)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
