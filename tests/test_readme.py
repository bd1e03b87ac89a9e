"""The README's "Using it" block runs as written, line by line, in an empty folder.

A newcomer pastes it into a terminal after the Run command; this test does the same with the
``riskmap`` of the interpreter running the tests:

* the first line, ``. .venv/bin/activate``, is replaced by putting this interpreter's ``bin``
  folder first on ``PATH`` (the test runs in a temporary folder, which has no ``.venv``);
* ``export NAME=VALUE`` lines set the variable for the lines after them, as the shell would;
* ``riskmap serve …`` blocks in a terminal: it is started, must answer ``/`` within two minutes,
  and is stopped (on another free port only if the README's port is taken on this machine);
* every other line must exit with status 0.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def using_it_block() -> list[str]:
    """The command lines of the first ```bash block under the "## Using it" heading."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Using it"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "README: no bash block under 'Using it'"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(line: str, cwd: Path, env: dict) -> None:
    """Start the serve line, wait for its first answer on /, stop it."""
    port = int(re.search(r"--port (\d+)", line).group(1))
    if not _free(port):
        new = _free_port()
        line, port = line.replace(f"--port {port}", f"--port {new}"), new
    log = cwd / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", f"exec {line}"], cwd=cwd, env=env, stdout=out, stderr=out,
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, f"{line!r} exited early:\n{log.read_text(errors='replace')}"
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                        assert response.status == 200
                        break
                except OSError:
                    assert time.monotonic() < deadline, f"{line!r} gave no answer in 120 s"
                    time.sleep(0.5)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def test_the_block_starts_by_activating_the_venv():
    lines = using_it_block()
    assert lines[0].strip() == ". .venv/bin/activate"
    assert any(line.startswith("riskmap demo") for line in lines)


@pytest.mark.slow
def test_using_it_runs_as_written(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for line in using_it_block()[1:]:
        command = line.split("  #")[0].strip()
        if command.startswith("export "):
            name, _, value = command.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0] if value else ""
        elif command.startswith("riskmap serve"):
            _serve(command, tmp_path, env)
        else:
            done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True)
            assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            assert "Traceback" not in done.stderr, done.stderr
    assert (tmp_path / "city" / "school.html").is_file()
