"""An Oxigraph SPARQL server process (``oxigraph serve`` from the ``oxigraph`` package):
start it over a store directory or in memory, wait until it answers, stop or kill it.

``cmckg serve`` runs one over the embedded store; the tests and benchmarks run them as the remote
backend's servers. It knows processes and ports, nothing of the command line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..errors import StoreError
from .oxigraph import IN_USE


def oxigraph_program() -> str:
    """The ``oxigraph`` server program installed with this Python environment (or on PATH)."""
    beside = Path(sysconfig.get_path("scripts")) / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if not found:
        raise StoreError("the 'oxigraph' server program is not installed (pip install oxigraph)")
    return found


@dataclass
class OxigraphServer:
    """One ``oxigraph serve`` process: start, wait until it answers, stop or kill.

    ``union_default_graph`` makes Oxigraph's default graph the union of ALL graphs (a bag, the
    default graph included): off, since cmckg keeps the set union of its record graphs in the
    default graph itself."""

    location: Path | None
    port: int
    bind: str = "127.0.0.1"
    read_only: bool = False
    union_default_graph: bool = False
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        host = f"[{self.bind}]" if ":" in self.bind else self.bind
        return f"http://{host}:{self.port}"

    @property
    def query_url(self) -> str:
        return f"{self.base_url}/query"

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers a query; StoreError if it cannot start."""
        command = [oxigraph_program(), "serve-read-only" if self.read_only else "serve"]
        if self.location is not None:
            command += ["--location", str(self.location)]
        command += ["--bind", f"{self.bind}:{self.port}"]
        if self.union_default_graph:
            command.append("--union-default-graph")
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  (closed by stop or kill)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
        deadline = time.monotonic() + timeout
        while not self._answers():
            if self.process.poll() is not None:
                raise StoreError(self._failure(), str(self.location or "memory"))
            if time.monotonic() > deadline:
                self.stop()
                raise StoreError(f"the server did not answer within {timeout:g} s", self.base_url)
            time.sleep(0.05)

    def _answers(self) -> bool:
        url = f"{self.query_url}?query=ASK%7B%7D"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _failure(self) -> str:
        """Oxigraph's start-up error as one actionable line."""
        assert self._log is not None
        self._log.seek(0)
        output = self._log.read().decode("utf-8", "replace")
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        message = next(
            (line for line in lines if line.startswith("Error:")),
            lines[-1] if lines else "it exited without a message",
        )
        if "lock" in message.lower():
            return IN_USE
        if "address already in use" in message.lower():
            return f"port {self.port} on {self.bind} is already in use; choose another --port"
        return f"the Oxigraph server could not start: {message.removeprefix('Error:').strip()}"

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to stop (SIGTERM) and wait; kill it if it does not."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()

    def kill(self) -> None:
        """Stop the server abruptly (SIGKILL), as a crash or power cut would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
