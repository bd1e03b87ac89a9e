"""GDAL as a client of the real server: OAPIF (collections, bbox, paging) and MVT drivers.

The app runs under uvicorn on a free loopback port in a thread; ``ogrinfo`` (Debian ``gdal-bin``)
talks to it over HTTP. A recording wrapper keeps every request path, so the tests can show that
GDAL sent ``bbox`` and followed ``next`` links.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from pyproj import Transformer

from geo.tiles import tile_containing
from server_common import PLANNER, TOWN_WEST, plot_geometry, serving

OGRINFO = shutil.which("ogrinfo")
pytestmark = pytest.mark.skipif(OGRINFO is None, reason="ogrinfo not installed (Debian package gdal-bin)")



@pytest.fixture(scope="module")
def server(app):
    """``(base_url, requests)``: the app served by uvicorn on 127.0.0.1 and the requests it saw."""
    seen: list[str] = []

    async def recording(scope, receive, send):
        if scope["type"] == "http":
            query = scope.get("query_string", b"").decode()
            seen.append(scope["path"] + (f"?{query}" if query else ""))
        await app(scope, receive, send)

    with serving(recording) as base:
        yield base, seen


def ogrinfo(*args: str, headers: dict | None = None) -> str:
    command = [OGRINFO, "-ro", *args]
    if headers:
        command[1:1] = ["--config", "GDAL_HTTP_HEADERS", "\r\n".join(f"{k}: {v}" for k, v in headers.items())]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "GDAL_HTTP_TIMEOUT": "20", "CPL_VSIL_CURL_USE_HEAD": "NO"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_ogrinfo_lists_the_public_collections(server):
    base, _ = server
    out = ogrinfo("-so", f"OAPIF:{base}")
    layers = set(re.findall(r"^\d+: (\w+)", out, flags=re.M))
    assert layers == {"admin_areas", "rescue_stations", "roads", "shelters", "risk_wall", "risk_zones"}


def test_ogrinfo_with_a_token_lists_the_private_collections_too(server):
    base, _ = server
    out = ogrinfo("-so", f"OAPIF:{base}", headers=PLANNER)
    layers = set(re.findall(r"^\d+: (\w+)", out, flags=re.M))
    assert {"industrial_plots", "hazard_sites", "protected_targets", "safety_buffers"} <= layers


def test_ogrinfo_reads_items_with_bbox_and_follows_next_links(server):
    base, seen = server
    seen.clear()
    out = ogrinfo(f"OAPIF:{base}", "risk_wall", "-spat", "119.9", "31.68", "120.0", "31.8",
                  "-oo", "PAGE_SIZE=3")
    ids = re.findall(r"plot_id \(String\) = (P\d+)", out)
    assert sorted(set(ids)) == ["P001", "P002", "P005", "P006", "P009", "P010", "P013", "P014"]
    assert "enterprise" not in out and "机密" not in out
    pages = [p for p in seen if p.startswith("/collections/risk_wall/items") and "bbox=" in p]
    assert any("offset=3" in p for p in pages) and any("offset=6" in p for p in pages)
    assert all("limit=3" in p for p in pages)


def test_ogrinfo_decodes_a_vector_tile_where_the_plot_is(server):
    base, _ = server
    plot = plot_geometry(0)
    z, (x, y) = 14, tile_containing(plot.centroid.x, plot.centroid.y, 14)
    out = ogrinfo("-al", f"MVT:{base}/tiles/risk_wall/{z}/{x}/{y}.mvt")
    assert "Layer name: risk_wall" in out and "plot_id (String) = P001" in out
    assert "enterprise" not in out
    minx, miny, maxx, maxy = (float(v) for v in re.search(
        r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", out).groups())
    to_lonlat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    (west, east), (south, north) = to_lonlat.transform([minx, maxx], [miny, maxy])
    expected = plot.bounds
    assert [west, south, east, north] == pytest.approx(expected, abs=2e-5)  # about 2 m


def test_ogrinfo_decodes_the_combined_tile(server):
    base, _ = server
    x, y = tile_containing(119.99, 31.74, 10)
    out = ogrinfo("-so", f"MVT:{base}/tiles/all/10/{x}/{y}.mvt")
    layers = set(re.findall(r"^\d+: (\w+)", out, flags=re.M))
    assert {"admin_areas", "risk_wall", "risk_zones", "shelters"} <= layers
    assert not layers & {"hazard_sites", "protected_targets", "safety_buffers"}


# ------------------------------------------------------------------ Part 3 filters and OGC API - Tiles
OGR2OGR = shutil.which("ogr2ogr")


def test_ogr2ogr_where_is_sent_as_a_cql_filter_and_answered_by_the_server(server, tmp_path, app):
    """GDAL 3.6 reads the filter-lang enum of the items operation and the queryables, then sends -where."""
    base, seen = server
    seen.clear()
    out = tmp_path / "west.geojson"
    done = subprocess.run([OGR2OGR, "-f", "GeoJSON", str(out), f"OAPIF:{base}/collections/risk_wall",
                           "-where", f"town = '{TOWN_WEST}'"], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "GDAL_HTTP_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    filtered = [p for p in seen if p.startswith("/collections/risk_wall/items") and "filter=" in p]
    assert filtered and all(TOWN_WEST in p and "filter-lang=cql-text" in p for p in filtered)  # server-side
    got = sorted(f["properties"]["plot_id"] for f in json.loads(out.read_text())["features"])
    wall = app.state.services.store.read("risk_wall")
    public = wall[(wall["level"] <= 2) & (wall["town"] == TOWN_WEST)]
    assert got == sorted(public["plot_id"]) and got


def _extent(out: str) -> list[float]:
    return [float(v) for v in re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", out).groups()]


def test_ogrinfo_decodes_an_ogc_api_tile_in_web_mercator_quad(server):
    base, _ = server
    plot = plot_geometry(0)
    z, (x, y) = 14, tile_containing(plot.centroid.x, plot.centroid.y, 14)
    out = ogrinfo("-al", f"MVT:{base}/collections/risk_wall/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt",
                  "-oo", f"Z={z}", "-oo", f"X={x}", "-oo", f"Y={y}")
    assert "plot_id (String) = P001" in out and "enterprise" not in out
    minx, miny, maxx, maxy = _extent(out)
    to_lonlat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    (west, east), (south, north) = to_lonlat.transform([minx, maxx], [miny, maxy])
    assert [west, south, east, north] == pytest.approx(plot.bounds, abs=2e-5)


def test_ogrinfo_decodes_an_ogc_api_tile_in_world_crs84_quad(server):
    """GDAL 3.6 has no CRS84 tiling scheme for MVT: it shows tile units, checked by hand here."""
    base, _ = server
    plot, z = plot_geometry(0), 13
    size = 180.0 / 2 ** z
    row, col = int((90 - plot.centroid.y) // size), int((plot.centroid.x + 180) // size)
    out = ogrinfo("-al", f"MVT:{base}/collections/risk_wall/tiles/WorldCRS84Quad/{z}/{row}/{col}?f=mvt")
    assert "plot_id (String) = P001" in out
    west, north = -180 + col * size, 90 - row * size
    minx, miny, maxx, maxy = plot.bounds
    units = [(minx - west) / size * 4096, (north - maxy) / size * 4096, (maxx - west) / size * 4096,
             (north - miny) / size * 4096]
    got = _extent(out)  # GDAL flips tile y to point up: y' = 4096 - y
    assert [got[0], 4096 - got[3], got[2], 4096 - got[1]] == pytest.approx(units, abs=1.0)
