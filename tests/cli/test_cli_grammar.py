"""One grammar: every command that works on a store takes --store/-s or RISKMAP_STORE, and says so;
every reporting command has --json; tables never cut a value, on a narrow terminal or in a pipe."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from server.cli.main import app

runner = CliRunner()

#: Every command that works on a store, with the arguments it needs besides the store.
STORE_COMMANDS = {
    "info": [],
    "zone": [],
    "coverage": [],
    "export": ["risk_wall", "--out", "{tmp}/wall.geojson"],
    "import": ["shelters", "{tmp}/shelters.geojson"],
    "site": ["{tmp}/p.geojson", "--kind", "office"],
    "check": [],
    "audit": [],
}
#: Reporting commands and the arguments that make them report.
JSON_COMMANDS = {
    "info": [],
    "zone": [],
    "coverage": [],
    "site": ["{tmp}/p.geojson", "--kind", "office"],
    "import": ["shelters", "{tmp}/shelters.geojson"],
    "validate": ["shelters", "{tmp}/shelters.geojson"],
    "check": [],
    "audit": [],
}


def _inputs(store, tmp_path) -> None:
    """The files the commands above read: a proposal and the store's own shelters."""
    from zoning_world import lonlat
    from shapely import Point
    import shapely

    feature = {"type": "Feature", "properties": {},
               "geometry": shapely.geometry.mapping(lonlat(Point(1100, 1400)))}
    (tmp_path / "p.geojson").write_text(json.dumps(feature), encoding="utf-8")
    store.read("shelters").to_file(tmp_path / "shelters.geojson", driver="GeoJSON")


def _args(args, tmp_path):
    return [a.format(tmp=tmp_path) for a in args]


@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_help_names_the_store_option_and_its_variable(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--store" in result.stdout and "-s" in result.stdout and "RISKMAP_STORE" in result.stdout
    assert "STORE.gpkg" not in result.stdout and "on STORE" not in result.stdout


@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_the_store_from_the_option_and_from_the_environment(command, zoned_store, tmp_path):
    _inputs(zoned_store, tmp_path)
    args = _args(STORE_COMMANDS[command], tmp_path)
    by_option = runner.invoke(app, [command, *args, "--store", zoned_store.address])
    assert by_option.exit_code == 0, by_option.output
    by_env = runner.invoke(app, [command, *args], env={"RISKMAP_STORE": zoned_store.address})
    assert by_env.exit_code == 0, by_env.output


@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_a_store_given_positionally_is_a_usage_error_with_one_line(command, zoned_store, tmp_path, monkeypatch):
    monkeypatch.delenv("RISKMAP_STORE", raising=False)
    result = runner.invoke(app, [command, *_args(STORE_COMMANDS[command], tmp_path), zoned_store.address])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and f"'riskmap {command} --help'" in lines[0]


@pytest.mark.parametrize("command", sorted(JSON_COMMANDS))
def test_every_reporting_command_prints_json(command, zoned_store, tmp_path):
    _inputs(zoned_store, tmp_path)
    args = _args(JSON_COMMANDS[command], tmp_path)
    store = [] if command == "validate" else ["--store", zoned_store.address]
    result = runner.invoke(app, [command, *args, *store, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # nothing but JSON on standard output
    assert isinstance(document, dict) and document


def test_json_of_zone_and_info_carry_the_figures(zoned_store):
    zone = json.loads(runner.invoke(app, ["zone", "-s", zoned_store.address, "--json"]).stdout)
    assert zone["layers"]["risk_wall"] == len(zoned_store.read("risk_wall"))
    assert sum(row["count_total"] for row in zone["wall"] if row["code"] != zone["wall"][-1]["code"]) >= 0
    info = json.loads(runner.invoke(app, ["info", "-s", zoned_store.address, "--json"]).stdout)
    rows = {layer["name"]: layer["rows"] for layer in info["layers"]}
    assert rows["industrial_plots"] == len(zoned_store.read("industrial_plots"))


def test_a_narrow_terminal_wraps_instead_of_cutting(zoned_store):
    """On a 50-column terminal (7 columns of layers, derived ones included) rich wraps the text
    cells: no value ends in '…', and every row count stands whole in its cell."""
    result = runner.invoke(app, ["info", "-s", zoned_store.address],
                           env={"FORCE_COLOR": "1", "COLUMNS": "50", "TERM": "xterm"})
    assert result.exit_code == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert "…" not in text and "┃" in text  # a rich table, drawn for a terminal
    assert max(len(line) for line in text.splitlines() if line[:1] in "┏┃┡│└") <= 50
    cells = {cell.strip() for line in text.splitlines() for cell in line.split("│")}
    for info in zoned_store.infos():
        assert f"{info.rows:,}" in cells, info.name


def test_reasons_in_chinese_are_not_cut_in_a_pipe(zoned_store, tmp_path):
    _inputs(zoned_store, tmp_path)
    result = runner.invoke(app, ["site", str(tmp_path / "p.geojson"), "-s", zoned_store.address, "--kind", "school"])
    assert result.exit_code == 0, result.output
    verdict = json.loads(runner.invoke(app, ["site", str(tmp_path / "p.geojson"), "-s", zoned_store.address,
                                             "--kind", "school", "--json"]).stdout)
    for reason in verdict["reasons"]:  # every reason whole, Chinese then English, on one line
        assert f"{reason['zh']} / {reason['en']}" in result.stdout


def test_copy_takes_its_source_with_store_and_only_the_new_store_positionally(zoned_store, tmp_path, monkeypatch):
    monkeypatch.delenv("RISKMAP_STORE", raising=False)
    help_text = runner.invoke(app, ["copy", "--help"], env={"COLUMNS": "200"}).stdout
    assert "--store" in help_text and "RISKMAP_STORE" in help_text and "DEST" in help_text
    both = runner.invoke(app, ["copy", zoned_store.address, str(tmp_path / "a.gpkg")])
    assert both.exit_code == 2 and "'riskmap copy --help'" in both.stderr
    by_env = runner.invoke(app, ["copy", str(tmp_path / "b.gpkg")], env={"RISKMAP_STORE": zoned_store.address})
    assert by_env.exit_code == 0, by_env.output
    assert (tmp_path / "b.gpkg").exists() and not (tmp_path / "a.gpkg").exists()
