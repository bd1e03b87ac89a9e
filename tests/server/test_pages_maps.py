"""The planner map, the town risk wall and the browser session, through the app's test client.

Roles: the planner map is open to all and shows what the caller may see (public: public layers,
no siting panel; town editor: every layer, no siting; planner and admin: every layer and the
siting panel). A town's wall opens for its own editor, planners and admins. A browser signs in
once (``/login`` sets an HttpOnly cookie) and the pages, their ``/web/tiles`` and the siting API
take the cookie; the plain API (``/tiles``, ``/collections``) keeps answering to the header alone.
"""

from __future__ import annotations

import re
import warnings

import pytest

from geo.tiles import tile_containing
from server.pages.layers import PLANNER_OVERLAYS
from server.pages.session import COOKIE
from server_common import PLANNER, SECRET_MARKERS, TOWN_EAST, TOWN_WEST, page_config, plot_geometry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOWN = {"Authorization": "Bearer town-token-1234"}  # town_editor of TOWN_WEST
ADMIN = {"Authorization": "Bearer admin-token-1234"}
PRIVATE_OVERLAYS = {"risk_surface", "zones_grid", "coverage_areas", "coverage_gaps", "safety_buffers",
                    "separation_violations"}


def overlay_ids(cfg: dict) -> set[str]:
    return {o["id"] for o in cfg["overlays"]}


@pytest.fixture
def browser(app):
    """A fresh client (its own cookie jar) over the session's app."""
    with TestClient(app) as c:
        yield c


# ------------------------------------------------------------------ planner map
def test_the_planner_map_without_a_credential_shows_public_layers_only(client):
    r = client.get("/map")
    assert r.status_code == 200
    cfg = page_config(r.text)
    assert cfg["role"] == "public" and cfg["siting"] is None
    assert overlay_ids(cfg) == {"zones_town", "risk_wall", "rescue_stations", "shelters"}
    assert {o["layer"] for o in cfg["basemap_layers"]} == {"admin_areas", "roads"}
    wall = next(o for o in cfg["overlays"] if o["layer"] == "risk_wall")
    assert {f["name"] for f in wall["fields"]} == {"plot_id", "town", "colour_zh", "notice"}
    assert 'id="rm-siting"' not in r.text and "/login?next=%2Fmap" in r.text
    assert not any(marker in r.text for marker in SECRET_MARKERS)


def test_the_planner_map_for_a_planner_has_every_layer_and_the_siting_panel(client):
    r = client.get("/map", headers=PLANNER)
    cfg = page_config(r.text)
    assert cfg["role"] == "planner" and cfg["siting"]["url"] == "/api/siting"
    assert PRIVATE_OVERLAYS - {"coverage_areas", "coverage_gaps"} <= overlay_ids(cfg)  # no coverage run on this store
    by_id = {o["id"]: o for o in cfg["overlays"]}
    assert by_id["risk_surface"]["kind"] == "raster" and by_id["risk_surface"]["url"].endswith(".png")
    assert by_id["risk_wall"]["url"] == "/web/tiles/risk_wall/{z}/{x}/{y}.mvt"
    assert {"reasons", "enterprise", "score"} <= {f["name"] for f in by_id["risk_wall"]["fields"]}
    ids, order = [o["id"] for o in cfg["overlays"]], [o.id for o in PLANNER_OVERLAYS]
    assert ids == sorted(ids, key=order.index)  # drawn bottom to top in the listed order
    assert 'id="rm-siting"' in r.text and '<option value="school" data-inventory="false">' in r.text
    assert '<option value="hazardous_plant" data-inventory="true">' in r.text
    assert cfg["bounds"] == pytest.approx([119.90, 31.68, 120.10, 31.80])
    assert [c.lower() for c in cfg["palette"]["colours"]] == ["#d7191c", "#f5d000", "#2b83ba", "#1a9641"]
    assert f'<option value="{TOWN_WEST}" data-path="/towns/{TOWN_WEST}">' in r.text  # the town walls list


def test_a_town_editor_sees_every_layer_but_no_siting_panel(client):
    html = client.get("/map", headers=TOWN).text
    cfg = page_config(html)
    assert cfg["role"] == "town_editor" and cfg["siting"] is None and "safety_buffers" in overlay_ids(cfg)
    assert f'<option value="{TOWN_WEST}" data-path="/towns/{TOWN_WEST}">' in html  # its own wall
    assert f'<option value="{TOWN_EAST}"' not in html


def test_the_legend_shows_the_four_colours_in_chinese_and_english(client):
    html = client.get("/map", headers=PLANNER).text
    for colour, zh, en in (("#d7191c", "红色(重大风险)", "red"), ("#f5d000", "黄色(较大风险)", "yellow"),
                           ("#2b83ba", "蓝色(一般风险)", "blue"), ("#1a9641", "绿色(低风险)", "green")):
        assert re.search(f'background:{colour}"></span>{re.escape(zh)} <span class="en">{en}</span>', html)


# ------------------------------------------------------------------ town risk wall
@pytest.mark.parametrize("headers, town, status", [
    ({}, TOWN_WEST, 401), (TOWN, TOWN_WEST, 200), (TOWN, TOWN_EAST, 403), (PLANNER, TOWN_WEST, 200),
    (PLANNER, TOWN_EAST, 200), (ADMIN, TOWN_EAST, 200),
])
def test_a_wall_opens_for_its_town_editor_planners_and_admins(client, headers, town, status):
    r = client.get(f"/towns/{town}/wall", headers=headers)
    assert r.status_code == status, r.text
    if status in (401, 403):
        body = r.json()
        assert body["code"] == ("AccessDenied" if status == 401 else "Forbidden")
        assert ("/login?next=" in body["description"]) if not headers else (TOWN_WEST in body["description"])
        assert not any(marker in r.text for marker in SECRET_MARKERS)


@pytest.mark.parametrize("code", ["999999999", "320412", "西镇", "<script>"])
def test_an_unknown_town_is_a_404_naming_the_towns(client, code):
    r = client.get(f"/towns/{code}/wall", headers=PLANNER)
    assert r.status_code == 404
    body = r.json()
    assert "unknown town code" in body["description"] and TOWN_WEST in body["description"]


def test_an_unknown_town_is_a_404_for_the_public_too(client):
    assert client.get("/towns/999999999/wall").status_code == 404


def _table_rows(html: str) -> list[tuple[str, str]]:
    body = html.split('<table class="rm-list">', 1)[1].split("</table>", 1)[0]
    row = r'<tr><td class="num">\d+</td><td>(P\d+)</td>.*?<span class="rm-sw" style="background:([^"]+)"'
    return re.findall(row, body)


def test_the_wall_counts_each_colour_and_lists_plots_red_first_with_reasons(client):
    html = client.get(f"/towns/{TOWN_EAST}/wall", headers=PLANNER).text
    counts = re.findall(r'<div class="rm-tile[^"]*" style="background:([^"]+)"><div class="rm-count">(\d+)</div>', html)
    assert counts == [("#d7191c", "1"), ("#f5d000", "0"), ("#2b83ba", "4"), ("#1a9641", "3")]
    rows = _table_rows(html)
    assert [p for p, _ in rows] == ["P008", "P015", "P011", "P007", "P003", "P016", "P012", "P004"]
    assert [c for _, c in rows] == ["#d7191c"] + ["#2b83ba"] * 4 + ["#1a9641"] * 3
    assert ('<li><span class="zh">重大隐患 1 项未整改</span> <span class="en">1 open major hidden danger</span></li>'
            in html)  # P008's reasons, Chinese first
    assert "东镇四色安全风险墙" in html and "Town risk wall" in html and "window.print()" in html
    assert html.count('"plot_id": "P0') == 8  # the map of the town's plots, and only them


def test_the_wall_of_a_town_sorts_its_reds_by_score(client):
    rows = _table_rows(client.get(f"/towns/{TOWN_WEST}/wall", headers=TOWN).text)
    assert [p for p, _ in rows] == ["P013", "P009", "P005", "P001", "P014", "P010", "P006", "P002"]


_CJK = re.compile(r"[\u3400-\u9fff]")


def test_the_wall_reads_chinese_first_with_the_english_after_it(client):
    html = client.get(f"/towns/{TOWN_WEST}/wall", headers=TOWN).text
    body = html.split('<table class="rm-list">', 1)[1].split("</table>", 1)[0]
    reasons = re.findall(r"<li>(.*?)</li>", body)
    assert len(reasons) >= 8  # every plot has at least its risk-report reason
    for item in reasons:
        parts = re.fullmatch(r'<span class="zh">([^<]+)</span> <span class="en">([^<]+)</span>', item)
        assert parts, item
        zh, en = parts.groups()
        assert _CJK.search(zh) and not _CJK.search(en), item
    assert '<span class="zh">重大风险 1 项</span> <span class="en">1 major-risk item in the risk report</span>' in body


def test_the_wall_groups_plots_by_colour_and_orders_each_colour_by_the_explained_score(client):
    html = client.get(f"/towns/{TOWN_EAST}/wall", headers=PLANNER).text
    body = html.split('<table class="rm-list">', 1)[1].split("</table>", 1)[0]
    groups = re.split(r'<tr class="rm-group">', body)[1:]
    heads = [re.search(r"</span>([^<]+) <span class=\"en\">(\w+)</span> · (\d+) 块", g).groups() for g in groups]
    assert heads == [("红色(重大风险)", "red", "1"), ("蓝色(一般风险)", "blue", "4"), ("绿色(低风险)", "green", "3")]
    for (_, _, count), group in zip(heads, groups):
        scores = [float(v) for v in re.findall(r'<td class="num">(\d+\.\d)</td>', group)]
        assert len(scores) == int(count) and scores == sorted(scores, reverse=True)
    assert "同色排序分" in html.split('<table class="rm-list">', 1)[1].split("</thead>", 1)[0]  # the column says so
    note = html.split('class="rm-score-note"', 1)[1].split("</details>", 1)[0]
    assert "只用于同一颜色内的先后排序" in note and "only orders plots within one colour" in note
    assert "不可相互比较" in note and "not comparable" in note


def test_the_score_note_gives_each_input_its_share_of_the_rule_sets_weights():
    from server.pages.wall import score_note
    from zoning.rules import load_ruleset
    from zoning.wall.classify import parse_classification_rules

    rules = load_ruleset()
    english = score_note(rules).split('<span class="en">', 1)[1]
    shares = {name: int(v) for name, v in re.findall(r"([a-z][a-z /()-]+?) (\d+)%", english)}
    weights = {s.name: s.weight for s in parse_classification_rules(rules).score}
    total = sum(weights.values())
    # [classification.score]: risk_major weight 20 of 100 → 20 %; risk_low 1 of 100 → 1 %
    assert shares["major risks in the risk report"] == round(100 * weights["risk_major"] / total) == 20
    assert shares["low risks in the risk report"] == round(100 * weights["risk_low"] / total) == 1
    assert len(shares) == sum(1 for w in weights.values() if w > 0)


def test_the_wall_map_draws_the_plots_in_their_colours_offline(client):
    html = client.get(f"/towns/{TOWN_WEST}/wall", headers=TOWN).text
    assert "L.geoJson" in html or "L.geoJSON" in html
    assert '"colour": "#d7191c"' in html and '"colour": "#f5d000"' in html
    cfg = page_config(html)
    assert cfg["page"] == "wall" and {o["layer"] for o in cfg["basemap_layers"]} == {"admin_areas", "roads"}
    assert all(o["url"].startswith("/tiles/") for o in cfg["basemap_layers"])  # public basemap tiles


# ------------------------------------------------------------------ browser session
def test_signing_in_sets_an_httponly_strict_cookie_and_redirects(browser):
    r = browser.post("/login", data={"token": "planner-token-123", "next": f"/towns/{TOWN_EAST}/wall"},
                     follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/towns/{TOWN_EAST}/wall"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith(f"{COOKIE}=") and "httponly" in cookie and "samesite=strict" in cookie
    assert "path=/" in cookie and "max-age=" in cookie
    assert browser.get(f"/towns/{TOWN_EAST}/wall").status_code == 200
    cfg = page_config(browser.get("/map").text)
    assert cfg["role"] == "planner" and cfg["siting"] is not None


def test_json_sign_in_answers_the_role_and_refuses_an_unknown_token(browser):
    r = browser.post("/login", json={"token": "town-token-1234", "next": "//evil.example/steal"})
    assert r.status_code == 200 and r.json() == {"role": "town_editor", "town": TOWN_WEST, "towns": [TOWN_WEST],
                                        "next": "/map"}
    bad = browser.post("/login", json={"token": "not-a-token"})
    assert bad.status_code == 401 and "unknown token" in bad.json()["description"]
    assert browser.post("/login", content=b"{", headers={"content-type": "application/json"}).status_code == 400
    assert browser.post("/login", data={}).status_code == 400


def test_signing_out_clears_the_cookie(browser):
    browser.post("/login", data={"token": "planner-token-123"}, follow_redirects=False)
    r = browser.post("/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/public/shelters"
    assert f"{COOKIE}=" in r.headers["set-cookie"] and 'max-age=0' in r.headers["set-cookie"].lower()
    browser.cookies.clear()
    assert page_config(browser.get("/map").text)["role"] == "public"


def test_the_sign_in_page_is_offline_and_escapes_next(client):
    r = client.get('/login?next=/map"><script>alert(1)</script>')
    assert r.status_code == 200 and "<script>alert(1)" not in r.text
    assert '<script src="/static/riskmap/riskmap-login.js">' in r.text and 'type="password"' in r.text


def _tile_of(lon: float, lat: float, z: int = 14) -> str:
    x, y = tile_containing(lon, lat, z)
    return f"{z}/{int(x)}/{int(y)}"


def test_web_tiles_take_the_session_cookie_and_the_plain_api_does_not(browser):
    centre = plot_geometry(0).centroid
    tile = _tile_of(centre.x, centre.y)
    assert browser.get(f"/web/tiles/safety_buffers/{tile}.mvt").status_code == 404  # private: as absent
    browser.post("/login", data={"token": "planner-token-123"}, follow_redirects=False)
    r = browser.get(f"/web/tiles/safety_buffers/{tile}.mvt")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert browser.get(f"/tiles/safety_buffers/{tile}.mvt").status_code == 404  # the API: header only
    png = browser.get(f"/web/tiles/risk_surface/{tile}.png")
    assert png.status_code in (200, 204)
    assert browser.get(f"/web/tiles/risk_wall/{tile}.mvt", headers=PLANNER).status_code == 200


def test_web_tiles_give_the_public_view_without_a_cookie(client):
    import mapbox_vector_tile

    centre = plot_geometry(0).centroid
    r = client.get(f"/web/tiles/risk_wall/{_tile_of(centre.x, centre.y)}.mvt")
    assert r.status_code == 200
    layer = mapbox_vector_tile.decode(r.content)["risk_wall"]
    assert {k for f in layer["features"] for k in f["properties"]} <= {"plot_id", "town", "level", "colour",
                                                                        "colour_name", "colour_zh", "notice"}
    assert not any(m in r.content.decode("utf-8", "replace") for m in SECRET_MARKERS)
