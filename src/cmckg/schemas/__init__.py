"""JSON Schemas for the files users write (mapping YAML, vocabulary YAML), and validation
against them that names the file, the line and the key path of the first problem.

The schemas are published with the package (``cmckg/schemas/*.schema.json``); examples point
editors at them with a ``# yaml-language-server: $schema=...`` comment so keys complete and
typos are flagged while typing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent

__all__ = ["SCHEMA_DIR", "key_path", "schema", "schema_path", "validate_document"]


def schema_path(name: str) -> Path:
    """The file of schema ``name`` (``mapping`` or ``vocabulary``)."""
    return SCHEMA_DIR / f"{name}.schema.json"


@cache
def schema(name: str) -> dict[str, Any]:
    with open(schema_path(name), encoding="utf-8") as handle:
        return json.load(handle)


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name))


def key_path(parts: Any) -> str:
    """``concepts[2].unit`` for the path ``("concepts", 2, "unit")``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate_document(document: Any, name: str, source: str | None,
                      lines: Mapping[tuple, int] | None = None) -> None:
    """Raise ConfigError for the first place ``document`` breaks schema ``name``, naming the
    source, the line (when ``lines`` maps key paths to lines) and the key path."""
    errors = sorted(_validator(name).iter_errors(document),
                    key=lambda e: (_line(e, lines), list(map(str, e.absolute_path))))
    if not errors:
        return
    error = errors[0]
    line = _line(error, lines)
    raise ConfigError(_message(error), source, f"line {line}" if line else None,
                      key_path(error.absolute_path) or None)


def _line(error: ValidationError, lines: Mapping[tuple, int] | None) -> int:
    if not lines:
        return 0
    path = tuple(error.absolute_path)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 0)


def _message(error: ValidationError) -> str:
    """jsonschema's message, shortened where it would print a whole sub-document."""
    if error.validator in ("additionalProperties", "required", "const", "enum", "pattern",
                           "minLength", "exclusiveMinimum"):
        return error.message
    if error.validator == "type":
        return f"must be {_types(error.validator_value)}, not {type(error.instance).__name__}"
    if error.validator in ("anyOf", "oneOf"):
        return "does not match any of the allowed forms"
    return error.message if len(error.message) < 200 else error.message[:200] + "…"


def _types(value: Any) -> str:
    names = {"string": "text", "object": "a mapping", "array": "a list", "number": "a number",
             "integer": "an integer", "boolean": "true or false", "null": "empty"}
    values = value if isinstance(value, list) else [value]
    return " or ".join(names.get(v, v) for v in values)
