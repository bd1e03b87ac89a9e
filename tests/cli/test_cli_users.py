"""``riskmap users`` and ``riskmap audit`` on the tiny city (towns T1, T2; plots P1, P2 in T1, P3 in T2;
hazard sites H1, H2 on P1, P2 and H3 on P3), and ``riskmap export --as``."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from server.accounts import parse_token, verify_secret
from server.auth import TokenAuth
from server.cli.main import app

runner = CliRunner()


def riskmap(*args):
    return runner.invoke(app, [str(a) for a in args])


def add(store, name, *args):
    result = riskmap("users", "add", name, "--store", store.address, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_prints_the_token_once_and_the_store_keeps_only_its_hash(zoned_store):
    made = add(zoned_store, "li", "--role", "town_editor", "--town", "T1", "--town", "T2", "--expires", "30")
    token = made["token"]
    assert made["towns"] == ["T1", "T2"] and made["expires_at"] is not None
    held = zoned_store.accounts(name="li")[0]
    assert token not in json.dumps(held) and parse_token(token)[1] not in json.dumps(held)
    assert held["token_id"] == parse_token(token)[0] and verify_secret(parse_token(token)[1], held["token_hash"])
    assert TokenAuth({}, zoned_store).principal(f"Bearer {token}").towns == ("T1", "T2")
    listed = riskmap("users", "list", "--store", zoned_store.address)
    assert listed.exit_code == 0 and "li" in listed.stdout and token not in listed.stdout
    assert parse_token(token)[1] not in listed.stdout


def test_list_json_names_status(zoned_store):
    add(zoned_store, "wang", "--role", "planner")
    add(zoned_store, "zhao", "--role", "admin")
    riskmap("users", "revoke", "zhao", "--store", zoned_store.address)
    accounts = json.loads(riskmap("users", "list", "--store", zoned_store.address, "--json").stdout)["accounts"]
    assert {(a["name"], a["status"]) for a in accounts} == {("wang", "active"), ("zhao", "revoked")}
    assert all("token_hash" not in a for a in accounts)


def test_rotate_replaces_the_token_and_revoke_ends_it(zoned_store):
    old = add(zoned_store, "li", "--role", "town_editor", "--town", "T1")["token"]
    rotated = riskmap("users", "rotate", "li", "--store", zoned_store.address, "--json")
    assert rotated.exit_code == 0, rotated.output
    new = json.loads(rotated.stdout)["token"]
    auth = TokenAuth({}, zoned_store)
    assert auth.principal(f"Bearer {old}").is_public and auth.principal(f"Bearer {new}").towns == ("T1",)
    assert riskmap("users", "revoke", "li", "--store", zoned_store.address).exit_code == 0
    assert "revoked" in auth.resolve(new).refused


@pytest.mark.parametrize("args, message", [
    (["add", "x", "--role", "mayor"], "unknown role 'mayor'; roles: public, town_editor, planner, admin"),
    (["add", "x", "--role", "town_editor", "--town", "T9"], "unknown town code(s) T9; towns of the store: T1, T2"),
    (["add", "x", "--role", "town_editor"], "needs at least one --town"),
    (["add", "x", "--role", "planner", "--town", "T1"], "--town is for town_editor accounts"),
    (["add", "bad name", "--role", "planner"], "account name 'bad name'"),
    (["add", "x", "--role", "planner", "--expires", "0"], "--expires must be a positive number of days"),
    (["add", "li", "--role", "planner"], "account 'li' already exists"),
    (["revoke", "ghost"], "no account 'ghost'"),
    (["rotate", "ghost"], "no account 'ghost'"),
])
def test_bad_input_is_one_line_and_changes_nothing(zoned_store, args, message):
    add(zoned_store, "li", "--role", "town_editor", "--town", "T1")
    before = len(zoned_store.audit(layer="accounts", limit=None))
    result = riskmap("users", *args, "--store", zoned_store.address)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert len(zoned_store.audit(layer="accounts", limit=None)) == before
    assert [a["name"] for a in zoned_store.accounts()] == ["li"]


def test_an_expired_account_must_be_given_a_new_expiry_to_rotate(zoned_store):
    add(zoned_store, "li", "--role", "planner")
    zoned_store.put_account({"name": "li", "expires_at": "2020-01-01T00:00:00.000+00:00"}, actor="t", action="rotate")
    refused = riskmap("users", "rotate", "li", "--store", zoned_store.address)
    assert refused.exit_code == 1 and "expired on 2020-01-01; give --expires DAYS" in refused.stderr
    assert riskmap("users", "rotate", "li", "--store", zoned_store.address, "--expires", "7").exit_code == 0


def _edit_plot(store, plot_id, **changes):
    current = store.read("industrial_plots", where={"plot_id": plot_id}, versions=True)
    version = int(current["row_version"].iloc[0])
    row = current.drop(columns=["row_version", "updated_at", "updated_by"])
    for key, value in changes.items():
        row[key] = value
    store.edit("industrial_plots", gpd.GeoDataFrame(row, crs=current.crs), base_versions={plot_id: version},
               actor="li", reason=f"survey of {plot_id}")


def test_audit_shows_who_what_why_and_filters_by_town(zoned_store):
    _edit_plot(zoned_store, "P1", workers=25)
    _edit_plot(zoned_store, "P3", workers=6)
    zoned_store.edit("hazard_sites", retirements=["H3"], base_versions={"H3": 1}, actor="zhao", reason="closed")
    add(zoned_store, "li", "--role", "town_editor", "--town", "T2")
    text = riskmap("audit", "--store", zoned_store.address, "--town", "T1")
    assert text.exit_code == 0, text.output
    assert "survey of P1" in text.stdout and "workers: 20 → 25" in text.stdout and "P3" not in text.stdout
    t2 = json.loads(riskmap("audit", "--store", zoned_store.address, "--town", "T2", "--json").stdout)["entries"]
    assert [(e["layer"], e["feature"], e["action"]) for e in t2] == [
        ("accounts", "li", "add"), ("hazard_sites", "H3", "retire"), ("industrial_plots", "P3", "update")]
    assert t2[1]["changes"] == "row retired" and t2[2]["before"]["workers"] == 5 and t2[2]["actor"] == "li"
    layer = json.loads(riskmap("audit", "-s", zoned_store.address, "--layer", "hazard_sites", "--json").stdout)
    assert {e["feature"] for e in layer["entries"]} >= {"H3"} and all(e["layer"] == "hazard_sites"
                                                                      for e in layer["entries"])
    later = json.loads(riskmap("audit", "-s", zoned_store.address, "--since", "2999-01-01", "--json").stdout)
    assert later["entries"] == []


@pytest.mark.parametrize("args, message, code", [
    (["--town", "T9"], "unknown town code 'T9'", 1),
    (["--since", "yesterday"], "'yesterday' is not a date", 2),
])
def test_audit_bad_input_is_one_line(zoned_store, args, message, code):
    result = riskmap("audit", "--store", zoned_store.address, *args)
    assert result.exit_code == code and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_export_as_an_account_writes_what_it_may_see(zoned_store, tmp_path):
    add(zoned_store, "li", "--role", "town_editor", "--town", "T1")
    out = tmp_path / "plots.geojson"
    assert riskmap("export", "industrial_plots", "-s", zoned_store.address, "--out", out, "--as", "li").exit_code == 0
    assert sorted(gpd.read_file(out)["plot_id"]) == ["P1", "P2"]
    sites = tmp_path / "sites.geojson"
    assert riskmap("export", "hazard_sites", "-s", zoned_store.address, "--out", sites, "--as", "li").exit_code == 0
    assert sorted(gpd.read_file(sites)["site_id"]) == ["H1", "H2"]  # through their plots' town
    public = riskmap("export", "industrial_plots", "-s", zoned_store.address, "--out", out, "--as", "public")
    assert public.exit_code == 1 and "unknown layer 'industrial_plots'" in public.stderr
    riskmap("users", "revoke", "li", "--store", zoned_store.address)
    revoked = riskmap("export", "industrial_plots", "-s", zoned_store.address, "--out", out, "--as", "li")
    assert revoked.exit_code == 1 and "revoked" in revoked.stderr
