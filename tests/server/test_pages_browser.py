"""Headless Chromium opens each page from the real server: what a newcomer sees, in pixels and in the DOM.

The app runs under uvicorn on a free loopback port (in a thread); Chromium (Debian ``chromium``,
driven over its DevTools pipe by :mod:`chromium`) opens the pages with every other host
unresolvable, so a page that needed a CDN would come out blank. Screenshots (PNG, kept in
memory) are checked for the pixels of the palette's four colours and of the hazard-site and
protected-target symbols (within a small tolerance): the vector tiles were fetched, decoded
and drawn. The DOM is read for what the pixels cannot tell: which links are on screen, which
layers the layer control and the legend list, the order of the Chinese and English of each
reason, the computed style of the siting panel's inventory box. The server records what it
was asked for, so the tests also see the tiles and the API calls each page made, and that none
was refused.

The store is the server tests' fixture city with the plots' levels set by row instead of by
column, so that each of the two towns holds plots of all four colours (the town wall is checked
for all four).
"""

from __future__ import annotations

import numpy as np
import pytest

from layers.store import create_store
from layers.validate import validate_layer
from server.app import create_app
from server.pages.layers import PLANNER_OVERLAYS
from server.settings import Settings
from server_common import SOURCES, TOKENS, TOWN_WEST, industrial_plots, plot_geometry, recording, serving
from zoning.pipeline import run_zoning
from zoning.rules import load_ruleset

from chromium import CHROMIUM, Chromium

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package chromium)")
pytest.importorskip("PIL.Image", reason="Pillow reads the screenshots (pip install pillow)")

WIDTH, HEIGHT = 1200, 900
PANEL = 340  # the side panel of the planner and public maps (riskmap.css --rm-panel)
PALETTE = {"red": (0xD7, 0x19, 0x1C), "yellow": (0xF5, 0xD0, 0x00), "blue": (0x2B, 0x83, 0xBA),
           "green": (0x1A, 0x96, 0x41)}
HAZARD = (0xC5, 0x1B, 0x7D)  # hazard-site triangles (riskmap-pages.js)
TARGET = (0x3F, 0x00, 0x7D)  # the outline of protected-target squares
TOLERANCE = 10  # per channel: canvas and SVG fills are exact inside a shape, edges are blended
LABELS = {o.id: o.zh for o in PLANNER_OVERLAYS}
PRIVATE = {"risk_surface", "zones_grid", "safety_buffers", "protected_targets", "hazard_sites",
           "separation_violations", "coverage_areas", "coverage_gaps"}


def four_colour_plots():
    """The fixture plots with risk levels by row (row 0 重大 … row 3 低): every town has all four."""
    plots = industrial_plots()
    row = np.arange(len(plots)) // 4
    return plots.assign(risk_major=(row == 0).astype(int), risk_large=(row == 1).astype(int),
                        risk_general=(row == 2).astype(int), open_major_dangers=0)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "city.gpkg"
    layers = {name: make() for name, make in SOURCES.items()}
    layers["industrial_plots"] = four_colour_plots()
    target = create_store(path)
    target.write_many({name: validate_layer(name, frame) for name, frame in layers.items()}, actor="test")
    run_zoning(target, load_ruleset(), grid_cell_m=1000.0, surface_cell_m=100.0)
    return target


@pytest.fixture(scope="module")
def server(store):
    """``(base_url, requests)``: the app on 127.0.0.1 and the (path, status) of every request it answered."""
    app, seen = recording(create_app(store, Settings(tokens=TOKENS)))
    with serving(app) as base:
        yield base, seen


@pytest.fixture(scope="module")
def chromium():
    with Chromium(WIDTH, HEIGHT) as b:
        yield b


@pytest.fixture
def browser(chromium):
    """The module's Chromium; the tabs a test opened are closed after it (they load nothing more)."""
    yield chromium
    chromium.close_tabs()


def colour_pixels(pixels: np.ndarray, rgb) -> int:
    """How many pixels are ``rgb`` within :data:`TOLERANCE` on every channel."""
    return int((np.abs(pixels.astype(int) - np.array(rgb)).max(axis=2) <= TOLERANCE).sum())


def assert_not_blank(pixels: np.ndarray) -> None:
    colours = np.unique(pixels.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 40, f"the page looks blank ({len(colours)} colours)"


def requests_for(seen, prefix: str) -> list[tuple[str, int]]:
    return [(p, s) for p, s in seen if p.startswith(prefix)]


def refused(seen) -> list[tuple[str, int]]:
    """Requests answered with an error (the browser's own /favicon.ico aside)."""
    return [(p, s) for p, s in seen if s >= 400 and p != "/favicon.ico"]


def open_map(browser, url: str, path: str):
    """A tab at ``url``, once it has reached ``path`` and its map's tiles have stopped arriving."""
    tab = browser.tab(url)
    tab.wait_for(f"location.pathname === {path!r} && document.readyState === 'complete' && window.RiskMap "
                 "&& RiskMap.map", what=path)
    tab.wait_for_tiles()
    return tab


def map_area(tab, pixels: np.ndarray) -> np.ndarray:
    """The map right of the panel, with the layer control blanked out (its labels are not the map)."""
    box = tab.evaluate("(() => { const r = document.querySelector('.leaflet-control-layers')"
                       ".getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })()")
    out = pixels.copy()
    left, top, right, bottom = (int(round(v)) for v in box)
    out[max(top - 2, 0):bottom + 2, max(left - 2, 0):right + 2] = 255
    return out[40:HEIGHT - 40, PANEL + 10:WIDTH - 10]


def control_labels(tab) -> list[str]:
    return tab.evaluate("Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
                        ".map(l => l.textContent.trim())")


def legend_ids(tab) -> list[str]:
    return tab.evaluate("Array.from(document.querySelectorAll('#rm-legend li')).map(li => li.dataset.legend)")


# ------------------------------------------------------------------ home → wall, through sign-in
def test_the_home_page_shows_the_pages_and_a_wall_link_leads_through_sign_in_to_the_wall(server, browser):
    base, seen = server
    seen.clear()
    tab = browser.tab(f"{base}/")
    tab.wait_for("document.readyState === 'complete' && document.querySelector('#rm-walls')", what="the home page")
    assert_not_blank(tab.screenshot())
    on_screen = tab.evaluate("""Array.from(document.links).filter(a => {
        const r = a.getBoundingClientRect(), s = getComputedStyle(a);
        return r.width > 0 && r.height > 0 && r.bottom <= innerHeight && s.visibility === 'visible';
      }).map(a => a.getAttribute('href'))""")
    assert {"/map", "/public/shelters", "/login?next=%2Fmap", f"/towns/{TOWN_WEST}/wall"} <= set(on_screen)
    wall_link = tab.evaluate(f"document.querySelector('a[href=\"/towns/{TOWN_WEST}/wall\"]').parentNode.innerText")
    assert wall_link.startswith("西镇") and TOWN_WEST in wall_link  # Chinese name first, then the code

    tab.evaluate(f"document.querySelector('a[href=\"/towns/{TOWN_WEST}/wall\"]').click()")
    tab.wait_for("location.pathname === '/login' && document.readyState === 'complete'", what="the sign-in page")
    assert tab.evaluate("location.search") == f"?next=%2Ftowns%2F{TOWN_WEST}%2Fwall"
    assert (f"/towns/{TOWN_WEST}/wall", 303) in seen  # the browser was redirected, not shown a 401
    tab.evaluate("document.querySelector('input[name=token]').value = 'town-token-1234';"
                 "document.getElementById('rm-login-form').submit()")
    tab.wait_for(f"location.pathname === '/towns/{TOWN_WEST}/wall' && document.readyState === 'complete' "
                 "&& window.RiskMap && RiskMap.map", what="the wall after signing in")
    tab.wait_for_tiles()
    assert (f"/towns/{TOWN_WEST}/wall", 200) in seen and not refused(seen), refused(seen)

    pixels = tab.screenshot()
    assert_not_blank(pixels)
    tiles = pixels[80:330, :470]   # the four count tiles, top left
    mapped = pixels[100:HEIGHT - 60, 520:WIDTH - 40]  # the map column, right of the tiles and the list
    for name, rgb in PALETTE.items():
        assert colour_pixels(tiles, rgb) > 2000, f"no {name} count tile"
        assert colour_pixels(mapped, rgb) >= 20, f"no {name} plot on the wall's map"


def test_the_wall_reads_chinese_first_and_explains_its_score(server, browser):
    base, _ = server
    tab = browser.tab(f"{base}/login#token=town-token-1234&next=/towns/{TOWN_WEST}/wall")
    tab.wait_for(f"location.pathname === '/towns/{TOWN_WEST}/wall' && document.readyState === 'complete'",
                 what="the wall")
    reasons = tab.evaluate("""Array.from(document.querySelectorAll('.rm-list li')).map(li => {
        const zh = li.querySelector('.zh'), en = li.querySelector('.en');
        return {text: li.innerText, first: li.firstElementChild.className, zh: zh.innerText, en: en.innerText,
                zhTop: zh.getBoundingClientRect().top, enTop: en.getBoundingClientRect().top,
                zhSize: parseFloat(getComputedStyle(zh).fontSize), enSize: parseFloat(getComputedStyle(en).fontSize)};
      })""")
    assert len(reasons) >= 8
    for r in reasons:
        assert r["first"] == "zh" and r["text"].startswith(r["zh"]), r  # Chinese first, as read and as laid out
        assert any("\u4e00" <= c <= "\u9fff" for c in r["zh"]) and r["en"].isascii(), r
        assert r["enTop"] > r["zhTop"] and r["enSize"] < r["zhSize"], r  # English below it, smaller
    note = tab.evaluate("(() => { const d = document.querySelector('.rm-score-note'); const r = d.getBoundingClientRect();"
                        " return {open: d.open, text: d.innerText, height: r.height}; })()")
    assert note["open"] and note["height"] > 20 and "同一颜色内" in note["text"] and "within one colour" in note["text"]
    head = tab.evaluate("Array.from(document.querySelectorAll('.rm-list thead th')).map(th => th.innerText)")
    assert any(h.startswith("同色排序分") for h in head)


# ------------------------------------------------------------------ the planner map
def test_the_planner_map_draws_the_four_colours_hazard_sites_and_targets(server, browser):
    base, seen = server
    seen.clear()
    tab = open_map(browser, f"{base}/login#token=planner-token-123&next=/map", "/map")
    pixels = tab.screenshot()
    assert_not_blank(pixels)
    mapped = map_area(tab, pixels)
    counts = {name: colour_pixels(mapped, rgb) for name, rgb in PALETTE.items()}
    assert all(n >= 20 for n in counts.values()), counts
    assert colour_pixels(mapped, HAZARD) >= 60, "no hazard-site triangle on the map"
    assert colour_pixels(mapped, TARGET) >= 30, "no protected-target square on the map"
    assert ("/map", 200) in seen and ("/static/leaflet/leaflet.js", 200) in seen
    for layer in ("risk_wall", "hazard_sites", "protected_targets", "safety_buffers"):
        got = requests_for(seen, f"/web/tiles/{layer}/")
        assert got and 200 in {s for _, s in got} and {s for _, s in got} <= {200, 204, 304}, layer
    assert not refused(seen), refused(seen)

    labels = control_labels(tab)  # the layer control, and the legend, list every layer of a planner
    for overlay in ("hazard_sites", "protected_targets", "safety_buffers", "risk_wall"):
        assert any(label.startswith(LABELS[overlay]) for label in labels), (overlay, labels)
    assert {"hazard_sites", "protected_targets", "safety_buffers"} <= set(legend_ids(tab))

    # a hazard site's popup shows its inventory to a planner
    site = plot_geometry(0).centroid
    tab.evaluate(f"RiskMap.map.fire('click', {{latlng: L.latLng({site.y}, {site.x})}}) && null")
    tab.wait_for("document.querySelector('.leaflet-popup-content')", what="the popup")
    popup = tab.evaluate("document.querySelector('.leaflet-popup-content').innerText")
    assert popup.startswith("危险化学品场所") and "液氯" in popup and "7782-50-5" in popup and "20 t" in popup
    tab.evaluate("RiskMap.map.closePopup() && null")

    # the hazard sites go off with their box in the layer control
    tab.evaluate("Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
                 f".find(l => l.textContent.trim().startsWith({LABELS['hazard_sites']!r})).querySelector('input').click()")
    tab.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))")
    after = map_area(tab, tab.screenshot())
    assert colour_pixels(after, HAZARD) == 0 and colour_pixels(after, TARGET) >= 30


def test_the_inventory_box_shows_for_a_hazardous_plant_only(server, browser):
    base, _ = server
    # the sign-in link of the README, going on to a shared view of the map (?lon=&lat=&z=)
    tab = browser.tab(f"{base}/login#token=planner-token-123&next=/map%3Flon%3D119.9215%26lat%3D31.7015%26z%3D17")
    tab.wait_for("location.pathname === '/map' && document.readyState === 'complete' && window.RiskMap && RiskMap.map",
                 what="the planner map")
    assert tab.evaluate("location.search") == "?lon=119.9215&lat=31.7015&z=17" and tab.evaluate("location.hash") == ""
    assert tab.evaluate("RiskMap.map.getZoom()") == 17
    shown = ("(() => { const row = document.getElementById('rm-inventory-row');"
             " return [getComputedStyle(row).display, row.offsetHeight]; })()")
    choose = ("(kind => { const s = document.getElementById('rm-kind'); s.value = kind;"
              " s.dispatchEvent(new Event('change')); return s.value; })")
    assert tab.evaluate("document.getElementById('rm-kind').value") == "school"  # the first kind
    assert tab.evaluate(shown) == ["none", 0]
    assert tab.evaluate(f"{choose}('hazardous_plant')") == "hazardous_plant"
    display, height = tab.evaluate(shown)
    assert display != "none" and height > 40
    tab.evaluate(f"{choose}('kindergarten')")
    assert tab.evaluate(shown) == ["none", 0]


def test_a_public_caller_sees_no_private_layer_in_the_controls_the_legend_or_the_map(server, browser):
    base, seen = server
    seen.clear()
    tab = open_map(browser, f"{base}/map", "/map")
    labels = control_labels(tab)
    assert len(labels) == 6  # roads, boundaries, town zones, the disclosed plots, stations, shelters
    assert not [label for label in labels for o in PRIVATE if label.startswith(LABELS[o])], labels
    legend = legend_ids(tab)
    assert legend[:4] == ["level-1", "level-2", "level-3", "level-4"] and not set(legend) & PRIVATE, legend
    mapped = map_area(tab, tab.screenshot())
    assert colour_pixels(mapped, HAZARD) == 0 and colour_pixels(mapped, TARGET) == 0
    assert colour_pixels(mapped, PALETTE["red"]) >= 20  # the disclosed plots are drawn
    assert not requests_for(seen, "/web/tiles/hazard_sites/") and not refused(seen), refused(seen)


# ------------------------------------------------------------------ the public shelter map
def test_the_public_map_shows_only_the_disclosed_colours_and_the_nearest_shelters(server, browser):
    base, seen = server
    seen.clear()
    tab = open_map(browser, f"{base}/public/shelters?lon=119.955&lat=31.735&z=13", "/public/shelters")
    tab.wait_for("document.querySelectorAll('#rm-results li strong').length > 0", what="the nearest shelters")
    tab.wait_for_tiles()
    pixels = tab.screenshot()
    assert_not_blank(pixels)
    mapped = pixels[40:HEIGHT - 40, PANEL + 10:WIDTH - 10]
    counts = {name: colour_pixels(mapped, rgb) for name, rgb in PALETTE.items()}
    assert counts["red"] >= 20 and counts["yellow"] >= 20, counts  # 重大 and 较大: disclosed
    assert counts["blue"] == 0 and counts["green"] == 0, counts  # 一般 and 低: not shown to the public
    assert colour_pixels(mapped, (0x00, 0x89, 0x7B)) >= 20  # the nearest shelters, drawn from the API's answer
    assert [p for p, s in seen if p == "/api/public/place" and s == 200]  # "my place", with its nearest shelters
    assert requests_for(seen, "/tiles/risk_wall/") and not requests_for(seen, "/web/")
    assert not refused(seen), refused(seen)
