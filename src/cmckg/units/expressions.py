"""Unit expressions: the factorised form (power of ten, {atom: exponent}) that matches one unit
however it is spelled — ``mg/mL`` = ``mg.mL-1``, ``mm^3`` = ``mm3`` = ``mm³``, ``ug`` = ``µg``,
``cells``/``counts``/``{#}`` = ``#``, ``CFU/100 mL`` — so the unit table can find a spelling it
does not hold verbatim."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ExpressionKey", "normalise_text", "parse_unit_expression", "unit_expression_key"]

ExpressionKey = tuple[int, tuple[tuple[str, int], ...]]


_OPERATORS = "/.·*× "
_ATOM_STOP = set(_OPERATORS) | set("()^+-0123456789")
_EXPONENT = re.compile(r"\^?([+-]?\d+)")  # mm^3, mm3, s-1
_NUMBER = re.compile(r"10(?:\^|\*)([+-]?\d+)|(10*)(?!\d)")  # 10^6, 10*6 (UCUM), 1, 10, 100
_SI_PREFIXES = ("", "da", "h", "k", "M", "G", "d", "c", "m", "μ", "n", "p", "f")
_ATOM_SYNONYMS = {
    **dict.fromkeys(
        (
            "#",
            "{#}",
            "cell",
            "cells",
            "Cell",
            "Cells",
            "{cell}",
            "{cells}",
            "count",
            "counts",
            "Count",
            "Counts",
            "{count}",
            "{counts}",
            "particles",
            "{particles}",
        ),
        "#",
    ),
    **{f"{p}l": f"{p}L" for p in _SI_PREFIXES},
    **dict.fromkeys(("sec", "secs"), "s"),
    **dict.fromkeys(("hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("day", "days"), "d"),
    **dict.fromkeys(("mins",), "min"),
    **dict.fromkeys(("mcg",), "μg"),
    **dict.fromkeys(("degC", "Cel", "℃"), "°C"),
    **dict.fromkeys(("ppm", "PPM"), "[ppm]"),
    **dict.fromkeys(("ppb", "PPB"), "[ppb]"),
    **dict.fromkeys(("osm", "Osm", "osmol", "Osmol"), "Osmol"),
    **dict.fromkeys(("mosm", "mOsm", "mosmol", "mOsmol"), "mOsmol"),
}


def normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u00b5", "\u03bc").replace("\u2212", "-")
    text = " ".join(text.split())
    return re.sub(r"\s*([/.·*×])\s*", r"\1", text)


def _normalise_atom(atom: str) -> str:
    atom = _ATOM_SYNONYMS.get(atom, atom)
    if len(atom) > 1 and atom[0] == "u" and atom[1].isalpha():
        atom = _ATOM_SYNONYMS.get("μ" + atom[1:], "μ" + atom[1:])
    return atom


class _Parser:
    """Recursive descent over a unit expression; left-associative like UCUM."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expression(self) -> tuple[int, dict[str, int]]:
        power = 0
        atoms: dict[str, int] = {}
        sign = 1
        if self.peek() == "/":  # "/s"
            self.pos += 1
            sign = -1
        while True:
            p, a = self.term()
            power += sign * p
            for atom, exp in a.items():
                atoms[atom] = atoms.get(atom, 0) + sign * exp
            char = self.peek()
            if char == "/":
                sign = -1
            elif char and char in _OPERATORS:
                sign = 1
            elif char and char not in ")":
                sign = 1  # juxtaposition: "100mL", "10^6cells"
                continue
            else:
                return power, atoms
            self.pos += 1

    def exponent(self) -> int:
        match = _EXPONENT.match(self.text, self.pos)
        if not match:
            return 1
        self.pos = match.end()
        return int(match.group(1))

    def term(self) -> tuple[int, dict[str, int]]:
        char = self.peek()
        if char == "(":
            self.pos += 1
            power, atoms = self.expression()
            if self.peek() != ")":
                raise ValueError("unbalanced parenthesis")
            self.pos += 1
            exp = self.exponent()
            return power * exp, {a: e * exp for a, e in atoms.items()}
        number = _NUMBER.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            exponent, digits = number.groups()
            power = int(exponent) if exponent is not None else len(digits) - 1
            # a factor binds to the unit written after it: "CFU/100 mL" is CFU per (100 mL)
            if self.peek() == " " and self.pos + 1 < len(self.text):
                self.pos += 1
            if self.peek() and self.peek() not in _ATOM_STOP | {")"} or self.peek() == "(":
                more, atoms = self.term()
                return power + more, atoms
            return power, {}
        start = self.pos
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in "[{":
                close = self.text.find("]" if char == "[" else "}", self.pos)
                if close < 0:
                    raise ValueError("unbalanced bracket")
                self.pos = close + 1
            elif char in _ATOM_STOP:
                break
            else:
                self.pos += 1
        if self.pos == start:
            raise ValueError(f"expected a unit at {self.pos}")
        atom = _normalise_atom(self.text[start : self.pos])
        return 0, {atom: self.exponent()}


def parse_unit_expression(text: str) -> tuple[int, dict[str, int]]:
    """Factorise ``text`` into (power of ten, {atom: exponent}); ValueError if it won't parse."""
    parser = _Parser(normalise_text(text))
    if not parser.text:
        raise ValueError("empty unit")
    power, atoms = parser.expression()
    if parser.pos != len(parser.text):
        raise ValueError(f"unexpected '{parser.text[parser.pos :]}'")
    return power, {a: e for a, e in atoms.items() if e}


def unit_expression_key(text: str) -> ExpressionKey | None:
    """The spelling-independent key of a unit expression, or None if it does not parse."""
    try:
        power, atoms = parse_unit_expression(text)
    except ValueError:
        return None
    return power, tuple(sorted(atoms.items()))
