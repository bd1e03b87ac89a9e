"""Hardened edges: each limit refuses its abuse with a clear status and message.

Security headers and CSP (every inline script of a real page allowed by its hash, nothing else),
caching by caller, CSRF on sign-in and on cookie-borne writes, rate limits per address and per
token, body limits counted while the body arrives, JSON nesting, siting vertex caps and time
budget, and bounded numbers. The server's memory under a 600 MiB body is measured in
``test_server_memory.py`` against a real uvicorn process.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import warnings

import geopandas as gpd
import pytest
import shapely

from layers.errors import ValidationError
from layers.validate import validate_layer
from server.app import create_app
from server.settings import Settings
from server.pages.session import COOKIE
from server_common import PLANNER, TOKENS, TOWN_WEST, plot_geometry, session_cookie, shelters

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ORIGIN = "http://testserver"


def sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def directive(policy: str, name: str) -> list[str]:
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return []


# ------------------------------------------------------------------ headers
@pytest.mark.parametrize("url", ["/collections", "/tiles/all/tilejson.json", "/public/shelters", "/nope"])
def test_every_response_carries_the_security_headers(client, url):
    r = client.get(url)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_a_page_may_run_exactly_its_own_inline_scripts(client):
    page = client.get("/public/shelters")
    policy = page.headers["content-security-policy"]
    scripts = directive(policy, "script-src")
    inline = [code for attributes, code in re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
              if "src=" not in attributes and "application/json" not in attributes]
    assert inline, "the folium page has inline scripts"
    assert {sha256(code) for code in inline} == {s for s in scripts if s.startswith("'sha256-")}
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts and "*" not in scripts
    assert directive(policy, "object-src") == ["'none'"] and directive(policy, "base-uri") == ["'self'"]


def test_inline_event_handlers_are_allowed_by_hash_only(client):
    page = client.get(f"/towns/{TOWN_WEST}/wall", headers=PLANNER)
    handlers = [html.unescape(h) for h in re.findall(r'\son[a-z]+="([^"]*)"', page.text)]
    scripts = directive(page.headers["content-security-policy"], "script-src")
    if handlers:
        assert "'unsafe-hashes'" in scripts and all(sha256(h) in scripts for h in handlers)
    else:
        assert "'unsafe-hashes'" not in scripts


def test_the_online_basemap_host_may_serve_images(store_path):
    app = create_app(store_path, Settings(basemap_url="https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}"))
    with TestClient(app) as c:
        policy = c.get("/public/shelters").headers["content-security-policy"]
    assert "https://*.is.autonavi.com" in directive(policy, "img-src")


def test_answers_to_a_credential_are_private_and_vary_by_caller(client, app):
    anonymous = client.get("/collections/shelters/items")
    assert {"Authorization", "Cookie"} <= {v.strip() for v in anonymous.headers["vary"].split(",")}
    for headers in (PLANNER, {"Cookie": f"{COOKIE}={session_cookie(app, 'planner-token-123')}"}):
        for url in ("/collections", "/collections/shelters/items", "/tiles/all/tilejson.json", "/map"):
            r = client.get(url, headers=headers)
            control = r.headers["cache-control"]
            assert control.startswith("private") and "public" not in control, (url, control)
            assert {"Authorization", "Cookie"} <= {v.strip() for v in r.headers["vary"].split(",")}
    static = client.get("/static/riskmap/riskmap.css", headers=PLANNER)
    assert "Cookie" not in static.headers.get("vary", "")  # the same file for everyone


# ------------------------------------------------------------------ CSRF
@pytest.fixture
def browser(app):
    """A client of its own (signing in sets a cookie: the shared client must stay anonymous)."""
    with TestClient(app) as c:
        yield c


def test_sign_in_from_another_site_is_refused(browser):
    client = browser
    body = {"token": "planner-token-123", "next": "/map"}
    evil = client.post("/login", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "evil.example" in evil.json()["description"]
    assert "set-cookie" not in evil.headers
    cross = client.post("/login", data=body, headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert cross.status_code == 403
    referred = client.post("/login", data=body, headers={"Referer": "https://evil.example/page"},
                           follow_redirects=False)
    assert referred.status_code == 403
    null = client.post("/login", json=body, headers={"Origin": "null"})
    assert null.status_code == 403
    own = client.post("/login", json=body, headers={"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 200 and own.headers["set-cookie"].startswith(f"{COOKIE}=")
    assert "planner-token-123" not in own.headers["set-cookie"]  # the cookie carries a session id, never the token


def test_a_cookie_borne_write_from_another_site_is_refused_and_a_bearer_one_is_not(browser):
    client = browser
    proposal = {"geometry": {"type": "Point", "coordinates": [120.08, 31.79]}, "kind": "office"}
    client.cookies.set(COOKIE, session_cookie(client.app, "planner-token-123"))
    cookie = {}
    forged = client.post("/api/siting", json=proposal, headers={**cookie, "Origin": "https://evil.example"})
    assert forged.status_code == 403 and forged.json()["code"] == "CrossSiteRequestRefused"
    same = client.post("/api/siting", json=proposal, headers={**cookie, "Origin": ORIGIN})
    assert same.status_code == 200
    client.cookies.clear()
    bearer = client.post("/api/siting", json=proposal, headers={**PLANNER, "Origin": "https://tool.example"})
    assert bearer.status_code == 200  # no cookie: a forged request cannot carry the token


# ------------------------------------------------------------------ rate limits
@pytest.fixture
def limited(store_path):
    settings = Settings(tokens=TOKENS, rate_limit_per_minute=60, rate_limit_burst=4, login_attempts_per_minute=6,
                        login_burst=2)
    with TestClient(create_app(store_path, settings)) as c:
        yield c


def test_sign_in_attempts_are_limited_per_address(limited):
    statuses = [limited.post("/login", json={"token": f"guess-{i:04d}-xxxx"}).status_code for i in range(3)]
    assert statuses == [401, 401, 429]
    refused = limited.post("/login", json={"token": "planner-token-123"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "sign-in attempts" in refused.json()["description"]


def test_requests_are_limited_per_address_and_a_valid_token_has_its_own_bucket(limited):
    assert [limited.get("/conformance").status_code for _ in range(5)] == [200] * 4 + [429]
    r = limited.get("/conformance")
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 2  # one request a second
    invented = limited.get("/conformance", headers={"Authorization": "Bearer invented-token-9999"})
    assert invented.status_code == 429  # an invalid token is the address: no fresh bucket
    assert limited.get("/conformance", headers=PLANNER).status_code == 200


def test_rate_limits_are_settings(store_path):
    with TestClient(create_app(store_path, Settings(rate_limit_per_minute=0, login_attempts_per_minute=0))) as c:
        assert {c.get("/conformance").status_code for _ in range(30)} == {200}


# ------------------------------------------------------------------ bodies
def test_a_declared_oversize_body_is_refused_before_it_is_read(client):
    r = client.post("/login", content=b"x" * 10_000, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "at most 4,096 bytes" in r.json()["description"]


def test_an_undeclared_oversize_body_is_refused_by_its_count(client):
    """A chunked body (no Content-Length) is counted; that it is refused *while* it arrives, with the
    server's memory bounded, is shown against a real server in test_server_memory.py (the test client
    hands the app the whole body at once)."""

    def chunks():
        for _ in range(64):
            yield b"x" * 65536

    r = client.post("/api/siting", content=chunks(), headers={**PLANNER, "Content-Type": "application/json"})
    assert r.status_code == 413 and "at most 2,000,000 bytes" in r.json()["description"]


def test_deeply_nested_json_is_a_400_not_a_500(client):
    r = client.post("/api/siting", content=b"[" * 100_000 + b"]" * 100_000,
                    headers={**PLANNER, "Content-Type": "application/json"})
    assert r.status_code == 400 and "nested 100000 levels" in r.json()["description"]
    login = client.post("/login", content=b"[" * 3000, headers={"Content-Type": "application/json"})
    assert login.status_code == 400


def test_a_reasonable_geojson_body_is_not_too_deep(client):
    polygon = shapely.geometry.mapping(plot_geometry(15).buffer(0.001))
    body = {"geometry": {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon",
                                                          "coordinates": [polygon["coordinates"]]}}]},
        "kind": "office"}
    assert client.post("/api/siting", json=body, headers=PLANNER).status_code == 200


# ------------------------------------------------------------------ siting limits and numbers
def test_a_60000_vertex_site_is_refused_with_a_request_to_simplify(client):
    circle = shapely.Point(120.08, 31.79).buffer(0.002, quad_segs=15_000)
    assert shapely.get_num_coordinates(circle) > 60_000
    coordinates = [[[round(x, 6), round(y, 6)] for x, y in circle.exterior.coords]]
    body = json.dumps({"geometry": {"type": "Polygon", "coordinates": coordinates}, "kind": "office"})
    assert len(body) < 2_000_000  # under the body limit: the vertex cap is what refuses it
    r = client.post("/api/siting", content=body, headers={**PLANNER, "Content-Type": "application/json"})
    assert r.status_code == 400 and "60,001 vertices" in r.json()["description"]
    assert "simplify" in r.json()["description"]


def test_a_review_over_its_time_budget_is_a_503_with_retry_after(store_path):
    with TestClient(create_app(store_path, Settings(tokens=TOKENS, siting_time_budget_s=0.001))) as c:
        r = c.post("/api/siting", json={"geometry": {"type": "Point", "coordinates": [120.08, 31.79]},
                                        "kind": "office"}, headers=PLANNER)
    assert r.status_code == 503 and r.headers["retry-after"] and "budget" in r.json()["description"]


@pytest.mark.parametrize("population", [1e308, -1, 1_000_001, True, "many"])
def test_siting_numbers_out_of_bounds_are_refused(client, population):
    r = client.post("/api/siting", json={"geometry": {"type": "Point", "coordinates": [120.08, 31.79]},
                                         "kind": "school", "population": population}, headers=PLANNER)
    assert r.status_code == 400 and "population" in r.json()["description"]


def test_an_absurd_inventory_quantity_is_refused(client):
    r = client.post("/api/siting", json={
        "geometry": {"type": "Point", "coordinates": [120.08, 31.79]}, "kind": "hazardous_plant",
        "inventory": [{"name": "液氨", "cas": "7664-41-7", "quantity_t": 1e308}]}, headers=PLANNER)
    assert r.status_code == 400 and "quantity_t" in r.json()["description"]


def test_validation_refuses_numbers_beyond_the_catalogue_maximum():
    frame = shelters()
    frame["capacity"] = [2500, 10**12]
    with pytest.raises(ValidationError, match="capacity"):
        validate_layer("shelters", frame)
    sites = gpd.GeoDataFrame({"site_id": ["S1"], "inventory": ['[{"name": "液氨", "quantity_t": 1e308}]']},
                             geometry=[shapely.Point(120.0, 31.7)], crs="EPSG:4490")
    with pytest.raises(ValidationError, match="quantity_t"):
        validate_layer("hazard_sites", sites)
