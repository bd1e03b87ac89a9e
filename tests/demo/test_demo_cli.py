"""``riskmap demo`` through the CLI runner."""

from __future__ import annotations

from typer.testing import CliRunner

from server.cli.main import app

runner = CliRunner()


def test_demo_builds_and_prints_a_summary(tmp_path):
    result = runner.invoke(app, ["demo", "--store", str(tmp_path / "out" / "changzhou.gpkg"), "--scale", "0.05", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "changzhou.gpkg").is_file()
    assert "industrial_plots" in result.output and "60" in result.output
    assert "320412 武进区" in result.output and "1,062.1" in result.output
    again = runner.invoke(app, ["demo", "--store", str(tmp_path / "out" / "changzhou.gpkg")])
    assert again.exit_code == 1
    assert "already exists" in again.output and "Traceback" not in again.output


def test_bad_scale_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["demo", "--store", str(tmp_path / "changzhou.gpkg"), "--scale", "0"])
    assert result.exit_code == 2
    assert not any(tmp_path.iterdir())
