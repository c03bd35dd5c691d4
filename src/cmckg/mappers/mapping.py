"""What every mapping file shares, whichever mapper reads it (tables, workbook, documents):
errors that name the file and the key path, the format version, the ``missing:`` cell texts,
the ``terms:`` section, the lot classes a mapping may name, and concept lookup by label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rdflib import URIRef

from ..errors import CmckgError, ConfigError, MappingError
from ..vocab import CMCT, TermIndex, normalise_label

MAPPING_FORMAT_VERSION = 1
MAPPING_KEYS = ("mapping", "mapper", "issuer", "vocab", "terms")
"""The top-level keys every mapping may have, beside its mapper's own."""

LOT_CLASSES = (
    "RawMaterialLot",
    "IntermediateLot",
    "DrugSubstanceBatch",
    "DrugProductBatch",
    "MaterialLot",
)
"""The lot classes (``cmc:``) a mapping may give a lot or batch."""


def kind_of(value: Any) -> str:
    """What a config value is, for messages: ``a mapping``, ``a list``, ``'text'``, nothing."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"'{value}'" if value is not None else "nothing"


class ConfigReader:
    """Read a mapping's values, raising ConfigErrors that name the mapping file and key path."""

    def __init__(self, file: str) -> None:
        self.file = file

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> ConfigReader:
        """The reader of ``config`` (its file as ``kg.load_mapping`` recorded it)."""
        return cls(str(config.get("__file__", "mapping")))

    def fail(self, path: str, message: str) -> ConfigError:
        return ConfigError(message, self.file, path)

    def mapping(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a mapping (key: value), got {kind_of(value)}")
        return value

    def keys(
        self,
        value: Mapping[str, Any],
        path: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> None:
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key '{key}'; expected one of: {', '.join(allowed)}",
                )
        for key in required:
            if key not in value:
                raise self.fail(f"{path}.{key}" if path else key, "required")

    def text(self, value: Any, path: str) -> str:
        """Text (or a number, as text) as written."""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(path, f"expected text, got {kind_of(value)}")
        return str(value)

    def filled(self, value: Any, path: str) -> str:
        """Text without surrounding blanks, not empty."""
        text = self.text(value, path).strip()
        if not text:
            raise self.fail(path, "must not be empty")
        return text

    def texts(self, value: Any, path: str) -> tuple[str, ...]:
        """One text or a list of alternatives (labels sites word differently)."""
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.fail(path, "expected text or a list of alternatives")
        return tuple(
            self.filled(v, f"{path}[{i}]" if isinstance(value, list) else path)
            for i, v in enumerate(items)
        )

    def top(
        self, config: Any, own: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> Mapping[str, Any]:
        """The top level of a mapping: the keys every mapping may have and the mapper's ``own``
        (``required`` among them), in the format version this code reads."""
        top = self.mapping(config, "")
        self.keys(top, "", (*MAPPING_KEYS, *own, "__file__"), required)
        self.version(top)
        return top

    def version(self, config: Mapping[str, Any]) -> None:
        """The ``mapping:`` key: the format version this code reads."""
        version = config.get("mapping")
        if version != MAPPING_FORMAT_VERSION:
            raise self.fail(
                "mapping",
                f"expected format version {MAPPING_FORMAT_VERSION} "
                f"('mapping: {MAPPING_FORMAT_VERSION}'), got {kind_of(version)}",
            )

    def missing(self, raw: Any, path: str) -> frozenset[str]:
        """The texts that mean "no result" (``NT``, ``n/a``), stripped."""
        raw = raw or []
        if not isinstance(raw, list):
            raise self.fail(path, "expected a list of texts")
        return frozenset(self.text(m, f"{path}[{i}]").strip() for i, m in enumerate(raw))


def lookup_term(
    index: TermIndex, label: str, scheme: URIRef | None, prefer: URIRef | None, **where: str | None
) -> URIRef:
    """The concept ``label`` names (a label, an alias, ``cmct:Name`` or the full IRI); an
    ambiguous label is settled by ``prefer`` if it can be."""
    if label.startswith("cmct:"):
        label = str(CMCT) + label[5:]
    if scheme is None and prefer is not None and len(index.candidates(label)) > 1:
        preferred = index.candidates(label, prefer)
        if len(preferred) == 1:
            return next(iter(preferred))
    try:
        return index.resolve(
            label,
            scheme,
            source=where.get("source"),
            location=where.get("location"),
            field_name=where.get("field_name"),
        ).iri
    except MappingError as exc:  # a measured property: declare it in the scheme that fits
        if scheme is None and prefer is not None and exc.message.startswith("unknown term"):
            exc.message += index.declare_hint(label, prefer)
        raise


def local_terms(r: ConfigReader, raw: Any, index: TermIndex) -> dict[str, tuple[str, URIRef]]:
    """A mapping's ``terms:`` (local name → canonical label, alias, ``cmct:`` IRI or an earlier
    local name), as normalised local name → (the local name as written, its concept)."""
    out: dict[str, tuple[str, URIRef]] = {}
    for local, canonical in r.mapping(raw or {}, "terms").items():
        path = f"terms.{local}"
        label = r.text(canonical, path)
        earlier = out.get(normalise_label(label))
        if earlier is not None:
            concept = earlier[1]
        else:
            try:
                concept = lookup_term(index, label, None, None)
            except CmckgError as exc:
                raise r.fail(path, exc.message) from None
        out[normalise_label(str(local))] = (str(local), concept)
    return out
