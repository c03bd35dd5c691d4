"""ASM JSON mapper: every vendored allotropy file maps, with counts derived from the raw JSON.

Expected numbers come from walking the files with plain ``json`` (below) and from reading them by
hand, never from the mapper's output. Counting rule: every ``{"value": <finite number>, "unit":
...}`` object outside a data cube is one measurement — including calculated results, peak values,
distribution bins, settings and custom-information quantities; data cubes are counted separately
(one ``cmc:DataCube`` each, their points are not measurements); a quantity whose value is NaN is
not a measurement but one warning.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, TEST_DATA
from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS, SKOS

from cmckg.errors import ConfigError, MappingError
from cmckg.mappers.asm import ASM_LOCAL, AsmMapper, asm_property_iri, local_term
from cmckg.mappers.base import MapContext, RecordGraph, file_sha256
from cmckg.vocab import CMC, QUDT, UNIT, IriMinter

ASM_DIR = EXAMPLES / "asm"
TINY = TEST_DATA / "asm" / "tiny_cell_counting.json"
AFR = "http://purl.allotrope.org/ontologies/result#"
XSD_DOUBLE = URIRef("http://www.w3.org/2001/XMLSchema#double")
XSD_DATETIME = URIRef("http://www.w3.org/2001/XMLSchema#dateTime")
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")

# Counted once by hand-run walks of the raw files (json.load, the rule in the module docstring).
EXPECTED = {
    "agilent_gen5__endpoint_stdcurve_singleplate.json": (576, 0, 0),
    "agilent_tapestation_analysis__agilent_tapestation_analysis_example_01.json": (211, 0, 0),
    "appbio_quantstudio__appbio_quantstudio_example01.json": (106, 16, 0),
    "beckman_pharmspec__hiac_example_1.json": (73, 0, 0),
    "beckman_vi_cell_xr__Beckman_Vi-Cell-XR_example04_instrumentOutput.json": (160, 0, 0),
    "benchling_empower__example_01.json": (100, 2, 0),
    "chemometec_nucleoview__chemometec_nucleoview_example01.json": (10, 0, 0),
    "cytiva_biacore_t200_control__Fig.4b_Her3 immobilization.json": (266, 11, 0),
    "cytiva_unicorn__unicorn_1.json": (369, 18, 0),
    "msd_workbench__msd_workbench_test_2.json": (226, 0, 68),
    "novabio_flex2__SampleResultsDEVICE1232021-02-18_104838.json": (104, 0, 0),
    "roche_cedex_bioht__roche_cedex_bioht_v7_example_01.json": (20, 0, 0),
    "roche_cedex_hires__roche_cedex_hires_example_1.json": (136, 0, 0),
    "thermo_fisher_nanodrop_eight__thermo_nanodrop_eight_example01.json": (35, 5, 0),
    "unchained_labs_lunatic_stunner__Demo_A280_Protein.json": (192, 0, 0),
}


def map_file(
    path: Path, config: dict[str, Any] | None = None, minter: IriMinter | None = None
) -> RecordGraph:
    context = MapContext(minter or IriMinter(), path, file_sha256(path))
    records = list(AsmMapper().map(context, config))
    assert len(records) == 1
    return records[0]


def raw_counts(path: Path) -> tuple[int, int, int]:
    """(finite quantities outside cubes, cubes, NaN quantities) by walking the raw JSON."""
    counts = [0, 0, 0]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "cube-structure" in node:
                counts[1] += 1
                return
            if "value" in node and "unit" in node and not isinstance(node["value"], dict | list):
                value = node["value"]
                if isinstance(value, float) and math.isnan(value):
                    counts[2] += 1
                elif isinstance(value, int | float) and math.isfinite(value):
                    counts[0] += 1
                return
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(json.loads(path.read_text(encoding="utf-8")))
    return counts[0], counts[1], counts[2]


def subjects_of(record: RecordGraph, cls: URIRef) -> set[URIRef]:
    return set(record.triples.subjects(RDF.type, cls))


def at(record: RecordGraph, pointer: str) -> URIRef:
    """The subject whose cmc:sourceLocation is ``pointer``."""
    found = list(record.triples.subjects(CMC.sourceLocation, Literal(pointer)))
    assert len(found) == 1, (pointer, found)
    return found[0]


@pytest.fixture(scope="module")
def mapped() -> dict[str, RecordGraph]:
    return {path.name: map_file(path) for path in sorted(ASM_DIR.glob("*.json"))}


def test_all_fifteen_files_are_covered() -> None:
    assert sorted(p.name for p in ASM_DIR.glob("*.json")) == sorted(EXPECTED)


BIACORE = "cytiva_biacore_t200_control__Fig.4b_Her3 immobilization.json"
# jq path of the first report point's absolute resonance (25856.7369791667 RU in the file)
BIACORE_POINT = (
    "/binding affinity analyzer aggregate document/binding affinity analyzer "
    "document/0/measurement aggregate document/measurement document/7/processed "
    "data aggregate document/processed data document/0/report point aggregate "
    "document/report point document/0/absolute resonance"
)


def test_biacore_values_land_in_resonance_units(mapped: dict[str, RecordGraph]) -> None:
    """QUDT has no RU: ontology/terms/units.ttl declares it, so the Biacore file maps and its
    values stay in RU (never converted), the number as the JSON states it."""
    record = mapped[BIACORE]
    [point] = [
        s
        for s, o in ((s, o) for s, _, o in record.triples.triples((None, CMC.sourceLocation, None)))
        if str(o) == BIACORE_POINT
    ]
    assert float(record.triples.value(point, QUDT.numericValue)) == 25856.7369791667
    ru = URIRef(str(CMC) + "unit-RU")
    assert record.triples.value(point, QUDT.unit) == ru
    units_used = {o for _, _, o in record.triples.triples((None, QUDT.unit, None))}
    assert ru in units_used and URIRef(str(CMC) + "unit-RU-PER-SEC") in units_used
    raw = json.loads((ASM_DIR / BIACORE).read_text(encoding="utf-8"))
    ru_quantities = _count_unit(raw, "RU")
    in_ru = [
        s
        for s, _, o in record.triples.triples((None, QUDT.unit, ru))
        if (s, RDF.type, CMC.Measurement) in record.triples
    ]
    assert len(in_ru) == ru_quantities


def test_biacore_calculated_data_derive_from_their_report_points(
    mapped: dict[str, RecordGraph],
) -> None:
    """The file's first calculated datum, "Min Resonance" 25856.390625 RU, cites report point
    CYTIVA_BIACORE_T200_CONTROL_TEST_ID_8 (feature "Absolute Resonance"), whose absolute
    resonance is 25856.7369791667 RU (read from the JSON)."""
    record = mapped[BIACORE]
    t = record.triples
    calc_ptr = (
        "/binding affinity analyzer aggregate document/calculated data aggregate "
        "document/calculated data document/0/calculated result"
    )
    [calc] = [s for s, _, o in t.triples((None, CMC.sourceLocation, None)) if str(o) == calc_ptr]
    assert float(t.value(calc, QUDT.numericValue)) == 25856.390625
    [source] = list(t.objects(calc, PROV.wasDerivedFrom))
    assert float(t.value(source, QUDT.numericValue)) == 25856.7369791667
    assert str(t.value(source, CMC.sourceLocation)) == BIACORE_POINT
    assert not [w for w in record.warnings if "names nothing in this file" in w]


def _count_unit(node: Any, unit: str) -> int:
    """Finite quantities in ``unit`` outside data cubes, by walking the raw JSON."""
    if isinstance(node, dict):
        if "cube-structure" in node:
            return 0
        if node.get("unit") == unit and isinstance(node.get("value"), int | float):
            return 1
        return sum(_count_unit(v, unit) for v in node.values())
    if isinstance(node, list):
        return sum(_count_unit(v, unit) for v in node)
    return 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_measurement_counts_match_the_raw_json(mapped: dict[str, RecordGraph], name: str) -> None:
    record = mapped[name]
    measurements, cubes, nans = raw_counts(ASM_DIR / name)
    assert (measurements, cubes, nans) == EXPECTED[name]
    assert len(subjects_of(record, CMC.Measurement)) == measurements
    assert len(subjects_of(record, CMC.DataCube)) == cubes
    assert sum("read as missing" in w for w in record.warnings) == nans
    assert record.record_id == name
    assert record.graph_iri == IriMinter().mint("graph", "asm", name)


def test_every_measurement_has_value_unit_property_and_location(
    mapped: dict[str, RecordGraph],
) -> None:
    for name, record in mapped.items():
        about: dict[URIRef, dict[URIRef, list[Any]]] = {}
        for s, p, o in record.triples:
            about.setdefault(s, {}).setdefault(p, []).append(o)
        for m in subjects_of(record, CMC.Measurement):
            facts = about[m]
            [value] = facts[QUDT.numericValue]
            assert isinstance(value, Literal) and value.datatype == XSD_DOUBLE, (name, m)
            [unit] = facts[QUDT.unit]
            # Current QUDT, or cmckg's own unit for what QUDT lacks (mAU, RLU, 10^6 cells/mL).
            assert str(unit).startswith((str(UNIT), str(CMC) + "unit-")), (name, m, unit)
            [prop] = facts[CMC.measuredProperty]
            assert str(prop).startswith((AFR, ASM_LOCAL)), (name, m, prop)
            [location] = facts[CMC.sourceLocation]
            assert str(location).startswith("/"), (name, m)
            assert len(facts[CMC.method]) == 1, (name, m)
            assert len(facts.get(CMC.onEntity, [])) <= 1, (name, m)
            assert len(facts.get(CMC.resultTime, [])) <= 1, (name, m)


def test_vi_cell_viable_cell_density(mapped: dict[str, RecordGraph]) -> None:
    name = "beckman_vi_cell_xr__Beckman_Vi-Cell-XR_example04_instrumentOutput.json"
    record = mapped[name]
    raw = json.loads((ASM_DIR / name).read_text(encoding="utf-8"))
    doc = raw["cell counting aggregate document"]["cell counting document"][0]
    mdoc = doc["measurement aggregate document"]["measurement document"][0]
    vcd = mdoc["processed data aggregate document"]["processed data document"][0][
        "viable cell density (cell counter)"
    ]
    # Read by hand from the file: first sample CLB001, 3.14 × 10^6 cells/mL.
    assert vcd == {"value": 3.14, "unit": "10^6 cells/mL"}
    assert mdoc["sample document"]["sample identifier"] == "CLB001"
    pointer = (
        "/cell counting aggregate document/cell counting document/0/measurement aggregate document"
        "/measurement document/0/processed data aggregate document/processed data document/0"
        "/viable cell density (cell counter)"
    )
    m = at(record, pointer)
    t = record.triples
    assert t.value(m, QUDT.numericValue) == Literal(3.14, datatype=XSD_DOUBLE)
    # QUDT has no "10^6 cells/mL"; cmckg.units defines it as 10^6 × unit:NUM-PER-MilliL.
    assert t.value(m, QUDT.unit) == CMC["unit-MegaNUM-PER-MilliL"]
    # asm-property-iris.csv: "viable cell density (cell counter)" → AFR_0001108.
    assert t.value(m, CMC.measuredProperty) == URIRef(AFR + "AFR_0001108")
    assert t.value(m, CMC.resultTime) == Literal(mdoc["measurement time"], datatype=XSD_DATETIME)
    assert str(t.value(m, CMC.resultTime)).endswith("+00:00")
    assert t.value(m, CMC.method) == Literal("cell counting / brightfield")
    sample = t.value(m, CMC.onEntity)
    assert (sample, RDF.type, CMC.Sample) in t
    assert t.value(sample, CMC.identifier) == Literal(mdoc["sample document"]["sample identifier"])
    device = t.value(m, CMC.device)
    assert (device, RDF.type, CMC.Equipment) in t
    assert t.value(device, CMC.identifier) == Literal("AN123456789")
    assert device == IriMinter().mint("equipment", "asm", "Vi-Cell XR", "AN123456789")


def test_empower_peak_area_and_peak_identity(mapped: dict[str, RecordGraph]) -> None:
    name = "benchling_empower__example_01.json"
    record = mapped[name]
    raw = json.loads((ASM_DIR / name).read_text(encoding="utf-8"))
    mdoc = raw["liquid chromatography aggregate document"]["liquid chromatography document"][0][
        "measurement aggregate document"
    ]["measurement document"][0]
    peak = mdoc["processed data aggregate document"]["processed data document"][0]["peak list"][
        "peak"
    ][1]
    # Read by hand: the second peak of the first injection.
    assert peak["written name"] == "Acetophenone"
    assert peak["identifier"] == "BENCHLING_EMPOWER_TEST_ID_2"
    assert peak["peak area"] == {"value": 390.99049999999903, "unit": "mAU.s"}
    pointer = (
        "/liquid chromatography aggregate document/liquid chromatography document/0"
        "/measurement aggregate document/measurement document/0/processed data aggregate document"
        "/processed data document/0/peak list/peak/1/peak area"
    )
    m = at(record, pointer)
    t = record.triples
    assert t.value(m, QUDT.numericValue) == Literal(390.99049999999903, datatype=XSD_DOUBLE)
    assert t.value(m, CMC.measuredProperty) == URIRef(AFR + "AFR_0001073")
    assert t.value(m, CMC.peakName) == Literal("Acetophenone")
    assert t.value(m, CMC.peakIdentifier) == Literal("BENCHLING_EMPOWER_TEST_ID_2")
    retention = at(record, pointer.replace("/peak area", "/retention time"))
    assert t.value(retention, CMC.peakIdentifier) == Literal("BENCHLING_EMPOWER_TEST_ID_2")
    assert t.value(retention, QUDT.numericValue) == Literal(127.94208013687201, datatype=XSD_DOUBLE)
    assert t.value(retention, QUDT.unit) == UNIT.SEC
    assert t.value(retention, CMC.measuredProperty) == URIRef(AFR + "AFR_0001089")


def test_empower_chromatogram_cube_is_summarised(mapped: dict[str, RecordGraph]) -> None:
    name = "benchling_empower__example_01.json"
    record = mapped[name]
    raw = json.loads((ASM_DIR / name).read_text(encoding="utf-8"))
    mdoc = raw["liquid chromatography aggregate document"]["liquid chromatography document"][0][
        "measurement aggregate document"
    ]["measurement document"][0]
    cube_raw = mdoc["chromatogram data cube"]
    base = (
        "/liquid chromatography aggregate document/liquid chromatography document/0"
        "/measurement aggregate document/measurement document/0/chromatogram data cube"
    )
    cube = at(record, base)
    t = record.triples
    assert (cube, RDF.type, CMC.DataCube) in t
    assert t.value(cube, RDFS.label) == Literal(cube_raw["label"])
    assert t.value(cube, CMC.pointCount) == Literal(
        len(cube_raw["data"]["measures"][0]), datatype=XSD_INTEGER
    )
    measure = t.value(cube, CMC.measure)
    absorbance = cube_raw["data"]["measures"][0]
    assert t.value(measure, CMC.minValue).toPython() == pytest.approx(min(absorbance))
    assert t.value(measure, CMC.maxValue).toPython() == pytest.approx(max(absorbance))
    assert t.value(measure, CMC.measuredProperty) == URIRef(AFR + "AFR_0001157")  # absorbance
    dimension = t.value(cube, CMC.dimension)
    assert t.value(dimension, QUDT.unit) == UNIT.SEC
    retention = cube_raw["data"]["dimensions"][0]
    assert t.value(dimension, CMC.maxValue).toPython() == pytest.approx(max(retention))
    # The cube sits on the same sample as the peaks beside it.
    peak = at(
        record,
        base.replace(
            "chromatogram data cube",
            "processed data aggregate document/processed data document/0/"
            "peak list/peak/0/peak area",
        ),
    )
    assert t.value(cube, CMC.onEntity) == t.value(peak, CMC.onEntity)


def test_nanodrop_ratio_is_derived_from_the_absorbances_it_names(
    mapped: dict[str, RecordGraph],
) -> None:
    name = "thermo_fisher_nanodrop_eight__thermo_nanodrop_eight_example01.json"
    record = mapped[name]
    raw = json.loads((ASM_DIR / name).read_text(encoding="utf-8"))
    agg = raw["spectrophotometry aggregate document"]
    # Where each measurement identifier sits, and its absorbance pointer (by plain json walk).
    absorbance_at = {}
    for i, doc in enumerate(agg["spectrophotometry document"]):
        for j, mdoc in enumerate(doc["measurement aggregate document"]["measurement document"]):
            if "absorbance" in mdoc:
                absorbance_at[mdoc["measurement identifier"]] = (
                    f"/spectrophotometry aggregate document/spectrophotometry document/{i}"
                    f"/measurement aggregate document/measurement document/{j}/absorbance"
                )
    t = record.triples
    checked = 0
    for k, calc in enumerate(agg["calculated data aggregate document"]["calculated data document"]):
        sources = calc["data source aggregate document"]["data source document"]
        expected = {absorbance_at[s["data source identifier"]] for s in sources}
        m = at(
            record,
            "/spectrophotometry aggregate document/calculated data aggregate document"
            f"/calculated data document/{k}/calculated result",
        )
        derived = {
            str(t.value(src, CMC.sourceLocation)) for src in t.objects(m, PROV.wasDerivedFrom)
        }
        assert derived == expected
        assert t.value(m, RDFS.label) == Literal(calc["calculated data name"])
        assert t.value(m, CMC.measuredProperty) == URIRef(AFR + "AFR_0002892")
        # The ratio is about the sample its absorbances were measured on.
        samples = {t.value(at(record, p), CMC.onEntity) for p in expected}
        assert set(t.objects(m, CMC.onEntity)) == samples
        checked += 1
    assert checked == 10


def test_run_log_events_take_the_runs_only_sample_and_time(
    mapped: dict[str, RecordGraph],
) -> None:
    name = "cytiva_unicorn__unicorn_1.json"
    record = mapped[name]
    raw = json.loads((ASM_DIR / name).read_text(encoding="utf-8"))
    agg = raw["liquid chromatography aggregate document"]["liquid chromatography document"][0][
        "measurement aggregate document"
    ]
    # By hand: every measurement document of this run names sample "Sample 001", batch
    # f65ef0a9-…, and one injection time; the run log sits beside them, outside any sample.
    mdocs = agg["measurement document"]
    assert {d["sample document"]["sample identifier"] for d in mdocs if "sample document" in d} == {
        "Sample 001"
    }
    t = record.triples
    event = at(
        record,
        "/liquid chromatography aggregate document/liquid chromatography document/0"
        "/measurement aggregate document/log aggregate document/log document/0"
        "/retention time",
    )
    assert t.value(event, QUDT.numericValue) == Literal(4.3999098, datatype=XSD_DOUBLE)
    sample = t.value(event, CMC.onEntity)
    assert t.value(sample, CMC.identifier) == Literal("Sample 001")
    lot = t.value(sample, CMC.sampleOf)
    assert t.value(lot, CMC.identifier) == Literal("f65ef0a9-7240-434e-aac1-44cb8e8faa08")
    assert t.value(event, CMC.resultTime) == Literal(
        "2024-01-02T11:00:00+00:00", datatype=XSD_DATETIME
    )
    # Every measurement and cube of this file ends up on that one sample.
    for cls in (CMC.Measurement, CMC.DataCube):
        for m in subjects_of(record, cls):
            assert list(t.objects(m, CMC.onEntity)) == [sample]


def test_plate_wide_statistics_are_on_no_single_sample(mapped: dict[str, RecordGraph]) -> None:
    name = "msd_workbench__msd_workbench_test_2.json"
    record = mapped[name]
    raw = json.loads((ASM_DIR / name).read_text(encoding="utf-8"))
    calc = raw["plate reader aggregate document"]["calculated data aggregate document"][
        "calculated data document"
    ][0]
    assert calc["calculated data name"] == "Mean"
    sources = calc["data source aggregate document"]["data source document"]
    assert len(sources) == 48
    t = record.triples
    mean = at(
        record,
        "/plate reader aggregate document/calculated data aggregate document"
        "/calculated data document/0/calculated result",
    )
    inputs = set(t.objects(mean, PROV.wasDerivedFrom))
    assert len(inputs) == 48
    # asm-property-iris.csv: luminescence → AFR_0002507.
    assert {t.value(m, CMC.measuredProperty) for m in inputs} == {URIRef(AFR + "AFR_0002507")}
    assert len({t.value(m, CMC.onEntity) for m in inputs}) == 48
    # A mean over 48 wells is about none of them: no cmc:onEntity (the lineage says where from).
    assert t.value(mean, CMC.onEntity) is None
    # The plate well count beside each well's measurement is about that well's sample.
    well = at(
        record,
        "/plate reader aggregate document/plate reader document/0"
        "/measurement aggregate document/plate well count",
    )
    reading = at(
        record,
        "/plate reader aggregate document/plate reader document/0"
        "/measurement aggregate document/measurement document/0/luminescence",
    )
    assert t.value(well, CMC.onEntity) == t.value(reading, CMC.onEntity) is not None


def test_msd_nan_values_are_missing_not_measurements(mapped: dict[str, RecordGraph]) -> None:
    name = "msd_workbench__msd_workbench_test_2.json"
    record = mapped[name]
    text = (ASM_DIR / name).read_text(encoding="utf-8")
    assert text.count("NaN") == 68
    nan_warnings = [w for w in record.warnings if "NaN" in w and "read as missing" in w]
    assert len(nan_warnings) == 68
    for m in subjects_of(record, CMC.Measurement):
        assert math.isfinite(record.triples.value(m, QUDT.numericValue).toPython())


def test_both_micro_signs_resolve_to_one_unit(tmp_path: Path) -> None:
    text = TINY.read_text(encoding="utf-8")
    assert "\u00b5L" in text and "\u03bcL" in text
    record = map_file(TINY)
    base = (
        "/cell counting aggregate document/cell counting document/0/measurement aggregate document"
        "/measurement document/0"
    )
    micro_sign = at(
        record,
        base + "/device control aggregate document/device control document/0/sample volume setting",
    )
    greek_mu = at(
        record,
        base + "/processed data aggregate document/processed data document/0"
        "/custom information document/dilution volume",
    )
    assert record.triples.value(micro_sign, QUDT.unit) == UNIT.MicroL
    assert record.triples.value(greek_mu, QUDT.unit) == UNIT.MicroL
    # Real files: the Cedex HiRes file writes μL (U+03BC) and µm (U+00B5).
    hires = map_file(ASM_DIR / "roche_cedex_hires__roche_cedex_hires_example_1.json")
    units = set(hires.triples.objects(None, QUDT.unit))
    assert {UNIT.MicroL, UNIT.MicroM} <= units


def test_tiny_file_maps_every_part() -> None:
    minter = IriMinter()
    record = map_file(TINY, {"lot_issuer": "site-a"}, minter)
    t = record.triples
    sha16 = file_sha256(TINY)[:16]
    sample = minter.mint("sample", "asm", sha16, "TEST_ID_1")
    lot = minter.mint("lot", "site-a", "LOT-7")
    assert (sample, RDF.type, CMC.Sample) in t
    assert (sample, RDFS.label, Literal("day 4 sample")) in t
    assert (sample, CMC.sampleOf, lot) in t
    assert (lot, RDF.type, CMC.MaterialLot) in t
    assert (lot, CMC.identifier, Literal("LOT-7")) in t
    # 4 finite quantities + 1 calculated result; the NaN viability is a warning.
    assert len(subjects_of(record, CMC.Measurement)) == 5
    assert len(record.warnings) == 1
    assert "viability (cell counter)" in record.warnings[0] and "NaN" in record.warnings[0]
    calc = at(
        record,
        "/cell counting aggregate document/calculated data aggregate document"
        "/calculated data document/0/calculated result",
    )
    vcd = at(
        record,
        "/cell counting aggregate document/cell counting document/0"
        "/measurement aggregate document/measurement document/0"
        "/processed data aggregate document/processed data document/0"
        "/viable cell density (cell counter)",
    )
    assert set(t.objects(calc, PROV.wasDerivedFrom)) == {vcd}
    assert t.value(calc, CMC.onEntity) == sample
    assert t.value(calc, CMC.resultTime) == Literal(
        "2024-05-06T07:08:09-04:00", datatype=XSD_DATETIME
    )
    dilution = at(
        record,
        "/cell counting aggregate document/cell counting document/0"
        "/measurement aggregate document/measurement document/0"
        "/processed data aggregate document/processed data document/0"
        "/custom information document/dilution volume",
    )
    term = local_term("dilution volume")
    assert t.value(dilution, CMC.measuredProperty) == term
    assert str(term) == ASM_LOCAL + "dilution%20volume"
    assert (term, RDF.type, SKOS.Concept) in t
    assert (term, SKOS.prefLabel, Literal("dilution volume")) in t
    device = minter.mint("equipment", "asm", "Test Counter", "SN-42")
    assert t.value(vcd, CMC.device) == device
    assert (device, CMC.identifier, Literal("SN-42")) in t
    # Default issuer when the config names none.
    default = map_file(TINY)
    assert (sample, CMC.sampleOf, minter.mint("lot", "default", "LOT-7")) in default.triples


def test_same_lot_from_two_sources_is_one_node() -> None:
    minter = IriMinter()
    record = map_file(
        ASM_DIR / "roche_cedex_hires__roche_cedex_hires_example_1.json",
        {"lot_issuer": "site-a"},
        minter,
    )
    lots = subjects_of(record, CMC.MaterialLot)
    assert lots == {minter.mint("lot", "site-a", "TechDev_CD_N-1")}


def test_ids_that_restart_per_file_do_not_collide(tmp_path: Path) -> None:
    """The next export of the same instrument reuses sample and measurement ids and pointers."""
    name = "beckman_vi_cell_xr__Beckman_Vi-Cell-XR_example04_instrumentOutput.json"
    first = tmp_path / "run1.json"
    second = tmp_path / "run2.json"
    shutil.copy(ASM_DIR / name, first)
    text = (ASM_DIR / name).read_text(encoding="utf-8")
    assert text.count('"value": 3.14,') == 1
    second.write_text(text.replace('"value": 3.14,', '"value": 3.15,'), encoding="utf-8")
    a, b = map_file(first), map_file(second)
    for cls in (CMC.Measurement, CMC.Sample):
        assert len(subjects_of(a, cls)) == len(subjects_of(b, cls)) > 0
        assert not subjects_of(a, cls) & subjects_of(b, cls)
    # Same sample ids on both sides; the instrument is the same real node in both.
    ids_a, ids_b = (set(r.triples.objects(None, CMC.identifier)) for r in (a, b))
    assert ids_a == ids_b
    assert subjects_of(a, CMC.Equipment) == subjects_of(b, CMC.Equipment)


def test_mapping_is_deterministic() -> None:
    path = ASM_DIR / "agilent_tapestation_analysis__agilent_tapestation_analysis_example_01.json"
    first, second = map_file(path), map_file(path, minter=IriMinter())
    assert set(first.triples) == set(second.triples)
    assert first.warnings == second.warnings


def test_property_iri_takes_the_schema_into_account() -> None:
    # Rows of ontology/vendor/asm-property-iris.csv, read by hand.
    lc = "http://purl.allotrope.org/manifests/liquid-chromatography/BENCHLING/2023/09/x.manifest"
    assert asm_property_iri("retention volume", lc) == URIRef(AFR + "AFR_0002521")
    ep = "http://purl.allotrope.org/manifests/electrophoresis/BENCHLING/2024/09/x.manifest"
    cc = "http://purl.allotrope.org/manifests/cell-counting/REC/2024/09/x.manifest"
    assert asm_property_iri("excitation bandwidth setting", ep) == URIRef(AFR + "AFR_0002549")
    assert asm_property_iri("excitation bandwidth setting", cc) == URIRef(AFR + "AFR_0002548")
    old = "http://purl.allotrope.org/manifests/absorbance/REC/2024/06/x.manifest"
    assert asm_property_iri("number of scans setting", old) == URIRef(AFR + "AFR_0003051")
    assert asm_property_iri("average compactness", cc) is None


def test_unicorn_retention_volume_and_custom_peak_fields(mapped: dict[str, RecordGraph]) -> None:
    record = mapped["cytiva_unicorn__unicorn_1.json"]
    props = set(record.triples.objects(None, CMC.measuredProperty))
    assert URIRef(AFR + "AFR_0002521") in props
    assert local_term("percent of total area") in props
    peaks = {o for o in record.triples.objects(None, CMC.peakIdentifier)}
    assert len(peaks) == 4


def test_detect() -> None:
    mapper = AsmMapper()
    for path in ASM_DIR.glob("*.json"):
        assert mapper.detect(path, path.read_bytes()[:65536])
    assert not mapper.detect(Path("x.json"), b'{"a": 1}')
    assert not mapper.detect(Path("x.csv"), b"lot;value\n1;2\n")
    b2mml = next((EXAMPLES / "b2mml").glob("*.xml"))
    assert not mapper.detect(b2mml, b2mml.read_bytes()[:65536])


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    text = TINY.read_text(encoding="utf-8")
    bad.write_text(
        text.replace('"sample identifier": "TEST_ID_1",', '"sample identifier" "x",'),
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as caught:
        map_file(bad)
    message = str(caught.value)
    assert "broken.json" in message
    line = next(i for i, row in enumerate(text.splitlines(), 1) if '"sample identifier"' in row)
    assert f"line {line}," in message


def test_unknown_unit_names_file_pointer_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "odd_unit.json"
    bad.write_text(
        TINY.read_text(encoding="utf-8").replace('"(unitless)"', '"furlongs/fortnight"'),
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as caught:
        map_file(bad)
    message = str(caught.value)
    assert "odd_unit.json" in message
    assert "/data processing document/cell density dilution factor" in message
    assert "cell density dilution factor" in (caught.value.field or "")


def test_bad_time_and_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad_time.json"
    text = TINY.read_text(encoding="utf-8")
    bad.write_text(text.replace("2024-05-06T07:08:09-04:00", "yesterday"), encoding="utf-8")
    with pytest.raises(MappingError, match="measurement time"):
        map_file(bad)
    with pytest.raises(ConfigError, match="lot_issuer"):
        map_file(TINY, {"lot_issuer": ""})


def test_not_asm(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"a": {"b aggregate document": {}}}', encoding="utf-8")
    with pytest.raises(MappingError, match=r"\$asm.manifest"):
        map_file(other)


def test_changed_file_keeps_its_graph_iri(tmp_path: Path) -> None:
    copy = tmp_path / TINY.name
    shutil.copy(TINY, copy)
    before = map_file(copy)
    copy.write_text(TINY.read_text(encoding="utf-8").replace("2.5", "2.6"), encoding="utf-8")
    after = map_file(copy)
    assert before.graph_iri == after.graph_iri
    assert set(before.triples) != set(after.triples)


def test_ingest_detects_and_stores_every_file_once(tmp_path: Path) -> None:
    from cmckg import KnowledgeGraph

    sources = sorted(ASM_DIR.glob("*.json"))
    count = (
        "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { GRAPH ?g { "
        "?m a <https://w3id.org/cmckg/ontology#Measurement> } }"
    )
    with KnowledgeGraph.open(f"oxigraph:{tmp_path / 'store'}") as kg:
        first = kg.ingest(sources)
        assert first.records == 15
        assert {s.mapper for s in first.sources} == {"asm"}
        assert int(kg.query(count)["n"][0]) == sum(e[0] for e in EXPECTED.values())
        again = kg.ingest(sources)
        assert again.changed == 0


def _tiny_with(tmp_path: Path, old: str, new: str) -> Path:
    text = TINY.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "tiny.json"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_a_number_written_as_a_string_is_that_number(tmp_path: Path) -> None:
    path = _tiny_with(
        tmp_path,
        '{"value": 2.5, "unit": "10^6 cells/mL"}',
        '{"value": " 68.2 ", "unit": "10^6 cells/mL"}',
    )
    record = map_file(path)
    pointer = (
        "/cell counting aggregate document/cell counting document/0/measurement aggregate "
        "document/measurement document/0/processed data aggregate document/processed "
        "data document/0/viable cell density (cell counter)"
    )
    assert record.triples.value(at(record, pointer), QUDT.numericValue) == Literal(
        68.2, datatype=XSD_DOUBLE
    )
    assert not any("viable cell density" in w for w in record.warnings)


def test_text_that_is_not_a_number_is_an_error_naming_its_pointer(tmp_path: Path) -> None:
    path = _tiny_with(
        tmp_path,
        '{"value": 2.5, "unit": "10^6 cells/mL"}',
        '{"value": "high", "unit": "10^6 cells/mL"}',
    )
    with pytest.raises(MappingError) as caught:
        map_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path} /cell counting aggregate document/")
    assert (
        "/viable cell density (cell counter)/value, field 'viable cell density (cell "
        'counter)\': "high" is not a number' in message
    )
