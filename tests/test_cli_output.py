"""Readable CLI output: warnings summarised by kind, every warning on request, no hard wrapping
in logs, correct plurals, and the deprecated ``ingest --format NAME`` spelling."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import EXAMPLES

from cmckg.cli import main

# 68 NaN quantities, counted by hand-run walks of the raw JSON (tests/test_asm.py, EXPECTED).
MSD = EXAMPLES / "asm" / "msd_workbench__msd_workbench_test_2.json"
PES = EXAMPLES / "b2mml" / "PES-20121229115825-53107.xml"
NAN_KIND = "value NaN read as missing (no measurement)"


def test_warnings_are_summarised_by_kind_with_counts(capsys) -> None:
    assert main(["ingest", "--store", "memory:", str(MSD)]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning: ")]
    assert warnings[0].startswith(f"warning: 68 times {NAN_KIND} (e.g. {MSD} /")
    assert len(warnings) < 68
    assert "ingested 1 record, " in captured.out  # singular


def test_verbose_and_json_list_every_warning(capsys) -> None:
    assert main(["ingest", "--store", "memory:", str(MSD), "--verbose"]) == 0
    every = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith("warning: ") and line.endswith(NAN_KIND)]
    assert len(every) == 68
    assert main(["ingest", "--store", "memory:", str(MSD), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    [source] = report["sources"]
    assert sum(w.endswith(NAN_KIND) for w in source["warnings"]) == 68
    first = report["warning_kinds"][0]
    assert (first["kind"], first["count"]) == (NAN_KIND, 68)


def test_the_old_format_flag_still_names_a_mapper_with_a_deprecation_warning(capsys) -> None:
    assert main(["ingest", "--store", "memory:", str(PES), "--format", "b2mml"]) == 0
    err = capsys.readouterr().err
    assert "warning: --format b2mml is deprecated for the source format; use --source-format " \
           "b2mml" in err
    assert main(["ingest", "--store", "memory:", str(PES), "--source-format", "b2mml"]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert main(["ingest", "--store", "memory:", str(PES), "--source-format", "asm",
                 "--format", "b2mml"]) == 2


def test_logs_are_not_hard_wrapped() -> None:
    done = subprocess.run([sys.executable, "-c", "import sys; from cmckg.cli import main; "
                           "sys.exit(main())", "ingest", "--store", "memory:", str(PES)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0
    [warning] = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) > 160 and warning.endswith("EmptyFlag, Indice, CompleteFlag")
