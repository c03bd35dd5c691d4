"""JSON Schemas of the files users write: every mapping and vocabulary in the repository keeps
them, examples point editors at them, and a typo is an error naming file, line and key path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, TEST_DATA
from jsonschema import Draft202012Validator

from cmckg import KnowledgeGraph
from cmckg.errors import ConfigError
from cmckg.kg import load_mapping
from cmckg.schemas import schema, schema_path, validate_document

MAPPINGS = sorted(
    p
    for p in [*EXAMPLES.rglob("*.yaml"), *TEST_DATA.rglob("*.yaml")]
    if p.name != "examples.yaml" and "vocabulary:" not in p.read_text("utf-8")
)
VOCABULARIES = sorted(
    p
    for p in [*EXAMPLES.rglob("*.yaml"), *TEST_DATA.rglob("*.yaml")]
    if re.search(r"^vocabulary: 1$", p.read_text("utf-8"), re.M)
)


@pytest.mark.parametrize("name", ["mapping", "vocabulary"])
def test_the_schemas_are_valid_json_schemas(name: str) -> None:
    Draft202012Validator.check_schema(schema(name))


def test_there_are_mappings_and_vocabularies_to_check() -> None:
    assert len(MAPPINGS) >= 15 and VOCABULARIES


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_every_mapping_in_the_repository_keeps_the_schema(path: Path) -> None:
    validate_document(yaml.safe_load(path.read_text(encoding="utf-8")), "mapping", str(path))


@pytest.mark.parametrize("path", VOCABULARIES, ids=lambda p: p.name)
def test_every_vocabulary_in_the_repository_keeps_the_schema(path: Path) -> None:
    validate_document(yaml.safe_load(path.read_text(encoding="utf-8")), "vocabulary", str(path))


@pytest.mark.parametrize(
    "path", [p for p in MAPPINGS if EXAMPLES in p.parents] + VOCABULARIES, ids=lambda p: p.name
)
def test_examples_point_editors_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    target = (path.parent / match.group(1)).resolve()
    kind = "vocabulary" if "vocabulary: 1" in path.read_text("utf-8") else "mapping"
    assert target == schema_path(kind).resolve()


def test_mapping_md_examples_keep_the_schema() -> None:
    """Whole mappings shown in examples/MAPPING.md (blocks starting with 'mapping: 1' that
    leave nothing out with '…')."""
    text = (EXAMPLES / "MAPPING.md").read_text(encoding="utf-8")
    blocks = [
        b
        for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
        if b.lstrip().startswith(("mapping: 1", "# yaml-language-server")) and "…" not in b
    ]
    assert blocks
    for block in blocks:
        validate_document(yaml.safe_load(block), "mapping", "MAPPING.md")


def _mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


LOTS = (TEST_DATA / "tables" / "lots.yaml").read_text(encoding="utf-8")


def test_a_typo_in_a_mapping_file_names_file_line_and_key_path(tmp_path: Path) -> None:
    lines = LOTS.splitlines()
    # the entity 'lot' of tests/data/tables/lots.yaml: misspell the first key under it
    at = next(i for i, line in enumerate(lines) if line.strip() == "lot:") + 1
    key = lines[at].split(":")[0]
    lines.insert(at, key.replace(key.strip(), "suplier") + ": x")
    path = _mapping_file(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert str(caught.value) == (
        f"{path} line {at + 1}, field 'entities.lot.suplier': unknown key 'suplier'"
    )


def test_a_wrong_type_in_a_mapping_file_names_its_key_path(tmp_path: Path) -> None:
    path = _mapping_file(
        tmp_path,
        "mapping: 1\nissuer: x\nentities:\n  lot:\n"
        "    type: RawMaterialLot\n    id: '{lot}'\n    required: maybe\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert str(caught.value) == (
        f"{path} line 7, field 'entities.lot.required': must be true or false, not str"
    )


def test_a_bad_mapping_file_leaves_the_store_alone(tmp_path: Path) -> None:
    path = _mapping_file(tmp_path, "mapper: asm\nlot_isuer: x\n")
    with KnowledgeGraph.open("memory:") as kg:
        before = kg.store.count_quads()
        with pytest.raises(ConfigError, match=r"line 2, field 'lot_isuer'"):
            kg.ingest(EXAMPLES / "asm" / "cytiva_unicorn__unicorn_1.json", mapping=path)
        assert kg.store.count_quads() == before
