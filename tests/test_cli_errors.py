"""Every verb × {missing store, locked store, unreadable input, unwritable output}: one line on
stderr naming the problem, exit code 2, no traceback. Also a store folder that is not a cmckg
store, orphaned bulk-load files, and standard output on a full device."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES

from cmckg.cli import build_parser, main
from cmckg.examples import example_groups
from cmckg.kg import KnowledgeGraph

LOTS = EXAMPLES / "mab" / "raw_material_lots.csv"
LOTS_MAPPING = EXAMPLES / "mab" / "mappings" / "raw_material_lots.yaml"
SHAPES = str(EXAMPLES.parent / "shapes")

# Each verb with the arguments that make it do its work against a store given by --store.
VERBS: dict[str, list[str]] = {
    "demo": ["--skip-validation"],
    "ingest": [str(LOTS), "--mapping", str(LOTS_MAPPING)],
    "stats": [],
    "query": ["find-node", "-p", "identifier=A-MED-001"],
    "export": ["--format", "nquads"],
    "validate": [],
    "lineage": ["A-DP-1003"],
    "compare": ["-a", "HMW", "--reference", "site=Site-A", "--test", "site=Site-B"],
    "drivers": ["--pqa", "afucosylation"],
    "summary": ["-a", "HMW"],
    "serve": ["--port", "1"],  # never reached: each case fails before the server starts
    "verify": [],
    "history": ["A-MED-001"],
    "vocab": ["list"],
    "cpv": ["HMW", "--product", "mAb-1"],
    "dossier": ["A-DP-1003"],
    "reindex": [],
}
# The verbs that write to the store (the others open it read-only).
WRITERS = {"demo", "ingest", "validate", "serve", "reindex"}


def unreadable_file(tmp_path: Path) -> Path:
    """A file the test process cannot read: mode 000, or for root (who reads anything) a
    file whose read fails in the kernel."""
    if os.geteuid() != 0:
        path = tmp_path / "unreadable.csv"
        path.write_text("lot\n1\n", encoding="utf-8")
        path.chmod(0)
        return path
    return Path("/proc/self/mem")  # a regular file; reading offset 0 is an I/O error


# The arguments each verb reads an input file from, and where it writes an output file.
def input_cases(tmp_path: Path) -> dict[str, list[str]]:
    bad = str(unreadable_file(tmp_path))
    return {
        "ingest": [bad, "--mapping", str(LOTS_MAPPING)],
        "validate": [bad, "--mapping", str(LOTS_MAPPING)],
        "ingest-mapping": [str(LOTS), "--mapping", bad],
        "ingest-vocab": [str(LOTS), "--mapping", str(LOTS_MAPPING), "--vocab", bad],
    }


def output_cases(tmp_path: Path) -> dict[str, list[str]]:
    missing = tmp_path / "no-such-folder"
    return {
        "export": ["-o", str(missing / "graph.nq")],
        "validate": ["--full", "-o", str(missing / "report.txt")],
        "compare": [*VERBS["compare"], "--values", str(missing / "values.csv")],
        "drivers": [*VERBS["drivers"], "--plot", str(missing / "plot.png")],
    }


@pytest.fixture(scope="module")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("errors") / "store"
    with KnowledgeGraph.open(path) as kg:
        for group in example_groups():
            if group.name.startswith("mAb") and "ASM" not in group.name:
                kg.ingest(group.files, mapping=group.mapping)
    return path


@pytest.fixture(scope="module")
def locked_store(built_store: Path) -> Iterator[Path]:
    """A copy of the store held open for writing by another process (Oxigraph's lock), as by
    'serve'."""
    locked = built_store.parent / "locked"
    shutil.copytree(built_store, locked)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pyoxigraph; s = pyoxigraph.Store(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(locked),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    try:
        yield locked
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(30)


def assert_one_line_error(verb: str, code: int, err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, (verb, code, err)
    assert len(lines) == 1, (verb, err)
    assert lines[0].startswith(f"cmckg {verb}: error: "), (verb, err)
    assert "Traceback" not in err
    return lines[0]


def test_the_walk_covers_every_verb() -> None:
    parser = build_parser()
    verbs = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    assert verbs == set(VERBS)


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_missing_store(verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "missing" / "store"  # not there, nor its folder
    code = main([verb, *VERBS[verb], "--store", str(store)])
    line = assert_one_line_error(verb, code, capsys.readouterr().err)
    assert str(store) in line
    assert (
        ("does not exist" in line)
        if verb in {"demo", "ingest", "serve"}
        else ("no store here" in line)
    )
    assert not store.parent.exists()  # nothing was created


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_locked_store(verb: str, locked_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main([verb, *VERBS[verb], "--store", str(locked_store)])
    captured = capsys.readouterr()
    if verb in WRITERS:
        line = assert_one_line_error(verb, code, captured.err)
        assert line.endswith(
            f"{locked_store}: the store is in use by another process (Oxigraph "
            "locks it); close that program (a Python session, a 'cmckg serve') "
            "and try again"
        )
    else:  # reading beside a writer may work; if it cannot, it says so in one line
        assert code in (0, 1) or assert_one_line_error(verb, code, captured.err)
        assert "Traceback" not in captured.err


@pytest.mark.parametrize("case", ["ingest", "validate", "ingest-mapping", "ingest-vocab"])
def test_unreadable_input(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verb = case.split("-")[0]
    args = input_cases(tmp_path)[case]
    store = [] if verb == "validate" else ["--store", str(tmp_path / "store")]
    code = main([verb, *store, *args])
    line = assert_one_line_error(verb, code, capsys.readouterr().err)
    bad = str(unreadable_file(tmp_path))
    assert bad in line and "cannot read" in line


@pytest.mark.parametrize("verb", ["export", "validate", "compare", "drivers"])
def test_unwritable_output(
    verb: str, built_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = output_cases(tmp_path)[verb]
    code = main([verb, "--store", str(built_store), *args])
    line = assert_one_line_error(verb, code, capsys.readouterr().err)
    assert str(tmp_path / "no-such-folder") in line
    assert not (tmp_path / "no-such-folder").exists()


def test_a_plot_in_an_unknown_image_format_is_one_line(
    built_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plot.notanimage"
    code = main(["drivers", "--store", str(built_store), *VERBS["drivers"], "--plot", str(target)])
    line = assert_one_line_error("drivers", code, capsys.readouterr().err)
    assert str(target) in line and "notanimage" in line


@pytest.mark.parametrize("verb", ["stats", "export", "lineage", "verify"])
def test_standard_output_on_a_full_device(verb: str, built_store: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from cmckg.cli import main; sys.exit(main())",
                verb,
                "--store",
                str(built_store),
                *VERBS[verb],
            ],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    line = assert_one_line_error(verb, done.returncode, done.stderr)
    assert line.endswith("cannot write standard output: No space left on device")


def test_a_folder_with_other_files_is_not_made_a_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    code = main(["ingest", "--store", str(folder), str(LOTS), "--mapping", str(LOTS_MAPPING)])
    line = assert_one_line_error("ingest", code, capsys.readouterr().err)
    assert line == (
        f"cmckg ingest: error: {folder}: the folder holds other files and is not a "
        "cmckg store; give a new or empty folder"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_orphaned_bulk_files_are_removed_on_the_next_writable_open(
    built_store: Path, tmp_path: Path
) -> None:
    orphan = built_store / "bulk-12345.sst"
    orphan.write_bytes(b"left by a killed ingest")
    with KnowledgeGraph.open(built_store, read_only=True):
        assert orphan.exists()  # a reader leaves the files alone (a writer may be loading)
    with KnowledgeGraph.open(built_store):
        assert not orphan.exists()
    numbered = [p for p in built_store.glob("*.sst") if not p.name.startswith("bulk-")]
    assert numbered  # the database's own files stay


def test_an_unwritable_output_stops_before_the_work(
    built_store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unwritable --values is refused before the comparison runs (no work thrown away)."""

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the comparison ran")

    monkeypatch.setattr(KnowledgeGraph, "compare", never)
    code = main(["compare", "--store", str(built_store), *output_cases(tmp_path)["compare"]])
    assert_one_line_error("compare", code, capsys.readouterr().err)


def test_every_command_has_a_description_and_every_option_help() -> None:
    """Every option has help, and the help of every option with a default names it."""
    import argparse

    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        if not parser.description:
            missing.append(f"{name}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}")
            elif not action.help:
                missing.append(f"{name} {action.option_strings or action.dest}: no help")
            elif (
                action.option_strings
                and action.default not in (None, False, [], argparse.SUPPRESS)
                and "default" not in parser._get_formatter()._get_help_string(action)  # type: ignore[attr-defined]
            ):
                missing.append(f"{name} {action.option_strings}: default not in the help")

    walk(build_parser(), "cmckg")
    assert missing == []


@pytest.mark.parametrize(
    "verb",
    [
        "stats",
        "query",
        "export",
        "lineage",
        "compare",
        "drivers",
        "summary",
        "verify",
        "history",
        "cpv",
        "dossier",
    ],
)
def test_read_only_verbs_offer_no_read_only_flag(verb: str) -> None:
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[verb]  # type: ignore[union-attr]
    assert "--read-only" not in sub._option_string_actions
