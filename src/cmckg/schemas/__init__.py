"""JSON Schemas for the files users write (mapping YAML, vocabulary YAML), and validation
against them that names the file, the line and the key path of the first problem.

The schemas are published with the package (``cmckg/schemas/*.schema.json``); examples point
editors at them with a ``# yaml-language-server: $schema=...`` comment so keys complete and
typos are flagged while typing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..errors import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent

KeyPath = tuple[str | int, ...]
"""A place in a document: mapping keys and list indices, outermost first."""

__all__ = [
    "SCHEMA_DIR",
    "KeyPath",
    "key_path",
    "load_yaml_with_lines",
    "schema",
    "schema_path",
    "validate_document",
    "yaml_lines",
]


def schema_path(name: str) -> Path:
    """The file of schema ``name`` (``mapping`` or ``vocabulary``)."""
    return SCHEMA_DIR / f"{name}.schema.json"


@cache
def schema(name: str) -> dict[str, Any]:
    with open(schema_path(name), encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(schema(name))


def load_yaml_with_lines(text: str) -> tuple[Any, dict[KeyPath, int]]:
    """A YAML document and the 1-based line of each of its nodes by key path (PyYAML's
    composed nodes keep their marks); YAMLError as PyYAML raises it."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if node is None:
        return None, {}
    return yaml.SafeLoader("").construct_document(node), yaml_lines(node)


def yaml_lines(node: yaml.Node, path: KeyPath = ()) -> dict[KeyPath, int]:
    """1-based line of every node of a composed YAML document, by its key path (a key's own
    line for a mapping entry)."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines.update(yaml_lines(value, (*path, key.value)))
            lines[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(yaml_lines(item, (*path, index)))
    return lines


def key_path(parts: Any) -> str:
    """``concepts[2].unit`` for the path ``("concepts", 2, "unit")``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validate_document(
    document: Any, name: str, source: str | None, lines: Mapping[KeyPath, int] | None = None
) -> None:
    """Raise ConfigError for the first place ``document`` breaks schema ``name``, naming the
    source, the line (when ``lines`` maps key paths to lines) and the key path."""
    errors = sorted(
        _validator(name).iter_errors(document),
        key=lambda e: (_line(_place(e), lines), list(map(str, e.absolute_path))),
    )
    if not errors:
        return
    error = errors[0]
    path = _place(error)
    line = _line(path, lines)
    raise ConfigError(
        _message(error), source, f"line {line}" if line else None, key_path(path) or None
    )


_UNEXPECTED = re.compile(r"'([^']+)' (?:was|were) unexpected|\('([^']+)',")


def _unexpected(error: ValidationError) -> str | None:
    """The first unknown key an additional/unevaluated-properties error is about."""
    if error.validator not in ("additionalProperties", "unevaluatedProperties"):
        return None
    match = _UNEXPECTED.search(error.message)
    return str(match.group(1) or match.group(2)) if match else None


def _place(error: ValidationError) -> KeyPath:
    """The key path of an error; for an unknown key, the key itself (a typo's own line)."""
    path = tuple(error.absolute_path)
    key = _unexpected(error)
    return (*path, key) if key is not None else path


def _line(path: KeyPath, lines: Mapping[KeyPath, int] | None) -> int:
    if not lines:
        return 0
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 0)


def _message(error: ValidationError) -> str:
    """jsonschema's message, shortened where it would print a whole sub-document."""
    key = _unexpected(error)
    if key is not None:
        return f"unknown key '{key}'"
    if error.validator in ("required", "const", "enum", "pattern", "minLength", "exclusiveMinimum"):
        return str(error.message)
    if error.validator == "type":
        return f"must be {_types(error.validator_value)}, not {type(error.instance).__name__}"
    if error.validator in ("anyOf", "oneOf"):
        return "does not match any of the allowed forms"
    message = str(error.message)
    return message if len(message) < 200 else message[:200] + "…"


def _types(value: Any) -> str:
    names = {
        "string": "text",
        "object": "a mapping",
        "array": "a list",
        "number": "a number",
        "integer": "an integer",
        "boolean": "true or false",
        "null": "empty",
    }
    values = value if isinstance(value, list) else [value]
    return " or ".join(names.get(str(v), str(v)) for v in values)
