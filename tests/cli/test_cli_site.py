"""riskmap site PROPOSAL.geojson --store STORE --kind KIND: verdicts, JSON, HTML report, and one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import shapely
from shapely import Point
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "zoning"))  # the tiny city of the zoning tests
from zoning_world import build_store, lonlat  # noqa: E402

from server.cli.main import app  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("cli_site")).address


def proposal(folder: Path, x: float, y: float, name: str = "p.geojson") -> Path:
    path = folder / name
    feature = {"type": "Feature", "properties": {"name": "拟建"}, "geometry": shapely.geometry.mapping(lonlat(Point(x, y)))}
    path.write_text(json.dumps(feature), encoding="utf-8")
    return path


def site(store, proposal_file, *args):
    return runner.invoke(app, ["site", str(proposal_file), "--store", str(store), *map(str, args)])


def one_error_line(result, text: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], result.stderr


def test_a_school_inside_the_distance_is_vetoed(store, tmp_path):
    result = site(store, proposal(tmp_path, 2250, 2000), "--kind", "school", "--population", 600)
    assert result.exit_code == 0, result.output
    assert "verdict: 一票否决 veto" in result.stdout
    assert "veto_own_class" in result.stdout and "H1" in result.stdout
    assert "external safety distances it falls in" in result.stdout


def test_json_output_of_a_permitted_office(store, tmp_path):
    result = site(store, proposal(tmp_path, 1100, 1400), "--kind", "office", "--population", 50, "--json")
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["verdict"] == "permitted" and d["zone"] == "none" and d["population"] == 50
    assert {r["rule"] for r in d["reasons"]} >= {"zone", "zone_colour", "fire", "shelter"}


def test_html_report_of_a_hazardous_plant(store, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps([{"name": "chlorine", "cas": "7782-50-5", "quantity_t": 2}]), encoding="utf-8")
    out = tmp_path / "report.html"
    result = site(store, proposal(tmp_path, 2450, 2000), "--kind", "hazardous_plant", "--inventory", inventory,
                  "--html", out)
    assert result.exit_code == 0, result.output
    assert "veto" in result.stdout and "plant_swallows" in result.stdout and f"report written to {out}" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert "一票否决" in html and "PT1" in html and "<svg" in html and "http" not in html


def test_malformed_json_is_one_error_line(store, tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "Feature", "geometry": ', encoding="utf-8")
    one_error_line(site(store, bad, "--kind", "school"), "not valid JSON")


def test_invalid_geometry_is_one_error_line(store, tmp_path):
    bowtie = tmp_path / "bowtie.geojson"
    bowtie.write_text(json.dumps({"type": "Polygon", "coordinates": [[[120.0, 31.6], [120.01, 31.61], [120.01, 31.6],
                                                                       [120.0, 31.61], [120.0, 31.6]]]}))
    one_error_line(site(store, bowtie, "--kind", "school"), "invalid: Self-intersection")


def test_unknown_kind_is_one_error_line(store, tmp_path):
    one_error_line(site(store, proposal(tmp_path, 1100, 1400), "--kind", "zoo"), "unknown kind 'zoo'; kinds: school")


@pytest.mark.parametrize("args, text", [
    (["--kind", "school", "--population", "-5"], "whole number of persons"),
    (["--kind", "school", "--inventory", "inventory.json"], "only for kind hazardous_plant"),
    (["--kind", "hazardous_plant", "--inventory", "missing.json"], "no such file"),
])
def test_bad_options_are_one_error_line(store, tmp_path, args, text):
    (tmp_path / "inventory.json").write_text(json.dumps([{"name": "chlorine", "quantity_t": 1}]))
    args = [str(tmp_path / a) if a.endswith(".json") else a for a in args]
    one_error_line(site(store, proposal(tmp_path, 1100, 1400), *args), text)


def test_a_missing_store_and_an_empty_proposal(tmp_path):
    one_error_line(site(tmp_path / "nowhere.gpkg", proposal(tmp_path, 1100, 1400), "--kind", "school"), "no such store")
    empty = tmp_path / "empty.geojson"
    empty.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    one_error_line(site(tmp_path / "nowhere.gpkg", empty, "--kind", "school"), "no features")
