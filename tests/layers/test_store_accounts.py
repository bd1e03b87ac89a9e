"""The accounts and sessions part of the Store contract, on both backends (layers/store_accounts.py)."""

from __future__ import annotations

import pytest
from test_store_contract import any_store, backend  # noqa: F401 - the two-backend fixtures

from geo.errors import InputError
from layers.store import create_store, open_store

pytestmark = pytest.mark.usefixtures("backend")


def _record(name="li", role="town_editor", towns=("320412015",), token_id="tid-li-1", expires_at=None):
    return {"name": name, "role": role, "towns": list(towns), "token_id": token_id,
            "token_hash": f"scrypt$salt${name}", "expires_at": expires_at}


def test_no_account_in_a_new_store(any_store):
    assert any_store.accounts() == []
    assert any_store.session("nothing") is None
    assert any_store.end_sessions(account="li") == 0


def test_add_then_find_by_name_and_token_id(any_store):
    any_store.put_account(_record(), actor="admin", action="add")
    any_store.put_account(_record("wang", "planner", (), "tid-wang"), actor="admin", action="add")
    assert [a["name"] for a in any_store.accounts()] == ["li", "wang"]
    found = any_store.accounts(token_id="tid-li-1")
    assert len(found) == 1 and found[0]["name"] == "li" and found[0]["towns"] == ["320412015"]
    assert found[0]["token_hash"] == "scrypt$salt$li" and found[0]["revoked_at"] is None
    assert found[0]["updated_by"] == "admin" and found[0]["created_at"] == found[0]["updated_at"]
    assert any_store.accounts(name="zhao") == []


def test_duplicate_name_refused_and_nothing_written(any_store):
    any_store.put_account(_record(), actor="admin", action="add")
    with pytest.raises(InputError, match="'li' already exists"):
        any_store.put_account(_record(token_id="tid-other"), actor="admin", action="add")
    assert any_store.accounts(token_id="tid-other") == []
    assert len(any_store.audit(layer="accounts")) == 1


def test_rotate_and_revoke_need_the_account(any_store):
    with pytest.raises(InputError, match="no account 'ghost'"):
        any_store.put_account(_record("ghost"), actor="admin", action="revoke")


def test_every_change_audited_without_the_hash(any_store):
    any_store.put_account(_record(), actor="admin", action="add")
    any_store.put_account({"name": "li", "token_id": "tid-li-2", "token_hash": "scrypt$new"},
                          actor="root", action="rotate", reason="lost phone")
    any_store.put_account({"name": "li"}, actor="admin", action="revoke")
    log = any_store.audit(layer="accounts")
    assert log["action"].tolist() == ["revoke", "rotate", "add"]
    assert log["feature"].tolist() == ["li"] * 3 and log["actor"].tolist() == ["admin", "root", "admin"]
    rotate = log.iloc[1]
    assert rotate["before"]["token_id"] == "tid-li-1" and rotate["after"]["token_id"] == "tid-li-2"
    assert rotate["detail"] == "lost phone"
    assert all("token_hash" not in (doc or {}) for doc in [*log["before"], *log["after"]])
    assert log.iloc[0]["before"]["revoked_at"] is None and log.iloc[0]["after"]["revoked_at"] is not None
    assert log.iloc[2]["before"] is None
    held = any_store.accounts(name="li")[0]
    assert held["token_id"] == "tid-li-2" and held["revoked_at"] is not None and held["role"] == "town_editor"


def test_sessions_recorded_ended_and_killed_with_their_account(any_store):
    any_store.put_account(_record(), actor="admin", action="add")
    for digest in ("s1", "s2", "s3"):
        any_store.add_session(digest, "li", "2999-01-01T00:00:00.000+00:00")
    assert any_store.session("s1")["account"] == "li" and any_store.session("s1")["revoked_at"] is None
    assert any_store.end_sessions(id_hash="s1") == 1
    assert any_store.session("s1")["revoked_at"] is not None
    any_store.put_account({"name": "li"}, actor="admin", action="revoke")
    assert any_store.session("s2")["revoked_at"] is not None and any_store.session("s3")["revoked_at"] is not None
    assert any_store.end_sessions(account="li") == 0  # already ended


def test_expired_sessions_are_forgotten_on_the_next_sign_in(any_store):
    any_store.add_session("old", "li", "2000-01-01T00:00:00.000+00:00")
    any_store.add_session("new", "li", "2999-01-01T00:00:00.000+00:00")
    assert any_store.session("old") is None and any_store.session("new") is not None


def test_accounts_survive_reopening(any_store, backend):
    any_store.put_account(_record(), actor="admin", action="add")
    again = open_store(any_store.address)
    assert [a["name"] for a in again.accounts()] == ["li"]
    assert again.check(full=True) == []
    again.close()


def test_end_sessions_takes_one_key(any_store):
    with pytest.raises(InputError, match="exactly one"):
        any_store.end_sessions()


def test_an_older_store_gains_the_tables_on_its_first_account(tmp_path):
    store = create_store(tmp_path / "old.gpkg")
    assert store.accounts(name="li") == []
    store.put_account(_record(), actor="admin", action="add")
    assert store.accounts(name="li")[0]["role"] == "town_editor"


def test_copy_carries_the_accounts_across_backends_but_not_the_sessions(any_store, backend, tmp_path):
    from layers.store_copy import copy_store

    any_store.put_account(_record(), actor="admin", action="add")
    any_store.add_session("s1", "li", "2999-01-01T00:00:00.000+00:00")
    report = copy_store(any_store, tmp_path / "copy.gpkg")
    copied = open_store(tmp_path / "copy.gpkg")
    assert report.accounts == 1 and copied.accounts() == any_store.accounts()
    assert copied.session("s1") is None
    assert copied.audit(layer="accounts")["action"].tolist() == ["add"]
    copied.close()
