"""`cmckg --help` lists every command without importing the libraries the commands use."""

from __future__ import annotations

import subprocess
import sys

from cmckg.cli import COMMANDS, build_parser

HEAVY = [
    "pandas",
    "rdflib",
    "scipy",
    "pyoxigraph",
    "pyshacl",
    "matplotlib",
    "statsmodels",
    "cmckg.kg",
]


def test_help_imports_no_heavy_library() -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from cmckg.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "print(all(name in out.getvalue() for name in %r))\n" % sorted(COMMANDS)
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    loaded, listed = result.stdout.splitlines()
    assert loaded == "[]"
    assert listed == "True"


def test_every_command_in_the_table_is_registered_by_its_module() -> None:
    parser = build_parser()  # raises when a module does not register a command it is listed for
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert set(commands) == set(COMMANDS)
