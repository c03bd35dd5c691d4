"""The analytics layer's answers read back: the series rows a saved query returns (one cell of
JSON lines per series) as the value rows the analyses work on.

The JSON fields are the layer's (``cmckg.analytics``, ``ontology/MODEL.md`` "Analytics
layer"); every field but ``lot`` and ``measurement`` is a list, and every combination of a
row's several values, units, stages… is a row, as a join over the records gives it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from typing import Any

from rdflib import URIRef

from .analytics import BATCH_CLASSES
from .stores import QueryResult

#: The columns of a value row as the analyses read it (one per batch, measurement and value);
#: the records' saved queries (attribute-values.rq …) answer with the same columns.
ROW_COLUMNS = (
    "batch",
    "identifier",
    "class",
    "measurement",
    "value",
    "unit",
    "stage",
    "lot",
    "material_node",
    "product_node",
    "site_node",
    "pv_node",
    "date",
)


def joined(
    keys: Iterable[tuple[Any, ...]], found: Iterable[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Each series' key columns (a row of analytics-series.rq or analytics-upstream-series.rq,
    its series first) with the series' rows cell from the query that read them (series, rows),
    in the shape ``series_rows`` and ``upstream_rows`` read: keys without the series, then rows.
    A series with several keys (a lot of two products) comes once per key."""
    cells = {series: lines for series, lines in found}
    return [(*key[1:], cells[key[0]]) for key in keys if key[0] in cells]


def series_rows(
    answer: Iterable[tuple[Any, ...]], censored: bool = False
) -> Iterator[tuple[object, ...]]:
    """The value rows (``ROW_COLUMNS``, and the qualifier when ``censored``) of ``joined``
    series keys and the cells of ``analytics-values.rq``: per series, one JSON object per line.
    Every combination of a row's several values, units, stages… is a row, as a join over the
    records gives it."""
    for class_, material, product, site, version, lines in answer:
        if lines is None:
            continue
        fixed = (str(class_), _text(material), _text(product), _text(site), _text(version))
        for line in str(lines).split("\n"):
            row = json.loads(line)
            for number, qualifier in _numbers(row, censored):
                for unit, stage, identifier, date in _combinations(row):
                    measured = (row["measurement"], number, unit, stage, row["lot"])
                    yield (
                        row["lot"],
                        identifier,
                        fixed[0],
                        *measured,
                        *fixed[1:],
                        date,
                        *((qualifier,) if censored else ()),
                    )


def upstream_rows(
    answer: Iterable[tuple[Any, ...]], censored: bool = False
) -> Iterator[tuple[object, ...]]:
    """The value rows (``ROW_COLUMNS``) in the answer of ``analytics-values-upstream.rq``:
    per series, one line per batch and row (the batch summary's JSON, a tab, the row's)."""
    for material, lines in answer:
        if not lines:
            continue
        for line in dict.fromkeys(str(lines).split("\n")):
            batch_text, row_text = line.split("\t", 1)
            batch, row = json.loads(batch_text), json.loads(row_text)
            for number, qualifier in _numbers(row, censored):
                for unit, stage, _, _ in _combinations(row):
                    for facts in _batch_combinations(batch):
                        kind, identifier, date, product, site, version = facts
                        measured = (row["measurement"], number, unit, stage, row["lot"])
                        yield (
                            batch["lot"],
                            identifier,
                            kind,
                            *measured,
                            _text(material),
                            product,
                            site,
                            version,
                            date,
                            *((qualifier,) if censored else ()),
                        )


#: The columns of a raw-material lot's value rows (``raw_lot_rows``).
RAW_LOT_COLUMNS = ("lot", "measurement", "value", "unit", "property", "local_term", "material_node")


def raw_lot_rows(result: QueryResult) -> list[tuple[Any, ...]]:
    """The rows (``RAW_LOT_COLUMNS``) in the answer of ``analytics-raw-lot-values.rq``."""
    rows = []
    for prop, local, material, lines in result.rows:
        if not lines:
            continue
        for line in dict.fromkeys(str(lines).split("\n")):
            row = json.loads(line)
            for value in row["values"]:
                for unit in row["units"] or [None]:
                    rows.append(
                        (
                            row["lot"],
                            row["measurement"],
                            value,
                            unit,
                            str(prop),
                            _text(local),
                            _text(material),
                        )
                    )
    return rows


def _text(term: object) -> str | None:
    return None if term is None else str(term)


def _numbers(row: dict[str, Any], censored: bool) -> list[tuple[float, str | None]]:
    """(number, qualifier) of a row: its values, or with ``censored`` its limits."""
    if censored:
        return [(limit, q) for limit in row["limits"] for q in row["qualifiers"]]
    return [(value, None) for value in row["values"]]


def _combinations(row: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    return itertools.product(
        row["units"] or [None],
        row["stages"] or [None],
        row["identifiers"] or [None],
        row["dates"] or [None],
    )


def _batch_combinations(batch: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    kinds = [k for k in batch["kinds"] if URIRef(k) in BATCH_CLASSES]
    return itertools.product(
        kinds,
        batch["identifiers"] or [None],
        batch["dates"] or [None],
        batch["products"],  # none: left out, as attribute-values-upstream.rq requires one
        batch["sites"] or [None],
        batch["process_versions"] or [None],
    )
