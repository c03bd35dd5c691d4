"""The lineage picture: a layered layout (grandalf's Sugiyama, pure Python) drawn as inline SVG.

Upstream is at the top and material flows down (arrows point downstream), for a backward
and a forward trace alike; grandalf chooses the layers and the order within them.
To stay readable on large forward traces, runs and lots of one kind and material at one
generation are drawn as one box ("14 runs: A-PROD-1001 … A-PROD-1028") when there are more
than ``group_over`` of them, and generations beyond ``max_depth`` are left out with a note
saying how many nodes that hides.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from ..lineage import Lineage
from .tables import records

BOX_W, BOX_H, RUN_H = 156, 42, 34
LAYER_GAP, ROW_GAP = 34, 16
KIND_STYLE = {  # fill, stroke
    "raw_material_lot": ("#e8f1fb", "#3a78b5"),
    "intermediate": ("#f3f3f3", "#777777"),
    "batch": ("#eaf6ea", "#3c8d40"),
    "run": ("#fff6e0", "#b58a1e"),
    "sample": ("#f6eefb", "#8a52b5"),
}


@dataclass
class Box:
    """One drawn node: a lineage node, or a group of alike nodes."""

    key: str
    kind: str | None
    depth: int
    title: str
    subtitle: str
    members: list[str] = field(default_factory=list)
    root: bool = False


@dataclass
class _View:
    w: float
    h: float
    xy: tuple[float, float] = (0.0, 0.0)


def lineage_svg(lineage: Lineage, *, max_depth: int | None = 8, group_over: int = 6) -> str:
    """The lineage as an SVG element (no scripts, no external references)."""
    boxes, edges, hidden = _boxes(lineage, max_depth, group_over)
    if not boxes:
        return "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'></svg>"
    positions = _layout(boxes, edges)
    return _draw(boxes, edges, positions, hidden, max_depth)


def _boxes(
    lineage: Lineage, max_depth: int | None, group_over: int
) -> tuple[dict[str, Box], set[tuple[str, str]], int]:
    rows = records(lineage.nodes.astype(object).where(lineage.nodes.notna(), None))
    shown = [r for r in rows if max_depth is None or r["depth"] <= max_depth]
    hidden = len(rows) - len(shown)
    groups: dict[tuple[int, str | None, str | None], list[dict[str, Any]]] = {}
    for row in shown:
        groups.setdefault((row["depth"], row["kind"], row["material"]), []).append(row)
    box_of: dict[str, str] = {}
    boxes: dict[str, Box] = {}
    for (depth, kind, material), members in groups.items():
        members.sort(key=lambda r: str(r["identifier"] or r["iri"]))
        if len(members) > group_over and not any(m["iri"] == lineage.root for m in members):
            key = f"group:{depth}:{kind}:{material}"
            names = [str(m["identifier"] or m["iri"]) for m in members]
            boxes[key] = Box(
                key,
                kind,
                depth,
                f"{len(members)} {_plural(kind)}",
                f"{names[0]} … {names[-1]}",
                names,
            )
            box_of.update({m["iri"]: key for m in members})
            continue
        for m in members:
            boxes[m["iri"]] = Box(
                m["iri"],
                kind,
                depth,
                str(m["identifier"] or m["iri"].rsplit("/", 1)[-1]),
                _subtitle(m),
                [str(m["identifier"])],
                root=m["iri"] == lineage.root,
            )
            box_of[m["iri"]] = m["iri"]
    edges = {
        (box_of[e["from"]], box_of[e["to"]])
        for e in lineage.edges.to_dict("records")
        if e["from"] in box_of and e["to"] in box_of and box_of[e["from"]] != box_of[e["to"]]
    }
    return boxes, edges, hidden


def _plural(kind: str | None) -> str:
    return {
        "raw_material_lot": "raw-material lots",
        "intermediate": "intermediate lots",
        "batch": "batches",
        "run": "runs",
        "sample": "samples",
    }.get(kind or "", "nodes")


def _subtitle(row: dict[str, Any]) -> str:
    kind = (row["kind"] or "node").replace("_", " ")
    material = f" · {row['material']}" if row.get("material") else ""
    return kind + material


def _layout(boxes: dict[str, Box], edges: set[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """Centre of each box: grandalf layers the graph top to bottom from the upstream ends
    (a long chain stays as tall as its generations, and a page scrolls that way anyway)."""
    vertices = {k: Vertex(k) for k in sorted(boxes)}
    for key, vertex in vertices.items():
        vertex.view = _View(BOX_W, RUN_H if boxes[key].kind == "run" else BOX_H)
    graph = Graph(
        list(vertices.values()),
        [Edge(vertices[upstream], vertices[derived]) for derived, upstream in sorted(edges)],
    )
    positions: dict[str, tuple[float, float]] = {}
    offset = 0.0
    for component in graph.C:  # disconnected parts (rare) are placed side by side
        layout = SugiyamaLayout(component)
        layout.xspace, layout.yspace = ROW_GAP, LAYER_GAP
        layout.init_all()
        layout.draw()
        left = min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
        top = min(v.view.xy[1] - v.view.h / 2 for v in component.sV)
        for v in component.sV:
            positions[v.data] = (
                v.view.xy[0] - left + BOX_W / 2 - v.view.w / 2 + offset,
                v.view.xy[1] - top + BOX_H / 2,
            )
        offset = max(x for x, _ in positions.values()) + BOX_W / 2 + ROW_GAP
    return positions


def _draw(
    boxes: dict[str, Box],
    edges: set[tuple[str, str]],
    positions: dict[str, tuple[float, float]],
    hidden: int,
    max_depth: int | None,
) -> str:
    margin = 12
    width = max(x for x, _ in positions.values()) + BOX_W / 2 + 2 * margin
    height = max(y for _, y in positions.values()) + BOX_H / 2 + 2 * margin + (18 if hidden else 0)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='lineage' role='img' "
        f"width='{width:.0f}' height='{height:.0f}' viewBox='0 0 {width:.0f} {height:.0f}' "
        "font-family='system-ui, sans-serif' font-size='12'>",
        "<title>Lineage</title>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
        "markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z' "
        "fill='#888'/></marker></defs>",
    ]
    half = {k: (RUN_H if b.kind == "run" else BOX_H) / 2 for k, b in boxes.items()}
    for derived, upstream in sorted(edges):
        (x1, y1), (x2, y2) = positions[upstream], positions[derived]
        x1, x2 = x1 + margin, x2 + margin
        y1, y2 = y1 + half[upstream] + margin, y2 - half[derived] + margin
        mid = (y1 + y2) / 2
        parts.append(
            f"<path d='M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} "
            f"{x2:.1f},{y2:.1f}' fill='none' stroke='#999' stroke-width='1.2' "
            "marker-end='url(#arrow)'/>"
        )
    for key, box in sorted(boxes.items()):
        x, y = positions[key]
        h = RUN_H if box.kind == "run" else BOX_H
        fill, stroke = KIND_STYLE.get(box.kind or "", ("#fff", "#444"))
        rx = 16 if box.kind == "run" else 4
        width_px = 3 if box.root else 1.2
        tip = html.escape(", ".join(box.members) if len(box.members) > 1 else key)
        parts.append(
            f"<g class='node {html.escape(box.kind or 'node')}' data-identifier='"
            f"{html.escape(box.title)}'><title>{tip}</title>"
            f"<rect x='{x - BOX_W / 2 + margin:.1f}' y='{y - h / 2 + margin:.1f}' "
            f"width='{BOX_W}' height='{h}' rx='{rx}' fill='{fill}' stroke='{stroke}' "
            f"stroke-width='{width_px}'/>"
            f"<text x='{x + margin:.1f}' y='{y + margin - 3:.1f}' text-anchor='middle' "
            f"font-weight='600'>{html.escape(_clip(box.title))}</text>"
            f"<text x='{x + margin:.1f}' y='{y + margin + 11:.1f}' text-anchor='middle' "
            f"fill='#555' font-size='10.5'>{html.escape(_clip(box.subtitle, 27))}</text></g>"
        )
    if hidden:
        parts.append(
            f"<text x='{margin}' y='{height - 8:.0f}' fill='#555'>{hidden} more nodes "
            f"beyond generation {max_depth} are not drawn (see the table)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
