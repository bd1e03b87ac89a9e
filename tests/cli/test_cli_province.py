"""``riskmap province build/zone`` and ``riskmap zone --scheduler`` through the CLI runner."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import rasterio
from typer.testing import CliRunner

from layers.gpkg import GeoPackageStore
from server.cli.main import app

runner = CliRunner()
pytestmark = pytest.mark.slow


def test_build_then_zone_a_small_province(tmp_path):
    folder, out = tmp_path / "prov", tmp_path / "out"
    built = runner.invoke(app, ["province", "build", str(folder), "--plots", "400", "--sites", "12",
                                "--services", "0.1", "--cities", "321100,321200", "--json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout)["cities"] == ["321100", "321200"]
    zoned = runner.invoke(app, ["province", "zone", str(folder), "--out", str(out), "--scheduler", "local", "--json"])
    assert zoned.exit_code == 0, zoned.output
    report = json.loads(zoned.stdout)
    wall = gpd.read_parquet(out / "risk_wall.parquet")
    assert report["layers"]["risk_wall"] == len(wall) == 400
    assert wall.crs.to_epsg() == 4490 and set(wall["level"]) <= {1, 2, 3, 4}
    with rasterio.open(out / "risk_surface.tif") as src:
        assert [src.height, src.width] == report["risk_surface"]
    assert (out / "wall_summary.csv").read_text(encoding="utf-8").startswith("code,")


def test_building_over_a_province_is_one_error_line(tmp_path):
    args = ["province", "build", str(tmp_path), "--plots", "50", "--sites", "2", "--services", "0.05",
            "--cities", "321100"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "already holds a province" in again.output
    assert len(again.output.strip().splitlines()) == 1


def test_zone_on_a_local_cluster_writes_what_the_in_process_run_writes(zoned_store):
    before = GeoPackageStore(zoned_store.path)
    expected = {name: before.read(name) for name in ("risk_wall", "risk_zones", "safety_buffers")}
    result = runner.invoke(app, ["zone", "--store", str(zoned_store.path), "--scheduler", "local", "--json"])
    assert result.exit_code == 0, result.output
    after = GeoPackageStore(zoned_store.path)
    for name, frame in expected.items():
        again = after.read(name)
        assert len(again) == len(frame)
        assert again.drop(columns="geometry").equals(frame.drop(columns="geometry")), name


def test_an_unreachable_scheduler_is_one_error_line(zoned_store):
    result = runner.invoke(app, ["zone", "--store", str(zoned_store.path), "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
