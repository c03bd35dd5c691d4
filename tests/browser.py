"""Headless Chromium driven over the Chrome DevTools Protocol (a websocket), for page tests.

Uses Debian's ``chromium`` (installed by ``.ci/run`` when missing; ``$CMCKG_CHROMIUM`` names
another binary) and ``websocket-client`` from the test extra; nothing is downloaded. Each
``Browser`` is a fresh profile in a temporary folder. ``open(url)`` loads a page and records
every network request the page makes, console errors and uncaught exceptions; ``dom(js)``
evaluates an expression in the page and returns its JSON value.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--window-size=1280,900",
    "--remote-debugging-port=0",
]


def chromium_path() -> str | None:
    return (
        os.environ.get("CMCKG_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


def require_browser() -> str:
    """The Chromium binary, or skip the test saying why there is none."""
    pytest.importorskip(
        "websocket", reason="websocket-client is not installed (pip install -e '.[test]')"
    )
    path = chromium_path()
    if path is None:
        pytest.skip(
            "no Chromium: install Debian's 'chromium' package (.ci/run does when it "
            "can) or set CMCKG_CHROMIUM to a Chromium binary"
        )
    return path


@dataclass
class Page:
    """What one page load did: the requests it made and the errors it logged."""

    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Browser:
    """One headless Chromium with one tab, driven over the DevTools Protocol."""

    def __init__(self, binary: str) -> None:
        import websocket

        self._profile = tempfile.mkdtemp(prefix="cmckg-chromium-")
        self._process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._devtools_port()
        targets = json.loads(
            urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10).read()
        )
        page = next(t for t in targets if t["type"] == "page")
        self._ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        self._id = 0
        self._events: list[dict] = []
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")

    def _devtools_port(self, timeout: float = 30.0) -> int:
        marker = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self._process.poll() is not None:
                raise RuntimeError(f"Chromium exited with code {self._process.returncode}")
            time.sleep(0.1)
        raise RuntimeError("Chromium did not open its DevTools port")

    def call(self, method: str, **params: object) -> dict:
        """Send one command and wait for its answer (events meanwhile are kept)."""
        self._id += 1
        mine = self._id
        self._ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == mine:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._events.append(message)

    def open(self, url: str, timeout: float = 60.0) -> Page:
        """Load ``url`` and wait for its load event (then a moment for late requests)."""
        self._events.clear()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        loaded = False
        while not loaded and time.monotonic() < deadline:
            message = json.loads(self._ws.recv())
            self._events.append(message)
            loaded = message.get("method") == "Page.loadEventFired"
        if not loaded:
            raise TimeoutError(f"{url} did not load within {timeout:.0f} s")
        self.call(
            "Runtime.evaluate", expression="new Promise(r => setTimeout(r, 300))", awaitPromise=True
        )
        page = Page(url)
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                page.requests.append(params["request"]["url"])
            elif method == "Runtime.exceptionThrown":
                page.errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                page.errors.append(" ".join(str(a.get("value")) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                page.errors.append(params["entry"]["text"])
        return page

    def dom(self, expression: str) -> object:
        """The JSON value of a JavaScript expression evaluated in the page."""
        answer = self.call(
            "Runtime.evaluate", expression=f"JSON.stringify({expression})", returnByValue=True
        )
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return json.loads(answer["result"]["value"])

    def screenshot(self, path: Path) -> Path:
        """The whole page as a PNG."""
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            self._ws.close()
        finally:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            shutil.rmtree(self._profile, ignore_errors=True)
