"""Accounts held in the store: tokens checked by one scrypt, sessions by id, revocation at once."""

from __future__ import annotations

import warnings

import pytest
from server_common import TOWN_EAST, TOWN_WEST, industrial_plots

import server.auth
from server.accounts import expiry, hash_secret, new_token, parse_token, session_digest
from server.app import create_app
from server.pages.session import COOKIE

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PLOTS = industrial_plots()


def add_account(store, name, role, towns=(), days=None) -> str:
    token, token_id = new_token()
    store.put_account({"name": name, "role": role, "towns": list(towns), "token_id": token_id,
                       "token_hash": hash_secret(parse_token(token)[1]), "expires_at": expiry(days)},
                      actor="test", action="add")
    return token


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def served(writable_store, settings):
    """``(store, client)``: an app over a store of its own, holding a few accounts."""
    with TestClient(create_app(writable_store, settings)) as client:
        yield writable_store, client


def plot_ids(client, headers) -> set[str]:
    r = client.get("/collections/industrial_plots/items?limit=50", headers=headers)
    return {f["properties"]["plot_id"] for f in r.json()["features"]} if r.status_code == 200 else set()


def test_an_account_token_scopes_its_holder_to_its_towns(served):
    store, client = served
    west = add_account(store, "li", "town_editor", [TOWN_WEST])
    both = add_account(store, "zhao", "town_editor", [TOWN_WEST, TOWN_EAST])
    planner = add_account(store, "wang", "planner")
    assert plot_ids(client, bearer(west)) == set(PLOTS.loc[PLOTS["town"] == TOWN_WEST, "plot_id"])
    assert plot_ids(client, bearer(both)) == set(PLOTS["plot_id"]) == plot_ids(client, bearer(planner))
    assert client.get(f"/towns/{TOWN_EAST}/wall", headers=bearer(both)).status_code == 200
    assert client.get(f"/towns/{TOWN_EAST}/wall", headers=bearer(west)).status_code == 403


def test_a_wrong_secret_under_a_real_id_is_nobody(served):
    store, client = served
    token = add_account(store, "wang", "planner")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert plot_ids(client, bearer(forged)) == set()
    assert client.get("/collections/industrial_plots", headers=bearer(forged)).status_code == 404


def test_verifying_a_token_costs_one_scrypt_whatever_the_number_of_accounts(served, monkeypatch):
    store, client = served
    tokens = [add_account(store, f"user{i}", "planner") for i in range(6)]
    calls = []
    real = server.auth.verify_secret
    monkeypatch.setattr(server.auth, "verify_secret", lambda *a: calls.append(1) or real(*a))
    assert client.get("/collections", headers=bearer(tokens[3])).status_code == 200
    assert len(calls) == 1  # found by its id: one hash checked, not six
    client.get("/collections", headers=bearer(tokens[3]))
    assert len(calls) == 1  # and remembered, while the account row stays the same


@pytest.mark.parametrize("action, words", [("revoke", "was revoked"), ("expire", "expired")])
def test_a_revoked_or_expired_token_is_refused_with_one_line(served, action, words):
    store, client = served
    token = add_account(store, "li", "town_editor", [TOWN_WEST])
    assert plot_ids(client, bearer(token))
    if action == "revoke":
        store.put_account({"name": "li"}, actor="test", action="revoke")
    else:
        store.put_account({"name": "li", "token_id": parse_token(token)[0], "expires_at": "2020-01-01T00:00:00+00:00"},
                          actor="test", action="rotate")
    r = client.get("/collections", headers=bearer(token))
    assert r.status_code == 401 and words in r.json()["description"] and "\n" not in r.json()["description"]
    login = client.post("/login", json={"token": token})
    assert login.status_code == 401 and words in login.json()["description"] and "set-cookie" not in login.headers


def test_the_cookie_carries_a_session_id_kept_hashed_and_logout_ends_it(served):
    store, client = served
    token = add_account(store, "wang", "planner")
    r = client.post("/login", json={"token": token})
    assert r.status_code == 200 and r.json()["role"] == "planner"
    session = r.cookies[COOKIE]
    assert token not in r.headers["set-cookie"] and parse_token(token)[1] not in session
    held = store.session(session_digest(session))
    assert held["account"] == "wang" and held["revoked_at"] is None and store.session(session) is None
    assert client.get("/web/tiles/industrial_plots/tilejson.json").status_code == 200  # by the cookie
    client.post("/logout", follow_redirects=False)
    assert store.session(session_digest(session))["revoked_at"] is not None
    client.cookies.clear()
    client.cookies.set(COOKIE, session)  # a copy of the old cookie is worth nothing now
    assert "\"role\": \"public\"" in client.get("/map").text


def test_revoking_or_rotating_an_account_ends_its_sessions(served):
    store, client = served
    token = add_account(store, "li", "town_editor", [TOWN_WEST])
    client.post("/login", json={"token": token})
    assert client.get(f"/towns/{TOWN_WEST}/wall").status_code == 200
    new, new_id = new_token()
    store.put_account({"name": "li", "token_id": new_id, "token_hash": hash_secret(parse_token(new)[1])},
                      actor="test", action="rotate")
    assert client.get(f"/towns/{TOWN_WEST}/wall", follow_redirects=False).status_code == 401
    assert plot_ids(client, bearer(token)) == set() and plot_ids(client, bearer(new))  # old token dead, new alive
    client.post("/login", json={"token": new})
    assert client.get(f"/towns/{TOWN_WEST}/wall").status_code == 200
    store.put_account({"name": "li"}, actor="test", action="revoke")
    assert client.get(f"/towns/{TOWN_WEST}/wall", follow_redirects=False).status_code == 401


def test_development_tokens_still_sign_in_without_the_token_in_the_cookie(served):
    store, client = served
    r = client.post("/login", json={"token": "town-token-1234"})
    assert r.status_code == 200 and r.json()["towns"] == [TOWN_WEST]
    assert "town-token-1234" not in r.headers["set-cookie"]
    assert store.session(session_digest(r.cookies[COOKIE]))["account"].startswith("dev:")
    assert client.get(f"/towns/{TOWN_WEST}/wall").status_code == 200


def test_guessing_secrets_under_a_known_id_is_bounded(served, monkeypatch):
    store, client = served
    token = add_account(store, "wang", "planner")
    calls = []
    real = server.auth.verify_secret
    monkeypatch.setattr(server.auth, "verify_secret", lambda *a: calls.append(1) or real(*a))
    prefix = token[: -43]
    for i in range(server.auth.HASHES_PER_MINUTE + 5):
        client.get("/collections", headers=bearer(prefix + f"{i:043d}"))
    assert len(calls) == server.auth.HASHES_PER_MINUTE  # the rest cost no scrypt


def _put_back(client, headers, plot_id, reason):
    r = client.get(f"/api/edit/industrial_plots/{plot_id}", headers=headers)
    assert r.status_code == 200, r.text
    return client.put(f"/api/edit/industrial_plots/{plot_id}", headers={**headers, "If-Match": r.headers["ETag"]},
                      json={"feature": r.json(), "reason": reason})


def test_an_accounts_edits_are_audited_under_its_name_and_reach_each_of_its_towns(served):
    store, client = served
    both = bearer(add_account(store, "zhao", "town_editor", [TOWN_WEST, TOWN_EAST]))
    west = bearer(add_account(store, "li", "town_editor", [TOWN_WEST]))
    east_plot = PLOTS.loc[PLOTS["town"] == TOWN_EAST, "plot_id"].iloc[0]
    west_plot = PLOTS.loc[PLOTS["town"] == TOWN_WEST, "plot_id"].iloc[0]
    for plot_id in (east_plot, west_plot):
        r = _put_back(client, both, plot_id, "核对 checked")
        assert r.status_code == 200, r.text
        entry = store.audit(layer="industrial_plots", feature=plot_id, limit=None).iloc[0]
        assert entry["actor"] == "zhao" and entry["detail"] == "核对 checked"
    r = _put_back(client, west, west_plot, "ok")
    assert r.status_code == 200
    assert client.get(f"/api/edit/industrial_plots/{east_plot}", headers=west).status_code == 403
