"""The pages work with no internet: every script, stylesheet and image comes from the app itself.

Leaflet's files are served from the ``xstatic-leaflet`` package, riskmap's own from
``server/static``; a folium map built for a page names no CDN. An online basemap appears only
when ``settings.basemap_url`` configures one, with the GCJ-02 correction for Amap-style tiles.
"""

from __future__ import annotations

import doctest
import importlib
import re
import warnings

import pytest

from server.app import create_app
from server.pages.assets import basemap_config, offline_map, static_roots
from server.settings import Settings
from server_common import PLANNER, TOKENS, TOWN_WEST

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOWN = {"Authorization": "Bearer town-token-1234"}
#: Every page, with a caller allowed to open it.
PAGES = [("/map", {}), ("/map", PLANNER), ("/public/shelters", {}), ("/public/shelters", PLANNER),
         ("/login", {}), (f"/towns/{TOWN_WEST}/wall", TOWN), (f"/towns/{TOWN_WEST}/wall", PLANNER),
         ("/", {"Accept": "text/html"})]
_REFERENCE = re.compile(r"<(?:script|link|img|iframe|source|embed)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']*)[\"']",
                        re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*[\"']?([^\"')]+)")


def references(html: str) -> list[str]:
    """URLs a page loads: src/href of script, link, img, iframe, source and embed elements."""
    return _REFERENCE.findall(html)


@pytest.mark.parametrize("path, headers", PAGES, ids=[f"{p}-{'auth' if 'Authorization' in h else 'public'}" for p, h in PAGES])
def test_pages_load_only_from_the_app(client, path, headers):
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    loaded = references(r.text)
    assert loaded, "a page loads its scripts and stylesheet"
    outside = [u for u in loaded if re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", u, re.IGNORECASE)]
    assert not outside, f"{path} loads from another host: {outside}"
    assert "cdn" not in r.text.lower() and "jquery" not in r.text.lower() and "bootstrap" not in r.text.lower()
    for url in loaded:  # and the app serves every one of them
        asset = client.get(url)
        assert asset.status_code == 200, url


def test_with_a_public_url_pages_load_only_from_that_base(store_path):
    base = "https://maps.example.cn/riskmap"
    with TestClient(create_app(store_path, Settings(tokens=TOKENS, public_url=base))) as c:
        for path in ("/map", "/public/shelters", "/login", "/?f=html"):
            loaded = references(c.get(path).text)
            assert loaded and all(u.startswith(base + "/static/") for u in loaded), loaded


@pytest.mark.parametrize("url, media", [
    ("/static/leaflet/leaflet.js", "text/javascript"),
    ("/static/leaflet/leaflet.css", "text/css"),
    ("/static/leaflet/images/layers.png", "image/png"),
    ("/static/riskmap/riskmap-vt.js", "text/javascript"),
    ("/static/riskmap/riskmap-pages.js", "text/javascript"),
    ("/static/riskmap/riskmap-login.js", "text/javascript"),
    ("/static/riskmap/riskmap.css", "text/css"),
])
def test_static_files_are_served_with_their_media_type_and_cache_headers(client, url, media):
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert "max-age" in r.headers["cache-control"] and r.content


def test_leaflet_is_the_packaged_version():
    leaflet = static_roots()["leaflet"]
    assert (leaflet / "leaflet.js").is_file() and "1.9" in (leaflet / "leaflet-src.js").read_text()[:400]


@pytest.mark.parametrize("url", [
    "/static/riskmap/nope.js", "/static/elsewhere/leaflet.js", "/static/riskmap/%2e%2e/pages/common.py",
    "/static/riskmap/..%2F..%2Fapp.py", "/static/leaflet/../../../../etc/passwd", "/static/riskmap/",
])
def test_static_refuses_unknown_files_and_paths_outside_its_folders(client, url):
    r = client.get(url)
    assert r.status_code == 404 and "application/json" in r.headers["content-type"]


def test_own_scripts_and_stylesheet_name_no_other_host():
    for path in static_roots()["riskmap"].iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), f"{path.name} names another host"
        assert not [u for u in _CSS_URL.findall(text) if "//" in u]


def test_the_print_stylesheet_lays_the_wall_on_a3_landscape(client):
    css = client.get("/static/riskmap/riskmap.css").text
    assert re.search(r"@page\s*\{\s*size:\s*A3 landscape", css)
    assert "@media print" in css and "print-color-adjust: exact" in css


def test_an_offline_folium_map_names_no_cdn():
    html = offline_map(location=[31.7, 120.0]).get_root().render()
    assert not [u for u in references(html) if "//" in u]
    assert "/static/leaflet/leaflet.js" in html and "tile.openstreetmap" not in html


def test_no_online_basemap_unless_configured(client):
    page = client.get("/map").text
    assert '"online_basemap": null' in page
    assert basemap_config(None) is None and basemap_config("") is None


def test_an_amap_basemap_is_marked_gcj02_and_shifted_by_the_local_offset():
    from geo.gcj02 import wgs84_to_gcj02

    cfg = basemap_config("https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8",
                         (119.9, 31.7, 120.1, 31.8))
    assert cfg["gcj02"] and "GCJ-02" in cfg["note"]
    grid = cfg["offsets"]
    j, i = 4, 5
    lon, lat = grid["lons"][i], grid["lats"][j]
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert grid["dlon"][j][i] == pytest.approx(glon - lon, abs=1e-7)
    assert grid["dlat"][j][i] == pytest.approx(glat - lat, abs=1e-7)
    assert 0.002 < abs(grid["dlon"][j][i]) < 0.01  # a few hundred metres, as GCJ-02 is
    osm = basemap_config("https://tile.example.org/{z}/{x}/{y}.png", (119.9, 31.7, 120.1, 31.8))
    assert not osm["gcj02"] and "offsets" not in osm


def test_a_configured_basemap_reaches_the_page_with_its_note(store_path):
    url = "https://webst01.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}"
    with TestClient(create_app(store_path, Settings(tokens=TOKENS, basemap_url=url))) as c:
        page = c.get("/public/shelters").text
    assert '"gcj02": true' in page and "GCJ-02" in page and '"offsets"' in page


@pytest.mark.parametrize("name", ["server.pages.common", "server.pages.assets", "server.pages.session",
                                  "server.pages.wall", "server.pages.public"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0, result
