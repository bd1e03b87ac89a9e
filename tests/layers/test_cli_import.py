"""riskmap import LAYER FILE --store S [--crs] [--encoding] [--create]."""

from __future__ import annotations

from typer.testing import CliRunner

from layers.store import open_store
from layers_common import BOWTIE, plots, sha256

from server.cli.main import app

runner = CliRunner()
CSV = "station_id,name,kind,经度,纬度\nF1,武进消防站,micro,119.97,31.70\nF2,湖塘站,small,119.98,31.71\n"


def _import(*args):
    return runner.invoke(app, ["import", *map(str, args)])


def test_import_into_a_new_store(tmp_path):
    source, store = tmp_path / "plots.gpkg", tmp_path / "city.gpkg"
    plots(6).to_file(source)
    result = _import("industrial_plots", source, "--store", store, "--create")
    assert result.exit_code == 0, result.output
    assert "imported 6 feature(s)" in result.stdout and "version 1" in result.stdout
    assert open_store(store).info("industrial_plots").rows == 6
    again = _import("industrial_plots", source, "--store", store)
    assert again.exit_code == 0 and "version 2" in again.stdout


def test_csv_with_crs_and_encoding(tmp_path, store):
    source = tmp_path / "stations.csv"
    source.write_bytes(CSV.encode("gbk"))
    result = _import("rescue_stations", source, "-s", store.address, "--crs", "gcj02")
    assert result.exit_code == 1
    assert "looks like GBK" in result.stderr and "--encoding gbk" in result.stderr
    result = _import("rescue_stations", source, "-s", store.address, "--encoding", "gbk")
    assert result.exit_code == 1 and "no CRS declared; pass --crs" in result.stderr
    result = _import("rescue_stations", source, "-s", store.address, "--encoding", "gbk", "--crs", "gcj02")
    assert result.exit_code == 0, result.output
    assert "gcj02 offset removed" in result.stdout
    assert store.read("rescue_stations")["name"].tolist() == ["武进消防站", "湖塘站"]


def test_bad_features_are_listed_and_the_store_is_unchanged(tmp_path, seeded_store):
    frame = plots(5)
    frame["workers"] = frame["workers"].astype(object)
    frame.loc[2, "workers"] = "abc"
    frame.loc[4, "geometry"] = None
    source = tmp_path / "bad.gpkg"
    frame.to_file(source)
    before = sha256(seeded_store.address)
    result = _import("industrial_plots", source, "--store", seeded_store.address)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: layer 'industrial_plots'")
    assert "P003: workers: 'abc' is not an integer" in result.stderr
    assert "P005: geometry: geometry is missing" in result.stderr
    assert "Traceback" not in result.output
    assert sha256(seeded_store.address) == before


def test_repairs_are_noted(tmp_path, store):
    frame = plots(2)
    frame.loc[1, "geometry"] = BOWTIE
    source = tmp_path / "plots.gpkg"
    frame.to_file(source)
    result = _import("industrial_plots", source, "--store", store.address)
    assert result.exit_code == 0
    assert "note: P002: geometry: repaired" in result.stderr


def test_missing_store_is_not_created_without_create(tmp_path):
    source = tmp_path / "plots.gpkg"
    plots(2).to_file(source)
    result = _import("industrial_plots", source, "--store", tmp_path / "nope.gpkg")
    assert result.exit_code == 1 and "no such store" in result.stderr and "--create" in result.stderr
    assert not (tmp_path / "nope.gpkg").exists()


def test_a_failed_import_with_create_leaves_no_store(tmp_path):
    result = _import("industrial_plots", tmp_path / "missing.gpkg", "--store", tmp_path / "new.gpkg",
                     "--create")
    assert result.exit_code == 1 and "file not found" in result.stderr
    assert not (tmp_path / "new.gpkg").exists()


def test_usage_errors_exit_2(tmp_path, store):
    result = _import("plots", tmp_path / "x.gpkg", "--store", store.address)
    assert result.exit_code == 2 and "known layers" in result.output
    assert _import("industrial_plots").exit_code == 2
