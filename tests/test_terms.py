"""The SKOS term schemes in ontology/terms and their lookup through cmckg.vocab.term_index()."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

from cmckg.errors import MappingError
from cmckg.vocab import AFR, CMC, CMCT, UNIT, normalise_label, term_index

REPO = Path(__file__).resolve().parents[1]
TERMS_DIR = REPO / "ontology" / "terms"
VENDOR = REPO / "ontology" / "vendor"

SCHEMES = {
    "quality-attributes.ttl": CMCT.QualityAttributes,
    "process-parameters.ttl": CMCT.ProcessParameters,
    "materials.ttl": CMCT.Materials,
    "unit-operations.ttl": CMCT.UnitOperations,
    "stages.ttl": CMCT.Stages,
}
QA, PP, MAT = CMCT.QualityAttributes, CMCT.ProcessParameters, CMCT.Materials
# Results given as text, so without a default unit.
TEXT_RESULTS = {CMCT.Appearance, CMCT.Color, CMCT.Clarity}


@cache
def graph() -> Graph:
    g = Graph()
    for path in sorted(TERMS_DIR.glob("*.ttl")):
        g.parse(path, format="turtle")
    return g


def concepts() -> list[URIRef]:
    return sorted(c for c in graph().subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef))


def names(concept: URIRef) -> list[str]:
    """Every name the term index knows a concept by."""
    g = graph()
    found = [str(concept).split("#")[-1]]
    for predicate in (SKOS.prefLabel, SKOS.altLabel, SKOS.notation):
        found += [str(o) for o in g.objects(concept, predicate)]
    return found


# --- lookup --------------------------------------------------------------------------------


def test_site_names_for_viable_cell_density_resolve_to_one_concept() -> None:
    index = term_index()
    found = {index.resolve(name).iri for name in ("VCD", "Xv", "viable cell conc.")}
    assert found == {CMCT.ViableCellDensity}
    term = index.get(CMCT.ViableCellDensity)
    assert term.scheme == PP
    assert term.default_unit == UNIT["NUM-PER-MilliL"]
    assert AFR.AFR_0001108 in term.exact_matches  # "viable cell density (cell counter)"


def test_hmw_and_aggregates_resolve_to_one_concept() -> None:
    index = term_index()
    found = {index.resolve(name).iri for name in ("HMW", "aggregates", "SEC HMW", "hmw species")}
    assert found == {CMCT.HighMolecularWeightSpecies}
    assert index.get(CMCT.HighMolecularWeightSpecies).default_unit == UNIT.PERCENT


def test_lookup_ignores_case_spacing_underscores_and_micro_sign() -> None:
    index = term_index()
    assert index.resolve("viable_cell_density").iri == CMCT.ViableCellDensity
    assert index.resolve("  Dissolution   Average ").iri == CMCT.DissolutionMean
    assert index.resolve("sieve fraction < 45 μm").iri == CMCT.SieveFractionBelow45um  # Greek mu
    assert index.resolve("sieve fraction < 45 µm").iri == CMCT.SieveFractionBelow45um  # micro sign


def test_unknown_term_names_the_nearest_labels() -> None:
    with pytest.raises(MappingError) as caught:
        term_index().resolve(
            "viable cell densty", source="runs.csv", location="row=7", field_name="parameter"
        )
    message = str(caught.value)
    where = "runs.csv row=7, field 'parameter': "
    assert message.startswith(where + "unknown term 'viable cell densty'")
    assert "nearest known labels:" in message
    assert "viable cell density" in message.split("nearest known labels:")[1]


def test_a_name_used_in_two_schemes_needs_the_scheme() -> None:
    index = term_index()
    with pytest.raises(MappingError, match="ambiguous"):
        index.resolve("osmo")  # an altLabel of the quality attribute and of the culture value
    assert index.resolve("osmo", QA).iri == CMCT.Osmolality
    assert index.resolve("osmo", PP).iri == CMCT.CultureOsmolality
    assert index.resolve("pH").iri == CMCT.PH  # a prefLabel wins over another's altLabel
    assert index.resolve("pH", QA).iri == CMCT.PH
    assert index.resolve("pH", PP).iri == CMCT.ProcessPH
    assert index.resolve("glucose", PP).iri == CMCT.GlucoseConcentration
    assert index.resolve("glucose", MAT).iri == CMCT.Glucose


# --- scheme hygiene ------------------------------------------------------------------------


def test_no_name_collides_within_a_scheme() -> None:
    by_scheme: dict[tuple[URIRef, str], set[URIRef]] = defaultdict(set)
    g = graph()
    for concept in concepts():
        for scheme in g.objects(concept, SKOS.inScheme):
            for name in names(concept):
                by_scheme[(scheme, normalise_label(name))].add(concept)
    collisions = {key: sorted(v) for key, v in by_scheme.items() if len(v) > 1}
    assert collisions == {}


def test_each_file_holds_one_scheme_and_its_concepts() -> None:
    for file_name, scheme in SCHEMES.items():
        g = Graph().parse(TERMS_DIR / file_name, format="turtle")
        assert set(g.subjects(RDF.type, SKOS.ConceptScheme)) == {scheme}
        members = set(g.subjects(RDF.type, SKOS.Concept))
        assert members and set(g.subjects(SKOS.inScheme, scheme)) == members
    # units.ttl declares units QUDT lacks (qudt:Unit), plausibility.ttl ranges; no concepts
    extra = {"units.ttl", "plausibility.ttl"}
    assert {p.name for p in TERMS_DIR.glob("*.ttl")} == set(SCHEMES) | extra


def test_every_concept_is_documented() -> None:
    g = graph()
    problems = []
    for concept in concepts():
        local = str(concept).split("#")[-1]
        if not str(concept).startswith(str(CMCT)) or not re.fullmatch(r"[A-Z][A-Za-z0-9]*", local):
            problems.append((local, "IRI not cmct:PascalCase"))
        if len(list(g.objects(concept, SKOS.inScheme))) != 1:
            problems.append((local, "not in exactly one scheme"))
        prefs = list(g.objects(concept, SKOS.prefLabel))
        if len(prefs) != 1 or not isinstance(prefs[0], Literal) or prefs[0].language != "en":
            problems.append((local, "needs one @en prefLabel"))
        if g.value(concept, SKOS.definition) is None:
            problems.append((local, "no definition"))
        broader = g.value(concept, SKOS.broader)
        top = g.value(concept, SKOS.topConceptOf)
        if (broader is None) == (top is None):
            problems.append((local, "needs either skos:broader or skos:topConceptOf"))
        if broader is not None and g.value(broader, SKOS.inScheme) != g.value(
            concept, SKOS.inScheme
        ):
            problems.append((local, "broader concept in another scheme"))
    assert problems == []
    assert len(concepts()) > 150


def test_measured_concepts_have_a_default_unit() -> None:
    g = graph()
    missing = [
        str(c).split("#")[-1]
        for c in concepts()
        if g.value(c, SKOS.inScheme) in (QA, PP)
        and c not in TEXT_RESULTS
        and g.value(c, CMC.defaultUnit) is None
    ]
    assert missing == []


def test_flags_are_booleans_on_the_right_schemes() -> None:
    g = graph()
    for flag, scheme in ((CMC.isCQA, QA), (CMC.isCPP, PP)):
        flagged = list(g.subjects(flag, None))
        assert flagged
        assert all(g.value(c, flag) == Literal(True) for c in flagged)
        assert {g.value(c, SKOS.inScheme) for c in flagged} == {scheme}
    for cqa in (
        CMCT.HighMolecularWeightSpecies,
        CMCT.Afucosylation,
        CMCT.HostCellProtein,
        CMCT.DissolutionMean,
        CMCT.TotalImpurities,
    ):
        assert (cqa, CMC.isCQA, Literal(True)) in g
    for cpp in (CMCT.Temperature, CMCT.ProcessPH, CMCT.CompressionForce, CMCT.ElutionPH):
        assert (cpp, CMC.isCPP, Literal(True)) in g


# --- external matches ----------------------------------------------------------------------


def test_exact_matches_name_the_same_quantity_as_the_asm_key() -> None:
    """A concept's exactMatch AFO IRI is one whose ASM key is also a name of the concept."""
    keys: dict[str, set[str]] = defaultdict(set)
    with (VENDOR / "asm-property-iris.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            keys[row["iri"]].add(normalise_label(row["asm_key"]))
    g = graph()
    pairs = [(c, m) for c, m in g.subject_objects(SKOS.exactMatch)]
    assert len(pairs) >= 12
    wrong = [
        (str(c).split("#")[-1], str(m))
        for c, m in pairs
        if not keys[str(m)] & {normalise_label(n) for n in names(c)}
    ]
    assert wrong == []


def test_solution_analyser_analytes_in_the_asm_examples_resolve() -> None:
    """The analyte names real bioprocess analysers write (examples/asm) are process parameters."""
    analytes: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("analyte name"), str):
                analytes.add(node["analyte name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted((REPO / "examples" / "asm").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    wanted = {"glucose", "lactate", "glutamine", "glutamate", "ammonium", "ammonia"}
    assert wanted <= analytes
    index = term_index()
    resolved = {name: index.resolve(name, PP).iri for name in wanted}
    assert resolved["ammonia"] == resolved["ammonium"] == CMCT.AmmoniumConcentration
    assert len(set(resolved.values())) == 5


# Units of the Žagar & Mihelič (2022) columns, from examples/zagar2022/SOURCES.md (the paper's
# Table 4), and the natural name a site would use for each.
ZAGAR = {
    "water content": "PERCENT",
    "total impurities": "PERCENT",
    "impurity L": "PERCENT",
    "impurity O": "PERCENT",
    "assay": "PERCENT",
    "d10": "MicroM",
    "d50": "MicroM",
    "d90": "MicroM",
    "sieve fraction < 45 µm": "PERCENT",
    "sieve fraction < 150 µm": "PERCENT",
    "sieve fraction < 250 µm": "PERCENT",
    "tapped density": "GM-PER-MilliL",
    "bulk density": "GM-PER-MilliL",
    "minimum thickness": "MilliM",
    "maximum thickness": "MilliM",
    "minimum weight": "MilliGM",
    "maximum weight": "MilliGM",
    "weight RSD": "PERCENT",
    "minimum hardness": "N",
    "maximum hardness": "N",
    "average hardness": "N",
    "maximum diameter": "MilliM",
    "tensile strength": "MegaPA",
    "yield": "PERCENT",
    "average dissolution": "PERCENT",
    "minimum dissolution": "PERCENT",
    "residual solvent": "PERCENT",
    "strength": "MilliGM",
}


def test_zagar_attributes_resolve_with_the_paper_units() -> None:
    index = term_index()
    got = {name: index.resolve(name, QA) for name in ZAGAR}
    wrong_unit = {
        name: str(term.default_unit)
        for name, term in got.items()
        if term.default_unit != UNIT[ZAGAR[name]]
    }
    assert wrong_unit == {}
    assert len({term.iri for term in got.values()}) == len(ZAGAR)  # all distinct concepts


def test_zagar_materials_resolve() -> None:
    index = term_index()
    assert index.resolve("API", MAT).iri == CMCT.ActivePharmaceuticalIngredient
    assert index.resolve("SMCC", MAT).iri == CMCT.SilicifiedMicrocrystallineCellulose
    assert index.resolve("lactose", MAT).iri == CMCT.LactoseMonohydrate
    assert index.resolve("starch", MAT).iri == CMCT.Starch
