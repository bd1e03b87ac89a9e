"""A damaged store is refused by every command and by the server, one line, and left byte for byte;
``riskmap check`` examines it; the same commands work on a PostGIS store given by its address."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from layers.store import open_store
from server.cli.main import app
from store_damage import damage_table, synthetic_roads

runner = CliRunner()


def digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def damaged(zoned_store, tmp_path):
    """The zoned tiny city with 6 000 roads, 200 KB of whose pages are then overwritten at random."""
    zoned_store.write("roads", synthetic_roads())
    zoned_store.close()
    damage_table(zoned_store.address, "roads")
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "shelters.csv").write_text("shelter_id,name,class,effective_area_m2,lon,lat\n"
                                                      "S9,公园,emergency,2000,119.97,31.71\n", encoding="utf-8")
    return Path(zoned_store.address)


@pytest.mark.parametrize("command", [
    ["info"], ["zone"], ["coverage"], ["serve"], ["export", "risk_wall", "--out", "{tmp}/wall.geojson"],
    ["import", "shelters", "{tmp}/inputs/shelters.csv", "--crs", "wgs84"],
])
def test_every_command_refuses_a_damaged_store_and_leaves_it_as_it_was(damaged, tmp_path, command, monkeypatch):
    served = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.append(a))
    before = digest(damaged)
    args = [a.format(tmp=tmp_path) for a in command]
    result = runner.invoke(app, [*args, "--store", str(damaged)])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {damaged}: damaged (") and "Traceback" not in result.output
    assert "refused, nothing read or written" in lines[0]
    assert digest(damaged) == before and not served
    assert sorted(p.name for p in damaged.parent.iterdir() if p.name.startswith(damaged.name)) == [damaged.name]


def test_the_app_factory_refuses_a_damaged_store(damaged):
    from layers.errors import StoreError
    from server.app import create_app

    before = digest(damaged)
    with pytest.raises(StoreError, match="damaged"):
        create_app(str(damaged))
    assert digest(damaged) == before


def test_riskmap_check_lists_what_is_wrong_and_writes_nothing(damaged):
    before = digest(damaged)
    result = runner.invoke(app, ["check", "--store", str(damaged)])
    assert result.exit_code == 1 and "problem(s) found" in result.stderr and "damaged" in result.stderr
    report = json.loads(runner.invoke(app, ["check", "-s", str(damaged), "--json"]).stdout)
    assert report["ok"] is False and report["problems"]
    assert digest(damaged) == before


def test_riskmap_check_on_a_healthy_store(zoned_store):
    result = runner.invoke(app, ["check", "--store", zoned_store.address])
    assert result.exit_code == 0 and result.stdout.startswith(f"{zoned_store.address}: ok"), result.output


def test_the_commands_on_a_postgis_store(zoned_store, postgis_address, tmp_path):
    """The same grammar for a PostGIS address: copy the tiny city in, zone, cover, export, info."""
    copied = runner.invoke(app, ["copy", "--store", zoned_store.address, postgis_address])
    assert copied.exit_code == 0, copied.output
    for command in (["zone"], ["coverage"], ["info"], ["export", "risk_wall", "--out", str(tmp_path / "w.geojson")]):
        result = runner.invoke(app, [*command, "--store", postgis_address])
        assert result.exit_code == 0, (command, result.output)
    info = json.loads(runner.invoke(app, ["info", "-s", postgis_address, "--json"]).stdout)
    versions = {layer["name"]: layer["version"] for layer in info["layers"]}
    assert versions["risk_wall"] == 2 and versions["coverage_areas"] >= 1  # zoned again over the copy
    assert json.loads((tmp_path / "w.geojson").read_text())["features"]
    store = open_store(postgis_address)
    with store.read_raster("risk_surface") as src:
        assert src.read(1).max() >= 1
