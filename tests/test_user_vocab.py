"""Project vocabularies: a user's own concepts and units (YAML and SKOS Turtle).

Expected values are worked by hand from tests/data/vocab (acme.yaml, batches.csv) and from the
unit definitions (1 ppmw = 1 µg/g = 0.001 mg/g; 1 ppbw = 0.001 µg/g; °F → K).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, TEST_DATA, assert_refused_unchanged
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from cmckg import KnowledgeGraph
from cmckg.cli import main
from cmckg.errors import ConfigError, MappingError
from cmckg.units import convert, resolve_unit, symbol
from cmckg.uservocab import load_vocabulary, stored_vocabularies
from cmckg.vocab import CMC, CMCT, QUDT, UNIT, term_index, vocabulary_scope

VOCAB = TEST_DATA / "vocab"
ACME = "https://example.org/acme/terms#"


@pytest.fixture
def acme():
    return load_vocabulary(VOCAB / "acme.yaml")


def test_yaml_concepts_resolve_with_their_aliases_and_units(acme) -> None:
    with vocabulary_scope([acme]):
        index = term_index()
        dbc = index.resolve("DBC10", CMCT.QualityAttributes)
        assert dbc.iri == URIRef(ACME + "DynamicBindingCapacity")
        assert dbc.label == "dynamic binding capacity"
        assert dbc.default_unit == UNIT["GM-PER-L"]
        assert index.resolve("trace elements").default_unit == UNIT["MicroGM-PER-GM"]
        assert symbol(resolve_unit("ppmw")) == "ppmw"
    # outside the scope the bundled index is untouched
    with pytest.raises(MappingError, match="unknown term 'DBC10'"):
        term_index().resolve("DBC10", CMCT.QualityAttributes)
    with pytest.raises(MappingError, match="unknown unit 'ppmw'"):
        resolve_unit("ppmw")


def test_user_units_convert_through_their_qudt_unit(acme) -> None:
    with vocabulary_scope([acme]):
        # 2.5 ppmw = 2.5 µg/g = 0.0025 mg/g; 2500 ppbw = 2.5 µg/g
        assert convert(2.5, "ppmw", "mg/g") == pytest.approx(0.0025, rel=1e-12)
        assert convert(2500, "ppbw", "µg/g") == pytest.approx(2.5, rel=1e-12)
        assert convert(2500, "ppbw", "ppmw") == pytest.approx(2.5, rel=1e-12)
        # 212 °F = 100 °C = 373.15 K, through the declared offset and multiplier
        assert convert(212, "degF-LIMS", "K") == pytest.approx(373.15, rel=1e-9)
        assert convert(32, "degF-LIMS", "°C") == pytest.approx(0.0, abs=1e-9)
        # a unit without a conversion stays what it is
        assert convert(1.25, "AU-ELISA", "AU-ELISA") == 1.25
        with pytest.raises(MappingError, match="cannot convert AU-ELISA"):
            convert(1.25, "AU-ELISA", "(unitless)")


def test_ingest_stores_the_vocabulary_and_questions_resolve_it_without_the_file(
    tmp_path: Path,
) -> None:
    store = f"oxigraph:{tmp_path / 'store'}"
    with KnowledgeGraph.open(store) as kg:
        report = kg.ingest(VOCAB / "batches.csv", mapping=VOCAB / "batches.yaml")
        assert [v.added for v in report.vocabularies] == [1]
        again = kg.ingest(VOCAB / "batches.csv", mapping=VOCAB / "batches.yaml")
        assert again.changed == 0 and [v.unchanged for v in again.vocabularies] == [1]
    with KnowledgeGraph.open(store, read_only=True) as kg:  # a new session, no --vocab
        table = kg.summary(["TEC", "DBC"])
        tec = table[table["attribute"] == "trace element content"].iloc[0]
        # DS-1 2.5 ppmw, DS-2 2500 ppbw, DS-3 4.0 µg/g → 2.5, 2.5, 4.0 µg/g
        assert tec["n"] == 3 and tec["mean"] == pytest.approx(3.0)
        assert tec["sd"] == pytest.approx(0.75**0.5)
        assert tec["unit"] == "μg/g"
        dbc = table[table["attribute"] == "dynamic binding capacity"].iloc[0]
        assert dbc["mean"] == pytest.approx(52.5) and dbc["unit"] == "g/L"
        [stored] = stored_vocabularies(kg.store)
        assert stored.name == "acme"
        concept = URIRef(ACME + "TraceElementContent")
        assert (concept, CMC.isCQA, Literal(True)) in stored.graph
        assert (
            URIRef(ACME + "DynamicBindingCapacity"),
            CMC.plausibleMaximum,
            Literal(200.0),
        ) in stored.graph


def test_a_changed_vocabulary_supersedes_its_stored_revision(tmp_path: Path) -> None:
    work = tmp_path / "data"
    shutil.copytree(VOCAB, work)
    with KnowledgeGraph.open("memory:") as kg:
        kg.ingest(work / "batches.csv", mapping=work / "batches.yaml")
        text = (work / "acme.yaml").read_text(encoding="utf-8")
        (work / "acme.yaml").write_text(
            text.replace("[DBC, DBC10]", "[DBC, DBC10, DBC 10%]"), encoding="utf-8"
        )
        report = kg.ingest(work / "batches.csv", mapping=work / "batches.yaml")
        assert [v.replaced for v in report.vocabularies] == [1]
        assert report.sources[0].unchanged == 3  # the records did not change
        graph = kg.minter.mint("graph", "vocabulary", "acme")
        revisions = kg.query(
            "SELECT ?r WHERE { GRAPH ?m { ?r a ?type ; ?of ?g } }",
            type=CMC.SupersededRevision,
            of=CMC.revisionOf,
            g=graph,
        )
        assert len(revisions) == 1
        with kg.vocabulary():
            assert term_index().resolve("DBC 10%").label == "dynamic binding capacity"


def _write(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEAD = "vocabulary: 1\nconcepts:\n"


def test_an_alias_that_names_another_concept_is_an_error_on_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + (
            "  - label: resin capacity\n"  # line 3
            "    scheme: quality attributes\n"
            "    definition: Protein bound per litre of resin.\n"
            "    alt_labels: [DBC-static, HMW]\n"  # line 6
            "    quantity_kind: MassConcentration\n"
            "    unit: g/L\n"
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_vocabulary(path)
    message = str(caught.value)
    assert message.startswith(
        f"{path} line 6, field 'alt_labels': 'HMW' of concept "
        "'resin capacity' already names 'high molecular weight species'"
    )


def test_two_concepts_of_the_file_sharing_an_alias_clash(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + (
            "  - {label: alpha test, scheme: materials, definition: a}\n"  # line 3
            "  - label: beta test\n"  # line 4
            "    scheme: materials\n"
            "    definition: b\n"
            "    alt_labels: [Alpha-Test]\n"
        ),
    )  # line 7
    with pytest.raises(
        ConfigError,
        match=r"line 7, field 'alt_labels': 'Alpha-Test' of concept "
        r"'beta test' already names 'alpha test'",
    ):
        load_vocabulary(path)


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        (
            "  - label: a thing\n    scheme: quality attributes\n"
            "    definition: d\n    unit: g/L\n",
            3,
            "quantity_kind",
            "concept 'a thing' has a unit but no quantity_kind",
        ),
        (
            "  - label: a thing\n    scheme: quality attributes\n    definition: d\n"
            "    quantity_kind: MassConcentration\n    unit: furlongs/L\n",
            7,
            "unit",
            "unknown unit 'furlongs/L'",
        ),
        (
            "  - label: a thing\n    scheme: quality attributes\n    definition: d\n"
            "    quantity_kind: MassConcentration\n    unit: '%'\n",
            7,
            "unit",
            "unit '%' of concept 'a thing' is not a MassConcentration unit",
        ),
        (
            "  - label: a thing\n    scheme: materials\n"
            "    definition: d\n    broader: unobtainium\n",
            6,
            "broader",
            "unknown broader concept 'unobtainium'",
        ),
        (
            "  - label: a thing\n    scheme: quality attributes\n    definition: d\n"
            "    quantity_kind: MassConcentrashun\n",
            6,
            "quantity_kind",
            "unknown quantity kind 'MassConcentrashun'; nearest QUDT kinds: MassConcentration",
        ),
        (
            "  - label: a thing\n    scheme: recipes\n    definition: d\n",
            4,
            "scheme",
            "unknown scheme 'recipes'",
        ),
        (
            "  - label: a thing\n    scheme: materials\n",
            3,
            "concepts[0]",
            "'definition' is a required property",
        ),
        (
            "  - label: a thing\n    scheme: materials\n    definition: d\n    unti: g\n",
            6,
            "concepts[0].unti",
            "unknown key 'unti'",
        ),
    ],
)
def test_vocabulary_errors_name_file_line_and_field(
    tmp_path: Path, body: str, line: int, field: str, message: str
) -> None:
    path = _write(tmp_path, HEAD + body)
    with pytest.raises(ConfigError) as caught:
        load_vocabulary(path)
    assert str(caught.value).startswith(f"{path} line {line}, field '{field}': {message}")


def test_unit_errors_name_their_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "vocabulary: 1\nunits:\n  - {symbol: RU, label: again, quantity_kind: Dimensionless}\n",
    )
    with pytest.raises(
        ConfigError,
        match=r"line 3, field 'symbol': unit symbol 'RU' is "
        r"already https://w3id.org/cmckg/ontology#unit-RU",
    ):
        load_vocabulary(path)
    path = _write(
        tmp_path,
        "vocabulary: 1\nunits:\n  - symbol: kcell\n"
        "    quantity_kind: Dimensionless\n"
        "    conversion: {unit: g/L, multiplier: 1000}\n",
    )
    with pytest.raises(
        ConfigError,
        match=r"line 5, field 'conversion': unit 'kcell' is a "
        r"Dimensionless but g/L is not",
    ):
        load_vocabulary(path)


TURTLE = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix cmct: <https://w3id.org/cmckg/terms#> .
@prefix cmc: <https://w3id.org/cmckg/ontology#> .
@prefix qudt: <http://qudt.org/schema/qudt/> .
@prefix quantitykind: <http://qudt.org/vocab/quantitykind/> .
@prefix unit: <http://qudt.org/vocab/unit/> .
@prefix ex: <https://example.org/ttl#> .

ex:ResinLigandDensity a skos:Concept ;
    skos:inScheme cmct:QualityAttributes ;
    skos:prefLabel "resin ligand density"@en ;
    skos:altLabel "ligand density"@en ;
    skos:definition "Protein A ligand per litre of resin."@en ;
    qudt:hasQuantityKind quantitykind:MassConcentration ;
    cmc:defaultUnit unit:MilliGM-PER-MilliL .

ex:unit-kU a qudt:Unit ; qudt:symbol "kU-ligand" ;
    qudt:hasQuantityKind quantitykind:MassConcentration ;
    cmc:conversionUnit unit:MilliGM-PER-MilliL ; cmc:conversionMultiplier 2.0 .
"""


def test_skos_turtle_vocabulary_resolves_and_converts(tmp_path: Path) -> None:
    vocabulary = load_vocabulary(_write(tmp_path, TURTLE, "ligands.ttl"))
    with vocabulary_scope([vocabulary]):
        term = term_index().resolve("Ligand Density", CMCT.QualityAttributes)
        assert term.iri == URIRef("https://example.org/ttl#ResinLigandDensity")
        # 3 kU-ligand = 6 mg/mL = 6 g/L
        assert convert(3, "kU-ligand", "g/L") == pytest.approx(6.0)


def test_skos_turtle_clash_names_the_line_of_its_concept(tmp_path: Path) -> None:
    text = TURTLE.replace('"ligand density"@en', '"titre"@en')
    path = _write(tmp_path, text, "ligands.ttl")
    with pytest.raises(ConfigError) as caught:
        load_vocabulary(path)
    # the concept ex:ResinLigandDensity starts on line 9 of the Turtle text
    assert str(caught.value).startswith(
        f"{path} line 9, field 'alt_labels': 'titre' of concept "
        "'resin ligand density' already names 'titer'"
    )


def test_a_vocabulary_given_to_a_table_mapping_is_found_next_to_it(tmp_path: Path) -> None:
    with KnowledgeGraph.open("memory:") as kg:
        kg.ingest(VOCAB / "batches.csv", mapping=VOCAB / "batches.yaml")
        rows = kg.query(
            "SELECT ?m WHERE { ?m ?p ?c }",
            p=CMC.measuredProperty,
            c=URIRef(ACME + "TraceElementContent"),
        )
        assert len(rows) == 3
        ppbw = kg.query(
            "SELECT ?v WHERE { ?m ?unit ?u ; ?value ?v }",
            unit=QUDT.unit,
            u=URIRef(ACME + "unit-ppbw"),
            value=QUDT.numericValue,
        )
        assert list(ppbw["v"]) == [2500.0]  # stored as the source gave it


def test_unknown_unit_error_names_the_row_field_and_the_yaml_to_add(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        "batch,test,result,unit,tested\nDS-9,TEC,1.0,ppqw,2025-01-10\n", encoding="utf-8"
    )
    mapping = (
        (VOCAB / "batches.yaml")
        .read_text(encoding="utf-8")
        .replace("vocab: acme.yaml", f"vocab: {VOCAB / 'acme.yaml'}")
    )
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    with KnowledgeGraph.open("memory:") as kg, pytest.raises(MappingError) as caught:
        kg.ingest(tmp_path / "r.csv", mapping=tmp_path / "m.yaml")
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'r.csv'} row=2, field 'unit': unknown unit 'ppqw'")
    assert text.endswith(
        'units: [{symbol: "ppqw", label: <name>, quantity_kind: <QUDT kind>, conversion: null}]'
    )


def test_unknown_term_error_gives_the_concept_yaml_and_hints_only_its_scheme() -> None:
    index = term_index()
    with pytest.raises(MappingError) as caught:
        index.resolve("harvest", CMCT.Stages, source="x.csv", location="row 3", field_name="stage")
    text = str(caught.value)
    # 'harvest' is a unit operation, not a stage: the hint lists the stages instead
    stages = sorted(t.label for t in index.terms(CMCT.Stages))
    assert f"unknown term 'harvest'; known labels: {', '.join(stages)};" in text
    assert "harvest and clarification" not in text
    assert text.endswith("concepts: [{label: harvest, scheme: stages, definition: <what it is>}]")
    with pytest.raises(MappingError) as caught:
        index.resolve("trace metals: Cu", CMCT.QualityAttributes)
    assert (
        'concepts: [{label: "trace metals: Cu", scheme: quality attributes, definition: '
        "<what it is>, quantity_kind: <QUDT kind>, unit: <unit>}]"
    ) in str(caught.value)


def test_each_ingests_the_good_files_and_names_the_refused_one(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sources = sorted((EXAMPLES / "asm").glob("*.json"))
    assert len(sources) == 15
    bad = tmp_path / "broken.json"
    bad.write_text(
        '{"$asm.manifest": "x", "a": {"value": 1, "unit": "furlong/fortnight"}}', encoding="utf-8"
    )
    store = f"oxigraph:{tmp_path / 'store'}"
    code = main(["ingest", "--each", "--store", store, str(bad), *map(str, sources)])
    assert code == 2
    captured = capsys.readouterr()
    assert f"refused: {bad}" in captured.err
    assert "1 of 16 files refused" in captured.err
    with KnowledgeGraph.open(store, read_only=True) as kg:
        graphs = kg.query(
            "SELECT DISTINCT ?path WHERE { GRAPH ?m { ?g ?p ?path } }", p=CMC.sourcePath
        )
        paths = set(graphs["path"])
        assert {str(s) for s in sources} <= paths and str(bad) not in paths


def test_every_asm_example_ingests_in_one_go() -> None:
    sources = sorted((EXAMPLES / "asm").glob("*.json"))
    with KnowledgeGraph.open("memory:") as kg:
        report = kg.ingest(sources)
        assert report.records == 15 and not report.refused
        ru = kg.query(
            "SELECT (COUNT(?m) AS ?n) WHERE { ?m a ?type ; ?unit ?u }",
            type=CMC.Measurement,
            unit=QUDT.unit,
            u=CMC["unit-RU"],
        )
        # the Biacore file holds 116 quantities {"value": …, "unit": "RU"} outside its data
        # cubes (jq: paths(objects and has("value") and .unit=="RU")); the other files none
        assert int(ru["n"][0]) == 116


def test_concepts_are_skos_concepts_of_their_scheme(acme) -> None:
    g = acme.graph
    dbc = URIRef(ACME + "DynamicBindingCapacity")
    assert (dbc, RDF.type, SKOS.Concept) in g
    assert (dbc, SKOS.inScheme, CMCT.QualityAttributes) in g
    assert (
        dbc,
        QUDT.hasQuantityKind,
        URIRef("http://qudt.org/vocab/quantitykind/MassConcentration"),
    ) in g
    assert (dbc, CMC.plausibleMinimum, Literal(0.0)) in g


def test_vocab_list_shows_what_resolves_to_what(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = f"oxigraph:{tmp_path / 'store'}"
    assert (
        main(
            [
                "ingest",
                "--store",
                store,
                "--mapping",
                str(VOCAB / "batches.yaml"),
                str(VOCAB / "batches.csv"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            ["vocab", "list", "--store", store, "--scheme", "quality attributes", "--format", "csv"]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    dbc = [line for line in lines if line.startswith("DBC10,")]
    assert dbc == [
        "DBC10,alias,dynamic binding capacity,"
        f"{ACME}DynamicBindingCapacity,quality attributes,g/L,MassConcentration,"
        "store:acme.yaml"
    ]
    # bundled concepts are listed too, by label and by alias
    assert any(
        line.startswith("HMW,alias,high molecular weight species,") and line.endswith(",bundled")
        for line in lines
    )
    assert main(["vocab", "list", "--store", store, "--scheme", "units", "--format", "csv"]) == 0
    units = capsys.readouterr().out.splitlines()
    assert (
        f"ppbw,{ACME}unit-ppbw,parts per billion by weight,MassFraction,μg/g,0.001,0.0,"
        "store:acme.yaml"
    ) in units
    assert any(
        line.startswith(
            "RU,https://w3id.org/cmckg/ontology#unit-RU,resonance unit,"
            "Dimensionless,(never converted)"
        )
        for line in units
    )


needs_java = pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")


@needs_java
def test_vocab_check_passes_on_bundled_and_user_vocabulary(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no default store here
    ttl = _write(tmp_path, TURTLE, "ligands.ttl")
    assert main(["vocab", "check", "--vocab", str(VOCAB / "acme.yaml"), "--vocab", str(ttl)]) == 0
    assert "consistent: HermiT finds" in capsys.readouterr().out


@needs_java
def test_vocab_check_fails_on_an_inconsistent_vocabulary(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    # cmc:isCQA is a boolean (ontology/cmckg.ttl: rdfs:range xsd:boolean); "yes" is a string
    bad = TURTLE.replace(
        'skos:altLabel "ligand density"@en ;',
        'skos:altLabel "ligand density"@en ; cmc:isCQA "yes" ;',
    )
    ttl = _write(tmp_path, bad, "ligands.ttl")
    assert main(["vocab", "check", "--vocab", str(ttl)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("inconsistent: HermiT: the ontology is inconsistent with ")
    assert len([line for line in out if line.startswith("inconsistent")]) == 1


def test_vocab_check_skips_reasoning_without_java(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java here
    assert main(["vocab", "check", "--vocab", str(VOCAB / "acme.yaml")]) == 0
    assert "skipped: the OWL consistency check needs Java" in capsys.readouterr().out


def test_vocab_check_reports_a_vocabulary_error_with_exit_2(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(
        tmp_path, HEAD + "  - {label: titre, scheme: quality attributes, definition: d}\n"
    )
    assert main(["vocab", "check", "--vocab", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"cmckg vocab: error: {path} line 3, field 'label': 'titre' of concept 'titre' already "
        "names 'titer' (https://w3id.org/cmckg/terms#Titer)"
    )


@pytest.mark.parametrize("document", ["README.md", "examples/MAPPING.md"])
def test_the_documented_vocabularies_load(document: str, tmp_path: Path) -> None:
    import re

    text = (EXAMPLES.parent / document).read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "\nvocabulary: 1\n" in b]
    vocabulary = load_vocabulary(_write(tmp_path, block, "documented.yaml"))
    with vocabulary_scope([vocabulary]):
        assert convert(3, "ppmw", "µg/g") == pytest.approx(3.0)


def test_term_index_with_aliases_knows_the_stored_vocabulary() -> None:
    from cmckg.vocab import term_index_with_aliases

    with KnowledgeGraph.open("memory:") as kg:
        kg.ingest(VOCAB / "batches.csv", mapping=VOCAB / "batches.yaml")
        index = term_index_with_aliases(kg.store)
    assert index.resolve("DBC10").iri == URIRef(ACME + "DynamicBindingCapacity")
    assert index.resolve("trace elements", CMCT.QualityAttributes).iri == URIRef(
        ACME + "TraceElementContent"
    )


def test_unknown_measured_property_in_a_row_gives_the_concept_yaml(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        "batch,test,result,unit,tested\nDS-9,DS-9 zinc content,1.0,µg/g,2025-01-10\n",
        encoding="utf-8",
    )
    with KnowledgeGraph.open("memory:") as kg, pytest.raises(MappingError) as caught:
        kg.ingest(tmp_path / "r.csv", mapping=VOCAB / "batches.yaml")
    text = str(caught.value)
    assert text.startswith(
        f"{tmp_path / 'r.csv'} row=2, field 'test': unknown term 'DS-9 zinc content'"
    )
    # a property of a lot is declared as a quality attribute
    assert text.endswith(
        "concepts: [{label: DS-9 zinc content, scheme: quality attributes, "
        "definition: <what it is>, quantity_kind: <QUDT kind>, unit: <unit>}]"
    )


def test_a_unit_declared_in_a_vocabulary_lets_a_b2mml_message_map(tmp_path: Path) -> None:
    """tests/data/b2mml/unknown-unit.xml gives a quantity of 1.5 in 'XYZQ'."""
    source = TEST_DATA / "b2mml" / "unknown-unit.xml"
    with KnowledgeGraph.open("memory:") as kg:
        with pytest.raises(MappingError, match="XYZQ"):
            kg.ingest(source)
        vocab = _write(
            tmp_path,
            "vocabulary: 1\nnamespace: https://example.org/plant#\nunits:\n"
            "  - {symbol: XYZQ, label: plant unit, quantity_kind: Dimensionless}\n",
            "plant.yaml",
        )
        kg.ingest(source, vocab=[vocab])
        values = kg.query(
            "SELECT ?v WHERE { ?x ?unit ?u ; ?value ?v }",
            unit=QUDT.unit,
            u=URIRef("https://example.org/plant#unit-XYZQ"),
            value=QUDT.numericValue,
        )
        assert list(values["v"]) == [1.5]


def test_names_read_from_minted_iris_are_shown_decoded() -> None:
    """A source's local name is minted into an IRI percent-encoded; shown, it reads as written
    (was: 'dynamic%20binding%20capacity')."""
    from cmckg.attributes import identifier_of, label_of
    from cmckg.vocab import IriMinter

    alias = IriMinter().mint("term", "acme", "dynamic binding capacity")
    assert str(alias).endswith("/term/acme/dynamic%20binding%20capacity")
    assert label_of(alias) == "dynamic binding capacity"
    assert identifier_of(IriMinter().mint("lot", "acme", "A 1/2"), {}) == "A 1/2"


def test_the_same_vocabulary_given_twice_loads_once_and_a_bad_one_stops_each(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cmckg.uservocab import load_vocabularies

    monkeypatch.chdir(VOCAB)
    [once] = load_vocabularies(["acme.yaml", VOCAB / "acme.yaml"])
    assert once.name == "acme"
    bad = _write(tmp_path, HEAD + "  - {label: titre, scheme: quality attributes, definition: d}\n")
    with KnowledgeGraph.open("memory:") as kg:
        assert_refused_unchanged(
            kg.store,
            lambda: kg.ingest(sorted((EXAMPLES / "asm").glob("*.json")), vocab=[bad], each=True),
            ConfigError,
            ["already names 'titer'"],
        )
