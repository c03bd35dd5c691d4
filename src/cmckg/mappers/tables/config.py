"""Parsing a tables mapping (``examples/MAPPING.md`` documents the format) into the model of
``model.py``, and checking it as a whole, once, before any row is read: every error names the
mapping file and the key path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rdflib import URIRef

from ...errors import CmckgError
from ...vocab import CMCT, TermIndex, normalise_label, term_index
from .. import values as vals
from ..mapping import LOT_CLASSES, ConfigReader, local_terms, lookup_term
from .model import (
    FIELDS,
    KIND_OF_TYPE,
    DateField,
    EntitySpec,
    LotLink,
    MeasurementSpec,
    SourceOptions,
    TableMapping,
    Template,
    TermField,
    TypeChoice,
    UnitField,
)
from .reading import cell_text

_FIELDS_OF_KIND: dict[str, tuple[str, ...]] = {
    "lot": ("material", "supplier", "product", "site", "manufacture_date", "expiry_date"),
    "material": ("material_type",),
    "product": ("bill_of_materials",),
    "process-version": ("bill_of_materials",),
    "run": (
        "unit_operation",
        "used",
        "produced",
        "equipment",
        "site",
        "process_version",
        "start",
        "end",
    ),
    "sample": ("sample_of",),
    "specification": (
        "product",
        "property",
        "stage",
        "lower",
        "upper",
        "criterion",
        "unit",
        "version",
        "lot_class",
    ),
}
_COMMON_KEYS = ("type", "id", "identifier", "label", "issuer", "record", "required", "measurements")
# a measured property named ambiguously ("pH") is read in the scheme that fits its entity
_PREFERRED_SCHEME = {
    "lot": CMCT.QualityAttributes,
    "sample": CMCT.QualityAttributes,
    "product": CMCT.QualityAttributes,
    "run": CMCT.ProcessParameters,
}


def parse_mapping(config: Mapping[str, Any], terms: TermIndex | None = None) -> TableMapping:
    """The checked model of a tables mapping (``kg.load_mapping`` has checked its schema)."""
    return _MappingParser(config, terms or term_index()).parse()


def source_options(config: Mapping[str, Any], terms: TermIndex | None = None) -> SourceOptions:
    """Only the ``source:`` section (how to read the table), checked like the whole mapping."""
    return _MappingParser(config, terms or term_index()).source(config.get("source") or {})


class _MappingParser:
    TOP_KEYS = ("source", "where", "entities")
    SOURCE_KEYS = ("format", "delimiter", "decimal", "thousands", "encoding", "sheet", "missing")
    MEASUREMENT_KEYS = (
        "value",
        "property",
        "unit",
        "stage",
        "method",
        "time",
        "device",
        "pattern",
        "text",
        "id",
        "reported",
    )

    def __init__(self, config: Mapping[str, Any], terms: TermIndex) -> None:
        self.config = config
        self.index = terms
        self.r = ConfigReader.of(config)
        self.columns: dict[str, str] = {}
        self.local_terms: dict[str, tuple[str, URIRef]] = {}

    def parse(self) -> TableMapping:
        r, config = self.r, self.config
        r.top(config, self.TOP_KEYS)
        if "issuer" not in config:
            raise r.fail("issuer", "required: the system or site that issued this table's ids")
        issuer = r.filled(config["issuer"], "issuer")
        source = self.source(config.get("source") or {})
        where = self.where(config.get("where") or {})
        self.local_terms = local_terms(r, config.get("terms"), self.index)
        if not config.get("entities"):
            raise r.fail("entities", "required: at least one entity")
        raw_entities = r.mapping(config["entities"], "entities")
        names = {str(n) for n in raw_entities}
        entities: dict[str, EntitySpec] = {}
        for name, spec in raw_entities.items():
            entities[str(name)] = self.entity(
                spec, f"entities.{name}", str(name), names, raw_entities, inline_kind=None
            )
        self.check_records(entities)
        self.check_references(entities)
        for spec in entities.values():
            spec.reads = tuple(sorted(_columns_read(spec, entities)))
        return TableMapping(r.file, issuer, source, self.local_terms, entities, self.columns, where)

    # -- sections

    def where(self, raw: Any) -> tuple[tuple[str, frozenset[str]], ...]:
        """Row filters: ``{column: value}`` or ``{column: [values]}``; only rows whose cell is
        one of the values are mapped."""
        filters = []
        for column, wanted in self.r.mapping(raw, "where").items():
            path = f"where.{column}"
            values = wanted if isinstance(wanted, list) else [wanted]
            if not values:
                raise self.r.fail(path, "expected a value or a list of values")
            for i, value in enumerate(values):
                self.r.text(value, f"{path}[{i}]")  # text or a number, nothing else
            texts = frozenset(cell_text(value).strip() for value in values)
            filters.append((self.column(column, path), texts))
        return tuple(filters)

    def source(self, raw: Any) -> SourceOptions:
        r = self.r
        raw = r.mapping(raw, "source")
        r.keys(raw, "source", self.SOURCE_KEYS)
        fmt = raw.get("format")
        if fmt is not None and fmt not in ("csv", "tsv", "xlsx"):
            raise r.fail("source.format", f"unknown format '{fmt}'; expected csv, tsv or xlsx")
        delimiter = raw.get("delimiter")
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
            raise r.fail("source.delimiter", "must be one character")
        decimal = raw.get("decimal", ".")
        if decimal not in (".", ","):
            raise r.fail("source.decimal", "must be '.' or ','")
        thousands = raw.get("thousands", "") or ""
        if thousands not in ("", ",", ".", " ", "'", "\u00a0") or thousands == decimal:
            raise r.fail("source.thousands", "must be one of , . ' or a space, unlike decimal")
        encoding = r.text(raw.get("encoding", "utf-8"), "source.encoding")
        try:
            "".encode(encoding)
        except LookupError:
            raise r.fail("source.encoding", f"unknown encoding '{encoding}'") from None
        sheet = raw.get("sheet")
        return SourceOptions(
            format=fmt,
            delimiter=delimiter,
            decimal=decimal,
            thousands=thousands,
            encoding=encoding,
            sheet=None if sheet is None else r.text(sheet, "source.sheet"),
            missing=r.missing(raw.get("missing"), "source.missing"),
        )

    def entity(
        self,
        raw: Any,
        path: str,
        name: str,
        names: set[str],
        raw_entities: Mapping[str, Any],
        inline_kind: str | None,
        usage: bool = False,
    ) -> EntitySpec:
        """An entity spec; ``inline_kind`` is set for an inline link (its kind from the role),
        ``usage`` for an entry of a run's ``used``/``produced`` (split, quantity, unit)."""
        r = self.r
        if inline_kind is not None and isinstance(raw, str):
            if raw not in names:
                raise r.fail(
                    path, f"no entity named '{raw}' (entities: {', '.join(sorted(names))})"
                )
            other = raw_entities[raw]
            kind = self._kind(other, f"entities.{raw}") if isinstance(other, Mapping) else None
            if kind is not None and kind != inline_kind:
                raise r.fail(path, f"'{raw}' is a {kind}, but this link needs a {inline_kind}")
            return EntitySpec(raw, path, inline_kind, None, (), reference=raw)
        raw = r.mapping(raw, path)
        inline = inline_kind is not None
        allowed = _COMMON_KEYS
        usage_keys = ("split", "quantity", "unit") if usage else ()
        if inline:
            allowed = tuple(k for k in _COMMON_KEYS if k not in ("record", "required"))
            allowed += usage_keys
        type_choice = None
        if "type" in raw:
            type_choice = self.type_choice(raw["type"], f"{path}.type", KIND_OF_TYPE)
            kind = self._kind(raw, path)
        elif inline:
            kind = inline_kind
        else:
            raise r.fail(f"{path}.type", f"required; one of: {', '.join(KIND_OF_TYPE)}")
        if inline and kind != inline_kind:
            raise r.fail(f"{path}.type", f"this link needs a {inline_kind}, not a {kind}")
        fields = _FIELDS_OF_KIND.get(kind, ()) if type_choice is not None else ()
        keys = allowed + fields if type_choice is not None else ("id", "issuer", *usage_keys)
        r.keys(raw, path, keys)
        if "id" not in raw:
            raise r.fail(f"{path}.id", "required: a template or a list of templates")
        ids = raw["id"] if isinstance(raw["id"], list) else [raw["id"]]
        if not ids:
            raise r.fail(f"{path}.id", "must not be empty")
        spec = EntitySpec(
            name=name,
            path=path,
            kind=kind,
            type=type_choice,
            id=tuple(self.id_part(v, f"{path}.id[{i}]") for i, v in enumerate(ids)),
            record=None if inline else "own",
        )
        if "identifier" in raw:
            spec.identifier = self.template(raw["identifier"], f"{path}.identifier")
        if "label" in raw:
            spec.label = self.template(raw["label"], f"{path}.label")
        if "issuer" in raw:
            spec.issuer = self.template(raw["issuer"], f"{path}.issuer")
        if "record" in raw:
            spec.record = r.text(raw["record"], f"{path}.record")
            if spec.record != "own" and spec.record not in names:
                raise r.fail(
                    f"{path}.record", f"'own' or the name of another entity, not '{spec.record}'"
                )
        if "required" in raw:
            if not isinstance(raw["required"], bool):
                raise r.fail(f"{path}.required", "expected true or false")
            spec.required = raw["required"]
        for key in fields:
            if key in raw:
                self.field(spec, key, raw[key], f"{path}.{key}", names, raw_entities)
        if kind == "specification" and "property" not in spec.terms:
            raise r.fail(f"{path}.property", "required for a Specification")
        if "measurements" in raw:
            spec.measurements = self.measurements(
                raw["measurements"],
                f"{path}.measurements",
                names,
                raw_entities,
                _PREFERRED_SCHEME.get(kind),
            )
        return spec

    def _kind(self, raw: Mapping[str, Any], path: str) -> str | None:
        value = raw.get("type")
        choice = self.type_choice(value, f"{path}.type", KIND_OF_TYPE) if value else None
        if choice is None:
            return None
        kinds = {KIND_OF_TYPE[n] for n in choice.names}
        if len(kinds) != 1:
            raise self.r.fail(
                f"{path}.type",
                f"all choices must be the same kind of thing (got {', '.join(sorted(kinds))})",
            )
        return kinds.pop()

    def type_choice(self, raw: Any, path: str, allowed: Mapping[str, str]) -> TypeChoice:
        r = self.r

        def check(name: Any, where: str) -> str:
            if name not in allowed:
                raise r.fail(where, f"unknown type '{name}'; expected one of: {', '.join(allowed)}")
            return str(name)

        if isinstance(raw, str):
            return TypeChoice(check(raw, path))
        raw = r.mapping(raw, path)
        r.keys(raw, path, ("column", "map", "default"))
        if "column" not in raw or "map" not in raw:
            raise r.fail(path, "a per-row type needs 'column' and 'map'")
        column = self.column(raw["column"], f"{path}.column")
        choices = tuple(
            (normalise_label(str(k)), check(v, f"{path}.map.{k}"))
            for k, v in r.mapping(raw["map"], f"{path}.map").items()
        )
        default = check(raw["default"], f"{path}.default") if "default" in raw else None
        return TypeChoice(None, column, choices, default)

    def field(
        self,
        spec: EntitySpec,
        key: str,
        raw: Any,
        path: str,
        names: set[str],
        raw_entities: Mapping[str, Any],
    ) -> None:
        value_kind, _ = FIELDS[key]
        if value_kind.startswith("link:"):
            spec.links[key] = self.entity(
                raw, path, f"{spec.name}.{key}", names, raw_entities, inline_kind=value_kind[5:]
            )
        elif value_kind == "lots":
            items = raw if isinstance(raw, list) else [raw]
            spec.lots[key] = [
                self.lot_link(item, f"{path}[{i}]", spec.name, names, raw_entities)
                for i, item in enumerate(items)
            ]
        elif value_kind == "materials":
            items = raw if isinstance(raw, list) else [raw]
            spec.materials[key] = [
                self.entity(
                    item,
                    f"{path}[{i}]",
                    f"{spec.name}.{key}",
                    names,
                    raw_entities,
                    inline_kind="material",
                )
                for i, item in enumerate(items)
            ]
        elif value_kind == "date":
            spec.dates[key] = self.date(raw, path)
        elif value_kind.startswith("term:"):
            scheme = CMCT[value_kind[5:]] if value_kind[5:] else None
            spec.terms[key] = self.term(raw, path, scheme)
        elif value_kind == "number":
            spec.numbers[key] = self.column(raw, path)
        elif value_kind == "unit":
            spec.units[key] = self.unit(raw, path)
        elif value_kind == "text":
            spec.texts[key] = self.template(raw, path)
        elif value_kind == "criterion":
            spec.criterion = self.column(raw, path)
        elif value_kind == "lotclass":
            spec.lot_class = self.type_choice(raw, path, dict.fromkeys(LOT_CLASSES, "lot"))

    def lot_link(
        self, raw: Any, path: str, owner: str, names: set[str], raw_entities: Mapping[str, Any]
    ) -> LotLink:
        entity = self.entity(
            raw, path, f"{owner}.lot", names, raw_entities, inline_kind="lot", usage=True
        )
        if not isinstance(raw, Mapping):
            return LotLink(entity)
        split = raw.get("split")
        if split is not None and (not isinstance(split, str) or not split):
            raise self.r.fail(f"{path}.split", "expected the separator text, e.g. ';'")
        if split is not None and len(entity.id) != 1:
            raise self.r.fail(f"{path}.split", "a split lot link needs a single-part id")
        quantity = self.column(raw["quantity"], f"{path}.quantity") if "quantity" in raw else None
        unit = self.unit(raw["unit"], f"{path}.unit") if "unit" in raw else None
        if quantity is not None and unit is None:
            raise self.r.fail(f"{path}.unit", "required with a quantity")
        return LotLink(entity, split, quantity, unit)

    def measurements(
        self,
        raw: Any,
        path: str,
        names: set[str],
        raw_entities: Mapping[str, Any],
        prefer: URIRef | None,
    ) -> list[MeasurementSpec]:
        r = self.r
        if isinstance(raw, Mapping):
            items = [(f"{path}.{col}", str(col), spec) for col, spec in raw.items()]
        elif isinstance(raw, list):
            items = [(f"{path}[{i}]", None, spec) for i, spec in enumerate(raw)]
        else:
            raise r.fail(path, "expected a mapping keyed by column, or a list")
        out = []
        for item_path, column, spec in items:
            spec = r.mapping(spec, item_path)
            r.keys(
                spec,
                item_path,
                self.MEASUREMENT_KEYS if column is None else self.MEASUREMENT_KEYS[1:],
            )
            if column is None:
                if "value" not in spec:
                    raise r.fail(f"{item_path}.value", "required: the column holding the value")
                column = str(spec["value"])
            value = self.column(column, f"{item_path}.value" if "value" in spec else item_path)
            if "property" not in spec:
                raise r.fail(f"{item_path}.property", "required: the measured property (a term)")
            prop = self.term(spec["property"], f"{item_path}.property", None, prefer)
            text = spec.get("text", False)
            if not isinstance(text, bool):
                raise r.fail(f"{item_path}.text", "expected true or false")
            reported = self.reported(spec.get("reported"), f"{item_path}.reported")
            if not text and reported is None and "unit" not in spec:
                raise r.fail(f"{item_path}.unit", "required for a numeric value (or text: true)")
            pattern = None
            if "pattern" in spec:
                try:
                    pattern = re.compile(r.text(spec["pattern"], f"{item_path}.pattern"))
                except re.error as exc:
                    raise r.fail(f"{item_path}.pattern", f"not a valid regex: {exc}") from None
                if pattern.groups < 1:
                    raise r.fail(f"{item_path}.pattern", "needs a group capturing the number")
            stage = (
                self.term(spec["stage"], f"{item_path}.stage", CMCT.Stages)
                if "stage" in spec
                else None
            )
            if "id" in spec:
                raw_ids = spec["id"] if isinstance(spec["id"], list) else [spec["id"]]
                ids = tuple(self.template(v, f"{item_path}.id[{i}]") for i, v in enumerate(raw_ids))
            else:
                parts = [Template(value, ((False, value),))]
                parts += [
                    t.template for t in (prop, stage) if t is not None and not t.template.constant
                ]
                ids = tuple(parts)
            out.append(
                MeasurementSpec(
                    value=value,
                    path=item_path,
                    property=prop,
                    unit=self.unit(spec["unit"], f"{item_path}.unit") if "unit" in spec else None,
                    stage=stage,
                    method=(
                        self.template(spec["method"], f"{item_path}.method")
                        if "method" in spec
                        else None
                    ),
                    time=self.date(spec["time"], f"{item_path}.time") if "time" in spec else None,
                    device=(
                        self.entity(
                            spec["device"],
                            f"{item_path}.device",
                            "device",
                            names,
                            raw_entities,
                            inline_kind="equipment",
                        )
                        if "device" in spec
                        else None
                    ),
                    pattern=pattern,
                    text=text,
                    id=ids,
                    alias=value if isinstance(raw, Mapping) else None,
                    reported=reported,
                )
            )
        return out

    def reported(self, raw: Any, path: str) -> dict[str, float] | None:
        """``reported: true`` or ``reported: {LOQ: 0.5}``: read cells as reported results."""
        if raw is None or raw is False:
            return None
        if raw is True:
            return {}
        limits = {}
        for name, value in self.r.mapping(raw, path).items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.r.fail(f"{path}.{name}", "expected the limit as a number")
            limits[str(name)] = float(value)
        return limits

    # -- values

    def column(self, raw: Any, path: str) -> str:
        name = self.r.text(raw, path).strip()
        if not name:
            raise self.r.fail(path, "expected a column name")
        self.columns.setdefault(name, path)
        return name

    def id_part(self, raw: Any, path: str) -> Template:
        template = self.template(raw, path)
        if template.constant and template.render({}) is None:
            raise self.r.fail(path, "an id part must not be empty")
        return template

    def template(self, raw: Any, path: str) -> Template:
        template = Template.parse(self.r, raw, path)
        for column in template.columns:
            self.columns.setdefault(column, path)
        return template

    def date(self, raw: Any, path: str) -> DateField:
        r = self.r
        if not isinstance(raw, Mapping):
            return DateField(self.column(raw, path))
        r.keys(raw, path, ("column", "format", "months"))
        if "column" not in raw:
            raise r.fail(f"{path}.column", "required")
        fmt = r.text(raw["format"], f"{path}.format") if "format" in raw else None
        if fmt is not None and not re.search(r"%[yYmbBd]", fmt):
            raise r.fail(f"{path}.format", f"'{fmt}' has no date directive (%Y, %m, %d, …)")
        months: list[tuple[str, int]] = []
        for local, number in r.mapping(raw.get("months") or {}, f"{path}.months").items():
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 12:
                raise r.fail(f"{path}.months.{local}", "expected a month number 1–12")
            months.append((str(local).casefold(), number))
        if months and (fmt is None or not re.search(r"%[bB]", fmt)):
            raise r.fail(f"{path}.format", "month names need a format with %b or %B")
        return DateField(self.column(raw["column"], f"{path}.column"), fmt, tuple(months))

    def term(
        self, raw: Any, path: str, scheme: URIRef | None, prefer: URIRef | None = None
    ) -> TermField:
        template = self.template(raw, path)
        if not template.constant:
            return TermField(template, scheme, None, prefer)
        text = template.render({}) or ""
        local = self.local_terms.get(normalise_label(text))
        return TermField(
            template,
            scheme,
            self._resolve(text, scheme, path, prefer),
            prefer,
            local[0] if local else None,
        )

    def unit(self, raw: Any, path: str) -> UnitField:
        template = self.template(raw, path)
        if not template.constant:
            return UnitField(template)
        try:
            return UnitField(template, vals.unit_iri(template.render({}) or "", vals.Where()))
        except CmckgError as exc:
            raise self.r.fail(path, exc.message) from None

    def _resolve(
        self, label: str, scheme: URIRef | None, path: str, prefer: URIRef | None = None
    ) -> URIRef:
        local = self.local_terms.get(normalise_label(label))
        if local is not None:
            return local[1]
        try:
            return lookup_term(self.index, label, scheme, prefer)
        except CmckgError as exc:
            raise self.r.fail(path, exc.message) from None

    # -- whole-mapping checks

    def check_records(self, entities: dict[str, EntitySpec]) -> None:
        for name, spec in entities.items():
            seen = [name]
            current = spec
            while current.record not in ("own", None):
                if current.record in seen:
                    raise self.r.fail(
                        f"{spec.path}.record", f"records form a cycle: {' → '.join([*seen, name])}"
                    )
                seen.append(current.record)
                current = entities[current.record]

    def check_references(self, entities: dict[str, EntitySpec]) -> None:
        """Named links were checked by kind on parse; make sure none points at itself."""
        for name, spec in entities.items():
            for key, link in [
                *spec.links.items(),
                *((k, m) for k, ms in spec.materials.items() for m in ms),
            ]:
                if link.reference == name:
                    raise self.r.fail(f"{spec.path}.{key}", "an entity cannot link to itself")


def _columns_read(spec: EntitySpec, entities: Mapping[str, EntitySpec]) -> set[str]:
    """The columns an entity's triples depend on (linked named entities: their id columns)."""
    if spec.reference is not None:
        target = entities[spec.reference]
        return {c for t in (*target.id, target.issuer) if t is not None for c in t.columns}
    templates = [
        *spec.id,
        spec.identifier,
        spec.label,
        spec.issuer,
        *spec.texts.values(),
        *(t.template for t in spec.terms.values()),
        *(u.template for u in spec.units.values()),
    ]
    columns = {c for t in templates if t is not None for c in t.columns}
    columns |= {d.column for d in spec.dates.values()} | set(spec.numbers.values())
    columns |= {spec.criterion} if spec.criterion else set()
    columns |= {c.column for c in (spec.type, spec.lot_class) if c is not None and c.column}
    for link in [*spec.links.values(), *(m for ms in spec.materials.values() for m in ms)]:
        columns |= _columns_read(link, entities)
    for lot_links in spec.lots.values():
        for lot_link in lot_links:
            columns |= _columns_read(lot_link.entity, entities)
            columns |= {lot_link.quantity} if lot_link.quantity else set()
            columns |= set(lot_link.unit.template.columns) if lot_link.unit else set()
    for m in spec.measurements:
        measured = [
            m.property.template,
            m.unit.template if m.unit else None,
            m.stage.template if m.stage else None,
            m.method,
            *m.id,
        ]
        columns |= {m.value} | {c for t in measured if t is not None for c in t.columns}
        columns |= {m.time.column} if m.time else set()
        columns |= _columns_read(m.device, entities) if m.device else set()
    return columns
