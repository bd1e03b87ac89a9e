"""The public map in headless Chromium, on a phone (390×844) and a desktop (1400×900).

A resident searches "雪堰" and then a road name, picks the first result and sees: the map fitted to
the place and its shelters, street and town names written on the map in Chinese (the label canvas
holds dark text pixels where the page says it wrote each name, with the CJK font loaded), the
answer in view without scrolling the page, and only public requests, none refused. "Locate me"
over plain http explains that browsers locate only over https; a shared link opens the same view;
the first load stays small (bytes counted by the browser's resource timing).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from layers.gpkg import GeoPackageStore
from public_city import EW_NAMES, NS_NAMES, build_public_city
from server.app import create_app
from server.settings import Settings
from server_common import recording, serving

from chromium import CHROMIUM, Chromium

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium)")
pytest.importorskip("PIL.Image", reason="Pillow reads the screenshots (pip install pillow)")

SIZES = {"phone": (390, 844), "desktop": (1400, 900)}
ROAD_NAMES = set(EW_NAMES) | set(NS_NAMES)
ROAD_INK = (0x5A, 0x4A, 0x2A)  # road names (riskmap-public.js)
FIRST_LOAD_BUDGET_KB = 400  # what the page may weigh on first load, tiles and answers included


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = build_public_city(tmp_path_factory.mktemp("public-browser") / "city.gpkg")
    app, seen = recording(create_app(GeoPackageStore(store.path), Settings()))
    with serving(app) as base:
        yield base, seen


@pytest.fixture(scope="module", params=list(SIZES))
def browser(request):
    width, height = SIZES[request.param]
    with Chromium(width, height) as b:
        b.size = (width, height)
        yield b
        b.close_tabs()


@pytest.fixture(scope="module")
def phone():
    """A phone-sized Chromium for the tests that need one size only."""
    with Chromium(*SIZES["phone"]) as b:
        b.size = SIZES["phone"]
        yield b
        b.close_tabs()


def open_page(browser, url):
    tab = browser.tab(url)
    tab.wait_for("window.RiskMap && RiskMap.labelsLayer", what="the public map's script")
    tab.wait_for_tiles()
    return tab


def settle(tab):
    tab.wait_for("RiskMap.lastPlace && RiskMap.pending === 0", what="the answer for the place")
    tab.wait_for_tiles()
    tab.wait_for("RiskMap.labelsLayer.placed.length > 0", what="names on the map")
    tab.evaluate("new Promise(r => setTimeout(r, 300))")  # the label canvas redraws on the next frame


def type_and_pick(tab, text, first):
    tab.evaluate("(() => { const i = document.getElementById('rm-search'); i.value = ''; i.focus(); })()")
    tab.send("Input.insertText", {"text": text})
    tab.wait_for("[...document.querySelectorAll('#rm-search-results button')].some(b => b.textContent.includes("
                 + json.dumps(first) + "))", what=f"{first} among the results")
    listed = tab.evaluate("[...document.querySelectorAll('#rm-search-results button')].map(b => b.textContent)")
    assert first in listed[0], listed
    tab.evaluate("document.querySelector('#rm-search-results button').click()")
    settle(tab)


def ink_near(pixels, x, y, rgb, r=9):
    box = pixels[max(0, y - r):y + r, max(0, x - r):x + r].astype(int)
    return int((np.abs(box - np.array(rgb)).max(axis=2) <= 40).sum())


@pytest.mark.parametrize("query, first", [("雪堰", "雪堰镇"), ("太湖路", "太湖路")])
def test_search_pick_and_see_the_place_its_shelters_and_the_street_names(server, browser, query, first, tmp_path):
    base, seen = server
    seen.clear()
    tab = open_page(browser, f"{base}/public/shelters")
    type_and_pick(tab, query, first)
    place = tab.evaluate("JSON.stringify(RiskMap.lastPlace)")
    place = json.loads(place)
    assert place["shelters"] and place["sentences"][0]["kind"] == "where"
    # the map shows the point and every shelter of the answer
    inside = tab.evaluate("(() => { const b = RiskMap.map.getBounds(), d = RiskMap.lastPlace;"
                          " return [b.contains([d.point.lat, d.point.lon])].concat("
                          " d.shelters.map(s => b.contains([s.lat, s.lon]))); })()")
    assert all(inside), inside
    # names written on the map: a town or district and streets, in Chinese, with the CJK font there
    placed = tab.evaluate("RiskMap.labelsLayer.placed")
    texts = {p["text"] for p in placed}
    assert texts & ROAD_NAMES, texts
    assert tab.evaluate("document.fonts.check('12px \"Noto Sans CJK SC\"')")
    pixels = tab.screenshot(tmp_path / f"public-{browser.size[0]}-{first}.png")
    left, top = tab.evaluate("(() => { const r = RiskMap.map.getContainer().getBoundingClientRect(); return [r.left, r.top]; })()")
    roads = [p for p in placed if p["line"]]
    inked = [ink_near(pixels, int(left + p["x"]), int(top + p["y"]), ROAD_INK) for p in roads]
    assert sum(n >= 4 for n in inked) >= max(1, len(roads) // 2), list(zip([p["text"] for p in roads], inked))
    # the answer is on screen without scrolling the page (on a phone: under the map)
    width, height = browser.size
    assert tab.evaluate("document.scrollingElement.scrollHeight") <= height + 1
    first_item = tab.evaluate("document.querySelector('#rm-results li').getBoundingClientRect().top")
    assert first_item < height, (first_item, height)
    if width < 760:
        map_bottom = tab.evaluate("RiskMap.map.getContainer().getBoundingClientRect().bottom")
        assert first_item >= map_bottom - 1  # under the map, not over it
        assert tab.evaluate("document.body.scrollWidth") <= width  # nothing wider than the phone
    assert any(p == "/api/public/search" for p, _ in seen) and any(p == "/api/public/place" for p, _ in seen)
    assert any(p.startswith("/public/basemap/") for p, _ in seen)
    assert not [(p, s) for p, s in seen if s >= 400 and p != "/favicon.ico"]
    assert not [p for p, _ in seen if p.startswith("/web/") or p.startswith("/collections")]


def test_locate_me_explains_that_browsers_locate_only_over_https(server, phone):
    base, _ = server
    tab = open_page(phone, f"{base}/public/shelters")
    tab.evaluate("Object.defineProperty(window, 'isSecureContext', {get: () => false});"
                 " document.getElementById('rm-locate').click()")
    text = tab.evaluate("document.getElementById('rm-where').textContent")
    assert "HTTPS" in text and "https" in text and "tap the map" in text


def test_a_shared_link_opens_the_same_view(server, phone):
    base, _ = server
    tab = open_page(phone, f"{base}/public/shelters?lon=119.955&lat=31.735&hazard=flood")
    settle(tab)
    assert tab.evaluate("document.getElementById('rm-hazard').value") == "flood"
    assert tab.evaluate("RiskMap.lastPlace.hazard") == "flood"
    ids = tab.evaluate("RiskMap.lastPlace.shelters.map(s => s.shelter_id)")
    assert set(ids) == {"SH2", "SH3"}  # the two shelters fit for a flood
    link = tab.evaluate("document.querySelector('#rm-share input').value")
    assert link.endswith("/public/shelters?lon=119.955000&lat=31.735000&hazard=flood")


def test_the_first_load_is_small(server, phone):
    base, _ = server
    tab = open_page(phone, f"{base}/public/shelters")
    weight = tab.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                          " return [n].concat(performance.getEntriesByType('resource'))"
                          ".reduce((s, e) => s + (e.transferSize || e.encodedBodySize || 0), 0); })()")
    assert 50_000 < weight < FIRST_LOAD_BUDGET_KB * 1024, weight
