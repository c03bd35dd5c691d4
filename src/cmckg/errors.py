"""Errors a user can act on: each names the file, the place in it and the field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CmckgError(Exception):
    """Base for user-facing errors; ``str()`` is one line naming where the problem is."""

    message: str
    source: str | None = None
    location: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [part for part in (self.source, self.location) if part]
        prefix = " ".join(where)
        if self.field:
            prefix = f"{prefix}, field '{self.field}'" if prefix else f"field '{self.field}'"
        return one_line(f"{prefix}: {self.message}" if prefix else self.message)


def one_line(text: str) -> str:
    """``text`` with every character that is not printable (line breaks, tabs, other controls:
    they may come from a bad input file) escaped, so a message stays one readable line."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


class MappingError(CmckgError):
    """A source record cannot be mapped (bad value, missing column, unknown term or unit)."""


class ConfigError(CmckgError):
    """A mapping or tool configuration is invalid."""


class StoreError(CmckgError):
    """The store could not be opened, read or written."""


class QueryError(CmckgError):
    """A saved query or its parameters are invalid."""


class TermError(MappingError, QueryError):
    """A term or unit is unknown or ambiguous, or two units cannot be converted. Classed by its
    cause, not by who asked: a bad mapping where a source names the term, a bad question where
    a user or an analysis does, so either caller's ``except`` takes it without translating."""

    def within(self, context: str) -> TermError:
        """This error with ``context`` (what was being done) before its message."""
        self.message = f"{context}: {self.message}"
        return self
