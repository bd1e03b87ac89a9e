"""``POST /api/siting`` and ``GET /api/siting/{id}/report.html``.

Planners and admins get the engine's verdict (every reason, Chinese and English) and a link to the
offline HTML report; the public and town editors get a 401 (a verdict reveals the safety buffers
of hazard sites). Bad input is a 400 with the engine's own message, through the one error table.
"""

from __future__ import annotations

import json
import re
import warnings

import pytest

from server.app import create_app
from server.pages import pages_router
from server.siting_api import create_siting_router
from server.pages.session import browser_principal
from server_common import PLANNER, plot_geometry
from zoning.rules import load_ruleset
from zoning.siting.review import VERDICTS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN = {"Authorization": "Bearer admin-token-1234"}
TOWN = {"Authorization": "Bearer town-token-1234"}
NEXT_TO_HS1 = [plot_geometry(0).centroid.x + 0.001, plot_geometry(0).centroid.y]
QUIET_CORNER = [120.08, 31.79]
AMMONIA = [{"name": "ammonia", "cas": "7664-41-7", "quantity_t": 20}]


def point(lon_lat) -> dict:
    return {"type": "Point", "coordinates": list(lon_lat)}


def review(client, body, headers=PLANNER):
    return client.post("/api/siting", json=body, headers=headers)


def test_a_school_beside_a_hazard_site_is_vetoed_with_its_reasons(client):
    r = review(client, {"geometry": point(NEXT_TO_HS1), "kind": "school", "population": 800})
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["verdict"] == "veto" and v["verdict_zh"] and v["kind"] == "school" and v["population"] == 800
    rules = {reason["rule"]: reason for reason in v["reasons"]}
    assert rules["veto_own_class"]["verdict"] == "veto"
    assert all(reason["zh"] and reason["en"] and reason["verdict"] in VERDICTS for reason in v["reasons"])
    assert v["buffers"] and v["buffers"][0]["site_id"] == "HS1"
    assert v["map"]["type"] == "FeatureCollection" and any(f["properties"]["layer"] == "proposal"
                                                           for f in v["map"]["features"])
    assert re.fullmatch(r"http://testserver/api/siting/[\w-]+/report\.html", v["report_url"])
    assert v["report_url"].endswith(f"/api/siting/{v['id']}/report.html")
    assert r.headers["cache-control"] == "no-store"


def test_the_report_is_self_contained_html(client):
    v = review(client, {"geometry": point(QUIET_CORNER), "kind": "office"}).json()
    r = client.get(f"/api/siting/{v['id']}/report.html", headers=PLANNER)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert v["verdict_zh"] in r.text and "<svg" in r.text
    assert not re.search(r"<(?:script|link|img)\b[^>]*(?:src|href)=\"(?:https?:)?//", r.text)
    assert client.get(f"/api/siting/{v['id']}/report.html").status_code == 401


def test_a_hazardous_plant_is_graded_and_its_buffers_reviewed(client):
    r = review(client, {"geometry": point([120.06, 31.72]), "kind": "hazardous_plant", "inventory": AMMONIA},
               headers=ADMIN)
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["plant"] is not None and {"plant_grade", "plant_distances"} <= {x["rule"] for x in v["reasons"]}


@pytest.mark.parametrize("geometry", [
    {"type": "Feature", "properties": {"name": "新校区"}, "geometry": point(QUIET_CORNER)},
    {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": point(QUIET_CORNER)}]},
    {"type": "Polygon", "coordinates": [[[120.079, 31.789], [120.081, 31.789], [120.081, 31.791], [120.079, 31.791],
                                         [120.079, 31.789]]]},
])
def test_a_geometry_a_feature_or_a_collection_is_a_site(client, geometry):
    r = review(client, {"geometry": geometry, "kind": "housing"})
    assert r.status_code == 200 and r.json()["verdict"] in VERDICTS


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "AccessDenied"), ({"Authorization": "Bearer nope-nope-nope"}, 401, "AccessDenied"),
    (TOWN, 403, "Forbidden"),
])
def test_only_planners_and_admins_may_review(client, headers, status, code):
    r = review(client, {"geometry": point(QUIET_CORNER), "kind": "school"}, headers=headers)
    assert r.status_code == status and r.json()["code"] == code
    assert "planner" in r.json()["description"] and "buffers" not in r.text
    assert r.headers.get("www-authenticate", "").startswith("Bearer") == (status == 401)


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (json.dumps({"kind": "school"}).encode(), 'give the site as "geometry"'),
    (json.dumps({"geometry": point(QUIET_CORNER)}).encode(), 'give the project\'s "kind"'),
    (json.dumps({"geometry": point(QUIET_CORNER), "kind": "castle"}).encode(), "unknown kind 'castle'; kinds: school"),
    (json.dumps({"geometry": point(QUIET_CORNER), "kind": "school", "colour": "red"}).encode(),
     "unknown member(s) colour"),
    (json.dumps({"geometry": {"type": "Polygon", "coordinates": [[[120.0, 31.7], [120.01, 31.71], [120.01, 31.7],
                                                                   [120.0, 31.71], [120.0, 31.7]]]},
                 "kind": "school"}).encode(), "invalid"),
    (json.dumps({"geometry": {"type": "LineString", "coordinates": [[120.0, 31.7], [120.01, 31.71]]},
                 "kind": "school"}).encode(), "LineString"),
    (json.dumps({"geometry": {"type": "Point", "coordinates": [480000.0, 3500000.0]}, "kind": "school"}).encode(),
     "not longitude/latitude"),
    (json.dumps({"geometry": {"type": "Pointy", "coordinates": [1, 2]}, "kind": "school"}).encode(),
     "cannot be read as GeoJSON"),
    (json.dumps({"geometry": point(QUIET_CORNER), "kind": "school", "population": -5}).encode(), "population"),
    (json.dumps({"geometry": point(QUIET_CORNER), "kind": "hazardous_plant"}).encode(), "needs an inventory"),
    (json.dumps({"geometry": point(QUIET_CORNER), "kind": "school", "inventory": AMMONIA}).encode(),
     "only for kind hazardous_plant"),
    (json.dumps({"geometry": point([100.0, 20.0]), "kind": "school"}).encode(), "outside"),
])
def test_bad_proposals_are_a_400_with_the_reason(client, body, message):
    r = client.post("/api/siting", content=body, headers={**PLANNER, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert message in r.json()["description"], r.json()
    assert r.json()["code"] in ("InputError", "GeometryError")


def test_the_body_must_be_sent_as_json(client):
    r = client.post("/api/siting", content=json.dumps({"geometry": point(QUIET_CORNER), "kind": "school"}),
                    headers={**PLANNER, "Content-Type": "text/plain"})
    assert r.status_code == 400 and "application/json" in r.json()["description"]


def test_an_unknown_report_is_a_404(client):
    r = client.get("/api/siting/no-such-report/report.html", headers=PLANNER)
    assert r.status_code == 404 and "review the site again" in r.json()["description"]


def test_only_the_most_recent_reports_are_kept(store_path, settings):
    def _siting(s):
        return create_siting_router(s.store, load_ruleset(), s.settings, browser_principal(s.auth, s.principal),
                                    max_reports=2)

    with TestClient(create_app(store_path, settings, routers=(_siting,))) as c:
        ids = [review(c, {"geometry": point(QUIET_CORNER), "kind": "office"}).json()["id"] for _ in range(3)]
        assert len(set(ids)) == 3
        statuses = [c.get(f"/api/siting/{i}/report.html", headers=PLANNER).status_code for i in ids]
    assert statuses == [404, 200, 200]


def test_a_signed_in_browser_reviews_with_its_session_cookie(store_path, settings):
    with TestClient(create_app(store_path, settings, routers=(pages_router, _siting_default))) as c:
        assert review(c, {"geometry": point(QUIET_CORNER), "kind": "office"}, headers={}).status_code == 401
        c.post("/login", data={"token": "planner-token-123"}, follow_redirects=False)
        r = review(c, {"geometry": point(QUIET_CORNER), "kind": "office"}, headers={})
        assert r.status_code == 200 and r.json()["verdict"] in VERDICTS
        assert c.get(r.json()["report_url"].replace("http://testserver", "")).status_code == 200


def _siting_default(s):
    return create_siting_router(s.store, load_ruleset(), s.settings, browser_principal(s.auth, s.principal))


def test_the_siting_context_follows_changes_to_the_store(writable_store, settings):
    with TestClient(create_app(writable_store, settings, routers=(_siting_default,))) as c:
        before = review(c, {"geometry": point(NEXT_TO_HS1), "kind": "school"}).json()
        assert before["verdict"] == "veto"
        sites = writable_store.read("hazard_sites")
        writable_store.write("hazard_sites", sites.iloc[1:], actor="test")  # HS1 closes
        buffers = writable_store.read("safety_buffers")
        writable_store.write("safety_buffers", buffers[buffers["site_id"] != "HS1"], derived=True, actor="test")
        after = review(c, {"geometry": point(NEXT_TO_HS1), "kind": "school"}).json()
    assert not [b for b in after["buffers"] if b["site_id"] == "HS1"]
