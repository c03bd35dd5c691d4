"""Shapes: a conforming baseline and, for every shape, a violating change with its exact results.

The baseline (tests/data/validate/baseline.trig) is a small, complete set of records whose
locations point into tests/data/validate/sources/. Each case below changes a few triples and
lists every result expected, worked out by hand from the shape's rule: severity, focus node,
path, value, shape and the source record and location the result is traced to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest
from conftest import TEST_DATA
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SH, XSD

from cmckg.errors import ConfigError
from cmckg.ingest import ingest_records
from cmckg.mappers.base import RecordGraph, RecordTriples
from cmckg.stores import open_store
from cmckg.validate import (
    Severity,
    ValidationReport,
    static_shapes,
    validate_store,
)
from cmckg.vocab import CMC, CMCT, QUDT, UNIT, IriMinter

ID = Namespace("https://w3id.org/cmckg/id/")
CMCSH = Namespace("https://w3id.org/cmckg/shapes#")
DATA = TEST_DATA / "validate"
SOURCES = {
    "batch-record-1": "tests/data/validate/sources/batch_record.csv",
    "lims-1": "tests/data/validate/sources/results.json",
    "spec-1": "tests/data/validate/sources/specs.xml",
}
BR, LIMS, SPECS = ID["graph/test/batch-record-1"], ID["graph/test/lims-1"], ID["graph/test/spec-1"]
RM, DS, DP = ID["lot/test/RM-1"], ID["lot/test/DS-1"], ID["lot/test/DP-1"]
R1, R2, U1 = ID["run/test/R-1"], ID["run/test/R-2"], ID["run/test/R-1/usage/1"]
S1, M1 = ID["sample/test/S-1"], ID["measurement/test/lims-1/1"]
SPEC = ID["specification/test/SPEC-1"]
RESIN = ID["material/test/RESIN"]
PRODUCT, SITE = ID["product/test/P-1"], ID["site/test/Site-A"]
SUPPLIER, BR_1 = ID["supplier/test/MediaCo"], ID["equipment/test/BR-1"]
SPEC_SHAPE = f"{SPEC}/shape"

V, W, INFO = Severity.VIOLATION, Severity.WARNING, Severity.INFO
# where each record's subjects come from (record id, location)
AT = {
    RM: ("batch-record-1", "row=2"),
    R1: ("batch-record-1", "row=3"),
    U1: ("batch-record-1", "row=3"),
    DS: ("batch-record-1", "row=4"),
    R2: ("batch-record-1", "row=5"),
    DP: ("batch-record-1", "row=6"),
    S1: ("lims-1", "/samples/0"),
    M1: ("lims-1", "/samples/0/results/0"),
    SPEC: ("spec-1", "/specifications/specification[1]"),
}


def dt(text: str) -> Literal:
    return Literal(text, datatype=XSD.dateTime)


def date(text: str) -> Literal:
    return Literal(text, datatype=XSD.date)


def records(remove: Iterable[tuple] = (), add: Iterable[tuple] = ()) -> list[RecordGraph]:
    """The baseline's record graphs with quads (s, p, o-or-None, graph) removed and added."""
    dataset = Dataset()
    dataset.parse(DATA / "baseline.trig", format="trig")
    for s, p, o, g in remove:
        dataset.remove((s, p, o, g))
    for quad in add:
        dataset.add(quad)
    found = []
    for graph in dataset.graphs():
        if len(graph):
            record_id = str(graph.identifier).rsplit("/", 1)[-1]
            found.append(
                RecordGraph(graph.identifier, record_id, SOURCES[record_id], RecordTriples(graph))
            )
    return found


def validated(
    remove: Iterable[tuple] = (), add: Iterable[tuple] = (), location: str = "oxigraph:memory"
) -> ValidationReport:
    store = open_store(location)
    ingest_records(store, records(remove, add), IriMinter())
    return validate_store(store, IriMinter(), full=True)


def summary(report: ValidationReport) -> set[tuple]:
    return {
        (
            r.severity,
            r.focus,
            r.path_text,
            r.value,
            r.shape_name,
            r.source.record_id,
            r.source.location,
        )
        for r in report.results
    }


PLAUSIBLE_HMW = (
    "PlausibleValueShape/HighMolecularWeightSpecies-"
    + (hashlib.sha256(str(CMCT.HighMolecularWeightSpecies).encode()).hexdigest()[:8])
)


def expect(
    severity: Severity,
    focus: URIRef,
    path: str | None,
    value,
    shape: str,
    where: tuple[str, str] | None = None,
) -> tuple:
    record_id, location = where or AT[focus]
    return (severity, focus, path, value, shape, record_id, location)


def CENSORED(qualifier: str, limit: float, text: str) -> list[tuple]:  # noqa: N802
    """The quads of a censored result on M1 (its unit stays)."""
    return [
        (M1, CMC.resultQualifier, Literal(qualifier), LIMS),
        (M1, CMC.censoringLimit, Literal(limit), LIMS),
        (M1, CMC.reportedText, Literal(text), LIMS),
    ]


# (case id, quads removed, quads added, every result expected)
CASES = [
    # lots.ttl
    (
        "lot-identifier",
        [(RM, CMC.identifier, None, BR)],
        [],
        [expect(V, RM, "cmc:identifier", None, "MaterialLot-identifier")],
    ),
    (
        "lot-material-class",
        [(RM, CMC.ofMaterial, None, BR)],
        [(RM, CMC.ofMaterial, SITE, BR)],
        [expect(V, RM, "cmc:ofMaterial", SITE, "MaterialLot-material")],
    ),
    (
        "lot-site-class",
        [(RM, CMC.atSite, None, BR)],
        [(RM, CMC.atSite, SUPPLIER, BR)],
        [expect(V, RM, "cmc:atSite", SUPPLIER, "MaterialLot-site")],
    ),
    (
        "lot-site-given",
        [(RM, CMC.atSite, None, BR)],
        [],
        [expect(INFO, RM, "cmc:atSite", None, "MaterialLot-siteGiven")],
    ),
    (
        "lot-two-manufacture-dates",
        [],
        [(RM, CMC.manufactureDate, date("2024-01-02"), BR)],
        [expect(V, RM, "cmc:manufactureDate", None, "MaterialLot-manufactureDate")],
    ),
    (
        "lot-two-expiry-dates",
        [],
        [(RM, CMC.expiryDate, date("2026-01-02"), BR)],
        [expect(V, RM, "cmc:expiryDate", None, "MaterialLot-expiryDate")],
    ),
    (
        "lot-date-type",
        [(RM, CMC.manufactureDate, None, BR)],
        [(RM, CMC.manufactureDate, dt("2024-01-01T00:00:00"), BR)],
        [expect(V, RM, "cmc:manufactureDate", dt("2024-01-01T00:00:00"), "LotDateTypeShape")],
    ),
    (
        "lot-dates-in-order",
        [(RM, CMC.expiryDate, None, BR)],
        [(RM, CMC.expiryDate, date("2023-06-30"), BR)],
        [expect(V, RM, "cmc:manufactureDate", date("2024-01-01"), "LotDatesInOrderShape")],
    ),
    (
        "lot-generated-by",
        [],
        [(DS, PROV.wasGeneratedBy, BR_1, BR)],
        [
            expect(V, DS, "prov:wasGeneratedBy", None, "MaterialLot-generatedBy"),
            expect(V, DS, "prov:wasGeneratedBy", BR_1, "MaterialLot-generatedBy"),
        ],
    ),
    (
        "lot-derived-from",
        [],
        [(DP, PROV.wasDerivedFrom, R1, BR)],
        [expect(V, DP, "prov:wasDerivedFrom", R1, "MaterialLot-derivedFrom")],
    ),
    (
        "raw-lot-material",
        [(RM, CMC.ofMaterial, None, BR)],
        [],
        [expect(V, RM, "cmc:ofMaterial", None, "RawMaterialLot-material")],
    ),
    (
        "raw-lot-supplier-class",
        [(RM, CMC.suppliedBy, None, BR)],
        [(RM, CMC.suppliedBy, SITE, BR)],
        [expect(V, RM, "cmc:suppliedBy", SITE, "RawMaterialLot-supplier")],
    ),
    (
        "raw-lot-supplier-given",
        [(RM, CMC.suppliedBy, None, BR)],
        [],
        [expect(W, RM, "cmc:suppliedBy", None, "RawMaterialLot-supplierGiven")],
    ),
    (
        "batch-product",
        [(DS, CMC.ofProduct, None, BR)],
        [],
        [expect(V, DS, "cmc:ofProduct", None, "Batch-product")],
    ),
    # runs.ttl
    (
        "run-identifier",
        [(R1, CMC.identifier, None, BR)],
        [],
        [expect(V, R1, "cmc:identifier", None, "ProcessRun-identifier")],
    ),
    (
        "run-inputs",
        [(R1, PROV.used, None, BR)],
        [],
        [
            expect(W, R1, None, DS, "RunWithoutInputsShape"),
            expect(V, U1, None, RM, "UsageLotIsRunInputShape"),
        ],
    ),
    # a run that used a sample: not a lot (and ingest derives DS-1 ← S-1 from the run)
    (
        "run-inputs-are-lots",
        [],
        [(R1, PROV.used, S1, LIMS)],
        [
            expect(V, R1, "prov:used", S1, "ProcessRun-inputs"),
            expect(V, DS, "prov:wasDerivedFrom", S1, "MaterialLot-derivedFrom"),
        ],
    ),
    (
        "run-outputs-are-lots",
        [],
        [(S1, PROV.wasGeneratedBy, R1, LIMS)],
        [expect(V, R1, "^prov:wasGeneratedBy", S1, "ProcessRun-outputs")],
    ),
    (
        "run-outputs-given",
        [(DS, PROV.wasGeneratedBy, None, BR)],
        [],
        [expect(W, R1, "^prov:wasGeneratedBy", None, "ProcessRun-outputsGiven")],
    ),
    (
        "run-two-starts",
        [],
        [(R1, PROV.startedAtTime, dt("2024-02-01T09:00:00"), BR)],
        [expect(V, R1, "prov:startedAtTime", None, "ProcessRun-startTime")],
    ),
    (
        "run-start-type",
        [(R1, PROV.startedAtTime, None, BR)],
        [(R1, PROV.startedAtTime, Literal("2024-02-01T08:00:00"), BR)],
        [
            expect(
                V, R1, "prov:startedAtTime", Literal("2024-02-01T08:00:00"), "ProcessRun-startTime"
            ),
            expect(
                V,
                R1,
                "prov:startedAtTime",
                Literal("2024-02-01T08:00:00"),
                "ProcessRun-timesInOrder",
            ),
        ],
    ),
    (
        "run-two-ends",
        [],
        [(R1, PROV.endedAtTime, dt("2024-02-02T09:00:00"), BR)],
        [expect(V, R1, "prov:endedAtTime", None, "ProcessRun-endTime")],
    ),
    (
        "run-start-given",
        [(R2, PROV.startedAtTime, None, BR)],
        [],
        [expect(W, R2, None, R2, "ProcessRunContextShape")],
    ),
    (
        "run-times-in-order",
        [(R1, PROV.endedAtTime, None, BR)],
        [(R1, PROV.endedAtTime, dt("2024-01-31T08:00:00"), BR)],
        [expect(V, R1, "prov:startedAtTime", dt("2024-02-01T08:00:00"), "ProcessRun-timesInOrder")],
    ),
    (
        "run-site-class",
        [(R1, CMC.atSite, None, BR)],
        [(R1, CMC.atSite, SUPPLIER, BR)],
        [expect(V, R1, "cmc:atSite", SUPPLIER, "ProcessRun-site")],
    ),
    (
        "run-site-given",
        [(R1, CMC.atSite, None, BR)],
        [],
        [expect(W, R1, None, R1, "ProcessRunContextShape")],
    ),
    (
        "run-equipment-class",
        [(R1, CMC.usedEquipment, None, BR)],
        [(R1, CMC.usedEquipment, SITE, BR)],
        [expect(V, R1, "cmc:usedEquipment", SITE, "ProcessRun-equipment")],
    ),
    (
        "run-equipment-given",
        [(R1, CMC.usedEquipment, None, BR)],
        [],
        [expect(W, R1, None, R1, "ProcessRunContextShape")],
    ),
    (
        "run-process-version-class",
        [(R1, CMC.processVersion, None, BR)],
        [(R1, CMC.processVersion, BR_1, BR)],
        [expect(V, R1, "cmc:processVersion", BR_1, "ProcessRun-processVersion")],
    ),
    (
        "run-process-version-given",
        [(R1, CMC.processVersion, None, BR)],
        [],
        [expect(W, R1, None, R1, "ProcessRunContextShape")],
    ),
    (
        "usage-run",
        [],
        [(U1, CMC.ofRun, R2, BR)],
        [
            expect(V, U1, "cmc:ofRun", None, "Usage-run"),
            expect(V, U1, None, RM, "UsageLotIsRunInputShape"),
        ],
    ),
    (
        "usage-lot-class",
        [(U1, CMC.usedLot, None, BR)],
        [(U1, CMC.usedLot, SITE, BR)],
        [
            expect(V, U1, "cmc:usedLot", SITE, "Usage-lot"),
            expect(V, U1, None, SITE, "UsageLotIsRunInputShape"),
        ],
    ),
    (
        "usage-quantity",
        [(U1, QUDT.numericValue, None, BR)],
        [(U1, QUDT.numericValue, Literal("12.5"), BR)],
        [expect(V, U1, "qudt:numericValue", Literal("12.5"), "Usage-quantity")],
    ),
    (
        "usage-unit",
        [(U1, QUDT.unit, None, BR)],
        [(U1, QUDT.unit, URIRef("http://qudt.org/vocab/unit#Kilogram"), BR)],
        [expect(V, U1, "qudt:unit", URIRef("http://qudt.org/vocab/unit#Kilogram"), "Usage-unit")],
    ),
    (
        "usage-lot-is-run-input",
        [(U1, CMC.usedLot, None, BR)],
        [(U1, CMC.usedLot, DS, BR)],
        [expect(V, U1, None, DS, "UsageLotIsRunInputShape")],
    ),
    # samples.ttl
    (
        "sample-identifier-given",
        [(S1, CMC.identifier, None, LIMS)],
        [],
        [expect(W, S1, "cmc:identifier", None, "Sample-identifierGiven")],
    ),
    (
        "sample-identifier",
        [],
        [(S1, CMC.identifier, Literal("S-1b"), LIMS)],
        [expect(V, S1, "cmc:identifier", None, "Sample-identifier")],
    ),
    (
        "sample-source",
        [(S1, CMC.sampleOf, None, LIMS)],
        [(S1, CMC.sampleOf, SITE, LIMS)],
        [expect(V, S1, "cmc:sampleOf", SITE, "Sample-source")],
    ),
    (
        "sample-source-given",
        [(S1, CMC.sampleOf, None, LIMS)],
        [],
        [expect(W, S1, "cmc:sampleOf", None, "Sample-sourceGiven")],
    ),
    # measurements.ttl
    (
        "measurement-two-entities",
        [],
        [(M1, CMC.onEntity, DS, LIMS)],
        [expect(V, M1, "cmc:onEntity", None, "Measurement-entity")],
    ),
    (
        "measurement-about-nothing",
        [(M1, CMC.onEntity, None, LIMS)],
        [],
        [expect(V, M1, "cmc:onEntity", M1, "MeasurementAboutSomethingShape")],
    ),
    (
        "measurement-two-properties",
        [],
        [(M1, CMC.measuredProperty, CMCT.Monomer, LIMS)],
        [expect(V, M1, "cmc:measuredProperty", None, "Measurement-property")],
    ),
    (
        "measurement-unknown-property",
        [(M1, CMC.measuredProperty, None, LIMS)],
        [(M1, CMC.measuredProperty, URIRef("http://example.org/made-up"), LIMS)],
        [
            expect(
                V,
                M1,
                "cmc:measuredProperty",
                URIRef("http://example.org/made-up"),
                "MeasurementKnownPropertyShape",
            )
        ],
    ),
    (
        "measurement-numeric-type",
        [(M1, QUDT.numericValue, None, LIMS)],
        [(M1, QUDT.numericValue, Literal("1.2", datatype=XSD.decimal), LIMS)],
        [
            expect(
                V,
                M1,
                "qudt:numericValue",
                Literal("1.2", datatype=XSD.decimal),
                "Measurement-numericValue",
            )
        ],
    ),
    (
        "measurement-two-results",
        [],
        [(M1, CMC.textValue, Literal("clear"), LIMS)],
        [expect(V, M1, None, M1, "MeasurementResultShape")],
    ),
    (
        "measurement-unit-given",
        [(M1, QUDT.unit, None, LIMS)],
        [],
        [expect(V, M1, "qudt:unit", M1, "MeasurementUnitGivenShape")],
    ),
    (
        "measurement-legacy-unit",
        [(M1, QUDT.unit, None, LIMS)],
        [(M1, QUDT.unit, URIRef("http://qudt.org/vocab/unit#Percent"), LIMS)],
        [
            expect(
                V, M1, "qudt:unit", URIRef("http://qudt.org/vocab/unit#Percent"), "Measurement-unit"
            ),
            expect(V, M1, "qudt:numericValue", Literal(1.2), f"{SPEC_SHAPE}/converted"),
        ],
    ),
    (
        "measurement-two-times",
        [],
        [(M1, CMC.resultTime, dt("2024-02-06T10:00:00"), LIMS)],
        [expect(V, M1, "cmc:resultTime", None, "Measurement-time")],
    ),
    (
        "measurement-time-type",
        [(M1, CMC.resultTime, None, LIMS)],
        [(M1, CMC.resultTime, Literal("Feb 2024"), LIMS)],
        [expect(V, M1, "cmc:resultTime", Literal("Feb 2024"), "MeasurementTimeTypeShape")],
    ),
    (
        "undated-results",
        [(M1, CMC.resultTime, None, LIMS), (R1, PROV.startedAtTime, None, BR)],
        [],
        [
            expect(INFO, S1, None, S1, "UndatedResultsShape"),
            expect(W, R1, None, R1, "ProcessRunContextShape"),
        ],
    ),
    (
        "measurement-two-stages",
        [],
        [(M1, CMC.stage, CMCT.InProcess, LIMS)],
        [expect(V, M1, "cmc:stage", None, "Measurement-stage")],
    ),
    (
        "measurement-device-class",
        [(M1, CMC.device, None, LIMS)],
        [(M1, CMC.device, SITE, LIMS)],
        [expect(V, M1, "cmc:device", SITE, "Measurement-device")],
    ),
    # specifications.ttl (a malformed specification generates no shape of its own)
    (
        "spec-identifier",
        [(SPEC, CMC.identifier, None, SPECS)],
        [],
        [expect(V, SPEC, "cmc:identifier", None, "Specification-identifier")],
    ),
    (
        "spec-two-versions",
        [],
        [(SPEC, CMC.version, Literal("2"), SPECS)],
        [expect(V, SPEC, "cmc:version", None, "Specification-version")],
    ),
    (
        "spec-version-given",
        [(SPEC, CMC.version, None, SPECS)],
        [],
        [expect(W, SPEC, "cmc:version", None, "Specification-versionGiven")],
    ),
    (
        "spec-product-class",
        [(SPEC, CMC.ofProduct, None, SPECS)],
        [(SPEC, CMC.ofProduct, SITE, SPECS)],
        [expect(V, SPEC, "cmc:ofProduct", SITE, "Specification-product")],
    ),
    (
        "spec-two-properties",
        [],
        [(SPEC, CMC.forProperty, CMCT.Monomer, SPECS)],
        [expect(V, SPEC, "cmc:forProperty", None, "Specification-property")],
    ),
    (
        "spec-lower-type",
        [(SPEC, CMC.lowerLimit, None, SPECS)],
        [(SPEC, CMC.lowerLimit, Literal("zero"), SPECS)],
        [
            expect(V, SPEC, "cmc:lowerLimit", Literal("zero"), "Specification-lowerLimit"),
            expect(V, SPEC, "cmc:lowerLimit", Literal("zero"), "Specification-limitsInOrder"),
        ],
    ),
    (
        "spec-two-uppers",
        [],
        [(SPEC, CMC.upperLimit, Literal(4.0), SPECS)],
        [expect(V, SPEC, "cmc:upperLimit", None, "Specification-upperLimit")],
    ),
    (
        "spec-limits-in-order",
        [(SPEC, CMC.lowerLimit, None, SPECS)],
        [(SPEC, CMC.lowerLimit, Literal(5.0), SPECS)],
        [expect(V, SPEC, "cmc:lowerLimit", Literal(5.0), "Specification-limitsInOrder")],
    ),
    (
        "spec-unit",
        [(SPEC, QUDT.unit, None, SPECS)],
        [],
        [expect(V, SPEC, "qudt:unit", None, "Specification-unit")],
    ),
    (
        "spec-two-stages",
        [],
        [(SPEC, CMC.stage, CMCT.InProcess, SPECS)],
        [expect(V, SPEC, "cmc:stage", None, "Specification-stage")],
    ),
    (
        "spec-two-lot-classes",
        [],
        [(SPEC, CMC.lotClass, CMC.DrugProductBatch, SPECS)],
        [expect(V, SPEC, "cmc:lotClass", None, "Specification-lotClass")],
    ),
    (
        "spec-no-limit",
        [(SPEC, CMC.lowerLimit, None, SPECS), (SPEC, CMC.upperLimit, None, SPECS)],
        [],
        [expect(V, SPEC, None, SPEC, "SpecificationLimitGivenShape")],
    ),
    # cross-record.ttl
    (
        "consumed-before-produced-run",
        [(R2, PROV.startedAtTime, None, BR)],
        [(R2, PROV.startedAtTime, dt("2024-02-01T09:00:00"), BR)],
        [expect(V, DS, None, R2, "LotConsumedBeforeProducedShape")],
    ),
    (
        "consumed-before-manufactured",
        [(R1, PROV.startedAtTime, None, BR)],
        [(R1, PROV.startedAtTime, dt("2023-12-31T08:00:00"), BR)],
        [expect(V, RM, None, R1, "LotConsumedBeforeProducedShape")],
    ),
    (
        # ingest derives DP-1 ← DS-1 from run R-2 as well: the lot loses both to lose its lineage
        "drug-product-lineage",
        [(DP, PROV.wasDerivedFrom, None, BR), (DP, PROV.wasGeneratedBy, None, BR)],
        [],
        [
            expect(V, DP, None, DP, "DrugProductLineageShape"),
            expect(W, R2, "^prov:wasGeneratedBy", None, "ProcessRun-outputsGiven"),
        ],
    ),
    # a drug-substance lot without lineage: a Warning (and its drug product's lineage breaks)
    (
        "drug-substance-lineage",
        [(DS, PROV.wasDerivedFrom, None, BR), (DS, PROV.wasGeneratedBy, None, BR)],
        [],
        [
            expect(W, DS, None, DS, "DrugSubstanceLineageShape"),
            expect(V, DP, None, DP, "DrugProductLineageShape"),
            expect(W, R1, "^prov:wasGeneratedBy", None, "ProcessRun-outputsGiven"),
        ],
    ),
    # P-1's bill of materials requires a resin no lot upstream of DS-1 or DP-1 is made of
    (
        "bill-of-materials",
        [],
        [
            (PRODUCT, CMC.requiresMaterial, RESIN, SPECS),
            (RESIN, RDF.type, CMC.Material, SPECS),
            (RESIN, CMC.identifier, Literal("RESIN"), SPECS),
        ],
        [
            expect(V, DS, None, RESIN, "BillOfMaterialsShape"),
            expect(V, DP, None, RESIN, "BillOfMaterialsShape"),
        ],
    ),
    # HMW is a percentage of a whole (0 to 100 %: ontology/terms/plausibility.ttl); also out of
    # specification. The plausibility shape is generated per range holder: its name carries the
    # holder's local name and the first 8 hex digits of the SHA-256 of its IRI.
    (
        "implausible-value",
        [(M1, QUDT.numericValue, None, LIMS)],
        [(M1, QUDT.numericValue, Literal(-40.0), LIMS)],
        [
            expect(V, M1, "qudt:numericValue", Literal(-40.0), PLAUSIBLE_HMW),
            expect(V, M1, "qudt:numericValue", Literal(-40.0), SPEC_SHAPE),
        ],
    ),
    (
        "unit-quantity-kind",
        [(M1, QUDT.unit, None, LIMS)],
        [(M1, QUDT.unit, UNIT["GM-PER-L"], LIMS)],
        [
            expect(V, M1, "qudt:unit", UNIT["GM-PER-L"], "UnitQuantityKindShape"),
            expect(V, M1, "qudt:numericValue", Literal(1.2), f"{SPEC_SHAPE}/converted"),
        ],
    ),
    # shapes generated from the specification (0 to 3 % HMW, drug substance, release)
    (
        "spec-out-of-limits",
        [(M1, QUDT.numericValue, None, LIMS)],
        [(M1, QUDT.numericValue, Literal(3.4), LIMS)],
        [expect(V, M1, "qudt:numericValue", Literal(3.4), SPEC_SHAPE)],
    ),
    (
        "spec-out-of-limits-converted",
        [(M1, QUDT.numericValue, None, LIMS), (M1, QUDT.unit, None, LIMS)],
        [(M1, QUDT.numericValue, Literal(0.034), LIMS), (M1, QUDT.unit, UNIT.FRACTION, LIMS)],
        [expect(V, M1, "qudt:numericValue", Literal(0.034), f"{SPEC_SHAPE}/converted")],
    ),
    # censored results (cmckg.censoring): SPEC-1 is HMW 0.0 – 3.0 %
    (
        "measurement-censored-incomplete",
        [(M1, QUDT.numericValue, None, LIMS)],
        [(M1, CMC.censoringLimit, Literal(0.5), LIMS)],
        [expect(V, M1, "cmc:resultQualifier", None, "MeasurementCensored-qualifier")],
    ),
    (
        "measurement-censored-no-limit",
        [(M1, QUDT.numericValue, None, LIMS)],
        [(M1, CMC.resultQualifier, Literal("<"), LIMS)],
        [
            expect(V, M1, "cmc:censoringLimit", None, "MeasurementCensored-limit"),
            expect(V, M1, None, M1, "MeasurementResultShape"),
        ],
    ),
    (
        "measurement-censored-no-unit",
        [(M1, QUDT.numericValue, None, LIMS), (M1, QUDT.unit, None, LIMS)],
        CENSORED("<", 0.5, "<0.5"),
        [expect(V, M1, "qudt:unit", None, "MeasurementCensored-unit")],
    ),
    (
        "measurement-censored-bad-qualifier",
        [(M1, QUDT.numericValue, None, LIMS)],
        [
            (M1, CMC.resultQualifier, Literal("~"), LIMS),
            (M1, CMC.censoringLimit, Literal(0.5), LIMS),
            (M1, CMC.reportedText, Literal("~0.5"), LIMS),
        ],
        [
            expect(V, M1, "cmc:resultQualifier", Literal("~"), "MeasurementCensored-qualifier"),
            # an unknown qualifier is judged neither in nor out
            expect(
                W, M1, "cmc:reportedText", Literal("~0.5"), f"{SPEC_SHAPE}/censored/indeterminate"
            ),
        ],
    ),
    (
        "measurement-censored-and-numeric",
        [],
        [
            (M1, CMC.censoringLimit, Literal(0.5), LIMS),
            (M1, CMC.resultQualifier, Literal("<"), LIMS),
            (M1, CMC.reportedText, Literal("<0.5"), LIMS),
        ],
        [
            expect(V, M1, None, M1, "MeasurementResultShape"),
            # and the censored part, "<0.5" against 0.0 – 3.0, may be below the lower limit
            expect(
                W, M1, "cmc:reportedText", Literal("<0.5"), f"{SPEC_SHAPE}/censored/indeterminate"
            ),
        ],
    ),
    # "<5" against "≤ 3.0" (lower limit removed): could be 1, could be 4
    (
        "spec-censored-indeterminate",
        [(M1, QUDT.numericValue, None, LIMS), (SPEC, CMC.lowerLimit, None, SPECS)],
        CENSORED("<", 5.0, "<5"),
        [expect(W, M1, "cmc:reportedText", Literal("<5"), f"{SPEC_SHAPE}/censored/indeterminate")],
    ),
    # "<0.5" against "0.0 – 3.0": the value may be below the lower limit, so not a pass
    (
        "spec-censored-below-lower-unknown",
        [(M1, QUDT.numericValue, None, LIMS)],
        CENSORED("<", 0.5, "<0.5"),
        [
            expect(
                W, M1, "cmc:reportedText", Literal("<0.5"), f"{SPEC_SHAPE}/censored/indeterminate"
            )
        ],
    ),
    # ">3.0" against "≤ 3.0": every value it allows is above the limit
    (
        "spec-censored-out",
        [(M1, QUDT.numericValue, None, LIMS)],
        CENSORED(">", 3.0, ">3.0"),
        [expect(V, M1, "cmc:reportedText", Literal(">3.0"), f"{SPEC_SHAPE}/censored/out")],
    ),
    # "≤0.0" against "≥ 0.0"? allowed (= 0); "<0.0" is not
    (
        "spec-censored-out-below",
        [(M1, QUDT.numericValue, None, LIMS)],
        CENSORED("<", 0.0, "<0.0"),
        [expect(V, M1, "cmc:reportedText", Literal("<0.0"), f"{SPEC_SHAPE}/censored/out")],
    ),
    (
        "spec-censored-other-unit",
        [
            (M1, QUDT.numericValue, None, LIMS),
            (M1, QUDT.unit, None, LIMS),
            (SPEC, CMC.lowerLimit, None, SPECS),
        ],
        [(M1, QUDT.unit, UNIT.FRACTION, LIMS), *CENSORED("<", 0.005, "<0.005")],
        [
            expect(
                W, M1, "cmc:reportedText", Literal("<0.005"), f"{SPEC_SHAPE}/censored/indeterminate"
            )
        ],
    ),
]


@pytest.mark.parametrize(
    ("remove", "add", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_violating_case_gives_exactly_the_expected_results(remove, add, expected):
    assert summary(validated(remove, add)) == set(expected)


def test_baseline_conforms():
    report = validated()
    assert report.results == []
    assert report.mode == "full"
    assert len(report.records) == 3


# Changes that keep the records valid: each is a near miss of a rule above.
CONFORMING = [
    (
        "month-precision-dates",
        [(RM, CMC.manufactureDate, None, BR)],
        [(RM, CMC.manufactureDate, Literal("2024-01", datatype=XSD.gYearMonth), BR)],
    ),
    (
        "calculated-measurement-without-entity",
        [(M1, CMC.onEntity, None, LIMS)],
        [
            (M1, PROV.wasDerivedFrom, ID["measurement/test/lims-1/0"], LIMS),
            (ID["measurement/test/lims-1/0"], RDF.type, CMC.Measurement, LIMS),
            (ID["measurement/test/lims-1/0"], CMC.onEntity, S1, LIMS),
            (
                ID["measurement/test/lims-1/0"],
                CMC.measuredProperty,
                CMCT.HighMolecularWeightSpecies,
                LIMS,
            ),
            (ID["measurement/test/lims-1/0"], QUDT.numericValue, Literal(1.1), LIMS),
            (ID["measurement/test/lims-1/0"], QUDT.unit, UNIT.PERCENT, LIMS),
            (ID["measurement/test/lims-1/0"], CMC.resultTime, dt("2024-02-05T09:00:00"), LIMS),
            (ID["measurement/test/lims-1/0"], CMC.sourceLocation, Literal("/samples/0"), LIMS),
        ],
    ),
    (
        "afo-property",
        [(M1, CMC.measuredProperty, None, LIMS)],
        [
            (
                M1,
                CMC.measuredProperty,
                URIRef("http://purl.allotrope.org/ontologies/result#AFR_0001073"),
                LIMS,
            )
        ],
    ),
    (
        "text-result",
        [(M1, QUDT.numericValue, None, LIMS), (M1, QUDT.unit, None, LIMS)],
        [(M1, CMC.textValue, Literal("conforms"), LIMS)],
    ),
    ("result-dated-by-its-lot", [(M1, CMC.resultTime, None, LIMS)], []),
    (
        "spec-limit-inclusive",
        [(M1, QUDT.numericValue, None, LIMS)],
        [(M1, QUDT.numericValue, Literal(3.0), LIMS)],
    ),
    # "<0.5" against "≤ 3.0": every value it allows is within
    (
        "spec-censored-within",
        [(M1, QUDT.numericValue, None, LIMS), (SPEC, CMC.lowerLimit, None, SPECS)],
        CENSORED("<", 0.5, "<0.5"),
    ),
    (
        "spec-censored-at-limit",
        [(M1, QUDT.numericValue, None, LIMS), (SPEC, CMC.lowerLimit, None, SPECS)],
        CENSORED("≤", 3.0, "≤3.0"),
    ),
    (
        "spec-censored-above-lower",
        [(M1, QUDT.numericValue, None, LIMS), (SPEC, CMC.upperLimit, None, SPECS)],
        CENSORED("≥", 0.0, "≥0.0"),
    ),
    (
        "spec-converted-within",
        [(M1, QUDT.numericValue, None, LIMS), (M1, QUDT.unit, None, LIMS)],
        [(M1, QUDT.numericValue, Literal(0.012), LIMS), (M1, QUDT.unit, UNIT.FRACTION, LIMS)],
    ),
    (
        "spec-other-lot-class",
        [(M1, QUDT.numericValue, None, LIMS), (SPEC, CMC.lotClass, None, SPECS)],
        [
            (M1, QUDT.numericValue, Literal(3.4), LIMS),
            (SPEC, CMC.lotClass, CMC.DrugProductBatch, SPECS),
        ],
    ),
    (
        "spec-other-stage",
        [(M1, QUDT.numericValue, None, LIMS), (M1, CMC.stage, None, LIMS)],
        [(M1, QUDT.numericValue, Literal(3.4), LIMS), (M1, CMC.stage, CMCT.InProcess, LIMS)],
    ),
    (
        "spec-later-version-wider",
        [(M1, QUDT.numericValue, None, LIMS)],
        [
            (M1, QUDT.numericValue, Literal(3.4), LIMS),
            *[
                (ID["specification/test/SPEC-1b"], p, o, SPECS)
                for p, o in [
                    (RDF.type, CMC.Specification),
                    (CMC.identifier, Literal("SPEC-1b")),
                    (CMC.version, Literal("2")),
                    (CMC.ofProduct, PRODUCT),
                    (CMC.forProperty, CMCT.HighMolecularWeightSpecies),
                    (CMC.stage, CMCT.Release),
                    (CMC.lotClass, CMC.DrugSubstanceBatch),
                    (CMC.lowerLimit, Literal(0.0)),
                    (CMC.upperLimit, Literal(5.0)),
                    (QUDT.unit, UNIT.PERCENT),
                    (CMC.sourceLocation, Literal("/specifications/specification[2]")),
                ]
            ],
        ],
    ),
]


@pytest.mark.parametrize(
    ("remove", "add"), [c[1:] for c in CONFORMING], ids=[c[0] for c in CONFORMING]
)
def test_near_miss_conforms(remove, add):
    assert summary(validated(remove, add)) == set()


def test_every_shape_has_a_violating_case():
    shapes = static_shapes()
    named = {
        str(s).rsplit("#", 1)[-1]
        for s in set(shapes.subjects(RDF.type, SH.NodeShape))
        | set(shapes.subjects(RDF.type, SH.PropertyShape))
        if isinstance(s, URIRef)
    }
    covered = {r[4] for case in CASES for r in case[3]}
    assert named - covered == set()


def test_every_shape_has_label_message_and_severity():
    shapes = static_shapes()
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape)
    ):
        assert isinstance(shape, URIRef), f"blank-node shape {shape}"
        assert shapes.value(shape, RDFS.label) is not None, shape
        assert shapes.value(shape, SH.message) is not None, shape
        assert shapes.value(shape, SH.severity) in {SH.Violation, SH.Warning, SH.Info}, shape


def test_shapes_are_valid_shacl():
    from pyshacl import validate

    conforms, _, text = validate(
        Graph(), shacl_graph=static_shapes(), meta_shacl=True, advanced=True
    )
    assert conforms, text


def test_run_context_lists_what_is_missing():
    report = validated([(R1, CMC.atSite, None, BR), (R1, CMC.processVersion, None, BR)])
    assert [r.message for r in report.results] == ["The run names no site, process version"]


def test_messages_name_the_nodes_involved():
    report = validated(
        [(R2, PROV.startedAtTime, None, BR)],
        [(R2, PROV.startedAtTime, dt("2024-02-01T09:00:00"), BR)],
    )
    (result,) = report.results
    assert result.message == (
        "The lot was used by run R-2 before it was produced (use started "
        "2024-02-01T09:00:00, lot produced 2024-02-02T08:00:00)"
    )


def test_result_traced_to_the_graph_holding_the_offending_triple():
    # DS-1 is typed in the batch record (row=4) and mentioned in the LIMS file; the wrong site
    # is stated in the LIMS record, so the class result points there, the count result to row=4.
    report = validated(add=[(DS, CMC.atSite, SUPPLIER, LIMS)])
    assert summary(report) == {
        expect(V, DS, "cmc:atSite", None, "MaterialLot-site"),
        expect(V, DS, "cmc:atSite", SUPPLIER, "MaterialLot-site", ("lims-1", "/samples/0/lot")),
    }
    for result in report.results:
        assert result.source.path == SOURCES[result.source.record_id]


def test_specification_shapes_are_stored_and_carry_their_specification(tmp_path):
    store = open_store(f"oxigraph:{tmp_path / 'store'}")
    ingest_records(store, records(), IriMinter())
    validate_store(store, IriMinter())
    shapes = store.graph(ID["graph/shapes"])
    assert set(shapes.subjects(PROV.wasDerivedFrom, SPEC)) == {
        URIRef(SPEC_SHAPE),
        URIRef(f"{SPEC_SHAPE}/converted"),
        URIRef(f"{SPEC_SHAPE}/censored/out"),
        URIRef(f"{SPEC_SHAPE}/censored/indeterminate"),
    }
    # the limits (0.0 to 3.0 % in baseline.trig) are in the rule and named in its message
    message = str(shapes.value(URIRef(SPEC_SHAPE), SH.message))
    assert message.startswith("Out of specification: high molecular weight species of ")
    assert message.endswith("outside specification SPEC-1 v1 (0 to 3 %)")
    store.close()


def test_bad_extra_shapes_file_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle", encoding="utf-8")
    store = open_store("oxigraph:memory")
    ingest_records(store, records(), IriMinter())
    with pytest.raises(ConfigError, match="bad.ttl"):
        validate_store(store, IriMinter(), shapes=[bad])
