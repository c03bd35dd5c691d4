"""Wide tables whose headers carry the property and its unit ("HCP (ng/mg)").

A table mapping's measurement item may name ``columns:`` instead of ``value:``: a regex with the
named groups ``property`` and ``unit`` (or ``units-in-headers`` for ``Name (unit)``). Once the
table's header is known, the item becomes one measurement per matching column — so a QC export
with twenty result columns needs one line in the mapping, not twenty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError

__all__ = ["UNITS_IN_HEADERS", "expand_header_columns"]

UNITS_IN_HEADERS = r"^(?P<property>.+?)\s*\((?P<unit>[^()]+)\)$"
_NAMED = {"units-in-headers": UNITS_IN_HEADERS}


def _escape(text: str) -> str:
    """Header text as a constant template (braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


def _expand_item(
    item: Mapping[str, Any], path: str, header: Sequence[str], file: str
) -> list[dict[str, Any]]:
    if "value" in item:
        raise ConfigError("give either 'columns' or 'value', not both", file, path)
    raw = item["columns"]
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(
            "expected a regex with the groups (?P<property>…) and (?P<unit>…), "
            "or 'units-in-headers'",
            file,
            f"{path}.columns",
        )
    try:
        pattern = re.compile(_NAMED.get(raw.strip(), raw))
    except re.error as exc:
        raise ConfigError(f"not a valid regex: {exc}", file, f"{path}.columns") from None
    if "property" not in pattern.groupindex:
        raise ConfigError("the regex needs a group (?P<property>…)", file, f"{path}.columns")
    out = []
    for column in header:
        match = pattern.match(column) if column else None
        if match is None:
            continue
        expanded = {k: v for k, v in item.items() if k != "columns"}
        expanded["value"] = column
        expanded.setdefault("property", _escape(match.group("property").strip()))
        if "unit" in pattern.groupindex and match.group("unit"):
            expanded.setdefault("unit", _escape(match.group("unit").strip()))
        out.append(expanded)
    if not out:
        raise ConfigError(
            f"no column of the header matches '{pattern.pattern}' (header: "
            f"{', '.join(c for c in header if c)})",
            file,
            f"{path}.columns",
        )
    return out


def expand_header_columns(config: Mapping[str, Any], header: Sequence[str]) -> Mapping[str, Any]:
    """The mapping with every ``columns:`` measurement item replaced by one item per matching
    header column (its ``property`` and ``unit`` read from the header unless the item sets
    them). A mapping without such items is returned as it is."""
    entities = config.get("entities")
    if not isinstance(entities, Mapping):
        return config
    file = str(config.get("__file__", "mapping"))
    changed: dict[str, Any] = {}
    for name, spec in entities.items():
        measurements = spec.get("measurements") if isinstance(spec, Mapping) else None
        if not isinstance(measurements, list) or not any(
            isinstance(m, Mapping) and "columns" in m for m in measurements
        ):
            continue
        items: list[Any] = []
        for i, item in enumerate(measurements):
            if isinstance(item, Mapping) and "columns" in item:
                items += _expand_item(item, f"entities.{name}.measurements[{i}]", header, file)
            else:
                items.append(item)
        changed[name] = {**spec, "measurements": items}
    if not changed:
        return config
    return {**config, "entities": {**entities, **changed}}
