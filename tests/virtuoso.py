"""A real OpenLink Virtuoso 7 server for the tests (Debian's ``virtuoso-opensource``).

One server per test session (its first start builds a database, about 10 s): ``virtuoso()``
starts it on free loopback ports with its own temporary directory and ``virtuoso.ini``, grants
SPARQL_UPDATE to the anonymous SPARQL user through ``isql`` on its own port, and stops it when
the session ends. ``virtuoso_location()`` empties it (every graph but Virtuoso's system graphs)
and gives its query URL, so each test starts from an empty store — one at a time: a test must
not hold two Virtuoso stores at once. Without ``virtuoso-t`` the tests using it are skipped.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from server import free_port

from cmckg.stores import ChangeSet
from cmckg.stores.remote import EndpointSettings, RemoteStore

SKIP_REASON = (
    "Virtuoso is not installed (apt-get install virtuoso-opensource; .ci/run installs "
    "it where apt-get can)"
)

INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 8
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 4000
MaxDirtyBuffers = 3000
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 8
ServerThreads = 8
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 100000000
MaxQueryExecutionTime = 0
MaxQueryCostEstimationTime = 0
"""


def binary() -> str | None:
    return shutil.which("virtuoso-t")


def isql() -> str | None:
    return shutil.which("isql-vt") or shutil.which("isql")


class VirtuosoServer:
    """``virtuoso-t`` in the foreground on loopback, in its own directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sql_port, self.http_port = free_port(), free_port()
        self.process: subprocess.Popen[bytes] | None = None
        (directory / "virtuoso.ini").write_text(
            INI.format(dir=directory, sql_port=self.sql_port, http_port=self.http_port)
        )

    @property
    def query_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/sparql"

    def start(self, timeout: float = 90.0) -> None:
        self.process = subprocess.Popen(
            [binary() or "virtuoso-t", "-c", str(self.directory / "virtuoso.ini"), "-f"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited: see {self.directory}/virtuoso.log")
            try:
                self.sql('GRANT SPARQL_UPDATE TO "SPARQL";')
                self.ask()
                return
            except (OSError, subprocess.CalledProcessError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Virtuoso did not come up in {timeout:g} s ({self.directory})")

    def ask(self) -> None:
        body = urllib.parse.urlencode({"query": "ASK { }"}).encode()
        urllib.request.urlopen(urllib.request.Request(self.query_url, data=body), timeout=5)

    def sql(self, statement: str) -> None:
        """Run SQL through isql on the server's own port (the default dba login)."""
        subprocess.run(
            [isql() or "isql-vt", f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statement}"],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def clear(self) -> None:
        """Drop every graph but Virtuoso's own system graphs (through SPARQL, as a user would)."""
        store = RemoteStore(
            self.query_url,
            settings=EndpointSettings.resolve(
                self.query_url,
                {"XDG_CONFIG_HOME": "/nonexistent", "CMCKG_SPARQL_SERVER": "virtuoso"},
            ),
        )
        names = store.graph_names()
        if names:
            store.apply(ChangeSet(drop_graphs=sorted(names)))

    def kill(self) -> None:
        """SIGKILL: no shutdown, no checkpoint (the next start recovers from the log)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self.process = None


_session: VirtuosoServer | None = None


def virtuoso() -> VirtuosoServer:
    """The session's server, started on first use (skips the test without Virtuoso)."""
    global _session
    if binary() is None or isql() is None:
        pytest.skip(SKIP_REASON)
    if _session is None:
        server = VirtuosoServer(Path(tempfile.mkdtemp(prefix="cmckg-virtuoso-")))
        server.start()
        _session = server
    elif _session.process is None:
        _session.start()
    return _session


def virtuoso_location() -> str:
    """The query URL of the session's server, emptied."""
    server = virtuoso()
    server.clear()
    return server.query_url


@atexit.register
def _stop_session_server() -> None:
    if _session is not None:
        _session.stop()
        shutil.rmtree(_session.directory, ignore_errors=True)
