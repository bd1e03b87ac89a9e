"""The app factory, settings, roles and the one error table."""

from __future__ import annotations

import warnings

import pytest
from fastapi import APIRouter, Depends

from geo.errors import CRSError, GeometryError, InputError, RiskmapError
from layers.errors import Conflict, LayerNotFound, Problem, StoreError, ValidationError
from server.app import ROUTERS, create_app, create_app_from_env
from server.services import Services
from server.auth import PUBLIC, Principal, TokenAuth
from server.tile_cache import SharedTileCache
from server.errors import STATUS, AccessDenied, status_for
from server.settings import Settings
from zoning.errors import RuleSetError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


# ------------------------------------------------------------------ settings
def test_settings_come_from_riskmap_environment_variables(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("RISKMAP_MAX_LIMIT=7\n")  # never read
    monkeypatch.setenv("RISKMAP_TOKENS", '{"abcdefgh-planner": "planner", "abcdefgh-town": "town_editor:320412015"}')
    monkeypatch.setenv("RISKMAP_TILE_CACHE_SIZE", "12")
    monkeypatch.setenv("RISKMAP_PUBLIC_URL", "https://maps.example.cn/")
    s = Settings()
    assert s.tokens["abcdefgh-town"] == "town_editor:320412015"
    assert s.tile_cache_size == 12 and s.max_limit == 10_000 and s.public_url == "https://maps.example.cn"
    assert s.basemap_url is None  # offline unless configured


@pytest.mark.parametrize("kwargs, message", [
    ({"tokens": {"abcdefgh-1": "mayor"}}, "unknown role 'mayor'"),
    ({"tokens": {"short": "planner"}}, "at least 8 characters"),
    ({"default_limit": 500, "max_limit": 100}, "default_limit (500) exceeds max_limit (100)"),
    ({"min_zoom": 10, "max_zoom": 5}, "min_zoom (10) exceeds max_zoom (5)"),
    ({"max_limit": 0}, "greater than or equal to 1"),
])
def test_bad_settings_are_refused_with_a_reason(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Settings(**kwargs)


# ------------------------------------------------------------------ roles
def test_tokens_map_to_roles_and_anything_else_is_public():
    auth = TokenAuth({"abcdefgh-planner": "planner", "abcdefgh-town": "town_editor:320412015"})
    assert auth.principal("Bearer abcdefgh-planner") == Principal("planner")
    assert auth.principal("bearer abcdefgh-town") == Principal("town_editor", "320412015")
    for header in (None, "", "Bearer", "Bearer nope", "Basic abcdefgh-planner", "abcdefgh-planner"):
        assert auth.principal(header) is PUBLIC
    assert Principal("admin").at_least("planner") and not Principal("town_editor").at_least("planner")


def test_require_refuses_the_public_with_401_and_lower_roles_with_403(store_path):
    def _edit(s: Services) -> APIRouter:
        router = APIRouter()

        @router.post("/api/edit")
        def edit(who: Principal = Depends(s.auth.require("planner"))):
            return {"role": who.role}

        return router

    tokens = {"abcdefgh-planner": "planner", "abcdefgh-town": "town_editor"}
    with TestClient(create_app(store_path, Settings(tokens=tokens), routers=(_edit,))) as c:
        assert c.post("/api/edit").status_code == 401
        lower = c.post("/api/edit", headers={"Authorization": "Bearer abcdefgh-town"})
        assert lower.status_code == 403 and lower.json()["code"] == "Forbidden"
        assert "www-authenticate" not in lower.headers and "town_editor" in lower.json()["description"]
        ok = c.post("/api/edit", headers={"Authorization": "Bearer abcdefgh-planner"})
        assert ok.status_code == 200 and ok.json() == {"role": "planner"}
        assert c.get("/collections").status_code == 404  # only the routers asked for


# ------------------------------------------------------------------ the error table
@pytest.mark.parametrize("error, status", [
    (LayerNotFound("no layer 'x'"), 404),
    (ValidationError("shelters", [Problem("S1", "capacity", "-3 is below the minimum 0")]), 422),
    (InputError("bad input"), 400),
    (GeometryError("bad geometry"), 400),
    (CRSError("EPSG:3857 is not metric here"), 400),
    (AccessDenied("needs a token"), 401),
    (Conflict("industrial_plots", [("P1", 3, 4, "live")]), 409),
    (StoreError("store locked"), 503),
    (RuleSetError("rules broken"), 500),
    (RiskmapError("something else"), 400),
])
def test_each_riskmap_error_has_its_status_and_a_json_body(store_path, error, status):
    def _raising(s: Services) -> APIRouter:
        router = APIRouter()

        @router.get("/boom")
        def boom():
            raise error

        return router

    assert status_for(error) == status
    with TestClient(create_app(store_path, Settings(), routers=(_raising,))) as c:
        r = c.get("/boom")
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["code"] == type(error).__name__ and body["description"]
    assert "Traceback" not in r.text
    if isinstance(error, ValidationError):
        assert body["problems"] == [{"feature": "S1", "field": "capacity",
                                     "message": "-3 is below the minimum 0"}]


def test_an_unexpected_error_is_a_500_without_a_stack_trace(store_path):
    def _broken(s: Services) -> APIRouter:
        router = APIRouter()

        @router.get("/broken")
        def broken():
            raise KeyError("internal detail /srv/secret/path")

        return router

    with TestClient(create_app(store_path, Settings(), routers=(_broken,)), raise_server_exceptions=False) as c:
        r = c.get("/broken")
    assert r.status_code == 500 and r.json()["code"] == "InternalServerError"
    assert "secret" not in r.text and "Traceback" not in r.text


def test_the_table_covers_every_riskmap_error_class():
    assert {LayerNotFound, ValidationError, InputError, CRSError, Conflict, StoreError, AccessDenied} <= set(STATUS)


def test_unknown_routes_and_methods_get_the_same_json_body(client):
    r = client.get("/no/such/thing")
    assert r.status_code == 404 and r.json()["code"] == "NotFound" and "/no/such/thing" in r.json()["description"]
    r = client.delete("/collections")
    assert r.status_code == 405 and r.json()["code"] == "MethodNotAllowed"


# ------------------------------------------------------------------ factory
def test_the_app_holds_its_services_and_default_routers(app):
    services = app.state.services
    assert isinstance(services, Services) and isinstance(services.tile_cache, SharedTileCache)
    assert [f.__name__ for f in ROUTERS[:5]] == ["_features", "_tiles", "_ogc_tiles", "_packages", "_docs"]
    paths = set(app.openapi()["paths"])
    assert {"/", "/conformance", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items",
            "/collections/{collectionId}/items/{featureId}", "/tiles/{layer}/tilejson.json",
            "/tiles/{layer}/{z}/{x}/{y}.mvt", "/tiles/{layer}/{z}/{x}/{y}.png", "/api/siting",
            "/api/public/shelters/nearest"} <= paths


def test_docs_are_served_offline(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "/collections/{collectionId}/items" in r.text
    assert "cdn" not in r.text.lower() and "<script" not in r.text


def test_create_app_from_env_needs_a_store(monkeypatch, store_path):
    monkeypatch.delenv("RISKMAP_STORE", raising=False)
    with pytest.raises(StoreError, match="RISKMAP_STORE"):
        create_app_from_env()
    monkeypatch.setenv("RISKMAP_STORE", str(store_path))
    with TestClient(create_app_from_env()) as c:
        assert c.get("/collections").status_code == 200
