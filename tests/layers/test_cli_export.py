"""riskmap export LAYER --store S --format gpkg|geojson|csv|parquet --out PATH."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from layers.io import read_source

from server.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize("fmt, suffix", [("gpkg", "gpkg"), ("geojson", "geojson"), ("csv", "csv"),
                                         ("parquet", "parquet")])
def test_each_format(seeded_store, tmp_path, fmt, suffix):
    out = tmp_path / f"stations.{suffix}"
    result = runner.invoke(app, ["export", "rescue_stations", "--store", str(seeded_store.address),
                                 "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "exported 4 feature(s)" in result.stdout
    back, _ = read_source(out, crs="EPSG:4490" if fmt == "csv" else None)
    assert back["station_id"].tolist() == ["F1", "F2", "F3", "F4"]


def test_format_from_suffix_and_bbox(seeded_store, tmp_path):
    out = tmp_path / "some.geojson"
    result = runner.invoke(app, ["export", "rescue_stations", "-s", str(seeded_store.address), "-o", str(out),
                                 "--bbox", "119.9,31.6,119.99,31.69"])
    assert result.exit_code == 0, result.output
    features = json.loads(out.read_text())["features"]
    assert [f["properties"]["station_id"] for f in features] == ["F1", "F2"]


def test_absent_layer(seeded_store, tmp_path):
    result = runner.invoke(app, ["export", "shelters", "-s", str(seeded_store.address),
                                 "-o", str(tmp_path / "x.gpkg")])
    assert result.exit_code == 1
    assert "'shelters' is not in the store" in result.stderr
    assert not (tmp_path / "x.gpkg").exists()


@pytest.mark.parametrize("args", [["--format", "kml"], ["--bbox", "1,2,3"], ["--bbox", "3,3,1,1"]])
def test_usage_errors(seeded_store, tmp_path, args):
    result = runner.invoke(app, ["export", "rescue_stations", "-s", str(seeded_store.address),
                                 "-o", str(tmp_path / "x.gpkg"), *args])
    assert result.exit_code == 2


def test_unknown_suffix_without_format(seeded_store, tmp_path):
    result = runner.invoke(app, ["export", "rescue_stations", "-s", str(seeded_store.address),
                                 "-o", str(tmp_path / "x.kml")])
    assert result.exit_code == 1 and "cannot tell the format" in result.stderr
