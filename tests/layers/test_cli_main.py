"""The riskmap app: subcommand registry, error conversion, exit codes."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from server.cli import main as cli_main
from server.cli.main import COMMAND_MODULES, app, main, register_commands

runner = CliRunner()


def test_the_four_layer_commands_are_registered():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("import", "validate", "export", "info"):
        assert command in result.stdout
    assert COMMAND_MODULES[:4] == ("server.cli.import_cmd", "server.cli.validate_cmd",
                                   "server.cli.export_cmd", "server.cli.info_cmd")


def test_a_listed_module_not_written_yet_is_skipped(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "riskmap_fake_cmd.py").write_text(
        "def register(app):\n    app.command('fake')(lambda: print('fake ran'))\n")
    target = typer.Typer()
    registered = register_commands(target, ["riskmap_not_written_yet_cmd", "riskmap_fake_cmd"])
    assert registered == ["riskmap_fake_cmd"]


def test_a_module_with_a_broken_import_is_not_skipped(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "riskmap_broken_cmd.py").write_text("import riskmap_no_such_dependency\n")
    with pytest.raises(ModuleNotFoundError, match="riskmap_no_such_dependency"):
        register_commands(typer.Typer(), ["riskmap_broken_cmd"])


def test_main_turns_a_riskmap_error_into_one_red_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["info", "--store", str(tmp_path / "missing.gpkg")])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(tmp_path / "missing.gpkg") in err
    assert err.strip().count("\n") == 0
    assert "Traceback" not in err


def test_main_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["import"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["no-such-command"])
    assert exited.value.code == 2


def test_main_catches_errors_raised_outside_subcommands(monkeypatch, capsys):
    from geo.errors import InputError

    def broken_app(*args, **kwargs):
        raise InputError("settings are wrong")

    monkeypatch.setattr(cli_main, "app", broken_app)
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 1
    assert capsys.readouterr().err == "error: settings are wrong\n"
