"""Declarative tabular mapping: CSV/TSV/XLSX rows → entities, links and measurements.

One YAML format (``examples/MAPPING.md``) covers long results tables, lot tables, process-run
tables, specification tables and wide batch tables. The package has three rooms: ``config``
(the mapping model, parsed and checked before any row is read), ``reading`` (table files to
rows) and ``rows`` (rows to record graphs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from ...errors import ConfigError, MappingError
from ...vocab import term_index
from ..base import MapContext, RecordGraph
from ..wide import expand_header_columns
from .config import MAPPING_FORMAT_VERSION, TableMapping, lookup_term, source_options
from .reading import read_table
from .rows import RowMapper


class TablesMapper:
    """CSV/TSV/XLSX through a YAML mapping (chosen when the user passes ``--mapping``)."""

    name: ClassVar[str] = "tables"
    version: ClassVar[str] = "1"

    def detect(self, path: Path, head: bytes) -> bool:
        """Tables are never guessed: without a mapping there is nothing to map them with."""
        return False

    def map(self, context: MapContext, config: Mapping[str, Any] | None) -> Iterator[RecordGraph]:
        if config is None:
            raise ConfigError("a table needs a mapping (--mapping FILE)", context.display_path)
        terms = term_index()
        wide = _has_header_columns(config)
        mapping = None if wide else TableMapping.parse(config, terms)
        options = mapping.source if mapping is not None else source_options(config, terms)
        header, rows = read_table(context.source_path, options, context.display_path)
        if mapping is None:  # "columns:" items become one measurement per matching column
            mapping = TableMapping.parse(expand_header_columns(config, header), terms)
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
        origin = Path(mapping.file).name
        for record in records:
            record.origin = origin
        return iter(records)


def _has_header_columns(config: Mapping[str, Any]) -> bool:
    entities = config.get("entities")
    return isinstance(entities, Mapping) and any(
        isinstance(spec, Mapping)
        and isinstance(spec.get("measurements"), list)
        and any(isinstance(m, Mapping) and "columns" in m for m in spec["measurements"])
        for spec in entities.values()
    )


__all__ = ["MAPPING_FORMAT_VERSION", "TableMapping", "TablesMapper", "lookup_term", "read_table"]
