"""Declarative tabular mapping: CSV/TSV/XLSX rows → entities, links and measurements.

One YAML format (``examples/MAPPING.md``) covers long results tables, lot tables, process-run
tables, specification tables and wide batch tables. The package has four rooms: ``model``
(what a checked mapping is), ``config`` (a mapping's YAML parsed and checked into the model,
before any row is read), ``reading`` (table files to rows) and ``rows`` (rows to record
graphs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...errors import MappingError
from ...vocab import TermIndex
from ..base import MapContext, MappedFormat, RecordGraph
from ..mapping import MAPPING_FORMAT_VERSION, lookup_term
from ..wide import expand_header_columns
from .config import parse_mapping, source_options
from .model import TableMapping
from .reading import read_table
from .rows import RowMapper


class TablesMapper(MappedFormat):
    """CSV/TSV/XLSX through a YAML mapping (chosen when the user passes ``--mapping``)."""

    name: ClassVar[str] = "tables"
    noun: ClassVar[str] = "a table"

    def records(
        self, context: MapContext, config: Mapping[str, Any], terms: TermIndex
    ) -> list[RecordGraph]:
        wide = _has_header_columns(config)
        mapping = None if wide else parse_mapping(config, terms)
        options = mapping.source if mapping is not None else source_options(config, terms)
        header, rows = read_table(context.source_path, options, context.display_path)
        if mapping is None:  # "columns:" items become one measurement per matching column
            mapping = parse_mapping(expand_header_columns(config, header), terms)
        present = set(header)
        for column, path in mapping.columns.items():
            if column not in present:
                raise MappingError(
                    f"missing required column '{column}' (the mapping's {path} reads it)",
                    context.display_path,
                    "row=1",
                    column,
                )
        mapper = RowMapper(mapping, context, terms)
        for number, row in rows:
            if mapping.keeps(row):
                mapper.map_row(number, row)
        records = [r.graph for r in mapper.records.values()]
        alias_record = mapper.alias_record()
        if alias_record is not None:
            records.append(alias_record)
        return records


def _has_header_columns(config: Mapping[str, Any]) -> bool:
    entities = config.get("entities")
    return isinstance(entities, Mapping) and any(
        isinstance(spec, Mapping)
        and isinstance(spec.get("measurements"), list)
        and any(isinstance(m, Mapping) and "columns" in m for m in spec["measurements"])
        for spec in entities.values()
    )


__all__ = ["MAPPING_FORMAT_VERSION", "TableMapping", "TablesMapper", "lookup_term", "read_table"]
