"""Readable CLI output: warnings summarised by kind, every warning on request, no hard wrapping
in logs, correct plurals, and the deprecated ``ingest --format NAME`` spelling."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import EXAMPLES, TEST_DATA

from cmckg.cli import main

TINY = TEST_DATA / "asm" / "tiny_cell_counting.json"
PES = EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml"
NAN_KIND = "value NaN read as missing (no measurement)"


@pytest.fixture
def three_nans(tmp_path) -> str:
    """The tiny ASM file (one NaN, the viability) with two more values made NaN: 3 warnings of
    one kind."""
    text = TINY.read_text(encoding="utf-8")
    assert text.count("NaN") == 1
    for value in ('"value": 2.5,', '"value": 1.25,'):
        assert text.count(value) == 1
        text = text.replace(value, '"value": NaN,')
    path = tmp_path / "three-nans.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_warnings_are_summarised_by_kind_with_counts(three_nans, capsys) -> None:
    assert main(["ingest", "--store", "memory:", three_nans]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        f"warning: 3 times {NAN_KIND} (e.g. {three_nans} /"
        + warnings[0].split(f"(e.g. {three_nans} /", 1)[1]
    ]
    assert warnings[0].endswith(f": {NAN_KIND})")
    assert "ingested 1 record, " in captured.out  # singular


def test_verbose_and_json_list_every_warning(three_nans, capsys) -> None:
    assert main(["ingest", "--store", "memory:", three_nans, "--verbose"]) == 0
    every = [
        line
        for line in capsys.readouterr().err.splitlines()
        if line.startswith("warning: ") and line.endswith(NAN_KIND)
    ]
    assert len(every) == 3
    assert main(["ingest", "--store", "memory:", three_nans, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [source] = report["sources"]
    assert sum(w.endswith(NAN_KIND) for w in source["warnings"]) == 3
    assert [(k["kind"], k["count"]) for k in report["warning_kinds"]] == [(NAN_KIND, 3)]


def test_the_old_format_flag_still_names_a_mapper_with_a_deprecation_warning(capsys) -> None:
    assert main(["ingest", "--store", "memory:", str(PES), "--format", "b2mml"]) == 0
    err = capsys.readouterr().err
    assert (
        "warning: --format b2mml is deprecated for the source format; use --source-format "
        "b2mml" in err
    )
    assert main(["ingest", "--store", "memory:", str(PES), "--source-format", "b2mml"]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert (
        main(
            [
                "ingest",
                "--store",
                "memory:",
                str(PES),
                "--source-format",
                "asm",
                "--format",
                "b2mml",
            ]
        )
        == 2
    )


def test_logs_are_not_hard_wrapped() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from cmckg.cli import main; sys.exit(main())",
            "ingest",
            "--store",
            "memory:",
            str(PES),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0
    [warning] = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) > 160 and warning.endswith("EmptyFlag, Indice, CompleteFlag")
