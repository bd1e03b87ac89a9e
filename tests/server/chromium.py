"""Drive headless Chromium (Debian ``chromium``) over the DevTools protocol, through a pipe.

``--remote-debugging-pipe`` makes Chromium read DevTools commands from its file descriptor 3 and
write answers and events to descriptor 4, each message a JSON document ended by a NUL byte; no
port is opened and no client library is needed. :class:`Chromium` starts one browser with every
host but 127.0.0.1 unresolvable (a page that needed the internet would come out broken), and
:meth:`Chromium.tab` opens a page in a fresh browser context (its own cookie jar, so one tab can be
signed in as a planner and the next be public). A :class:`Tab` evaluates JavaScript in the page,
waits for a condition and takes a screenshot.

Used by the browser tests only; Chromium's own output goes to a log file in a temporary folder.
"""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import shutil
import signal
import tempfile
import time
from pathlib import Path

import numpy as np

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--hide-scrollbars", "--remote-debugging-pipe",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, or a page did not get where a test waited for."""


class Chromium:
    """One headless Chromium; ``with Chromium() as browser: tab = browser.tab(url)``."""

    def __init__(self, width: int = 1200, height: int = 900, timeout: float = 30.0):
        self.width, self.height, self.timeout = width, height, timeout
        self._id = 0
        self._buffer = b""
        self._tabs: list[Tab] = []
        self._profile = tempfile.mkdtemp(prefix="riskmap-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # the child's ends moved above 9 first, so that putting them on 3 and 4 cannot clobber one another
        child_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser_r, from_browser_w))
        os.close(to_browser_r)
        os.close(from_browser_w)
        log = os.open(Path(self._profile) / "chromium.log", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, log, 1), (os.POSIX_SPAWN_DUP2, log, 2),
                   (os.POSIX_SPAWN_DUP2, child_in, 3), (os.POSIX_SPAWN_DUP2, child_out, 4)]
        args = [CHROMIUM, *FLAGS, f"--user-data-dir={self._profile}", f"--window-size={width},{height}",
                "about:blank"]
        try:
            self.pid = os.posix_spawn(CHROMIUM, args, os.environ, file_actions=actions)
        finally:
            for fd in (child_in, child_out, log, null):
                os.close(fd)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (BrowserError, OSError):
            pass
        deadline = time.monotonic() + 10
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.05)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def log(self) -> str:
        """The end of Chromium's own output (for failure messages)."""
        return (Path(self._profile) / "chromium.log").read_text(errors="replace")[-3000:]

    # -------------------------------------------------------------- protocol
    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and return its result (events met on the way are dropped)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_browser], [], [], left)[0]:
                raise BrowserError(f"chromium did not answer in {self.timeout:.0f} s; log: {self.log()}")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise BrowserError(f"chromium closed its pipe; log: {self.log()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close_tabs(self) -> None:
        """Close every tab and its browser context (a closed page loads nothing more)."""
        while self._tabs:
            self._tabs.pop().close()

    def tab(self, url: str) -> "Tab":
        """A new page at ``url`` in a browser context of its own (no cookie from another tab)."""
        context = self.send("Target.createBrowserContext")["browserContextId"]
        target = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        tab = Tab(self, session, target, context)
        self._tabs.append(tab)
        tab.send("Emulation.setDeviceMetricsOverride",
                 {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        tab.goto(url)
        return tab


class Tab:
    """A page of a :class:`Chromium`."""

    def __init__(self, browser: Chromium, session: str, target: str, context: str):
        self.browser, self.session, self.target, self.context = browser, session, target, context

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
        self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context})

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def goto(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (a promise is awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}…: {result['exceptionDetails'].get('exception', result)}")
        return result["result"].get("value")

    def wait_for(self, condition: str, timeout: float = 20.0, what: str = "") -> None:
        """Wait until the JavaScript expression ``condition`` is true (polled every 100 ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(f"!!({condition})"):
                    return
            except BrowserError:
                pass  # the page is navigating, or its script is not there yet
            time.sleep(0.1)
        raise BrowserError(f"timed out after {timeout:.0f} s waiting for {what or condition} at "
                           f"{self.evaluate('location.href')}")

    def wait_for_tiles(self, settle: float = 0.3, timeout: float = 30.0) -> None:
        """Wait until the map has drawn tiles and none of its tile layers is loading, for ``settle`` s."""
        self.wait_for("window.RiskMap && RiskMap.stats && RiskMap.stats.tiles > 0", timeout, "the first tiles")
        idle = ("(() => { let busy = false; RiskMap.map.eachLayer(l => { if (l.isLoading && l.isLoading()) busy = true; });"
                " return busy ? null : JSON.stringify(RiskMap.stats); })()")
        last, since = None, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.evaluate(idle)
            if now is None or now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= settle:
                return
            time.sleep(0.1)
        raise BrowserError(f"the map's tiles were still loading after {timeout:.0f} s")

    def screenshot(self, save_to: Path | None = None) -> np.ndarray:
        """The viewport as an RGB array (height, width, 3); also written to ``save_to`` if given."""
        from PIL import Image

        data = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])
        if save_to is not None:
            Path(save_to).write_bytes(data)
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(image.convert("RGB"))
