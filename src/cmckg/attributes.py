"""Attributes as users name them, and one value per batch of each (the input of every analysis).

An attribute name resolves through the term schemes (prefLabel, site altLabels, notation) to a
canonical concept, so every site's results of it answer together. A source's own column name
(a ``cmc:LocalTerm`` written by a table mapping, e.g. ``dissolution_min``) resolves to its
concept too, unless that source uses several local names for the one concept (``api_water`` and
``lactose_water`` are both water content): then it selects exactly that source's measurements.

``batch_values`` asks the store (``queries/attribute-values.rq``) for one value per batch: the
store does the joins through lineage and the averaging of replicates; Python converts units.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import pandas as pd
from rdflib import URIRef
from rdflib.namespace import SKOS

from . import queries, units
from .errors import MappingError, QueryError
from .stores import Store
from .vocab import CMC, CMCT, normalise_label, term_index

ATTRIBUTE_SCHEMES = (CMCT.QualityAttributes, CMCT.ProcessParameters)
BATCH_KINDS = {str(CMC.DrugSubstanceBatch): "drug_substance",
               str(CMC.DrugProductBatch): "drug_product"}
VALUE_COLUMNS = ["attribute", "batch", "identifier", "kind", "product", "site", "process_version",
                 "date", "stage", "material", "value", "unit", "n_values", "n_lots"]


@dataclass(frozen=True)
class Attribute:
    """A resolved attribute: the IRI queries select measurements by, and what it means."""

    name: str
    selector: URIRef
    concept: URIRef
    label: str
    default_unit: URIRef | None = None


def label_of(iri: object) -> str | None:
    """A readable label: a concept's prefLabel, else the IRI's last segment."""
    if iri is None or (isinstance(iri, float) and pd.isna(iri)):
        return None
    index = term_index()
    if URIRef(str(iri)) in index:
        return index.get(URIRef(str(iri))).label
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


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
    """The attribute a user means by ``name``; QueryError naming the nearest labels if none."""
    text = str(name).strip()
    index = term_index()
    if text.startswith(str(CMCT)) and URIRef(text) in index:
        return _concept_attribute(text, URIRef(text))
    found: set[URIRef] = set()
    for scheme in ATTRIBUTE_SCHEMES:
        found |= index.candidates(text, scheme)
    if len(found) == 1:
        return _concept_attribute(text, next(iter(found)))
    if found:
        labels = ", ".join(sorted(f"{index.get(i).label} ({i})" for i in found))
        raise QueryError(f"attribute {text!r} is ambiguous: it names {labels}; give the cmct: IRI")
    local = local_terms(store) if local is None else local
    matches = local[local["name"].map(normalise_label) == normalise_label(text)]
    if matches.empty:
        known = [t.label for s in ATTRIBUTE_SCHEMES for t in index.terms(s)]
        near = difflib.get_close_matches(text, known + list(local["name"]), n=4, cutoff=0.5)
        hint = f"; nearest known names: {', '.join(near)}" if near else ""
        raise QueryError(f"unknown attribute {text!r}{hint}")
    concepts = set(matches["concept"])
    if len(concepts) > 1:
        raise QueryError(f"attribute {text!r} names {len(concepts)} concepts in different "
                         f"sources: {', '.join(sorted(concepts))}; give the cmct: IRI")
    concept = URIRef(concepts.pop())
    shared = local[(local["concept"] == str(concept))
                   & local["issuer"].isin(set(matches["issuer"]))]
    if len(shared) > len(matches) and len(matches) == 1:
        row = matches.iloc[0]
        base = _concept_attribute(text, concept)
        return Attribute(text, URIRef(row["term"]), concept, str(row["name"]), base.default_unit)
    return _concept_attribute(text, concept)


def _concept_attribute(name: str, concept: URIRef) -> Attribute:
    return Attribute(name, concept, concept, label_of(concept) or str(concept),
                     default_unit(concept))


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
    concepts = {c for c in matches["concept"] if URIRef(c) in index and
                index.get(URIRef(c)).scheme == CMCT.Materials}
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
    except MappingError as exc:
        raise QueryError(f"stage: {exc.message}") from exc


@cache
def cqa_concepts() -> tuple[URIRef, ...]:
    """Concepts the term schemes flag as critical quality attributes (``cmc:isCQA true``)."""
    graph = term_index().graph
    return tuple(sorted(URIRef(s) for s, o in graph.subject_objects(CMC.isCQA)
                        if o.toPython() is True and (s, SKOS.inScheme, None) in graph))


def resolve_attributes(store: Store, names: Iterable[str]) -> list[Attribute]:
    local = None
    resolved = []
    for name in names:
        if local is None and not _is_canonical(name):
            local = local_terms(store)
        resolved.append(resolve_attribute(store, name, local))
    return resolved


def _is_canonical(name: str) -> bool:
    index = term_index()
    return any(index.candidates(name, scheme) for scheme in ATTRIBUTE_SCHEMES) or \
        str(name).startswith(str(CMCT))


def batch_values(
    store: Store,
    attribute: Attribute,
    *,
    material: URIRef | None = None,
    product: str | None = None,
    site: str | None = None,
    process_version: str | None = None,
) -> pd.DataFrame:
    """One value per batch (and stage, material) of ``attribute``, all in one unit.

    The unit is the attribute's default unit when every value converts to it, else the most
    common unit among the values; conversion goes through QUDT factors (``cmckg.units``).
    """
    params = {"attribute": attribute.selector, "material": str(material or ""),
              "product": product or "", "site": site or "",
              "process_version": process_version or ""}
    frame = queries.to_dataframe(queries.run(store, "attribute-values", params))
    if frame.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    frame["value"] = frame["value"].astype(float)
    frame = to_one_unit(frame, attribute)
    out = pd.DataFrame({
        "attribute": attribute.label,
        "batch": frame["batch"],
        "identifier": frame["identifier"],
        "kind": frame["class"].map(BATCH_KINDS),
        "product": frame["product"],
        "site": frame["site"],
        "process_version": frame["process_version"],
        "date": frame["date"].map(_timestamp),
        "stage": frame["stage"].map(stage_name),
        "material": frame["material_type"].map(label_of),
        "value": frame["value"],
        "unit": frame["unit"],
        "n_values": frame["n_values"].astype(int),
        "n_lots": frame["n_lots"].astype(int),
    })
    return out.sort_values(["stage", "material", "date", "identifier"], na_position="last",
                           ignore_index=True)


def to_one_unit(frame: pd.DataFrame, attribute: Attribute) -> pd.DataFrame:
    """Convert ``value`` (in ``unit``) of query rows to one unit; rows of one batch, class,
    stage and material that differed only in unit are merged, weighted by ``n_values``."""
    present = [u for u in frame["unit"].dropna().unique()]
    if not present:
        return frame
    target = _target_unit(present, attribute.default_unit)
    converted = []
    for value, unit in zip(frame["value"], frame["unit"], strict=True):
        if unit is None or unit == target:
            converted.append(value)
            continue
        try:
            converted.append(units.convert(value, unit, target))
        except MappingError as exc:
            raise QueryError(f"attribute {attribute.label!r}: {exc.message}") from exc
    frame = frame.assign(value=converted, unit=target)
    keys = ["batch", "class", "stage", "material_type"]
    if frame.duplicated(keys).any():
        frame = frame.assign(weighted=frame["value"] * frame["n_values"])
        merged = frame.groupby(keys, dropna=False, as_index=False).agg(
            {**{c: "first" for c in frame.columns if c not in keys},
             "weighted": "sum", "n_values": "sum", "n_lots": "max"})
        frame = merged.assign(value=merged["weighted"] / merged["n_values"]).drop(
            columns="weighted")
    return frame


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
