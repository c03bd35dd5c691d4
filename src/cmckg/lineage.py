"""Lineage: what went into a lot (backward) and where a lot went (forward, the recall question).

SPARQL walks the genealogy inside the store (``queries/lineage-backward.rq`` and
``lineage-forward.rq``: explicit steps over ``prov:wasDerivedFrom``, never an open path over mixed
predicates); Python only numbers the generations and renders the answer.

Edges keep the PROV direction: ``from`` is the derived entity, the consuming run or the sample,
``to`` is what it came from (a batch ``prov:wasDerivedFrom`` a lot, a run ``prov:used`` a lot, a
lot ``prov:wasGeneratedBy`` a run, a sample ``cmc:sampleOf`` a lot). ``depth`` counts lot
generations from the root: the run that made a lot and the lots that run used are one
generation away. ``step`` is the generation an edge reaches.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import pandas as pd
from rdflib import URIRef

from . import queries
from .attributes import ReferenceNode, identifier_of, reference_nodes
from .errors import MappingError, QueryError
from .stores import Store
from .vocab import CMC, CMCT, normalise_label, term_index

Direction = Literal["backward", "forward"]

#: The kinds a node can have, and the classes each stands for.
KINDS: dict[str, tuple[URIRef, ...]] = {
    "raw_material_lot": (CMC.RawMaterialLot,),
    "intermediate": (CMC.IntermediateLot,),
    "batch": (CMC.DrugSubstanceBatch, CMC.DrugProductBatch),
    "run": (CMC.ProcessRun,),
    "sample": (CMC.Sample,),
}
_KIND_OF_CLASS = {str(cls): kind for kind, classes in KINDS.items() for cls in classes}
_RELATIONS = {
    "http://www.w3.org/ns/prov#wasDerivedFrom": "prov:wasDerivedFrom",
    "http://www.w3.org/ns/prov#wasGeneratedBy": "prov:wasGeneratedBy",
    "http://www.w3.org/ns/prov#used": "prov:used",
    str(CMC.sampleOf): "cmc:sampleOf",
}
NODE_COLUMNS = ["iri", "identifier", "kind", "material", "site", "depth"]
EDGE_COLUMNS = ["from", "to", "relation", "step"]


@dataclass
class Lineage:
    """The answer to a lineage question: the root, its nodes and the edges between them."""

    root: str
    direction: Direction
    nodes: pd.DataFrame
    edges: pd.DataFrame

    def to_networkx(self) -> nx.DiGraph:
        """A directed graph in PROV direction; node and edge attributes are the table columns."""
        graph = nx.DiGraph(root=self.root, direction=self.direction)
        for row in self.nodes.to_dict("records"):
            graph.add_node(row["iri"], **{k: v for k, v in row.items() if k != "iri"})
        for row in self.edges.to_dict("records"):
            graph.add_edge(row["from"], row["to"], relation=row["relation"], step=row["step"])
        return graph

    def to_dict(self) -> dict[str, object]:
        """``{"root": IRI, "nodes": [...], "edges": [...]}`` with the table columns."""
        nodes = self.nodes.astype(object).where(self.nodes.notna(), None)
        return {
            "root": self.root,
            "direction": self.direction,
            "nodes": nodes.to_dict("records"),
            "edges": self.edges.to_dict("records"),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=int)

    def to_graphml(self) -> str:
        graph = self.to_networkx()
        for _, data in graph.nodes(data=True):
            for key, value in data.items():
                data[key] = "" if value is None or value != value else value
        graph.graph = {k: str(v) for k, v in graph.graph.items()}
        return "\n".join(nx.generate_graphml(graph))

    def _repr_html_(self) -> str:
        """The lineage picture and its node table (notebooks)."""
        from .present import lineage_html

        return lineage_html(self)

    def to_dot(self) -> str:
        """Graphviz DOT; nodes labelled with kind and identifier."""
        ids = {iri: f"n{i}" for i, iri in enumerate(self.nodes["iri"])}
        lines = [
            f"digraph lineage {{\n  // {self.direction} lineage of <{self.root}>",
            "  rankdir=RL;",
            "  node [shape=box, fontname=Helvetica];",
        ]
        for row in self.nodes.to_dict("records"):
            label = _dot_escape(_node_label(row))
            shape = "ellipse" if row["kind"] == "run" else "box"
            lines.append(
                f'  {ids[row["iri"]]} [label="{label}", shape={shape}, '
                f'tooltip="{_dot_escape(row["iri"])}"];'
            )
        for row in self.edges.to_dict("records"):
            lines.append(
                f"  {ids[row['from']]} -> {ids[row['to']]} "
                f'[label="{_dot_escape(row["relation"])}"];'
            )
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_mermaid(self) -> str:
        """A Mermaid flowchart (renders in GitHub and GitLab markdown)."""
        ids = {iri: f"n{i}" for i, iri in enumerate(self.nodes["iri"])}
        lines = ["flowchart RL"]
        for row in self.nodes.to_dict("records"):
            label = html.escape(_node_label(row), quote=True).replace("\n", "<br/>")
            opening, closing = ("([", "])") if row["kind"] == "run" else ("[", "]")
            lines.append(f'  {ids[row["iri"]]}{opening}"{label}"{closing}')
        for row in self.edges.to_dict("records"):
            lines.append(f"  {ids[row['from']]} -->|{row['relation']}| {ids[row['to']]}")
        return "\n".join(lines) + "\n"


def _node_label(row: dict) -> str:
    parts = [f"{row['kind'] or 'node'} {row['identifier'] or row['iri'].rsplit('/', 1)[-1]}"]
    if isinstance(row.get("material"), str):
        parts.append(row["material"])
    return "\n".join(parts)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def kind_of(class_iri: object) -> str | None:
    """The lineage kind (``raw_material_lot``, ``batch``…) of a class IRI, or None."""
    return _KIND_OF_CLASS.get(str(class_iri)) if class_iri is not None else None


def lineage(
    store: Store,
    id_or_iri: str,
    direction: Direction = "backward",
    depth: int | None = None,
    kind: str | None = None,
    material: str | None = None,
    supplier: str | None = None,
) -> Lineage:
    """Trace a lot, run or sample ``direction``-wards, up to ``depth`` generations (None: all).

    ``id_or_iri`` is a node IRI or an identifier as the issuer writes it; an identifier that
    names several nodes is an error listing them, narrowed with ``kind``, ``material`` (a name
    resolved through the term schemes, or the material's own label or identifier) and
    ``supplier`` (the supplier's identifier, e.g. the API source).
    """
    if direction not in ("backward", "forward"):
        raise QueryError(f"direction must be 'backward' or 'forward', not {direction!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise QueryError(f"depth must be a whole number ≥ 0, not {depth!r}")
    names = reference_nodes(store)
    root = resolve_node(
        store, id_or_iri, kind=kind, material=material, supplier=supplier, names=names
    )
    result = queries.run(store, f"lineage-{direction}", {"root": URIRef(root["node"])})
    return _assemble(root, direction, queries.to_records(result), depth, names)


def _assemble(
    root: dict,
    direction: Direction,
    records: list[dict[str, object]],
    depth: int | None,
    names: dict[str, ReferenceNode],
) -> Lineage:
    described: dict[str, dict] = {root["node"]: root}
    for node in _candidates(records, names):
        described.setdefault(node["node"], node)
    edges = {(r["from"], _RELATIONS[r["relation"]], r["to"]) for r in records}
    walk = nx.DiGraph()
    walk.add_node(root["node"])
    for source, _, target in edges:
        if direction == "backward":
            walk.add_edge(source, target)
        else:
            walk.add_edge(target, source)
    depths = nx.single_source_shortest_path_length(walk, root["node"], cutoff=depth)
    node_rows = sorted(
        (
            (
                iri,
                row.get("identifier"),
                kind_of(row.get("class")),
                row.get("material_label"),
                row.get("site"),
                depths[iri],
            )
            for iri, row in described.items()
            if iri in depths
        ),
        key=lambda r: (r[5], *_none_last(r[2]), *_none_last(r[1]), r[0]),
    )
    edge_rows = sorted(
        (
            (s, t, rel, max(depths[s], depths[t]))
            for s, rel, t in _without_shortcuts(edges)
            if s in depths and t in depths
        ),
        key=lambda r: (r[3], r[0], r[1], r[2]),
    )
    return Lineage(
        root["node"],
        direction,
        pd.DataFrame(node_rows, columns=NODE_COLUMNS),
        pd.DataFrame(edge_rows, columns=EDGE_COLUMNS),
    )


def _none_last(value: object) -> tuple[bool, object]:
    """A sort key putting None after every value (as pandas' ``na_position="last"``)."""
    return (value is None, "" if value is None else value)


def _without_shortcuts(edges: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Drop a lot→lot ``prov:wasDerivedFrom`` edge already shown through its run."""
    edges = set(edges)
    generated_by: dict[str, set[str]] = {}
    used: set[tuple[str, str]] = set()
    for source, relation, target in edges:
        if relation == "prov:wasGeneratedBy":
            generated_by.setdefault(source, set()).add(target)
        elif relation == "prov:used":
            used.add((source, target))
    return {
        (source, relation, target)
        for source, relation, target in edges
        if relation != "prov:wasDerivedFrom"
        or not any((run, target) in used for run in generated_by.get(source, ()))
    }


def resolve_node(
    store: Store,
    id_or_iri: str,
    *,
    kind: str | None = None,
    material: str | None = None,
    supplier: str | None = None,
    names: dict[str, ReferenceNode] | None = None,
) -> dict:
    """The one lot, run or sample named by an IRI or identifier (narrowed), as a dict with
    node, class, identifier, material_label, material_types, supplier and site."""
    if kind is not None and kind not in KINDS:
        raise QueryError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    text = str(id_or_iri).strip()
    if not text:
        raise QueryError("give a lot, run or sample identifier or IRI")
    if _looks_like_iri(text):
        records = queries.to_records(queries.run(store, "node-details", {"node": text}))
        if not records:
            raise QueryError(f"no lot, run or sample has the IRI <{text}>")
    else:
        records = queries.to_records(queries.run(store, "find-node", {"identifier": text}))
        if not records:
            raise QueryError(f"no lot, run or sample has the identifier {text!r}")
    candidates = _candidates(records, reference_nodes(store) if names is None else names)
    narrowed = [c for c in candidates if _matches(c, kind, material, supplier)]
    if len(narrowed) == 1:
        return narrowed[0]
    listing = "; ".join(_describe(c) for c in candidates)
    if not narrowed:
        asked = ", ".join(
            f"{k}={v}"
            for k, v in (("kind", kind), ("material", material), ("supplier", supplier))
            if v
        )
        raise QueryError(f"nothing named {text!r} matches {asked}; candidates: {listing}")
    raise QueryError(
        f"{text!r} names {len(narrowed)} nodes: {'; '.join(_describe(c) for c in narrowed)}; "
        "narrow it with kind, material or supplier (--kind, --material, --supplier) or give the IRI"
    )


def find_nodes(
    store: Store,
    identifier: str,
    *,
    kind: str | None = None,
    material: str | None = None,
    supplier: str | None = None,
) -> list[dict[str, Any]]:
    """Every lot, run or sample with this identifier that matches ``kind``, ``material`` and
    ``supplier`` (each dict as ``resolve_node`` gives it, plus its ``kind``)."""
    if kind is not None and kind not in KINDS:
        raise QueryError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    records = queries.to_records(
        queries.run(store, "find-node", {"identifier": identifier.strip()})
    )
    found = [
        c
        for c in _candidates(records, reference_nodes(store))
        if _matches(c, kind, material, supplier)
    ]
    return [{**c, "kind": kind_of(c.get("class"))} for c in found]


def _looks_like_iri(text: str) -> bool:
    scheme, sep, rest = text.partition(":")
    return bool(sep) and scheme.isalpha() and (rest.startswith("//") or scheme in {"urn", "tag"})


_CANDIDATE_FIELDS = ("class", "identifier", "material", "supplier", "site")


def _candidates(
    records: Iterable[dict[str, object]], names: dict[str, ReferenceNode]
) -> list[dict]:
    """One dict per node (in IRI order), its material, supplier and site named. Several rows
    for one node (two types, two materials) are merged: each field from the first row that has
    it, rows in order of class, identifier, material, supplier, site."""
    rows_of: dict[str, set[tuple]] = {}
    for record in records:
        rows_of.setdefault(str(record["node"]), set()).add(
            tuple(record.get(k) for k in _CANDIDATE_FIELDS)
        )
    merged = []
    for node in sorted(rows_of):
        rows = rows_of[node]
        entry: dict = {"node": node, "material_types": set()}
        for cls, identifier, material_iri, supplier, site in (
            rows if len(rows) == 1 else sorted(rows, key=_row_order)
        ):
            material = names.get(str(material_iri)) if material_iri else None
            if material is not None and material.material_type:
                entry["material_types"].add(material.material_type)
            values = {
                "class": cls if kind_of(cls) else None,
                "identifier": identifier,
                "material": material_iri,
                "material_label": material.name if material else None,
                "material_id": material.identifier if material else None,
                "supplier": identifier_of(supplier, names),
                "site": identifier_of(site, names),
            }
            for key, value in values.items():
                if entry.get(key) is None:
                    entry[key] = value
        merged.append(entry)
    return merged


def _row_order(row: tuple) -> list:
    return [key for value in row for key in _none_last(value)]


def _matches(node: dict, kind: str | None, material: str | None, supplier: str | None) -> bool:
    if kind is not None and kind_of(node.get("class")) != kind:
        return False
    if supplier is not None and normalise_label(str(node.get("supplier") or "")) != normalise_label(
        supplier
    ):
        return False
    return material is None or material_matches(node, material)


def material_matches(node: dict, material: str) -> bool:
    """Whether ``material`` names the node's material: by concept (through the term schemes,
    with every alias) or by the material's own label or identifier."""
    wanted = normalise_label(material)
    own = {normalise_label(str(node[k])) for k in ("material_label", "material_id") if node.get(k)}
    if wanted in own:
        return True
    concepts = {str(t) for t in node.get("material_types", ())}
    if not concepts:
        return False
    try:
        term = term_index().resolve(material)
    except MappingError:
        return any(normalise_label(c.removeprefix(str(CMCT))) == wanted for c in concepts)
    return str(term.iri) in concepts or bool(concepts & {str(m) for m in term.exact_matches})


def _describe(node: dict) -> str:
    parts = [kind_of(node.get("class")) or "node", str(node.get("identifier") or "")]
    if node.get("material_label"):
        parts.append(f"({node['material_label']}")
        parts[-1] += f", supplier {node['supplier']})" if node.get("supplier") else ")"
    elif node.get("supplier"):
        parts.append(f"(supplier {node['supplier']})")
    if node.get("site"):
        parts.append(f"at {node['site']}")
    return " ".join(parts) + f" <{node['node']}>"
