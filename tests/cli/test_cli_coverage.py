"""riskmap coverage --store S [--minutes M] [--suggest K]: figures, uncovered sites first, layers written."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "zoning"))  # the tiny city of the zoning tests
from zoning_world import build_store, copy_store  # noqa: E402

from layers.store import create_store, open_store  # noqa: E402
from server.cli.main import app  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("cli_cov"), zone=False)


@pytest.fixture
def store(template, tmp_path):
    return copy_store(template, tmp_path)


def test_coverage_prints_figures_and_writes_the_layers(store):
    result = runner.invoke(app, ["coverage", "--store", store.address])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "response time 5 min = turnout 1 min + driving 4 min" in out and "2 fire stations" in out
    assert "towns with no roads use the radius fallback (1429 m" in out and "T2 Roadless town" in out
    # uncovered hazard sites come first, major hazards first, then the shares
    assert out.index("hazard sites outside 5-minute coverage (2") < out.index("coverage shares per town")
    assert out.index("H3") < out.index("H2")
    assert "shelters over capacity (1)" in out and "E1" in out
    assert "have no shelter within their class's service radius" in out
    for name in ("coverage_areas", "coverage_gaps", "shelter_assignments", "shelter_loads"):
        assert name in out and open_store(store.address).info(name).derived


def test_suggest_gives_mclp_sites_and_the_lscp_minimum(store):
    result = runner.invoke(app, ["coverage", "--store", store.address, "--suggest", "2"])
    assert result.exit_code == 0, result.output
    assert "2 new station site(s) (MCLP, optimal)" in result.stdout
    assert "fewest new sites for full coverage (LSCP, optimal)" in result.stdout


def test_a_longer_response_time(store):
    result = runner.invoke(app, ["coverage", "--store", store.address, "--minutes", "8"])
    assert result.exit_code == 0, result.output
    assert "response time 8 min = turnout 1 min + driving 7 min" in result.stdout


def test_too_short_a_response_time_is_one_error_line(store):
    result = runner.invoke(app, ["coverage", "--store", store.address, "--minutes", "0.5"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: minutes: 0.5 leaves no driving time after the 1 min turnout (coverage.turnout_min)"]
    assert not open_store(store.address).exists("coverage_areas")


def test_a_store_without_stations(tmp_path):
    empty = create_store(tmp_path / "empty.gpkg")
    result = runner.invoke(app, ["coverage", "--store", empty.address])
    assert result.exit_code == 1 and "rescue_stations" in result.stderr
