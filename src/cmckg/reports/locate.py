"""Turn a result's source location (CSV row, JSON pointer, XPath) into a line of its file.

- ``row=N`` (RFC 7111, header = row 1): the line where CSV record N starts, counted with the
  csv module so quoted fields spanning lines are handled.
- a JSON pointer (RFC 6901): the line where the value starts, found by scanning the JSON text;
  a pointer that does not resolve falls back to its longest resolving prefix.
- an XPath of steps ``prefix:Name[n]`` from the root (as the B2MML mapper writes them): the line
  of the element's start tag, from the XML parser's positions (prefixes are ignored, positions
  count same-named siblings); a step that does not resolve falls back to its parent.

Files that cannot be read (moved, binary, not on this machine) give no line.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from pathlib import Path
from xml.parsers import expat

__all__ = ["SourceLines"]

_ROW = re.compile(r"^#?row=(\d+)")
_STEP = re.compile(r"^(?:[\w.-]+:)?([\w.-]+)(?:\[(\d+)\])?$")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class SourceLines:
    """Line lookups with each source file read and indexed once."""

    def __init__(self) -> None:
        self._csv: dict[str, list[int] | None] = {}
        self._json: dict[str, dict[str, int] | None] = {}
        self._xml: dict[str, dict[str, int] | None] = {}

    def line(self, path: str | None, location: str | None) -> int | None:
        """The 1-based line in ``path`` that ``location`` names, or None."""
        if not path or not location:
            return None
        row = _ROW.match(location)
        if row:
            starts = self._index(self._csv, path, _csv_row_lines)
            index = int(row.group(1)) - 1
            return starts[index] if starts and 0 <= index < len(starts) else None
        if not location.startswith("/"):
            return None
        if Path(path).suffix.lower() in {".xml", ".b2mml", ".batchml"} or _looks_like_xml(path):
            return _longest_prefix(
                self._index(self._xml, path, _xml_element_lines), _xpath_key(location)
            )
        return _longest_prefix(self._index(self._json, path, _json_value_lines), location)

    @staticmethod
    def _index(cache: dict, path: str, build):  # noqa: ANN001, ANN205  (one of three builders)
        if path not in cache:
            try:
                text = Path(path).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                cache[path] = None
            else:
                try:
                    cache[path] = build(text)
                except (ValueError, csv.Error, expat.ExpatError):
                    cache[path] = None
        return cache[path]


def _looks_like_xml(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(256).lstrip().startswith(b"<")
    except OSError:
        return False


def _longest_prefix(index: dict[str, int] | None, key: str) -> int | None:
    if not index:
        return None
    while key:
        if key in index:
            return index[key]
        key = key.rsplit("/", 1)[0]
    return index.get("")


# --- CSV ------------------------------------------------------------------------------------


def _csv_row_lines(text: str) -> list[int]:
    """Start line of each CSV record (row 1 = the header)."""
    try:
        dialect = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    starts, previous = [], 0
    for _ in reader:
        starts.append(previous + 1)
        previous = reader.line_num
    return starts


# --- JSON -----------------------------------------------------------------------------------


def _json_value_lines(text: str) -> dict[str, int]:
    """Map every JSON pointer in the document to the line its value starts on."""
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    index: dict[str, int] = {}

    def line_at(offset: int) -> int:
        return bisect.bisect_right(newlines, offset - 1) + 1

    def skip(pos: int) -> int:
        return _WHITESPACE.match(text, pos).end()

    def value(pos: int, pointer: str) -> int:
        pos = skip(pos)
        index[pointer] = line_at(pos)
        ch = text[pos : pos + 1]
        if ch == "{":
            pos = skip(pos + 1)
            if text[pos : pos + 1] == "}":
                return pos + 1
            while True:
                if text[pos : pos + 1] != '"':
                    raise ValueError(f"expected a key at offset {pos}")
                key, pos = json.decoder.scanstring(text, pos + 1)
                pos = skip(pos)
                if text[pos : pos + 1] != ":":
                    raise ValueError(f"expected ':' at offset {pos}")
                escaped = key.replace("~", "~0").replace("/", "~1")
                pos = skip(value(pos + 1, f"{pointer}/{escaped}"))
                if text[pos : pos + 1] == ",":
                    pos = skip(pos + 1)
                    continue
                if text[pos : pos + 1] == "}":
                    return pos + 1
                raise ValueError(f"expected ',' or '}}' at offset {pos}")
        if ch == "[":
            pos = skip(pos + 1)
            if text[pos : pos + 1] == "]":
                return pos + 1
            item = 0
            while True:
                pos = skip(value(pos, f"{pointer}/{item}"))
                item += 1
                if text[pos : pos + 1] == ",":
                    pos += 1
                    continue
                if text[pos : pos + 1] == "]":
                    return pos + 1
                raise ValueError(f"expected ',' or ']' at offset {pos}")
        if ch == '"':
            return json.decoder.scanstring(text, pos + 1)[1]
        for literal in ("true", "false", "null", "NaN", "Infinity", "-Infinity"):
            if text.startswith(literal, pos):
                return pos + len(literal)
        number = _NUMBER.match(text, pos)
        if number and number.end() > pos:
            return number.end()
        raise ValueError(f"unexpected character at offset {pos}")

    value(0, "")
    return index


# --- XML ------------------------------------------------------------------------------------


def _xpath_key(xpath: str) -> str:
    """``/p:A/p:B[2]/p:C`` → ``/A/B[2]/C[1]`` (the root step without a position)."""
    steps = [s for s in xpath.split("/") if s]
    key = []
    for position, step in enumerate(steps):
        match = _STEP.match(step)
        if match is None:  # an attribute, text() or a predicate we do not follow
            break
        name, number = match.group(1), match.group(2)
        key.append(name if position == 0 else f"{name}[{number or 1}]")
    return "/" + "/".join(key) if key else ""


def _xml_element_lines(text: str) -> dict[str, int]:
    parser = expat.ParserCreate(namespace_separator=" ")
    index: dict[str, int] = {}
    stack: list[tuple[str, dict[str, int]]] = []

    def start(name: str, _attributes: dict) -> None:
        local = name.rsplit(" ", 1)[-1]
        if stack:
            parent, counts = stack[-1]
            counts[local] = counts.get(local, 0) + 1
            key = f"{parent}/{local}[{counts[local]}]"
        else:
            key = f"/{local}"
        index.setdefault(key, parser.CurrentLineNumber)
        stack.append((key, {}))

    def end(_name: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.Parse(text.encode("utf-8"), True)
    return index
