"""The static registries (``cmckg.mappers.MAPPERS``, ``cmckg.reports.FORMATS``): every entry
imports and is what its name says; an unknown name is one clear line, exit 2, store untouched."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES

from cmckg.cli import main
from cmckg.errors import MappingError
from cmckg.mappers import MAPPERS, Mapper, mapper, mapper_for
from cmckg.reports import FORMATS
from cmckg.schemas import SCHEMA_DIR

PES = EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml"
KNOWN = "known formats: asm, b2mml, documents, tables, workbook"


@pytest.mark.parametrize("name", list(MAPPERS))
def test_every_mapper_entry_imports_and_is_named_as_listed(name: str) -> None:
    found = mapper(name)
    assert isinstance(found, Mapper)
    assert found.name == name


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_report_entry_imports_a_writer(name: str) -> None:
    module_name, function_name = FORMATS[name].split(":")
    writer = getattr(importlib.import_module(f"cmckg.reports.{module_name}"), function_name)
    assert callable(writer)


def test_the_package_imports_no_mapper_until_one_is_used() -> None:
    code = (
        "import sys, cmckg.mappers, cmckg.reports; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('cmckg.mappers.', 'cmckg.reports.'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(done.stdout)  # a printed list of module names
    assert not [m for m in loaded if m.split(".")[2] in {*MAPPERS, "text", "html", "sarif"}]


def test_an_unknown_name_in_the_api_names_the_known_ones() -> None:
    with pytest.raises(MappingError) as caught:
        mapper_for(PES, "b2ml")
    assert str(caught.value) == f"{PES}: unknown format 'b2ml'; {KNOWN}"


def test_content_detection_still_finds_b2mml() -> None:
    assert mapper_for(PES).name == "b2mml"


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_an_unknown_source_format_on_the_cli_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    code = main(["ingest", "--store", str(store), str(PES), "--source-format", "b2ml"])
    assert code == 2
    assert (
        _one_line(capsys.readouterr().err) == f"cmckg ingest: error: unknown format 'b2ml'; {KNOWN}"
    )
    assert not store.exists()  # refused before the store was opened


def test_an_unknown_mapper_in_a_mapping_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("mapping: 1\nmapper: spreadsheet\n", encoding="utf-8")
    code = main(["ingest", "--store", "memory:", str(PES), "--mapping", str(mapping)])
    assert code == 2
    assert _one_line(capsys.readouterr().err) == (
        f"cmckg ingest: error: {mapping} line 2, field 'mapper': "
        f"unknown format 'spreadsheet'; {KNOWN}"
    )


def test_the_mapping_schema_knows_the_same_mappers() -> None:
    text = (SCHEMA_DIR / "mapping.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    consts = {
        definition["properties"]["mapper"]["const"]
        for definition in schema["$defs"].values()
        if "mapper" in definition.get("properties", {})
    }
    assert consts | {"tables"} == set(MAPPERS)  # a mapping without mapper: is a tables mapping
