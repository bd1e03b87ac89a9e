"""riskmap info --store S: the layers with rows, versions and last writes."""

from __future__ import annotations

from typer.testing import CliRunner

from server.cli.main import app

runner = CliRunner()


def test_layers_table(seeded_store):
    seeded_store.write("industrial_plots", seeded_store.read("industrial_plots"))
    result = runner.invoke(app, ["info", "--store", str(seeded_store.address)])
    assert result.exit_code == 0, result.output
    # not a terminal: plain text, a title line, a header, then one tab-separated line per layer
    lines = result.stdout.splitlines()
    assert lines[1].split("\t")[:3] == ["layer", "rows", "version"]
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in lines[2:]}
    assert rows["industrial_plots"][:2] == ["5", "2"]
    assert rows["rescue_stations"][:2] == ["4", "1"]


def test_audit_entries(seeded_store):
    result = runner.invoke(app, ["info", "-s", str(seeded_store.address), "--audit", "1"])
    assert result.exit_code == 0
    assert "audit log" in result.stdout and "rescue_stations" in result.stdout


def test_derived_columns_appear_when_needed(seeded_store):
    seeded_store.write("risk_zones", seeded_store.read("industrial_plots")[["plot_id", "geometry"]],
                       derived=True, ruleset_version="js-2024")
    result = runner.invoke(app, ["info", "-s", str(seeded_store.address)])
    assert "rule set" in result.stdout and "js-2024" in result.stdout


def test_empty_store(store):
    result = runner.invoke(app, ["info", "-s", str(store.address)])
    assert result.exit_code == 0 and "no layers yet" in result.stdout


def test_not_a_store(tmp_path):
    path = tmp_path / "notes.gpkg"
    path.write_text("hello")
    result = runner.invoke(app, ["info", "-s", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: not a GeoPackage")
