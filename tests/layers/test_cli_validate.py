"""riskmap validate LAYER FILE [--crs …]: a report, exit code 1 when there are problems."""

from __future__ import annotations

from typer.testing import CliRunner

from layers_common import PARIS_PLOT, plots

from server.cli.main import app

runner = CliRunner()


def test_a_valid_file(tmp_path):
    source = tmp_path / "plots.gpkg"
    plots(5).to_crs("EPSG:4549").to_file(source)
    result = runner.invoke(app, ["validate", "industrial_plots", str(source)])
    assert result.exit_code == 0, result.output
    assert "5 feature(s) valid as layer 'industrial_plots'" in result.stdout
    assert "EPSG:4549" in result.stdout


def test_every_problem_is_printed_one_per_line(tmp_path):
    frame = plots(4)
    for column in ("land_use", "plot_id"):
        frame[column] = frame[column].astype(object)
    frame.loc[0, "land_use"] = "M9"
    frame.loc[2, "plot_id"] = None
    frame.loc[3, "geometry"] = PARIS_PLOT
    source = tmp_path / "plots.geojson"
    frame.to_file(source, driver="GeoJSON")
    result = runner.invoke(app, ["validate", "industrial_plots", str(source)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["P001", "land_use"], ["row 3", "plot_id"], ["P004", "geometry"]]
    assert "outside the expected area" in lines[2]
    assert "3 problem(s)" in result.stderr


def test_a_csv_needs_its_crs(tmp_path):
    source = tmp_path / "st.csv"
    source.write_text("station_id,kind,lon,lat\nF1,micro,119.97,31.7\n")
    result = runner.invoke(app, ["validate", "rescue_stations", str(source)])
    assert result.exit_code == 1 and "no CRS declared" in result.stderr
    result = runner.invoke(app, ["validate", "rescue_stations", str(source), "--crs", "EPSG:4490"])
    assert result.exit_code == 0, result.output


def test_a_missing_file(tmp_path):
    result = runner.invoke(app, ["validate", "rescue_stations", str(tmp_path / "none.csv")])
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'none.csv'}: file not found\n"
