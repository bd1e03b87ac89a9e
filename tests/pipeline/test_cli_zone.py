"""``riskmap zone`` through the CLI runner: output, stamps, and one-line errors."""

from __future__ import annotations

from typer.testing import CliRunner

from layers.store import Store, create_store
from server.cli.main import app
from test_pipeline_zoning import tiny_city

runner = CliRunner()


def make_store(tmp_path) -> Store:
    store = create_store(tmp_path / "town.gpkg")
    store.write_many(tiny_city())
    return store


def test_zone_prints_the_wall_and_writes_the_layers(tmp_path):
    store = make_store(tmp_path)
    result = runner.invoke(app, ["zone", "--store", store.address])
    assert result.exit_code == 0, result.output
    assert "测试镇" in result.output and "risk_wall" in result.output
    assert store.info("risk_wall").rows == 4
    assert store.info("risk_surface").kind == "raster"


def test_dual_prevention_palette_is_accepted(tmp_path):
    store = make_store(tmp_path)
    result = runner.invoke(app, ["zone", "--store", store.address, "--palette", "dual_prevention"])
    assert result.exit_code == 0, result.output
    assert set(store.read("risk_wall")["colour_name"]) == {"red", "orange", "yellow", "blue"}


def test_unknown_palette_is_one_line_naming_the_known_ones(tmp_path):
    store = make_store(tmp_path)
    result = runner.invoke(app, ["zone", "--store", store.address, "--palette", "rainbow"])
    assert result.exit_code == 1
    assert "rainbow" in result.output and "dual_prevention" in result.output
    assert "Traceback" not in result.output
    assert not store.exists("risk_wall")


def test_a_store_without_plots_is_refused(tmp_path):
    store = create_store(tmp_path / "empty.gpkg")
    result = runner.invoke(app, ["zone", "--store", store.address])
    assert result.exit_code == 1
    assert "industrial_plots" in result.output
