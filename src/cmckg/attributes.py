"""Attributes as users name them, and one value per batch of each (the input of every analysis).

An attribute name resolves through the term schemes (prefLabel, site altLabels, notation) to a
canonical concept, so every site's results of it answer together. A source's own name (a
``cmc:LocalTerm`` written by a table mapping: a test name such as ``HMW (SEC)`` or a column such
as ``lactose_water``) resolves to its concept too, kept to the materials and stages of that
source's own results (``lactose_water``: lactose lots, CoA; ``impurities_total``: release).

``batch_values`` asks the store (``queries/attribute-values*.rq``) for the values per batch and
measurement: the store does the joins, through lineage for raw-material and intermediate
attributes; Python averages over distinct measurements and converts units.
"""

from __future__ import annotations

import difflib
import itertools
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd
from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

from . import queries, series_rows, units
from .errors import MappingError, QueryError, TermError
from .stores import Store
from .vocab import BATCH_KINDS as BATCH_KINDS  # re-exported: summary and cpv read it here
from .vocab import CMC, CMCT, normalise_label, term_index

ATTRIBUTE_SCHEMES = (CMCT.QualityAttributes, CMCT.ProcessParameters)
#: What statistics do with censored results ("<0.5"): leave them out (the default, and they
#: are counted), or substitute a result below a limit by the limit or half of it. Results above
#: a limit (">100") are always left out.
CENSORED_CHOICES = ("exclude", "limit", "half-limit")
#: Where the analyses read values: the derived analytics layer (``cmckg.analytics``, the
#: default) or the records themselves (the saved queries the layer replaced; kept as the parity
#: reference and for a store whose layer was never built).
SOURCES = ("layer", "records")
SAVED_QUERIES = {
    "layer": {
        "values": "analytics-values",
        "upstream": "analytics-values-upstream",
        "measured_upstream": "analytics-measured-upstream",
        "censored": "analytics-censored-values",
        "raw_material": "analytics-raw-lot-values",  # joined with analytics-upstream-lots
    },
    "records": {
        "values": "attribute-values",
        "upstream": "attribute-values-upstream",
        "measured_upstream": "attribute-measured-upstream",
        "censored": "attribute-censored-values",
        "raw_material": "raw-material-values",
    },
}
#: The columns of the value queries' rows (one per batch and measurement), before ``_per_batch``.
ROW_COLUMNS = list(series_rows.ROW_COLUMNS)
#: The query finding the analytics series each layer role reads (the role's query then reads
#: their rows).
LAYER_SERIES = {
    "values": "analytics-series",
    "censored": "analytics-series",
    "upstream": "analytics-upstream-series",
}
VALUE_COLUMNS = [
    "attribute",
    "batch",
    "identifier",
    "kind",
    "product",
    "site",
    "process_version",
    "date",
    "stage",
    "material",
    "value",
    "unit",
    "n_values",
    "n_lots",
]


@dataclass(frozen=True)
class Attribute:
    """A resolved attribute: the IRI queries select measurements by, and what it means."""

    name: str
    selector: URIRef
    concept: URIRef
    label: str
    default_unit: URIRef | None = None
    materials: tuple[str, ...] = ()  # material nodes a source-local name implies (lactose_water)
    stages: tuple[str, ...] = ()  # stage names a source-local name implies (impurities_total)


def label_of(iri: object) -> str | None:
    """A readable label: a concept's prefLabel, else the IRI's last segment."""
    if iri is None or (isinstance(iri, float) and pd.isna(iri)):
        return None
    index = term_index()
    if URIRef(str(iri)) in index:
        return index.get(URIRef(str(iri))).label
    return unquote(str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1])  # minted IRIs quote text


def stage_name(stage: object) -> str | None:
    """A stage concept's short name (``CoA``, ``InProcess``, ``Release``…)."""
    if stage is None or (isinstance(stage, float) and pd.isna(stage)):
        return None
    return str(stage).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def unit_symbol(unit: object) -> str | None:
    """A unit IRI's display symbol (the IRI itself if cmckg.units does not know it)."""
    if unit is None or (isinstance(unit, float) and pd.isna(unit)):
        return None
    try:
        return units.symbol(str(unit))
    except MappingError:
        return str(unit)


def local_terms(store: Store) -> pd.DataFrame:
    """Every source's local names for canonical terms (term, name, issuer, concept)."""
    return queries.to_dataframe(queries.run(store, "local-terms"))


def resolve_attribute(store: Store, name: str, local: pd.DataFrame | None = None) -> Attribute:
    """The attribute a user means by ``name``; QueryError naming the nearest labels if none.

    A source's own name for one concept wins (kept to its materials and stages); otherwise the
    term schemes decide, a concept's preferred label winning over another's alias.
    """
    text = str(name).strip()
    index = term_index()
    if text.startswith(str(CMCT)) and URIRef(text) in index:
        return _concept_attribute(text, URIRef(text))
    local = local_terms(store) if local is None else local
    matches = local[local["name"].map(normalise_label) == normalise_label(text)]
    if not matches.empty and matches["concept"].nunique() == 1:
        return _local_attribute(store, text, matches)
    found: set[URIRef] = set()
    for scheme in ATTRIBUTE_SCHEMES:
        found |= index.candidates(text, scheme)
    if len(found) > 1:  # a name that is one concept's preferred label and another's alias
        preferred = {
            i
            for i in found
            if normalise_label(index.get(i).label) == normalise_label(text)
            or normalise_label(i.split("#")[-1]) == normalise_label(text)
        }
        found = preferred if len(preferred) == 1 else found
    if len(found) == 1:
        return _concept_attribute(text, next(iter(found)))
    if found or not matches.empty:
        labels = ", ".join(
            sorted({f"{label_of(i)} ({i})" for i in [*found, *map(URIRef, matches["concept"])]})
        )
        raise QueryError(f"attribute {text!r} is ambiguous: it names {labels}; give the cmct: IRI")
    known = [t.label for s in ATTRIBUTE_SCHEMES for t in index.terms(s)]
    near = difflib.get_close_matches(text, known + list(local["name"]), n=4, cutoff=0.5)
    hint = f"; nearest known names: {', '.join(near)}" if near else ""
    raise QueryError(f"unknown attribute {text!r}{hint}")


def _local_attribute(store: Store, text: str, matches: pd.DataFrame) -> Attribute:
    """A source-local name: its concept, kept to the materials and stages of its own results
    (each only when every result has one)."""
    concept = URIRef(matches["concept"].iloc[0])
    scope_query = "analytics-local-term-scope" if has_layer(store) else "local-term-scope"
    scope = pd.concat(
        [
            queries.to_dataframe(queries.run(store, scope_query, {"term": t}))
            for t in matches["term"]
        ],
        ignore_index=True,
    )
    materials = sorted(set(scope["material"].dropna())) if scope["material"].notna().all() else []
    stages = sorted(set(scope["stage"].dropna())) if scope["stage"].notna().all() else []
    return replace(
        _concept_attribute(text, concept),
        materials=tuple(materials),
        stages=tuple(stage_name(s) for s in stages),
    )


def _concept_attribute(name: str, concept: URIRef) -> Attribute:
    return Attribute(
        name, concept, concept, label_of(concept) or str(concept), default_unit(concept)
    )


def default_unit(concept: object) -> URIRef | None:
    """The term schemes' default unit of a concept (None if it has none or is unknown)."""
    index = term_index()
    iri = URIRef(str(concept))
    return index.get(iri).default_unit if iri in index else None


def resolve_material(store: Store, name: str) -> URIRef:
    """A material concept (or material IRI) from a term, alias, or source-local name."""
    text = str(name).strip()
    if ":" in text and "//" in text:
        return URIRef(text)
    index = term_index()
    found = index.candidates(text, CMCT.Materials)
    if len(found) == 1:
        return next(iter(found))
    local = local_terms(store)
    matches = local[local["name"].map(normalise_label) == normalise_label(text)]
    concepts = {
        c
        for c in matches["concept"]
        if URIRef(c) in index and index.get(URIRef(c)).scheme == CMCT.Materials
    }
    if len(concepts) == 1:
        return URIRef(concepts.pop())
    if found or len(concepts) > 1:
        raise QueryError(f"material {text!r} is ambiguous; give the cmct: IRI")
    near = index.nearest_labels(text)
    hint = f"; nearest known labels: {', '.join(near)}" if near else ""
    raise QueryError(f"unknown material {text!r}{hint}")


def resolve_stage(name: str) -> URIRef:
    """A testing-stage concept (CoA, InProcess, Release, Stability, Intermediate) by any label."""
    try:
        return term_index().resolve(name, CMCT.Stages).iri
    except TermError as exc:
        raise exc.within("stage") from None


@cache
def cqa_concepts() -> tuple[URIRef, ...]:
    """Concepts the term schemes flag as critical quality attributes (``cmc:isCQA true``)."""
    graph = term_index().graph
    return tuple(
        sorted(
            URIRef(s)
            for s, o in graph.subject_objects(CMC.isCQA)
            if o.toPython() is True and (s, SKOS.inScheme, None) in graph
        )
    )


def resolve_attributes(store: Store, names: Iterable[str]) -> list[Attribute]:
    local = local_terms(store)
    return [resolve_attribute(store, name, local) for name in names]


@dataclass(frozen=True)
class ReferenceNode:
    """A product, site, supplier, material or process version, as the store names it."""

    iri: str
    kind: str
    identifier: str | None
    label: str | None
    material_type: str | None

    @property
    def name(self) -> str:
        return self.label or self.identifier or self.iri.rsplit("/", 1)[-1]


#: reference_nodes per store: the store revision it was read at, and what it found.
_REFERENCE_NODES: weakref.WeakKeyDictionary[Store, tuple[int, dict[str, ReferenceNode]]] = (
    weakref.WeakKeyDictionary()
)


def reference_nodes(store: Store) -> dict[str, ReferenceNode]:
    """Every product, site, supplier, material and process version by IRI (one small query).

    Every lineage and analysis call names nodes with these, so the answer is kept per store
    until its ``revision`` changes (any write through ``Store.apply``); a store others write to
    (``Store.sole_writer`` false: a SPARQL server) is asked every time. Writes that bypass
    ``apply`` (through ``KnowledgeGraph.graph`` or the native store) are not seen.
    """
    kept = _REFERENCE_NODES.get(store) if store.sole_writer else None
    if kept is not None and kept[0] == store.revision:
        return dict(kept[1])
    revision = store.revision
    rows = queries.run(store, "reference-nodes").rows
    found: dict[str, dict[str, str]] = {}
    for node, cls, key, value in sorted(tuple(map(str, row)) for row in rows):
        entry = found.setdefault(node, {"kind": cls.rsplit("#", 1)[-1]})
        entry.setdefault(key, value)
    names = {
        iri: ReferenceNode(
            iri, v["kind"], v.get("identifier"), v.get("label"), v.get("material_type")
        )
        for iri, v in found.items()
    }
    if store.sole_writer:
        _REFERENCE_NODES[store] = (revision, names)
    return dict(names)


def nodes_named(text: str, kind: str, names: dict[str, ReferenceNode]) -> list[str]:
    """IRIs of the ``kind`` nodes (Product, Site, ProcessVersion…) a user's name means: by
    identifier exactly, else by identifier or label ignoring case and spacing."""
    of_kind = [n for n in names.values() if n.kind == kind]
    exact = sorted(n.iri for n in of_kind if n.identifier == text)
    if exact:
        return exact
    wanted = normalise_label(text)
    return sorted(
        n.iri
        for n in of_kind
        if wanted in {normalise_label(v) for v in (n.identifier, n.label) if v}
    )


def material_nodes(material: str, names: dict[str, ReferenceNode]) -> list[str]:
    """Material node IRIs for a material concept IRI (or a material node IRI itself)."""
    if material in names:
        return [material]
    return sorted(
        n.iri for n in names.values() if n.kind == "Material" and n.material_type == material
    )


def material_key(node: object, names: dict[str, ReferenceNode]) -> str | None:
    """The material concept of a material node (or the node itself if it has no type)."""
    if node is None or (isinstance(node, float) and pd.isna(node)):
        return None
    known = names.get(str(node))
    return known.material_type if known and known.material_type else str(node)


def material_name(key: object, names: dict[str, ReferenceNode]) -> str | None:
    """A readable name of a material concept or material node."""
    if key is None or (isinstance(key, float) and pd.isna(key)):
        return None
    if URIRef(str(key)) in term_index():
        return label_of(key)
    known = names.get(str(key))
    return known.name if known else label_of(key)


def identifier_of(node: object, names: dict[str, ReferenceNode]) -> str | None:
    if node is None or (isinstance(node, float) and pd.isna(node)):
        return None
    known = names.get(str(node))
    if known and known.identifier:
        return known.identifier
    return unquote(str(node).rsplit("/", 1)[-1])


def saved_query(source: str, role: str) -> str:
    """The saved query that answers ``role`` (values, upstream, censored…) from ``source``."""
    if source not in SOURCES:
        raise QueryError(f"source is one of {', '.join(SOURCES)}, not {source!r}")
    return SAVED_QUERIES[source][role]


def check_layer(store: Store, source: str) -> None:
    """QueryError when ``source`` is the layer and the store has measured values but no
    analytics rows (written before the layer existed, or around ingest): an empty answer
    would be a wrong one."""
    if saved_query(source, "values") != SAVED_QUERIES["layer"]["values"]:
        return
    measured, rows = _layer_status(store)
    if measured and not rows:
        raise QueryError(
            "the store has no analytics layer (written by an older cmckg or outside ingest): "
            "run 'cmckg reindex' once"
        )


def has_layer(store: Store) -> bool:
    """True when the store holds the analytics layer."""
    return _layer_status(store)[1]


def _layer_status(store: Store) -> tuple[bool, bool]:
    """(the store holds measured values, it holds analytics series)."""
    answer = queries.run(store, "analytics-status").rows
    if not answer:  # rdflib answers nothing when both are unbound
        return False, False
    measured, rows = (isinstance(term, Literal) and term.toPython() is True for term in answer[0])
    return measured, rows


def batch_values(
    store: Store,
    attribute: Attribute,
    *,
    material: URIRef | None = None,
    product: str | None = None,
    site: str | None = None,
    process_version: str | None = None,
    kind: str | None = None,
    names: dict[str, ReferenceNode] | None = None,
    censored: str = "exclude",
    source: str = "layer",
) -> pd.DataFrame:
    """One value per batch, stage and material of ``attribute``, all in one unit (``kind``: of
    batches of that kind only, ``drug_substance`` or ``drug_product``).

    Censored results ("<0.5") are left out unless ``censored`` is ``limit`` or ``half-limit``:
    then a result below a limit counts as the limit or half of it (``censored_values`` counts
    them either way).

    The store does the joins (through lineage for raw-material and intermediate attributes)
    and returns one row per batch and measurement; replicates and several lots of one material
    are averaged here over distinct measurements (``n_values`` of them, from ``n_lots`` lots).
    The unit is the attribute's default unit when every value converts to it, else the most
    common unit among the values; conversion goes through QUDT factors (``cmckg.units``).
    """
    if censored not in CENSORED_CHOICES:
        raise QueryError(f"censored is one of {', '.join(CENSORED_CHOICES)}, not {censored!r}")
    check_layer(store, source)
    names = reference_nodes(store) if names is None else names
    upstream = queries.run(
        store, saved_query(source, "measured_upstream"), {"attribute": attribute.selector}
    ).boolean
    roles = ("values", "upstream") if upstream else ("values",)
    where = ValueFilter(material, product, site, process_version, kind)
    rows = _value_rows(store, attribute, roles, source, where, names)
    if censored != "exclude":
        below = _value_rows(store, attribute, ("censored",), source, where, names)
        if not below.empty:
            below = below[below["qualifier"].astype(str).isin(["<", "≤"])]
            factor = 1.0 if censored == "limit" else 0.5
            below = below.assign(value=below["value"].astype(float) * factor)
            rows = pd.concat(
                [f for f in (rows, below.drop(columns="qualifier")) if not f.empty] or [rows],
                ignore_index=True,
            )
    values = _per_batch(rows, attribute, names)
    return values if kind is None else values[values["kind"] == kind].reset_index(drop=True)


def censored_values(
    store: Store,
    attribute: Attribute,
    *,
    material: URIRef | None = None,
    product: str | None = None,
    site: str | None = None,
    process_version: str | None = None,
    names: dict[str, ReferenceNode] | None = None,
    source: str = "layer",
) -> pd.DataFrame:
    """The censored results of ``attribute`` on batches, shaped like ``batch_values``: per batch,
    stage and material, ``n_values`` censored results and ``value`` the mean of their limits
    (a limit, not a measured value)."""
    names = reference_nodes(store) if names is None else names
    where = ValueFilter(material, product, site, process_version)
    rows = _value_rows(store, attribute, ("censored",), source, where, names)
    return _per_batch(rows.drop(columns="qualifier") if not rows.empty else rows, attribute, names)


@dataclass(frozen=True)
class ValueFilter:
    """Which batches' values a value query returns (None: any): a material's node, and the
    names or IRIs of a product, site and process version the user gave; a batch kind
    (``BATCH_KINDS`` value), which only the layer's queries narrow by (the others' rows are
    filtered after)."""

    material: URIRef | None = None
    product: str | None = None
    site: str | None = None
    process_version: str | None = None
    kind: str | None = None


def _value_rows(
    store: Store,
    attribute: Attribute,
    roles: tuple[str, ...],
    source: str,
    where: ValueFilter,
    names: dict[str, ReferenceNode],
) -> pd.DataFrame:
    """The rows the saved value queries return, over every node the filters name."""
    implied = list(attribute.materials) or [""]
    choices = [
        material_nodes(str(where.material), names) if where.material else implied,
        nodes_named(where.product, "Product", names) if where.product else [""],
        nodes_named(where.site, "Site", names) if where.site else [""],
        nodes_named(where.process_version, "ProcessVersion", names)
        if where.process_version
        else [""],
    ]
    kind = {"kind": _kind_class(where.kind)} if source == "layer" else {}
    frames = [
        _rows_frame(
            store,
            source,
            role,
            {
                "attribute": attribute.selector,
                "material": m,
                "product": p,
                "site": s,
                "process_version": v,
                **kind,
            },
        )
        for m, p, s, v in itertools.product(*choices)
        for role in roles
    ]
    return pd.concat([f for f in frames if not f.empty] or [pd.DataFrame()], ignore_index=True)


def _kind_class(kind: str | None) -> str:
    """The class IRI of a batch kind name ("": any)."""
    if kind is None:
        return ""
    classes = [str(iri) for iri, name in BATCH_KINDS.items() if name == kind]
    if not classes:
        raise QueryError(f"kind is one of {', '.join(BATCH_KINDS.values())}, not {kind!r}")
    return classes[0]


def _rows_frame(store: Store, source: str, role: str, params: dict[str, object]) -> pd.DataFrame:
    """The rows (``ROW_COLUMNS``, with ``qualifier`` for censored results) a value query
    answers: the records' saved query as it is; from the layer, the series that match
    (``LAYER_SERIES``) and then their rows, read back by ``cmckg.series_rows``."""
    if source == "records":
        return queries.to_dataframe(queries.run(store, saved_query(source, role), params))
    upstream = role == "upstream"
    asked = ("attribute", "material") if upstream else tuple(params)
    keys = queries.run(store, LAYER_SERIES[role], {k: params[k] for k in asked}).rows
    narrowing = {k: v for k, v in params.items() if k not in asked}
    series = sorted({key[0] for key in keys if isinstance(key[0], URIRef)})
    found = queries.run_each(store, saved_query(source, role), "series", series, narrowing)
    censored = role == "censored"
    read = series_rows.upstream_rows if upstream else series_rows.series_rows
    columns = [*ROW_COLUMNS, "qualifier"] if censored else ROW_COLUMNS
    return pd.DataFrame(read(series_rows.joined(keys, found.rows), censored), columns=columns)


def _per_batch(
    rows: pd.DataFrame, attribute: Attribute, names: dict[str, ReferenceNode]
) -> pd.DataFrame:
    """Rows of the value queries → one value per batch, stage and material, in one unit."""
    if rows.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    rows = to_one_unit(rows.assign(value=rows["value"].astype(float)), attribute)
    rows["material"] = _each_distinct(rows["material_node"], lambda n: material_key(n, names))
    keys = ["batch", "class", "stage", "material"]
    per_value = rows.drop_duplicates([*keys, "measurement"])
    grouped = per_value.groupby(keys, dropna=False, sort=False)
    first = rows.groupby(keys, dropna=False, sort=False).first()
    out = pd.DataFrame(
        {
            "value": grouped["value"].mean(),
            "unit": grouped["unit"].first(),
            "n_values": grouped["measurement"].nunique(),
            "n_lots": rows.groupby(keys, dropna=False, sort=False)["lot"].nunique(),
            "product": _each_distinct(first["product_node"], lambda n: identifier_of(n, names)),
            "site": _each_distinct(first["site_node"], lambda n: identifier_of(n, names)),
            "process_version": _each_distinct(first["pv_node"], lambda n: identifier_of(n, names)),
            "date": _each_distinct(first["date"], _timestamp),
            "identifier": first["identifier"],
        }
    ).reset_index()
    out["attribute"] = attribute.label
    out["kind"] = out["class"].map(BATCH_KINDS)
    out["stage"] = _each_distinct(out["stage"], stage_name)
    out["material"] = _each_distinct(out["material"], lambda m: material_name(m, names))
    if attribute.stages:
        out = out[out["stage"].isin(attribute.stages)]
    out = out[VALUE_COLUMNS]
    return out.sort_values(
        ["stage", "material", "date", "identifier"], na_position="last", ignore_index=True
    )


def _each_distinct(column: pd.Series, convert: Callable[[Any], object]) -> pd.Series:
    """``column.map(convert)`` with one call of ``convert`` per distinct value (a batch's
    product, site, date… repeat over thousands of rows)."""
    codes, uniques = pd.factorize(column)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [convert(value) for value in uniques]
    missing = np.flatnonzero(codes < 0)  # None / NaN: code -1, the last cell
    if len(missing):
        table[-1] = convert(column.iloc[missing[0]])
    mapped = pd.Series(table[codes], index=column.index)
    return mapped.infer_objects()


def to_one_unit(frame: pd.DataFrame, attribute: Attribute) -> pd.DataFrame:
    """Convert each row's ``value`` from its ``unit`` to one unit for the attribute."""
    present = [u for u in frame["unit"].dropna().unique()]
    if not present:
        return frame
    target = _target_unit(present, attribute.default_unit)
    converted = []
    for value, unit in zip(frame["value"], frame["unit"], strict=True):
        if unit is None or unit == target or (isinstance(unit, float) and pd.isna(unit)):
            converted.append(value)
            continue
        try:
            converted.append(units.convert(value, unit, target))
        except TermError as exc:
            raise exc.within(f"attribute {attribute.label!r}") from None
    return frame.assign(value=converted, unit=target)


def _target_unit(present: list[str], default: URIRef | None) -> str:
    if default is not None and all(_convertible(u, str(default)) for u in present):
        return str(default)
    return Counter(present).most_common(1)[0][0]


def _convertible(a: str, b: str) -> bool:
    try:
        units.convert(1.0, a, b)
    except MappingError:
        return False
    return True


def _timestamp(value: object) -> pd.Timestamp | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    try:
        return pd.Timestamp(str(value)[:10])
    except ValueError:
        return None
