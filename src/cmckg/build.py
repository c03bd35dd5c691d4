"""Make records in code: lots, runs with inputs and outputs, samples, measurements.

A :class:`Record` writes the same triples a mapper would (same IRI minting, same model as
``ontology/MODEL.md``): terms resolve through the term schemes (a site's alias works, an unknown
term is an error naming the nearest labels) and units through :mod:`cmckg.units`. The result is
one record graph, ingested like a mapped file::

    from cmckg import KnowledgeGraph, build

    rec = build.Record("batch-record-R1", issuer="site-a")
    lactose = rec.lot("L1", material="lactose", kind="raw_material_lot")
    batch = rec.lot("B1", kind="drug_product_batch", product="P-25")
    rec.run("R1", inputs=[build.Input(lactose, 12.5, "kg")], outputs=[batch],
            unit_operation="blending", start="2024-03-01T08:00:00Z")
    rec.measurement(batch, "dissolution", 91.2, "%", stage="release")
    with KnowledgeGraph.open("memory:") as kg:
        kg.ingest_records([rec])

IRIs are minted ``mint(kind, issuer, local id)``; the record's graph is
``mint("graph", issuer, record_id)``. Measurements are numbered within the record
(``mint("measurement", issuer, record_id, n)``) unless given a ``measurement_id``; a consumed
quantity is a ``cmc:Usage`` minted ``mint("run", issuer, run_id, "usage", n)`` for the n-th input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeAlias

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from .errors import MappingError
from .mappers import values as vals
from .mappers.base import RecordGraph
from .vocab import CMC, CMCT, QUDT, IriMinter, term_index

__all__ = ["LOT_KINDS", "Input", "Record", "Ref"]

LOT_KINDS: dict[str, URIRef] = {
    "lot": CMC.MaterialLot,
    "raw_material_lot": CMC.RawMaterialLot,
    "intermediate_lot": CMC.IntermediateLot,
    "drug_substance_batch": CMC.DrugSubstanceBatch,
    "drug_product_batch": CMC.DrugProductBatch,
}
_LOT_KIND_ALIASES = {
    "raw_material": "raw_material_lot",
    "intermediate": "intermediate_lot",
    "drug_substance": "drug_substance_batch",
    "drug_product": "drug_product_batch",
}


@dataclass(frozen=True)
class Ref:
    """A node a record wrote: its IRI, its kind (``lot``, ``run``, …) and its local id."""

    iri: URIRef
    kind: str
    identifier: str


@dataclass(frozen=True)
class Input:
    """A lot a run consumed, with the quantity it consumed (becomes a ``cmc:Usage``)."""

    lot: Ref
    quantity: float
    unit: str


TimeLike: TypeAlias = datetime | date | str
NodeLike: TypeAlias = Ref | str


@dataclass
class Record:
    """One record made in code; ``to_record_graph()`` gives it to ``KnowledgeGraph``.

    ``issuer`` is the site or system that issued the local ids (as a mapping config's issuer);
    ``source`` is what the metadata graph records as the source path (default
    ``build:<issuer>/<record_id>``).
    """

    record_id: str
    issuer: str = "build"
    minter: IriMinter = field(default_factory=IriMinter)
    source: str | None = None
    _record: RecordGraph = field(init=False, repr=False)
    _measurements: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.record_id.strip() or not self.issuer.strip():
            raise ValueError("a record needs a non-empty record_id and issuer")
        self.source = self.source or f"build:{self.issuer}/{self.record_id}"
        graph_iri = self.minter.mint("graph", self.issuer, self.record_id)
        self._record = RecordGraph(graph_iri, self.record_id, self.source)

    # -- output --------------------------------------------------------------------------

    def to_record_graph(self) -> RecordGraph:
        """The record as ingest takes it (graph IRI, record id, source, triples)."""
        return self._record

    def graph(self) -> Graph:
        """The record's triples as an rdflib Graph (prefixes bound)."""
        return self._record.triples.to_graph()

    @property
    def graph_iri(self) -> URIRef:
        return self._record.graph_iri

    # -- things --------------------------------------------------------------------------

    def material(
        self, material_id: str, *, label: str | None = None, material_type: str | None = None
    ) -> Ref:
        """A material (definition); ``material_type`` names a term, e.g. ``"lactose"``."""
        ref = self._node("material", CMC.Material, material_id)
        if label:
            self._add(ref.iri, RDFS.label, Literal(label))
        if material_type is not None:
            concept = self._term(
                material_type, f"material('{material_id}')", "material_type", CMCT.Materials
            )
            self._add(ref.iri, CMC.materialType, concept)
        return ref

    def site(self, site_id: str) -> Ref:
        return self._node("site", CMC.Site, site_id)

    def supplier(self, supplier_id: str) -> Ref:
        return self._node("supplier", CMC.Supplier, supplier_id)

    def product(self, product_id: str, *, label: str | None = None) -> Ref:
        ref = self._node("product", CMC.Product, product_id)
        if label:
            self._add(ref.iri, RDFS.label, Literal(label))
        return ref

    def equipment(self, equipment_id: str) -> Ref:
        return self._node("equipment", CMC.Equipment, equipment_id)

    def process_version(self, version_id: str) -> Ref:
        return self._node("process-version", CMC.ProcessVersion, version_id)

    def lot(
        self,
        lot_id: str,
        *,
        material: NodeLike | None = None,
        kind: str = "lot",
        supplier: NodeLike | None = None,
        product: NodeLike | None = None,
        site: NodeLike | None = None,
        manufactured: TimeLike | None = None,
        expires: TimeLike | None = None,
    ) -> Ref:
        """A lot or batch. ``kind``: one of ``LOT_KINDS`` (or ``raw_material``,
        ``intermediate``, ``drug_substance``, ``drug_product``). A ``material`` given by name
        is a material with that id; when the name is also a known material term it gets that
        ``cmc:materialType``."""
        where = f"lot('{lot_id}')"
        lot_class = LOT_KINDS.get(_LOT_KIND_ALIASES.get(kind, kind))
        if lot_class is None:
            raise MappingError(
                f"unknown lot kind '{kind}'; known: {', '.join(LOT_KINDS)}",
                self.source,
                where,
                "kind",
            )
        ref = self._node("lot", lot_class, lot_id)
        if material is not None:
            self._add(ref.iri, CMC.ofMaterial, self._material_ref(material).iri)
        for value, predicate, make in (
            (supplier, CMC.suppliedBy, self.supplier),
            (product, CMC.ofProduct, self.product),
            (site, CMC.atSite, self.site),
        ):
            if value is not None:
                self._add(ref.iri, predicate, _as_ref(value, make).iri)
        if manufactured is not None:
            self._add(ref.iri, CMC.manufactureDate, self._date(manufactured, where, "manufactured"))
        if expires is not None:
            self._add(ref.iri, CMC.expiryDate, self._date(expires, where, "expires"))
        return ref

    def run(
        self,
        run_id: str,
        *,
        inputs: Sequence[Ref | Input] = (),
        outputs: Sequence[Ref] = (),
        unit_operation: str | None = None,
        site: NodeLike | None = None,
        equipment: NodeLike | Sequence[NodeLike] = (),
        process_version: NodeLike | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> Ref:
        """A process (unit-operation) run: it ``prov:used`` its inputs, its outputs
        ``prov:wasGeneratedBy`` it and ``prov:wasDerivedFrom`` every input."""
        where = f"run('{run_id}')"
        ref = self._node("run", CMC.ProcessRun, run_id)
        used: list[URIRef] = []
        for position, item in enumerate(inputs, start=1):
            lot = item.lot if isinstance(item, Input) else item
            self._add(ref.iri, PROV.used, lot.iri)
            used.append(lot.iri)
            if isinstance(item, Input):
                usage = self.minter.mint("run", self.issuer, run_id, "usage", str(position))
                self._add(usage, RDF.type, CMC.Usage)
                self._add(usage, CMC.ofRun, ref.iri)
                self._add(usage, CMC.usedLot, lot.iri)
                self._add(usage, QUDT.numericValue, _double(item.quantity, self.source, where))
                self._add(
                    usage,
                    QUDT.unit,
                    vals.unit_iri(item.unit, vals.Where(self.source, where, "inputs")),
                )
                self._record.locate(usage, f"{where}.inputs[{position - 1}]")
        for output in outputs:
            self._add(output.iri, PROV.wasGeneratedBy, ref.iri)
            for source in used:
                if source != output.iri:
                    self._add(output.iri, PROV.wasDerivedFrom, source)
        if unit_operation is not None:
            self._add(
                ref.iri,
                CMC.unitOperation,
                self._term(unit_operation, where, "unit_operation", CMCT.UnitOperations),
            )
        if site is not None:
            self._add(ref.iri, CMC.atSite, _as_ref(site, self.site).iri)
        pieces = [equipment] if isinstance(equipment, str | Ref) else list(equipment)
        for piece in pieces:
            self._add(ref.iri, CMC.usedEquipment, _as_ref(piece, self.equipment).iri)
        if process_version is not None:
            self._add(
                ref.iri, CMC.processVersion, _as_ref(process_version, self.process_version).iri
            )
        if start is not None:
            self._add(ref.iri, PROV.startedAtTime, self._datetime(start, where, "start"))
        if end is not None:
            self._add(ref.iri, PROV.endedAtTime, self._datetime(end, where, "end"))
        return ref

    def sample(self, sample_id: str, *, of: Ref) -> Ref:
        """A sample taken from a lot or a run (``cmc:sampleOf``)."""
        ref = self._node("sample", CMC.Sample, sample_id)
        self._add(ref.iri, CMC.sampleOf, of.iri)
        return ref

    def measurement(
        self,
        entity: Ref,
        property: str,
        value: float | str,
        unit: str | None = None,
        *,
        stage: str | None = None,
        method: str | None = None,
        device: NodeLike | None = None,
        time: TimeLike | None = None,
        measurement_id: str | None = None,
    ) -> Ref:
        """A result on a lot, sample or run. A number needs a unit (or the property's default
        unit); text is kept as ``cmc:textValue``. ``property`` names a term (looked up among
        process parameters first for a run, quality attributes first otherwise); ``stage``
        names a stage term (``release``, ``in-process``, …)."""
        self._measurements += 1
        local_id = measurement_id or str(self._measurements)
        where = f"measurement('{local_id}')"
        iri = self.minter.mint("measurement", self.issuer, self.record_id, local_id)
        prefer = CMCT.ProcessParameters if entity.kind == "run" else CMCT.QualityAttributes
        concept = self._term(property, where, "property", prefer)
        self._add(iri, RDF.type, CMC.Measurement)
        self._add(iri, CMC.onEntity, entity.iri)
        self._add(iri, CMC.measuredProperty, concept)
        if isinstance(value, str):
            if unit is not None:
                raise MappingError("a text result takes no unit", self.source, where, "unit")
            self._add(iri, CMC.textValue, Literal(value))
        else:
            self._add(iri, QUDT.numericValue, _double(value, self.source, where))
            self._add(iri, QUDT.unit, self._unit(unit, concept, where))
        if stage is not None:
            self._add(iri, CMC.stage, self._term(stage, where, "stage", CMCT.Stages))
        if method is not None:
            self._add(iri, CMC.method, Literal(method))
        if device is not None:
            self._add(iri, CMC.device, _as_ref(device, self.equipment).iri)
        if time is not None:
            self._add(iri, CMC.resultTime, self._datetime(time, where, "time"))
        self._record.locate(iri, where)
        return Ref(iri, "measurement", local_id)

    # -- helpers -------------------------------------------------------------------------

    def _add(self, s: URIRef, p: URIRef, o: URIRef | Literal) -> None:
        self._record.triples.add((s, p, o))

    def _node(self, kind: str, rdf_class: URIRef, local_id: str) -> Ref:
        if not isinstance(local_id, str) or not local_id.strip():
            raise MappingError(f"a {kind} needs a non-empty id", self.source, kind)
        iri = self.minter.mint(kind, self.issuer, local_id)
        self._add(iri, RDF.type, rdf_class)
        self._add(iri, CMC.identifier, Literal(local_id.strip()))
        self._record.locate(iri, f"{kind.replace('-', '_')}('{local_id}')")
        return Ref(iri, kind, local_id.strip())

    def _material_ref(self, material: NodeLike) -> Ref:
        if isinstance(material, Ref):
            return material
        ref = self.material(material)
        found = term_index().candidates(material, CMCT.Materials)
        if len(found) == 1:
            self._add(ref.iri, CMC.materialType, next(iter(found)))
        return ref

    def _term(self, label: str, where: str, field_name: str, prefer: URIRef) -> URIRef:
        """The concept ``label`` names in the ``prefer`` scheme, else in any scheme (an
        unknown or ambiguous label raises, naming the nearest labels)."""
        index = term_index()
        found = index.candidates(label, prefer)
        if len(found) == 1:
            return next(iter(found))
        return index.resolve(label, source=self.source, location=where, field_name=field_name).iri

    def _unit(self, unit: str | None, concept: URIRef, where: str) -> URIRef:
        if unit is not None:
            return vals.unit_iri(unit, vals.Where(self.source, where, "unit"))
        index = term_index()
        default = index.default_unit(concept)
        if default is None:
            raise MappingError(
                "a numeric result needs a unit (its property has no default unit)",
                self.source,
                where,
                "unit",
            )
        return URIRef(default)

    def _datetime(self, value: TimeLike, where: str, field_name: str) -> Literal:
        return vals.datetime_literal(value, vals.Where(self.source, where, field_name))

    def _date(self, value: TimeLike, where: str, field_name: str) -> Literal:
        return vals.date_literal(value, vals.Where(self.source, where, field_name))


def _as_ref(value: NodeLike, make) -> Ref:
    return value if isinstance(value, Ref) else make(value)


def _double(value: object, source: str | None, where: str) -> Literal:
    return vals.double(value, vals.Where(source, where, "value"))
