"""The application ontology: OWL 2 consistency under HermiT, documentation, and real external IRIs.

The reasoner runs on ontology/cmckg.ttl + the term schemes + the vendored IOF biopharma modules
+ the disjointness and domain/range axioms of PROV-O, the W3C SOSA-PROV alignment and BFO that
our alignments touch (transcribed below; those ontologies are not available offline), + an
example record set following ontology/MODEL.md. Negative controls show the set-up does detect
an unsatisfiable class and an inconsistent record.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import owlready2
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from cmckg.errors import MappingError
from cmckg.units import unit_info

REPO = Path(__file__).resolve().parents[1]
ONTOLOGY_DIR = REPO / "ontology"
ONTOLOGY = ONTOLOGY_DIR / "cmckg.ttl"
TERMS = sorted((ONTOLOGY_DIR / "terms").glob("*.ttl"))
VENDOR = ONTOLOGY_DIR / "vendor"

CMC = "https://w3id.org/cmckg/ontology#"
IOF = "https://spec.industrialontologies.org/ontology/"
QUDT = "http://qudt.org/schema/qudt/"
IAO_DEFINITION = URIRef("http://purl.obolibrary.org/obo/IAO_0000115")

ALIGNMENT_PREDICATES = {
    RDFS.subClassOf,
    RDFS.subPropertyOf,
    OWL.equivalentClass,
    OWL.equivalentProperty,
    OWL.inverseOf,
    SKOS.exactMatch,
    SKOS.closeMatch,
    SKOS.broadMatch,
    SKOS.narrowMatch,
}

# Terms with no counterpart in AFO, IOF biopharma, PROV-O, SOSA or QUDT (each listed, with the
# reason, in ontology/README.md). Every other cmc: term must carry an alignment.
NO_COUNTERPART = {
    "Product",
    "LocalTerm",
    "ofProduct",
    "materialType",
    "unitOperation",
    "stage",
    "forProperty",
    "lotClass",
    "lowerLimit",
    "upperLimit",
    "version",
    "sourceLocation",
    "sourceSha256",
    "contentSha256",
    "validatedSha256",
    "validationPending",
    "shapesSha256",
    "snapshot",
    "pointCount",
    "minValue",
    "maxValue",
    "aliasOf",
    "localTerm",
    "localName",
    "issuer",
    "ofMaterial",
    "openResults",
    "plausibleMinimum",
    "plausibleMaximum",
    "requiresMaterial",
    "judgedAgainst",
    "withinSpecification",
    "resultQualifier",
    "censoringLimit",
    "reportedConformance",
    "specificationText",
    "reportOnly",
    "reason",
    "toolVersion",
    "sequenceNumber",
    "changeSetSha256",
    "previousChangeSetSha256",
    "previousContentSha256",
}

# Axioms of the external ontologies our alignments reach, transcribed from their published
# OWL files: PROV-O (W3C Rec 2013-04-30, prov-o.ttl), the SOSA-PROV alignment module
# (https://www.w3.org/ns/sosa/prov) and BFO 2 / OBI (continuant vs occurrent).
EXTERNAL_AXIOMS = """
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix sosa: <http://www.w3.org/ns/sosa/> .
@prefix obo: <http://purl.obolibrary.org/obo/> .

prov:Activity a owl:Class ; owl:disjointWith prov:Entity .
prov:Entity a owl:Class .
prov:Agent a owl:Class .
prov:Organization a owl:Class ; rdfs:subClassOf prov:Agent .
prov:Plan a owl:Class ; rdfs:subClassOf prov:Entity .
prov:Location a owl:Class .
prov:Association a owl:Class .
prov:EntityInfluence a owl:Class .
prov:Usage a owl:Class ; rdfs:subClassOf prov:EntityInfluence .
prov:used a owl:ObjectProperty ; rdfs:domain prov:Activity ; rdfs:range prov:Entity .
prov:wasGeneratedBy a owl:ObjectProperty ; rdfs:domain prov:Entity ; rdfs:range prov:Activity .
prov:wasDerivedFrom a owl:ObjectProperty ; rdfs:domain prov:Entity ; rdfs:range prov:Entity .
prov:wasRevisionOf a owl:ObjectProperty ; rdfs:subPropertyOf prov:wasDerivedFrom ;
    rdfs:domain prov:Entity ; rdfs:range prov:Entity .
prov:wasAttributedTo a owl:ObjectProperty ; rdfs:domain prov:Entity ; rdfs:range prov:Agent .
prov:wasAssociatedWith a owl:ObjectProperty ; rdfs:domain prov:Activity ; rdfs:range prov:Agent .
prov:atLocation a owl:ObjectProperty ; rdfs:range prov:Location .
prov:qualifiedUsage a owl:ObjectProperty ; rdfs:domain prov:Activity ; rdfs:range prov:Usage .
prov:entity a owl:ObjectProperty ; rdfs:domain prov:EntityInfluence ; rdfs:range prov:Entity .
prov:hadPlan a owl:ObjectProperty ; rdfs:domain prov:Association ; rdfs:range prov:Plan .
prov:startedAtTime a owl:DatatypeProperty ; rdfs:domain prov:Activity .
prov:endedAtTime a owl:DatatypeProperty ; rdfs:domain prov:Activity .
prov:generatedAtTime a owl:DatatypeProperty ; rdfs:domain prov:Entity .
prov:invalidatedAtTime a owl:DatatypeProperty ; rdfs:domain prov:Entity .

sosa:Observation a owl:Class ; rdfs:subClassOf prov:Activity .
sosa:Sample a owl:Class ; rdfs:subClassOf prov:Entity .
sosa:Sensor a owl:Class ; rdfs:subClassOf prov:Agent, prov:Entity .
sosa:ObservableProperty a owl:Class ; rdfs:subClassOf prov:Entity .
sosa:FeatureOfInterest a owl:Class ; rdfs:subClassOf prov:Entity .
sosa:Procedure a owl:Class ; rdfs:subClassOf prov:Plan .
sosa:hasFeatureOfInterest a owl:ObjectProperty ; rdfs:subPropertyOf prov:used .
sosa:isSampleOf a owl:ObjectProperty ; rdfs:subPropertyOf prov:wasDerivedFrom .

obo:BFO_0000002 a owl:Class ; owl:disjointWith obo:BFO_0000003 .
obo:BFO_0000003 a owl:Class .
obo:BFO_0000004 a owl:Class ; rdfs:subClassOf obo:BFO_0000002 .
obo:BFO_0000040 a owl:Class ; rdfs:subClassOf obo:BFO_0000004 .
obo:BFO_0000027 a owl:Class ; rdfs:subClassOf obo:BFO_0000040 .
obo:BFO_0000015 a owl:Class ; rdfs:subClassOf obo:BFO_0000003 .
obo:OBI_0000011 a owl:Class ; rdfs:subClassOf obo:BFO_0000015 .
obo:OBI_0000094 a owl:Class ; rdfs:subClassOf obo:OBI_0000011 .
"""

# One record of every kind in ontology/MODEL.md, including the cases that stress the alignments:
# a sample taken from a run and a process parameter measured on a run. Dates are xsd:dateTime
# here because xsd:date and xsd:gYearMonth are outside the OWL 2 datatype map HermiT accepts.
MODEL_RECORDS = """
@prefix cmc: <https://w3id.org/cmckg/ontology#> .
@prefix cmct: <https://w3id.org/cmckg/terms#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix afr: <http://purl.allotrope.org/ontologies/result#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://w3id.org/cmckg/id/test/> .

ex:material a cmc:Material ; cmc:identifier "LAC-01" ; cmc:materialType cmct:LactoseMonohydrate .
ex:supplier a cmc:Supplier ; cmc:identifier "5" .
ex:site a cmc:Site ; cmc:identifier "Site-A" .
ex:product a cmc:Product ; cmc:identifier "25" .
ex:press a cmc:Equipment ; cmc:identifier "TP-01" ; cmc:atSite ex:site .
ex:kf a cmc:Equipment ; cmc:identifier "KF-3" .
ex:pv a cmc:ProcessVersion ; cmc:identifier "v2" .
ex:lot a cmc:RawMaterialLot ; cmc:identifier "2" ; cmc:ofMaterial ex:material ;
    cmc:suppliedBy ex:supplier ; cmc:atSite ex:site ;
    cmc:manufactureDate "2018-11-01T00:00:00Z"^^xsd:dateTime .
ex:cores a cmc:IntermediateLot ; cmc:ofProduct ex:product ; prov:wasGeneratedBy ex:run ;
    prov:wasDerivedFrom ex:lot .
ex:ds a cmc:DrugSubstanceBatch ; cmc:ofProduct ex:product .
ex:dp a cmc:DrugProductBatch ; cmc:ofProduct ex:product ; prov:wasDerivedFrom ex:cores, ex:ds .
ex:run a cmc:ProcessRun ; cmc:identifier "R-123" ; cmc:unitOperation cmct:Compression ;
    prov:used ex:lot ; cmc:atSite ex:site ; cmc:usedEquipment ex:press ; cmc:processVersion ex:pv ;
    prov:startedAtTime "2018-11-02T08:00:00Z"^^xsd:dateTime ;
    prov:endedAtTime "2018-11-02T16:00:00Z"^^xsd:dateTime .
ex:usage a cmc:Usage ; cmc:ofRun ex:run ; cmc:usedLot ex:lot ;
    qudt:numericValue 12.5 ; qudt:unit unit:KiloGM .
ex:sampleOfLot a cmc:Sample ; cmc:identifier "S-1" ; cmc:sampleOf ex:lot .
ex:sampleOfRun a cmc:Sample ; cmc:identifier "S-2" ; cmc:sampleOf ex:run .
ex:water a cmc:Measurement ; cmc:onEntity ex:sampleOfLot ; cmc:measuredProperty cmct:WaterContent ;
    qudt:numericValue "1.53"^^xsd:double ; qudt:unit unit:PERCENT ; cmc:stage cmct:CoA ;
    cmc:method "Karl Fischer" ; cmc:device ex:kf ; cmc:localTerm ex:alias ;
    cmc:resultTime "2018-10-01T10:00:00Z"^^xsd:dateTime .
ex:force a cmc:Measurement ; cmc:onEntity ex:run ; cmc:measuredProperty cmct:CompressionForce ;
    qudt:numericValue "12.0"^^xsd:double ; qudt:unit unit:KiloN ; cmc:stage cmct:InProcess .
ex:appearance a cmc:Measurement ; cmc:onEntity ex:dp ; cmc:measuredProperty cmct:Appearance ;
    cmc:textValue "white round tablets" .
ex:peak a cmc:Measurement ; cmc:onEntity ex:sampleOfRun ; cmc:measuredProperty afr:AFR_0001165 ;
    cmc:analyte "IgG" ; cmc:peakIdentifier "P-2" ; cmc:peakName "Monomer" ;
    qudt:numericValue "97.1"^^xsd:double ; qudt:unit unit:PERCENT .
ex:cube a cmc:DataCube ; cmc:measuredProperty afr:AFR_0002550 ; cmc:pointCount 720 ;
    cmc:dimension ex:time ; cmc:measure ex:abs .
ex:time a cmc:CubeComponent ; cmc:minValue "0.0"^^xsd:double ; cmc:maxValue "30.0"^^xsd:double .
ex:abs a cmc:CubeComponent ; cmc:measuredProperty afr:AFR_0001157 .
ex:spec a cmc:Specification ; cmc:identifier "SPEC-DP-1" ; cmc:version "3" ;
    cmc:ofProduct ex:product ; cmc:forProperty cmct:DissolutionMean ; cmc:stage cmct:Release ;
    cmc:lowerLimit 80.0 ; qudt:unit unit:PERCENT ; cmc:lotClass cmc:DrugProductBatch .
ex:alias a cmc:LocalTerm ; cmc:localName "dissolution_av" ; cmc:issuer "zagar2022" ;
    cmc:aliasOf cmct:DissolutionMean .
ex:graph a cmc:RecordGraph ; cmc:recordId "1" ; cmc:sourcePath "examples/x.csv" ;
    cmc:sourceSha256 "ab" ; cmc:contentSha256 "cd" ; cmc:validatedSha256 "cd" ;
    cmc:mapper "tables" ; cmc:mapperVersion "1" ; cmc:sourceLocation "row=2" ;
    prov:generatedAtTime "2024-01-01T00:00:00Z"^^xsd:dateTime .
ex:revision a cmc:SupersededRevision ; cmc:revisionOf ex:graph ; cmc:contentSha256 "ef" ;
    cmc:snapshot "" ; prov:invalidatedAtTime "2024-01-02T00:00:00Z"^^xsd:dateTime .
ex:validation a cmc:ValidationRun ; cmc:shapesSha256 "01" ;
    prov:endedAtTime "2024-01-03T00:00:00Z"^^xsd:dateTime .
"""


@cache
def ontology_graph() -> Graph:
    graph = Graph()
    graph.parse(ONTOLOGY, format="turtle")
    return graph


@cache
def terms_graph() -> Graph:
    graph = Graph()
    for path in TERMS:
        graph.parse(path, format="turtle")
    return graph


@cache
def iof_graph() -> Graph:
    graph = Graph()
    for path in sorted((VENDOR / "iof-biopharma").glob("*.rdf")):
        graph.parse(path, format="xml")
    return graph


def cmc_terms() -> dict[URIRef, URIRef]:
    """Every class and property the ontology declares in the cmc: namespace, with its kind."""
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    g = ontology_graph()
    return {
        s: kind
        for kind in kinds
        for s in g.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(CMC)
    }


def local(iri: URIRef) -> str:
    return str(iri)[len(CMC) :]


# --- HermiT ---------------------------------------------------------------------------------


def reason(tmp_path: Path, *extra: str) -> owlready2.World:
    """Run HermiT over ontology + terms + vendored IOF + external axioms (+ extra Turtle)."""
    graph = Graph()
    for part in (ontology_graph(), terms_graph(), iof_graph()):
        for triple in part:
            graph.add(triple)
    graph.remove((None, OWL.imports, None))  # IOF Core is not vendored: align by IRI only
    graph.parse(data=EXTERNAL_AXIOMS, format="turtle")
    for text in extra:
        graph.parse(data=text, format="turtle")
    path = tmp_path / "merged.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return world


def unsatisfiable(world: owlready2.World) -> list[str]:
    return sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)


def test_hermit_consistent_and_no_unsatisfiable_class(tmp_path: Path) -> None:
    world = reason(tmp_path, MODEL_RECORDS)
    assert unsatisfiable(world) == []
    # the reasoner did see the alignments: a material lot is a BFO continuant, a run an occurrent
    lot = world[CMC + "RawMaterialLot"]
    assert world["http://purl.obolibrary.org/obo/BFO_0000002"] in lot.ancestors()
    run = world[CMC + "ProcessRun"]
    assert world["http://www.w3.org/ns/prov#Activity"] in run.ancestors()
    measurement = world[CMC + "Measurement"]
    assert world["http://www.w3.org/ns/prov#Activity"] in measurement.ancestors()


def test_hermit_detects_an_unsatisfiable_class(tmp_path: Path) -> None:
    clash = """
    @prefix cmc: <https://w3id.org/cmckg/ontology#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix owl: <http://www.w3.org/2002/07/owl#> .
    cmc:LotRun a owl:Class ; rdfs:subClassOf cmc:MaterialLot, cmc:ProcessRun .
    """
    world = reason(tmp_path, clash)
    assert unsatisfiable(world) == [CMC + "LotRun"]


def test_sample_of_a_run_would_clash_with_prov_if_sampleof_were_a_derivation(
    tmp_path: Path,
) -> None:
    """Why cmc:sampleOf is only skos:closeMatch prov:wasDerivedFrom (see ontology/README.md)."""
    subproperty = """
    @prefix cmc: <https://w3id.org/cmckg/ontology#> .
    @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    @prefix prov: <http://www.w3.org/ns/prov#> .
    cmc:sampleOf rdfs:subPropertyOf prov:wasDerivedFrom .
    """
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(tmp_path, MODEL_RECORDS, subproperty)


# --- documentation and alignment -------------------------------------------------------------


def test_ontology_header() -> None:
    g = ontology_graph()
    (onto,) = list(g.subjects(RDF.type, OWL.Ontology))
    assert str(g.value(onto, OWL.versionInfo))
    assert g.value(onto, RDFS.label) is not None
    assert g.value(onto, DCTERMS.license) is not None


def test_every_cmc_term_has_label_and_definition() -> None:
    g = ontology_graph()
    terms = cmc_terms()
    assert len(terms) > 60
    missing = [
        local(t)
        for t in terms
        if g.value(t, RDFS.label) is None
        or (g.value(t, SKOS.definition) is None and g.value(t, IAO_DEFINITION) is None)
    ]
    assert missing == []


def test_every_cmc_term_is_aligned_unless_documented_without_counterpart() -> None:
    g = ontology_graph()

    def external_alignments(term: URIRef) -> list[URIRef]:
        return [
            o
            for p, o in g.predicate_objects(term)
            if p in ALIGNMENT_PREDICATES and isinstance(o, URIRef) and not str(o).startswith(CMC)
        ]

    def aligned(term: URIRef) -> bool:
        """Aligned itself or through a cmc: super-class / super-property."""
        supers = set(g.transitive_objects(term, RDFS.subClassOf))
        supers |= set(g.transitive_objects(term, RDFS.subPropertyOf))
        return any(external_alignments(t) for t in supers if str(t).startswith(CMC))

    terms = {local(t): t for t in cmc_terms()}
    assert set(terms) >= NO_COUNTERPART
    unaligned = {name for name, t in terms.items() if not aligned(t)}
    assert unaligned == NO_COUNTERPART
    readme = (ONTOLOGY_DIR / "README.md").read_text(encoding="utf-8")
    undocumented = [name for name in sorted(terms) if f"`cmc:{name}`" not in readme]
    assert undocumented == []


def test_required_alignments() -> None:
    """The alignments the data model relies on (MODEL.md and the issue)."""
    g = ontology_graph()
    prov, sosa = "http://www.w3.org/ns/prov#", "http://www.w3.org/ns/sosa/"
    expected = [
        ("MaterialLot", RDFS.subClassOf, prov + "Entity"),
        ("ProcessRun", RDFS.subClassOf, prov + "Activity"),
        ("ProcessRun", RDFS.subClassOf, "http://purl.obolibrary.org/obo/OBI_0000094"),
        ("ProcessRun", SKOS.closeMatch, IOF + "construct/BatchRun"),
        ("Measurement", RDFS.subClassOf, sosa + "Observation"),
        ("Sample", RDFS.subClassOf, sosa + "Sample"),
        (
            "Equipment",
            RDFS.subClassOf,
            "http://purl.allotrope.org/ontologies/equipment#AFE_0000354",
        ),
        ("Site", RDFS.subClassOf, IOF + "construct/PhysicalSite"),
        ("Supplier", RDFS.subClassOf, prov + "Organization"),
        ("Usage", RDFS.subClassOf, prov + "Usage"),
        ("sampleOf", SKOS.closeMatch, prov + "wasDerivedFrom"),
        ("onEntity", SKOS.closeMatch, sosa + "hasFeatureOfInterest"),
        ("measuredProperty", RDFS.subPropertyOf, sosa + "observedProperty"),
        ("resultTime", RDFS.subPropertyOf, sosa + "resultTime"),
        ("usedLot", RDFS.subPropertyOf, prov + "entity"),
        ("ofRun", OWL.inverseOf, prov + "qualifiedUsage"),
        ("isCQA", SKOS.closeMatch, IOF + "construct/CriticalQualityAttribute"),
        ("isCPP", SKOS.closeMatch, IOF + "construct/CriticalProcessParameter"),
    ]
    absent = [(s, str(p), o) for s, p, o in expected if (URIRef(CMC + s), p, URIRef(o)) not in g]
    assert absent == []


def test_model_md_and_ontology_name_the_same_terms() -> None:
    text = (ONTOLOGY_DIR / "MODEL.md").read_text(encoding="utf-8")
    in_model = set(re.findall(r"\bcmc:([A-Za-z][A-Za-z0-9]*)\b(?!-)", text))
    declared = {local(t) for t in cmc_terms()}
    assert sorted(in_model - declared) == []
    assert sorted(declared - in_model) == []


def cmckg_unit(iri: URIRef) -> bool:
    """A unit QUDT lacks, defined by cmckg.units in the cmc: namespace (``cmc:unit-…``)."""
    if not str(iri).startswith(CMC + "unit-"):
        return False
    try:
        unit_info(iri)
    except MappingError:
        return False
    return True


def test_every_cmc_iri_used_is_declared() -> None:
    declared = set(cmc_terms())
    used: set[URIRef] = set()
    for g in (ontology_graph(), terms_graph()):
        for triple in g:
            used |= {t for t in triple if isinstance(t, URIRef) and str(t).startswith(CMC)}
    assert sorted(t for t in used - declared if not cmckg_unit(t)) == []


# --- external IRIs are real --------------------------------------------------------------------


def ontology_texts() -> Iterator[tuple[Path, str]]:
    for path in sorted(ONTOLOGY_DIR.rglob("*")):
        if path.is_file() and VENDOR not in path.parents and path.suffix in {".ttl", ".md", ".py"}:
            yield path, path.read_text(encoding="utf-8")


def used_iris(pattern: str, prefixes: dict[str, str]) -> dict[str, set[str]]:
    """Full IRIs matching ``pattern`` anywhere in ontology/ (outside vendor/), by file.

    Turtle files are parsed (so prefixed names count); other files are scanned for full IRIs and
    for the prefixed names in ``prefixes``.
    """
    found: dict[str, set[str]] = {}
    regex = re.compile(pattern)
    for path, text in ontology_texts():
        iris: set[str] = set()
        if path.suffix == ".ttl":
            g = Graph()
            g.parse(data=text, format="turtle")
            iris = {str(t) for triple in g for t in triple if isinstance(t, URIRef)}
        iris |= set(re.findall(r"<?(https?://[^\s<>\"'`)|,]+)", text))
        for prefix, namespace in prefixes.items():
            iris |= {namespace + m for m in re.findall(rf"\b{prefix}:([A-Za-z0-9_]+)", text)}
        found[str(path.relative_to(REPO))] = {i for i in iris if regex.fullmatch(i)}
    return found


AFO_PREFIXES = {
    "afr": "http://purl.allotrope.org/ontologies/result#",
    "afrl": "http://purl.allotrope.org/ontologies/role#",
    "afe": "http://purl.allotrope.org/ontologies/equipment#",
    "afm": "http://purl.allotrope.org/ontologies/material#",
    "afq": "http://purl.allotrope.org/ontologies/quality#",
    "afp": "http://purl.allotrope.org/ontologies/process#",
    "afx": "http://purl.allotrope.org/ontologies/property#",
    "obo": "http://purl.obolibrary.org/obo/",
}


def vendored_afo_iris() -> set[str]:
    iris = set()
    for name in ("afo-terms.csv", "asm-property-iris.csv"):
        with (VENDOR / name).open(encoding="utf-8", newline="") as fh:
            iris |= {row["iri"] for row in csv.DictReader(fh)}
    return iris


def test_afo_iris_are_in_the_vendored_lists() -> None:
    known = vendored_afo_iris()
    used = used_iris(
        r"http://purl\.(allotrope\.org/ontologies/[a-z]+#|obolibrary\.org/obo/)[A-Z]+_[0-9]+",
        AFO_PREFIXES,
    )
    assert sum(len(v) for v in used.values()) > 30
    unknown = {path: sorted(iris - known) for path, iris in used.items() if iris - known}
    assert unknown == {}


def test_iof_iris_are_declared_in_the_vendored_modules() -> None:
    g = iof_graph()
    declared = {
        str(s)
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in g.subjects(RDF.type, kind)
    }
    used = used_iris(re.escape(IOF) + "construct/[A-Za-z]+", {"iof": IOF + "construct/"})
    assert sum(len(v) for v in used.values()) > 10
    unknown = {path: sorted(iris - declared) for path, iris in used.items() if iris - declared}
    assert unknown == {}


def test_default_units_are_current_vendored_qudt_units() -> None:
    """QUDT units from the vendored file; where QUDT has none (EU, CFU), a cmckg.units unit."""
    units = Graph()
    units.parse(VENDOR / "qudt" / "VOCAB_QUDT-UNITS-ALL.ttl", format="turtle")
    default_unit = URIRef(CMC + "defaultUnit")
    used = {u for u in terms_graph().objects(None, default_unit) if not cmckg_unit(u)}
    assert len(used) > 20
    not_units = sorted(u for u in used if (u, RDF.type, URIRef(QUDT + "Unit")) not in units)
    deprecated = sorted(
        u
        for u in used
        if (u, URIRef(QUDT + "deprecated"), Literal(True)) in units
        or units.value(u, DCTERMS.isReplacedBy) is not None
    )
    assert not_units == []
    assert deprecated == []
