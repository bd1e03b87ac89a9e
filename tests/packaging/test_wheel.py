"""A real package: a wheel built from the repository, installed into a fresh virtualenv in a folder
outside the repository, runs ``demo``, ``zone``, ``coverage``, ``site`` and ``serve``.

Everything read at run time (rule sets, static assets) must ship inside the installed packages:
the commands run with the repository out of reach (another working folder, no editable finder,
``PYTHONPATH`` cleared). The wheel is built from a copy of the tracked files, so the test writes
nothing into the repository. pip fetches the dependencies (PyPI is reachable here and in CI; its
cache makes a second run quick).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(args, cwd, env, timeout=900) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _tracked_copy(target: Path) -> Path:
    """The files git tracks (and untracked, unignored ones), copied to ``target``."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder of a fresh venv with the riskmap wheel installed, clean environment)."""
    base = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("RISKMAP_")}
    source = _tracked_copy(base / "src")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"), str(source)], base, env)
    wheel, = (base / "dist").glob("riskmap-*.whl")
    venv.create(base / "venv", with_pip=True)
    bin_dir = base / "venv" / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", f"{wheel}[demo]"], base, env)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return wheel, bin_dir, env


def test_the_wheel_holds_the_rule_sets_and_the_static_assets(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "riskmap_data/rules/default.toml" in names
    assert any(n.startswith("server/static/") and n.endswith(".js") for n in names)
    assert not any(n.startswith(("tests/", "notebooks/", "benchmarks/")) for n in names)


def test_the_installed_commands_run_outside_the_repository(installed, tmp_path):
    _, bin_dir, env = installed
    riskmap = str(bin_dir / "riskmap")
    where = _run([str(bin_dir / "python"), "-c", "import zoning, riskmap_data; print(zoning.__file__); "
                  "print(riskmap_data.rules_file().read_text(encoding='utf-8')[:20])"], tmp_path, env).stdout
    assert str(ROOT) not in where and "site-packages" in where
    store = tmp_path / "city" / "changzhou.gpkg"
    _run([riskmap, "demo", "--store", str(store), "--scale", "0.1"], tmp_path, env)
    env = {**env, "RISKMAP_STORE": str(store)}
    _run([riskmap, "zone"], tmp_path, env)
    _run([riskmap, "coverage"], tmp_path, env)
    assert ": ok" in _run([riskmap, "check"], tmp_path, env).stdout
    _run([riskmap, "copy", str(tmp_path / "backup.gpkg")], tmp_path, env)
    assert "risk_surface" in _run([riskmap, "info", "-s", str(tmp_path / "backup.gpkg")], tmp_path, env).stdout
    verdict = _run([riskmap, "site", str(store.parent / "samples" / "school.geojson"), "--kind", "school", "--json"],
                   tmp_path, env).stdout
    assert '"verdict"' in verdict
    port = _free_port()
    proc = subprocess.Popen([riskmap, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
                break
            except urllib.error.HTTPError:
                raise
            except OSError:  # not listening yet
                assert time.monotonic() < deadline, "the installed server gave no answer in 120 s"
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/map", timeout=30) as response:
            page = response.read().decode()
        assert "<html" in page.lower()
        scripts = [s for s in page.split('"') if s.startswith("/static/") and s.endswith((".js", ".css"))]
        assert scripts, "the map page links no script"
        for script in scripts:  # every asset the page links is served from the installed package
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{script}", timeout=30) as asset:
                assert asset.status == 200 and asset.read()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
