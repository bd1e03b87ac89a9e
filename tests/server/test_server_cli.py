"""riskmap serve --store STORE / riskmap serve --demo: options, the demo store on first use, uvicorn."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

import layers.demo.build
import zoning.pipeline
from layers.store import create_store, open_store
from layers.validate import validate_layer
from server.cli import serve_cmd
from server.cli.main import app
from server_common import SOURCES

runner = CliRunner()


@pytest.fixture
def served(monkeypatch):
    """Calls to uvicorn.run, captured instead of serving."""
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    return calls


def test_serve_a_store(served, store_path):
    result = runner.invoke(app, ["serve", "--store", str(store_path), "--host", "0.0.0.0", "--port", "9001"])
    assert result.exit_code == 0, result.output
    (target, options), = served
    assert isinstance(target, FastAPI) and target.state.services.settings.store == str(store_path)
    assert options["host"] == "0.0.0.0" and options["port"] == 9001


def test_serve_with_workers_gives_each_its_own_socket(served, store_path, monkeypatch):
    monkeypatch.setenv("RISKMAP_STORE", "")  # restored after the test
    calls = []
    monkeypatch.setattr(serve_cmd, "serve_workers", lambda *args, on_ready: calls.append(args) or on_ready() or 0)
    result = runner.invoke(app, ["serve", "--store", str(store_path), "--workers", "2", "--port", "9002"])
    assert result.exit_code == 0, result.output
    assert calls == [("127.0.0.1", 9002, 2, "info")] and not served
    assert "serving" in result.output and "http://127.0.0.1:9002/" in result.output  # said once the workers started
    assert os.environ["RISKMAP_STORE"] == str(store_path)  # what the workers serve


def test_without_so_reuseport_the_workers_share_uvicorns_socket(served, store_path, monkeypatch):
    monkeypatch.setenv("RISKMAP_STORE", "")
    monkeypatch.setattr(serve_cmd, "reuse_port", lambda: False)
    result = runner.invoke(app, ["serve", "--store", str(store_path), "--workers", "2"])
    assert result.exit_code == 0, result.output
    (target, options), = served
    assert target == "server.app:create_app_from_env" and options["factory"] and options["workers"] == 2


def test_a_store_or_the_demo(served, monkeypatch):
    monkeypatch.delenv("RISKMAP_STORE", raising=False)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2 and "give the store to serve (--store ADDRESS, or set RISKMAP_STORE), or --demo" in result.output
    assert not served


@pytest.mark.parametrize("args, message", [(["--port", "0"], "--port"), (["--workers", "0"], "--workers")])
def test_bad_options_are_usage_errors(served, store_path, args, message):
    result = runner.invoke(app, ["serve", "--store", str(store_path), *args])
    assert result.exit_code == 2 and message in result.output


def test_a_missing_store_is_one_line_and_exit_1(served, tmp_path):
    result = runner.invoke(app, ["serve", "--store", str(tmp_path / "none.gpkg")])
    assert result.exit_code == 1 and "no such store" in result.output and "Traceback" not in result.output
    assert not served


def test_demo_builds_and_zones_on_first_use_only(served, tmp_path, monkeypatch):
    builds = []

    def fake_build_demo(out, scale=1, name="changzhou.gpkg", **kw):  # source layers only, not zoned yet
        builds.append(scale)
        store = create_store(out / name)
        store.write_many({name: validate_layer(name, make()) for name, make in SOURCES.items()})
        store.close()
        return Path(store.address)

    monkeypatch.setattr(layers.demo.build, "build_demo", fake_build_demo)
    out = tmp_path / "demo"
    out.mkdir()
    result = runner.invoke(app, ["serve", "--demo", "--store", str(out / "changzhou.gpkg"), "--scale", "0.5"])
    assert result.exit_code == 0, result.output
    store = open_store(out / "changzhou.gpkg")
    assert builds == [0.5] and store.exists("risk_wall") and store.exists("risk_surface")

    def no_zoning(*a, **kw):
        raise AssertionError("zoned again although nothing changed")

    monkeypatch.setattr(zoning.pipeline, "run_zoning", no_zoning)
    result = runner.invoke(app, ["serve", "--demo", "--store", str(out / "changzhou.gpkg")])
    assert result.exit_code == 0, result.output
    assert builds == [0.5] and len(served) == 2


def test_demo_with_an_existing_zoned_store(served, store_path, tmp_path):
    out = tmp_path / "demo"
    out.mkdir()
    shutil.copyfile(store_path, out / "changzhou.gpkg")
    result = runner.invoke(app, ["serve", "--demo", "--store", str(out / "changzhou.gpkg")])
    assert result.exit_code == 0, result.output
    assert served[0][0].state.services.store.address == str((out / "changzhou.gpkg").resolve())
